#pragma once
// The policy file format shared by `ipsec-vector spd-classify` and ipsecd's static config:
//   {"default": "bypass",
//    "policies": [{"name": "p1", "priority": 100, "direction": "out",
//                  "src": ["10.1.0.0/24"], "dst": ["10.2.0.0/16", "2001:db8:2::/48"],
//                  "proto": "any" | "tcp" | "udp" | "icmp" | "icmpv6" | "sctp" | 0..255,
//                  "sport": "0-65535", "dport": "443" | "1000-2000",
//                  "action": "protect" | "bypass" | "discard", "sa": "out5"}]}
// Omitted selectors mean any; direction defaults to out, priority to 0, default to bypass.
// name and action are required; names are unique. Strict: unknown keys, wrong types, bad
// CIDRs (incl. host bits set), empty address lists, port selectors on protocols without ports
// and "sa" on a non-protect policy are errors whose message names the policy and the field.
#include "spd/types.hpp"

#include <nlohmann/json_fwd.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace spd {

struct policy_set {
    action default_action = action::bypass;
    std::vector<policy> policies;
};

struct policy_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// parse_policy_value takes an already parsed document (e.g. the "policies" object inside
// ipsecd's config). Both throw policy_error. "sa" given as a string is kept in policy::sa for
// the caller to resolve; as an integer it is also stored in policy::sa_handle.
policy_set parse_policy_json(std::string_view text);
policy_set parse_policy_value(const nlohmann::json& doc);

} // namespace spd
