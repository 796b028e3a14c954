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
child_offer offer_child(ike_sa& sa, const std::vector<proposal>& proposals);
// Appends SA, TSi, TSr (in that order) to `out`.
void add_child_payloads(const child_offer& o, std::vector<payload>& out);
// Processes the responder's SA/TSi/TSr; on success the CHILD SA is installed. Returns an error
// text otherwise (and the offered CHILD SA is discarded).
std::optional<std::string> accept_child(ike_sa& sa, child_offer& o, const message& response,
                                        std::span<const std::uint8_t> g_ir, std::span<const std::uint8_t> ni,
                                        std::span<const std::uint8_t> nr);
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
child_answer answer_child(ike_sa& sa, const message& request, const std::vector<proposal>& acceptable);
void add_child_answer(const child_answer& a, std::vector<payload>& out);

} // namespace ike::detail
