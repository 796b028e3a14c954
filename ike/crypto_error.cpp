// std::error_category implementations for the crypto suite and for OpenSSL's error queue.
#include "ike/crypto_error.hpp"

#include <openssl/err.h>

#include <array>

namespace ike::crypto {
namespace {

class crypto_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "ike-crypto"; }
    std::string message(int ev) const override {
        switch (static_cast<crypto_errc>(ev)) {
        case crypto_errc::unsupported_algorithm: return "unsupported algorithm or key length";
        case crypto_errc::refused_group: return "key exchange group refused (too weak)";
        case crypto_errc::invalid_key_length: return "invalid key length";
        case crypto_errc::public_value_size: return "key exchange data has the wrong size for the group";
        case crypto_errc::invalid_public_value: return "invalid key exchange public value (RFC 6989)";
        case crypto_errc::zero_shared_secret: return "all-zero shared secret";
        case crypto_errc::output_too_long: return "prf+ output longer than 255 blocks";
        case crypto_errc::message_too_short: return "encrypted payload too short";
        case crypto_errc::bad_ciphertext_length: return "ciphertext length not a multiple of the block size";
        case crypto_errc::integrity_check_failed: return "integrity check failed";
        case crypto_errc::bad_padding: return "invalid padding";
        case crypto_errc::invalid_argument: return "invalid argument";
        case crypto_errc::random_failure: return "random source failed";
        }
        return "unknown ike-crypto error";
    }
};

class openssl_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "openssl"; }
    std::string message(int ev) const override {
        std::array<char, 256> buf{};
        ERR_error_string_n(static_cast<unsigned long>(ev), buf.data(), buf.size());
        return buf.data();
    }
};

} // namespace

const std::error_category& crypto_category() noexcept {
    static const crypto_category_impl c;
    return c;
}

const std::error_category& openssl_category() noexcept {
    static const openssl_category_impl c;
    return c;
}

std::error_code last_openssl_error() {
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) e = ERR_PACK(ERR_LIB_NONE, 0, ERR_R_INTERNAL_ERROR);
    // Packed codes keep library and reason in the low 31 bits (OpenSSL 3 ERR_PACK).
    return {static_cast<int>(e & 0x7fffffffUL), openssl_category()};
}

} // namespace ike::crypto
