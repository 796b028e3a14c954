#pragma once
// The IKEv2 pseudorandom functions (HMAC-based, RFC 7296 3.3.2 / RFC 4868) and prf+ (2.13).
#include "ike/crypto_algorithms.hpp"
#include "ike/crypto_error.hpp"

#include <base/secret_bytes.hpp>

#include <cstdint>
#include <initializer_list>
#include <span>

namespace ike::crypto {

class prf {
public:
    using bytes = std::span<const std::uint8_t>;

    // unsupported_algorithm for IDs we do not implement (e.g. AES-XCBC).
    static result<prf> create(prf_id id);

    [[nodiscard]] prf_id id() const { return _id; }
    [[nodiscard]] std::size_t output_size() const { return prf_output_size(_id); }
    // Preferred key length (SK_d, SK_pi, SK_pr): the output size for HMAC PRFs (RFC 7296 2.14).
    [[nodiscard]] std::size_t key_size() const { return output_size(); }

    // prf(key, data[0] | data[1] | ...). HMAC takes keys of any length, so no truncation or
    // padding of the key is needed (unlike the fixed-key AES-XCBC PRF).
    [[nodiscard]] result<base::secret_bytes> operator()(bytes key, std::initializer_list<bytes> data) const;

    // prf+ (K, S) = T1 | T2 | ... with T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n),
    // truncated to length; output_too_long beyond 255 blocks (RFC 7296 2.13).
    [[nodiscard]] result<base::secret_bytes> plus(bytes key, std::initializer_list<bytes> seed,
                                                  std::size_t length) const;

private:
    explicit prf(prf_id id) : _id(id) {}
    prf_id _id;
};

} // namespace ike::crypto
