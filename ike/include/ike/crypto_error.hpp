#pragma once
// Errors of the IKE crypto suite: our own conditions (crypto_errc, e.g. a peer's invalid public
// value or a failed ICV) and OpenSSL's error queue (openssl_category), both as std::error_code,
// and the small result<T> every crypto function returns (control plane, no exceptions).
#include <cstdint>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace ike::crypto {

enum class crypto_errc {
    unsupported_algorithm = 1, // transform ID / key length we do not implement
    refused_group,             // a group we know but refuse (MODP-768, RFC 8247)
    invalid_key_length,        // key handed to a cipher/PRF has the wrong size
    public_value_size,         // KE data length differs from the group's exact size
    invalid_public_value,      // RFC 6989 check failed (range, subgroup, not on curve)
    zero_shared_secret,        // curve25519 all-zero output (RFC 8031 2.3)
    output_too_long,           // prf+ asked for more than 255 blocks (RFC 7296 2.13)
    message_too_short,         // SK body shorter than IV + one block + ICV
    bad_ciphertext_length,     // CBC ciphertext not a multiple of the block size
    integrity_check_failed,    // ICV / GCM tag mismatch
    bad_padding,               // Pad Length larger than the decrypted data
    invalid_argument,          // caller error (wrong IV size, SPI size, ...)
    random_failure,            // the random source failed
};

const std::error_category& crypto_category() noexcept;
// Error codes carrying an OpenSSL packed error (ERR_get_error), message from ERR_error_string_n.
const std::error_category& openssl_category() noexcept;

inline std::error_code make_error_code(crypto_errc e) noexcept {
    return {static_cast<int>(e), crypto_category()};
}
// Pops the oldest error from OpenSSL's thread-local queue (and clears the rest) as an error_code;
// a generic OpenSSL failure code when the queue is empty.
std::error_code last_openssl_error();

// Value or error. value() on an error throws std::system_error: a programming bug, not a path.
template <class T>
class result {
public:
    result(T v) : _v(std::move(v)) {}                        // NOLINT(google-explicit-constructor)
    result(std::error_code e) : _v(e) {}                     // NOLINT(google-explicit-constructor)
    result(crypto_errc e) : _v(make_error_code(e)) {}        // NOLINT(google-explicit-constructor)

    [[nodiscard]] bool has_value() const noexcept { return _v.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }
    [[nodiscard]] std::error_code error() const noexcept {
        return has_value() ? std::error_code{} : std::get<1>(_v);
    }
    T& value() & { check(); return std::get<0>(_v); }
    const T& value() const& { check(); return std::get<0>(_v); }
    T&& value() && { check(); return std::get<0>(std::move(_v)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

private:
    void check() const {
        if (!has_value()) throw std::system_error(std::get<1>(_v), "ike::crypto::result has no value");
    }
    std::variant<T, std::error_code> _v;
};

} // namespace ike::crypto

template <>
struct std::is_error_code_enum<ike::crypto::crypto_errc> : std::true_type {};
