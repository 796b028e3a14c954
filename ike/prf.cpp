// HMAC PRFs and prf+ (RFC 7296 2.13) through OpenSSL 3 EVP_MAC.
#include "ike/prf.hpp"

#include "crypto_internal.hpp"

#include <openssl/core_names.h>

#include <algorithm>
#include <array>
#include <vector>

namespace ike::crypto {
namespace detail {

EVP_MAC* hmac_mac() {
    static const evp_mac_ptr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    return mac.get();
}

std::error_code hmac(const char* digest, byte_span key, std::initializer_list<byte_span> parts,
                     std::span<std::uint8_t> out) {
    EVP_MAC* mac = hmac_mac();
    if (mac == nullptr || digest == nullptr) return crypto_errc::unsupported_algorithm;
    evp_mac_ctx_ptr ctx(EVP_MAC_CTX_new(mac));
    if (!ctx) return last_openssl_error();
    std::array<OSSL_PARAM, 2> params{
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
        OSSL_PARAM_construct_end()};
    // A zero-length key is legal for HMAC; give OpenSSL a valid pointer for it.
    static const std::uint8_t empty_key = 0;
    const std::uint8_t* kp = key.empty() ? &empty_key : key.data();
    if (EVP_MAC_init(ctx.get(), kp, key.size(), params.data()) != 1) return last_openssl_error();
    if (EVP_MAC_CTX_get_mac_size(ctx.get()) != out.size()) return crypto_errc::invalid_argument;
    for (auto p : parts) {
        if (!p.empty() && EVP_MAC_update(ctx.get(), p.data(), p.size()) != 1) return last_openssl_error();
    }
    std::size_t n = 0;
    if (EVP_MAC_final(ctx.get(), out.data(), &n, out.size()) != 1) return last_openssl_error();
    if (n != out.size()) return crypto_errc::invalid_argument;
    return {};
}

} // namespace detail

result<prf> prf::create(prf_id id) {
    if (!prf_known(static_cast<std::uint16_t>(id))) return crypto_errc::unsupported_algorithm;
    return prf(id);
}

result<base::secret_bytes> prf::operator()(bytes key, std::initializer_list<bytes> data) const {
    base::secret_bytes out(output_size());
    if (auto ec = detail::hmac(prf_digest_name(_id), key, data, out.mut())) return ec;
    return out;
}

result<base::secret_bytes> prf::plus(bytes key, std::initializer_list<bytes> seed, std::size_t length) const {
    const std::size_t block = output_size();
    const std::size_t blocks = (length + block - 1) / block;
    if (blocks > 255) return crypto_errc::output_too_long;
    // S is concatenated once so each round is prf(K, T | S | n) with three parts.
    std::vector<std::uint8_t> s;
    for (auto p : seed) s.insert(s.end(), p.begin(), p.end());
    base::secret_bytes out(blocks * block);
    base::secret_bytes t; // T(n-1); empty for the first round
    for (std::size_t n = 1; n <= blocks; ++n) {
        const std::uint8_t counter = static_cast<std::uint8_t>(n);
        auto r = (*this)(key, {t.view(), bytes(s), bytes(&counter, 1)});
        if (!r) return r.error();
        t = std::move(*r);
        std::copy(t.view().begin(), t.view().end(), out.mut().begin() + static_cast<std::ptrdiff_t>((n - 1) * block));
    }
    OPENSSL_cleanse(s.data(), s.size()); // the seed may contain g^ir (CHILD SA KEYMAT with PFS)
    return out.slice(0, length);
}

} // namespace ike::crypto
