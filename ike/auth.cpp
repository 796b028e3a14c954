// Shared-key AUTH payload data (RFC 7296 2.15); see auth.hpp.
#include "ike/auth.hpp"

#include "ike/prf.hpp"

#include <openssl/crypto.h>

#include <string_view>

namespace ike::crypto {
namespace {

constexpr std::string_view key_pad = "Key Pad for IKEv2"; // 17 ASCII bytes, no NUL (2.15)

result<std::vector<std::uint8_t>> psk_auth(prf_id id, const base::secret_bytes& psk,
                                           std::span<const std::uint8_t> real_message,
                                           std::span<const std::uint8_t> peer_nonce,
                                           const base::secret_bytes& sk_p, std::span<const std::uint8_t> id_body) {
    auto f = prf::create(id);
    if (!f) return f.error();
    auto octets = signed_octets(id, real_message, peer_nonce, sk_p, id_body);
    if (!octets) return octets.error();
    const auto* pad = reinterpret_cast<const std::uint8_t*>(key_pad.data());
    auto inner = (*f)(psk.view(), {std::span(pad, key_pad.size())});
    if (!inner) return inner.error();
    auto auth = (*f)(inner->view(), {std::span<const std::uint8_t>(*octets)});
    if (!auth) return auth.error();
    return std::vector<std::uint8_t>(auth->view().begin(), auth->view().end());
}

} // namespace

result<std::vector<std::uint8_t>> signed_octets(prf_id id, std::span<const std::uint8_t> real_message,
                                                std::span<const std::uint8_t> peer_nonce,
                                                const base::secret_bytes& sk_p,
                                                std::span<const std::uint8_t> id_body) {
    auto f = prf::create(id);
    if (!f) return f.error();
    auto maced_id = (*f)(sk_p.view(), {id_body});
    if (!maced_id) return maced_id.error();
    std::vector<std::uint8_t> out;
    out.reserve(real_message.size() + peer_nonce.size() + maced_id->size());
    out.insert(out.end(), real_message.begin(), real_message.end());
    out.insert(out.end(), peer_nonce.begin(), peer_nonce.end());
    out.insert(out.end(), maced_id->view().begin(), maced_id->view().end());
    return out;
}

result<std::vector<std::uint8_t>> initiator_psk_auth(prf_id prf, const base::secret_bytes& psk,
                                                     std::span<const std::uint8_t> ike_sa_init_request,
                                                     std::span<const std::uint8_t> nonce_r,
                                                     const base::secret_bytes& sk_pi,
                                                     std::span<const std::uint8_t> idi_body) {
    return psk_auth(prf, psk, ike_sa_init_request, nonce_r, sk_pi, idi_body);
}

result<std::vector<std::uint8_t>> responder_psk_auth(prf_id prf, const base::secret_bytes& psk,
                                                     std::span<const std::uint8_t> ike_sa_init_response,
                                                     std::span<const std::uint8_t> nonce_i,
                                                     const base::secret_bytes& sk_pr,
                                                     std::span<const std::uint8_t> idr_body) {
    return psk_auth(prf, psk, ike_sa_init_response, nonce_i, sk_pr, idr_body);
}

bool auth_data_equal(std::span<const std::uint8_t> expected, std::span<const std::uint8_t> received) {
    if (expected.size() != received.size() || expected.empty()) return false;
    return CRYPTO_memcmp(expected.data(), received.data(), expected.size()) == 0;
}

} // namespace ike::crypto
