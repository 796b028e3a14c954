#pragma once
// control's tunnel plan -> what the IKE endpoint and the data plane take (the translation lives
// here because dataplane may not depend on ike or control):
//   control::peer_config  -> ike::peer_config (name = tunnel uuid, strongSwan proposal text,
//                            PSK, IDs, lifetimes, DPD delay/action, NAT-T force -> force_encap,
//                            CIDRs as TS)
//   control::spd_policy   -> spd::policy (sa_handle resolved later by sa_table)
#include <control/plan.hpp>
#include <ike/config.hpp>
#include <spd/types.hpp>

#include <optional>
#include <string>
#include <vector>

namespace ipsecd {

// nullopt with `error` set (never containing the PSK) when the plan cannot be expressed.
std::optional<ike::peer_config> to_ike_peer(const control::peer_config& p, std::string& error);
ike::peer_identity to_ike_identity(const control::peer_identity& id);
// A CIDR as an IKE traffic selector range; nullopt for a prefix length outside 0..32.
std::optional<ike::cidr> to_ike_cidr(const control::ipv4_cidr& c);
// The CIDRs of a plan that to_ike_peer accepted (so every one converts).
std::vector<ike::cidr> to_ike_cidrs(const std::vector<control::ipv4_cidr>& list);

// Policies of a tunnel, named "<uuid>/out/<n>" and "<uuid>/in/<n>".
std::vector<spd::policy> to_spd_policies(const std::vector<control::spd_policy>& policies);

} // namespace ipsecd
