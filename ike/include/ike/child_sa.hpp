#pragma once
// A CHILD SA (RFC 7296 section 1.3): one inbound and one outbound ESP SA with their SPIs,
// the negotiated ESP suite and the narrowed traffic selectors. Keys are handed to the installer
// and not kept here (the IKE side never needs them again; a rekey derives fresh ones).
#include "ike/payload.hpp"
#include "ike/proposal_select.hpp"
#include "ike/sa_installer.hpp"
#include "ike/sa_state.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace ike {

class ike_sa;

struct child_sa {
    std::uint32_t reqid = 0;
    sa_state_machine<child_sa_state> sm{child_sa_state::created};
    std::uint32_t spi_in = 0;   // ours: the peer sends with it
    std::uint32_t spi_out = 0;  // the peer's: we send with it
    negotiated_suite suite;
    std::vector<traffic_selector> ts_local;   // our side (TSi when we initiated the exchange)
    std::vector<traffic_selector> ts_remote;
    bool installed = false;

    [[nodiscard]] std::string describe() const;  // "CHILD reqid 1 c0a80001_i 5f3e0001_o 10.1.0.0/16 === 10.2.0.0/16"
};

// Derives the CHILD SA keys (RFC 7296 2.17) and installs inbound + outbound ESP SAs.
// `we_initiated` is about the exchange that created the CHILD SA (its Ni/Nr order and key
// direction), not about the IKE SA. g_ir empty without PFS. Returns an error text on failure.
std::optional<std::string> child_sa_install(ike_sa& sa, child_sa& child, bool we_initiated,
                                            std::span<const std::uint8_t> g_ir, std::span<const std::uint8_t> ni,
                                            std::span<const std::uint8_t> nr);
// Removes both ESP SAs from the installer (if installed) and moves the CHILD SA to destroyed.
void child_sa_remove(ike_sa& sa, child_sa& child);

} // namespace ike
