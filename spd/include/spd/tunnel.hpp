#pragma once
// A tunnel in the product is "local CIDRs x peer CIDRs" protected by one CHILD SA (bundle).
// Compiling it gives the outbound protect policy (local -> peer) and the inbound check policy
// that decrypted inner packets must match (peer -> local), both with list selectors; the
// classifier expands the same-family pairs. Mixed IPv4/IPv6 lists are fine as long as each
// family present on one side is present on the other.
#include "spd/types.hpp"

#include <string>
#include <vector>

namespace spd {

struct tunnel_selectors {
    std::string name;
    std::vector<ip_prefix> local;      // VPC side
    std::vector<ip_prefix> peer;       // remote side
    std::uint32_t priority = 1000;
    std::uint32_t sa_out = no_sa;      // outbound SA (bundle) handle
    std::uint32_t sa_in = no_sa;       // inbound SA handle the inner packets must arrive on
};

// Returns {name + "/out", name + "/in"}. Throws std::invalid_argument when local or peer is
// empty or an address family appears on one side only (traffic that could never match).
std::vector<policy> compile_tunnel(const tunnel_selectors& t);

} // namespace spd
