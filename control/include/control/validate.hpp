#pragma once
// Parsing and validation of API input: every failure is a 400 that names the field and says
// what is allowed (issue 7, "Validation"). Field-level checks (types, ranges, lists, lengths,
// characters) run while a request's fields are applied; cross-object rules (peer CIDR
// overlaps, one tunnel per peer, VIP on a public network, ...) run on the whole candidate
// model before anything is stored.
#include "control/model.hpp"
#include "control/result.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace control {

// A network object from ipsecd's config file or POST /v1/networks.
result<network> parse_network(const nlohmann::json& j, bool from_config);

// Checks a new network against the existing ones (unique name/uuid, no overlapping CIDRs).
status check_new_network(const network& n, const model_state& m);

// POST /v1/vips {"params": {...}}: the requested VIP (ip not chosen yet).
struct vip_request {
    std::string uuid; // from "resourceUuid", or ""
    std::string name, description, l3_network_uuid, ip_range_uuid;
    std::optional<ipv4> required_ip;
};
result<vip_request> parse_vip_request(const nlohmann::json& params);
// Picks the VIP's address (requiredIp, or the lowest free one) following the range/pool rules.
result<ipv4> allocate_vip_address(const vip_request& r, const model_state& m);

enum class field_mode {
    create, // POST /v1/ipsec params: read-only fields refused
    modify, // PUT /v1/ipsec/config/{uuid} changeIPsecConnection: same fields, all optional
    record  // the state file: read-only fields accepted
};
// Applies each present field of `params` onto `t`, checking type, range and allowed values.
status apply_tunnel_fields(tunnel& t, const nlohmann::json& params, field_mode mode);

// Whole-model rules for tunnel `t` (which may already be in `m` under its uuid; it is then
// compared with the other tunnels only). Fills in l3NetworkUuids when exactly one private
// network exists and none was given.
status check_tunnel(tunnel& t, const model_state& m);

// "weak" warnings for the tunnel's status: DH group 2/5, md5, 3des, a guessable authKey.
std::vector<std::string> weak_warnings(const tunnel& t);

// Validation helpers shared with the API layer.
status check_peer_cidr_list(const std::vector<ipv4_cidr>& cidrs, std::string_view field);
result<std::vector<ipv4_cidr>> parse_cidr_list(const nlohmann::json& j, std::string_view field);
result<std::vector<std::string>> parse_string_list(const nlohmann::json& j, std::string_view field);

} // namespace control
