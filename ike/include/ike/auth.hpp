#pragma once
// AUTH payload data for shared-key authentication (RFC 7296 2.15):
//   InitiatorSignedOctets = RealMessage1 | NonceRData | prf(SK_pi, RestOfInitIDPayload)
//   ResponderSignedOctets = RealMessage2 | NonceIData | prf(SK_pr, RestOfRespIDPayload)
//   AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets> )
// RestOfXIDPayload (IDi'/IDr') is the ID payload body after the generic header: ID Type,
// 3 reserved bytes, identification data. RealMessage is the whole IKE_SA_INIT message as sent
// (request for the initiator, response for the responder, including the IKE header).
#include "ike/crypto_algorithms.hpp"
#include "ike/crypto_error.hpp"

#include <base/secret_bytes.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace ike::crypto {

// <SignedOctets> for either side (also the input to signature methods).
result<std::vector<std::uint8_t>> signed_octets(prf_id prf, std::span<const std::uint8_t> real_message,
                                                std::span<const std::uint8_t> peer_nonce,
                                                const base::secret_bytes& sk_p,
                                                std::span<const std::uint8_t> id_body);

// AUTH the initiator sends (and the responder expects): sk_pi, IDi', IKE_SA_INIT request, Nr.
result<std::vector<std::uint8_t>> initiator_psk_auth(prf_id prf, const base::secret_bytes& psk,
                                                     std::span<const std::uint8_t> ike_sa_init_request,
                                                     std::span<const std::uint8_t> nonce_r,
                                                     const base::secret_bytes& sk_pi,
                                                     std::span<const std::uint8_t> idi_body);

// AUTH the responder sends (and the initiator expects): sk_pr, IDr', IKE_SA_INIT response, Ni.
result<std::vector<std::uint8_t>> responder_psk_auth(prf_id prf, const base::secret_bytes& psk,
                                                     std::span<const std::uint8_t> ike_sa_init_response,
                                                     std::span<const std::uint8_t> nonce_i,
                                                     const base::secret_bytes& sk_pr,
                                                     std::span<const std::uint8_t> idr_body);

// Constant-time comparison of received AUTH data with the expected value (length first: the
// length of AUTH data is public, it is the PRF output size).
[[nodiscard]] bool auth_data_equal(std::span<const std::uint8_t> expected, std::span<const std::uint8_t> received);

} // namespace ike::crypto
