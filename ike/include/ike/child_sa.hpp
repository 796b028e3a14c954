#pragma once
// A CHILD SA (RFC 7296 section 1.3): one inbound and one outbound ESP SA with their SPIs,
// the negotiated ESP suite and the narrowed traffic selectors. Keys are handed to the installer
// and not kept here (the IKE side never needs them again; a rekey derives fresh ones).
#include "ike/endpoint_clock.hpp"
#include "ike/payload.hpp"
#include "ike/proposal_select.hpp"
#include "ike/sa_installer.hpp"
#include "ike/sa_state.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ike {

class ike_sa;
struct peer_config;

struct child_sa {
    std::uint32_t reqid = 0;
    sa_state_machine<child_sa_state> sm{child_sa_state::created};
    std::uint32_t spi_in = 0;   // ours: the peer sends with it
    std::uint32_t spi_out = 0;  // the peer's: we send with it
    negotiated_suite suite;
    std::vector<traffic_selector> ts_local;   // our side (TSi when we initiated the exchange)
    std::vector<traffic_selector> ts_remote;
    bool installed = false;           // inbound ESP SA handed to the installer
    bool outbound_installed = false;  // outbound ESP SA handed to the installer
    // Rekey responder: the new outbound SA waits until the initiator's DELETE of the old CHILD
    // SA shows that it has installed the new inbound one (make-before-break, RFC 7296 2.8).
    std::optional<esp_sa_install> pending_outbound;
    std::uint32_t rekeys_spi = 0;     // a rekey's new CHILD SA: spi_in of the one it replaces
    // Our rekey of this CHILD SA crossed the peer's (RFC 7296 2.8.1): spi_in of the CHILD SA the
    // peer's exchange created; the exchange with the lowest nonce loses.
    std::uint32_t peer_rekey_spi = 0;
    std::vector<std::uint8_t> nonce_min;  // lower of Ni/Nr of the exchange that created it (2.8.1)
    // Lifetime deadlines (unset while negotiating or once rekeyed/deleting).
    std::optional<time_point> rekey_at;
    std::optional<time_point> expire_at;
    std::optional<time_point> remove_at;  // rekeyed: end of the old inbound SA's grace period
    // Lifetime by usage (child_usage.cpp): the installer reports this CHILD SA's usage, so the
    // IKE SA polls it; and a rekey was requested for it (by time or usage), so crossing a soft
    // usage limit does not queue another one.
    bool usage_polled = false;
    bool rekey_requested = false;

    [[nodiscard]] std::string describe() const;  // "CHILD reqid 1 c0a80001_i 5f3e0001_o 10.1.0.0/16 === 10.2.0.0/16"
};

// Derives the CHILD SA keys (RFC 7296 2.17) and installs inbound + outbound ESP SAs.
// `we_initiated` is about the exchange that created the CHILD SA (its Ni/Nr order and key
// direction), not about the IKE SA. g_ir empty without PFS. Returns an error text on failure.
// `defer_outbound` (rekey responder): only the inbound SA is installed, the outbound one is kept
// in pending_outbound for child_sa_install_outbound.
std::optional<std::string> child_sa_install(ike_sa& sa, child_sa& child, bool we_initiated,
                                            std::span<const std::uint8_t> g_ir, std::span<const std::uint8_t> ni,
                                            std::span<const std::uint8_t> nr, bool defer_outbound = false);
void child_sa_install_outbound(ike_sa& sa, child_sa& child);
// Removes only the outbound ESP SA (a rekeyed CHILD SA once its successor carries the traffic).
void child_sa_remove_outbound(ike_sa& sa, child_sa& child);
// Sets rekey_at / expire_at from the configured lifetime with random jitter.
void child_sa_schedule(ike_sa& sa, child_sa& child);
// When to start rekeying an SA of lifetime `life`: rekey_percent of it minus random jitter.
duration rekey_delay(ike_sa& sa, duration life);
// Removes both ESP SAs from the installer (if installed) and moves the CHILD SA to destroyed.
void child_sa_remove(ike_sa& sa, child_sa& child);

// Lifetime by usage (issue 5, child_usage.cpp). After installation: asks the installer once
// whether it reports this CHILD SA's usage (sets usage_polled).
void child_usage_probe(ike_sa& sa, child_sa& child);
// Whether any CHILD SA of `sa` is polled (an installed one whose usage the installer reports).
[[nodiscard]] bool child_usage_wanted(const ike_sa& sa);
// One poll of every polled CHILD SA: a hard limit (life_bytes, life_packets, the last sequence
// number) deletes it (and recreates it when configured), a soft one (rekey_bytes, rekey_packets,
// the sequence-number threshold) queues its rekey, once. Sets sa.usage_polled_at.
void child_usage_poll(ike_sa& sa, time_point now);
// The sequence-number limits for an SA with or without ESN (config.hpp child_rekey_seq).
[[nodiscard]] std::uint64_t child_seq_rekey_threshold(const peer_config& cfg, bool esn);
[[nodiscard]] constexpr std::uint64_t child_seq_hard_limit(bool esn) { return esn ? ~std::uint64_t(0) : 0xFFFFFFFFULL; }

} // namespace ike
