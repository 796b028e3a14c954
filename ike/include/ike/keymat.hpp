#pragma once
// IKEv2 key schedule (RFC 7296 2.14, 2.17, 2.18):
//   SKEYSEED = prf(Ni | Nr, g^ir)
//   {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)
//   rekeyed IKE SA: SKEYSEED = prf_old(SK_d (old), g^ir (new) | Ni | Nr), then as above with the
//                   new SA's PRF and SPIs
//   CHILD SA: KEYMAT = prf+(SK_d, [g^ir (new)] | Ni | Nr), taken as encryption key then
//             integrity key, initiator-to-responder direction first (2.17).
// AEAD encryption keys include the 4-byte salt (RFC 4106 8.1 for ESP, RFC 5282 7.1 for IKE);
// AEAD suites have no integrity key.
#include "ike/crypto_algorithms.hpp"
#include "ike/crypto_error.hpp"

#include <base/secret_bytes.hpp>

#include <cstdint>
#include <span>

namespace ike::crypto {

using byte_view = std::span<const std::uint8_t>;

// The negotiated IKE SA transforms (integ none for AEAD encryption).
struct ike_suite {
    prf_id prf = prf_id::hmac_sha2_256;
    encr_spec encr{};
    integ_id integ = integ_id::none;
};

// The negotiated ESP transforms of a CHILD SA (integ none for AEAD).
struct child_suite {
    encr_spec encr{};
    integ_id integ = integ_id::none;
};

struct ike_sa_keys {
    base::secret_bytes sk_d, sk_ai, sk_ar, sk_ei, sk_er, sk_pi, sk_pr;
};

// _i = initiator-to-responder direction (the initiator's outbound SA), _r = the reverse.
struct child_sa_keys {
    base::secret_bytes encr_i, integ_i, encr_r, integ_r;
};

// Sizes taken from prf+ per key, from the negotiated transforms.
struct ike_key_sizes {
    std::size_t d, a, e, p; // SK_d, SK_a*, SK_e*, SK_p*
};
// unsupported_algorithm when a transform or key length is not valid (e.g. CBC without integrity).
result<ike_key_sizes> key_sizes(const ike_suite& s);

result<base::secret_bytes> skeyseed(prf_id prf, byte_view ni, byte_view nr, byte_view g_ir);
result<base::secret_bytes> rekey_skeyseed(prf_id old_prf, byte_view old_sk_d, byte_view g_ir_new,
                                          byte_view ni, byte_view nr);

// SPIs as the 8 bytes on the wire (spi_i / spi_r must be 8 bytes: invalid_argument otherwise).
result<ike_sa_keys> derive_ike_sa_keys(const ike_suite& s, byte_view skeyseed, byte_view ni, byte_view nr,
                                       byte_view spi_i, byte_view spi_r);
// SPIs as read with base::reader::read_u64 (big-endian on the wire).
result<ike_sa_keys> derive_ike_sa_keys(const ike_suite& s, byte_view skeyseed, byte_view ni, byte_view nr,
                                       std::uint64_t spi_i, std::uint64_t spi_r);

// g_ir_new empty when the CREATE_CHILD_SA (or IKE_AUTH) exchange had no KE payloads.
result<child_sa_keys> derive_child_sa_keys(prf_id prf, byte_view sk_d, const child_suite& s,
                                           byte_view g_ir_new, byte_view ni, byte_view nr);

} // namespace ike::crypto
