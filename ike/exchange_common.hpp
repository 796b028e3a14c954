#pragma once
// Helpers shared by the exchange tasks (exchange_*.cpp); private to the ike library.
#include "ike/config.hpp"
#include "ike/ike_sa.hpp"
#include "ike/message.hpp"
#include "ike/ts_narrow.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ike::detail {

inline constexpr std::size_t nonce_size = 32;

std::vector<std::uint8_t> random_bytes(ike_sa& sa, std::size_t n);

// Every payload of a message: cleartext first, then inside SK.
std::vector<const payload*> all_payloads(const message& m);
template <class T>
std::vector<const T*> all_of(const message& m) {
    std::vector<const T*> out;
    for (const auto* p : all_payloads(m))
        if (const T* v = p->as<T>()) out.push_back(v);
    return out;
}
const payload* find_payload(const message& m, payload_type t);
const notify_payload* first_error_notify(const message& m);

id_payload to_id_payload(const peer_identity& id);
peer_identity to_identity(const id_payload& id);
// RestOfInitIDPayload / RestOfRespIDPayload (RFC 7296 2.15): the ID payload body.
std::vector<std::uint8_t> id_body(const id_payload& id);

std::vector<traffic_selector> configured_local_ts(const ike_sa& sa);
std::vector<traffic_selector> configured_peer_ts(const ike_sa& sa);

std::vector<std::uint8_t> spi_bytes(std::uint32_t spi);
std::optional<std::uint32_t> spi_from(const std::vector<std::uint8_t>& b);

// Initiator side of a CHILD SA negotiation (IKE_AUTH or CREATE_CHILD_SA).
struct child_offer {
    child_sa* child = nullptr;        // owned by the IKE SA (state created)
    std::vector<proposal> offered;    // as sent, with our SPI
    std::vector<traffic_selector> tsi, tsr;
};
// reqid 0: a new one; a rekey passes the reqid of the CHILD SA it replaces.
child_offer offer_child(ike_sa& sa, const std::vector<proposal>& proposals, std::uint32_t reqid = 0);
// Appends SA, TSi, TSr (in that order) to `out`.
void add_child_payloads(const child_offer& o, std::vector<payload>& out);
// Processes the responder's SA/TSi/TSr; on success the CHILD SA is installed. Returns an error
// text otherwise (and the offered CHILD SA is discarded).
std::optional<std::string> accept_child(ike_sa& sa, child_offer& o, const message& response,
                                        std::span<const std::uint8_t> g_ir, std::span<const std::uint8_t> ni,
                                        std::span<const std::uint8_t> nr, bool defer_outbound = false);
void discard_child(ike_sa& sa, child_offer& o);

// Responder side: selects an ESP proposal and narrows TSi/TSr against the configuration. On
// success `child` holds the new (not yet installed) CHILD SA and `chosen` the proposal to send;
// otherwise `error` is the notify to answer with and `reason` the log line.
struct child_answer {
    child_sa* child = nullptr;
    proposal chosen;
    std::vector<traffic_selector> tsi, tsr;
    std::optional<notify_type> error;
    std::vector<std::uint8_t> error_data;
    std::string reason;
};
child_answer answer_child(ike_sa& sa, const message& request, const std::vector<proposal>& acceptable,
                          std::uint32_t reqid = 0);
void add_child_answer(const child_answer& a, std::vector<payload>& out);

// PFS in CREATE_CHILD_SA (RFC 7296 1.3.1), initiator: g^ir from the responder's KE when the
// chosen proposal has a group (empty without PFS). Returns an error text on mismatch.
std::optional<std::string> initiator_pfs(const message& response, crypto::key_exchange* ke, dh_group group,
                                         std::optional<base::secret_bytes>& g_ir);
// Responder: the KE for the chosen group (none: no PFS). On failure `error` is the notify to
// answer with (INVALID_KE_PAYLOAD with the group we want, or NO_PROPOSAL_CHOSEN).
struct responder_pfs {
    std::unique_ptr<crypto::key_exchange> ke;
    std::optional<base::secret_bytes> g_ir;
    std::optional<notify_type> error;
    std::vector<std::uint8_t> error_data;
    std::string reason;
};
responder_pfs responder_key_exchange(ike_sa& sa, const message& request, dh_group group);
const notify_payload* find_notify(const message& m, notify_type t);

// Responder of CREATE_CHILD_SA { SA, Ni, [KEi], TSi, TSr }: selects, narrows, does the PFS key
// exchange, fills the response and installs the CHILD SA (outbound deferred for a rekey). Returns
// the CHILD SA, or nullptr with an error notify in the response.
child_sa* respond_new_child(ike_sa& sa, const message& request, message& response, std::uint32_t reqid,
                            bool defer_outbound);

// IKE SA rekey collision unresolved when the old SA goes (its DELETE overtook our response): the
// CHILD SAs move to the IKE SA the peer's rekey created. False when there is none.
bool move_children_to_peer_rekey(ike_sa& old);

} // namespace ike::detail
