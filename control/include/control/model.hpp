#pragma once
// The management model: networks, VIPs and tunnels (IPsec connections), with the JSON field
// names of ZStack's API so that its agent model maps one to one (issue 7, "Resources").
//
// Two JSON forms exist for a VIP and a tunnel:
//   - the inventory (API replies): authKey is never present, only "authKey": "<redacted>";
//   - the persisted record (state file, mode 0600): the same plus the key.
// Runtime-only fields of a tunnel (status, statusReason) come from the engine at read time.
#include "control/ipv4.hpp"

#include <base/secret_bytes.hpp>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace control {

enum class network_category { public_net, private_net, management };
std::string_view to_string(network_category c);
std::optional<network_category> category_from_string(std::string_view s);

struct ip_range {
    std::string uuid, name;
    ipv4 start, end;
};

struct address_pool {
    std::string uuid, name;
    ipv4_cidr cidr;
};

struct network {
    std::string uuid, name;
    network_category category = network_category::private_net;
    std::string port;              // port name in ipsecd's config
    ipv4_cidr cidr;
    std::optional<ipv4> gateway;
    std::optional<ipv4> port_ip;   // "portIp" (our extension): the port's own address = system VIP
    std::vector<ip_range> ip_ranges;
    std::vector<address_pool> address_pools;
    bool from_config = true;       // "source": "config" | "api"
};

struct vip {
    std::string uuid, name, description;
    std::string l3_network_uuid;
    ipv4 ip;
    bool system = false;
    std::string ip_range_uuid;     // the range or pool it was taken from ("" for system VIPs)
    std::vector<std::string> use_for;
    std::string create_date, last_op_date;
};

struct dpd_config {
    int delay = 30;                // seconds between liveness checks when idle; 0 = off
    std::string action = "restart"; // restart | clear | hold
};

struct tunnel {
    std::string uuid, name, description;
    std::string vip_uuid;
    ipv4 peer_address;
    std::vector<std::string> l3_network_uuids;
    std::vector<ipv4_cidr> peer_cidrs;
    std::string auth_mode = "psk";
    base::secret_bytes auth_key;
    std::string id_type = "ip";
    std::string local_id, remote_id; // "" = default (VIP address / peer address)
    std::string ike_version = "ikev2";
    std::string ike_auth_algorithm = "sha256";
    std::string ike_encryption_algorithm = "aes-256";
    int ike_dh_group = 2;
    int ike_lifetime = 86400;
    std::string policy_auth_algorithm = "sha256";
    std::string policy_encryption_algorithm = "aes-256";
    std::string pfs = "dh-group14";
    std::string policy_mode = "tunnel";
    std::string transform_protocol = "esp";
    int lifetime = 3600;
    dpd_config dpd;
    std::string nat_traversal = "auto";
    int replay_window = 64;
    // read-only
    bool enabled = true;           // "state": "Enabled" | "Disabled"
    std::string create_date, last_op_date;
};

// What the engine says about a tunnel right now (merged into the inventory on every read).
struct tunnel_status {
    std::string status = "Connecting"; // Connecting | Ready | Disconnected
    std::string reason;
};

// JSON forms (field names as in ZStack's API).
nlohmann::json to_json(const network& n);
nlohmann::json to_json(const vip& v);
// Inventory: authKey redacted; effective localId/remoteId; weak-algorithm warnings.
nlohmann::json to_inventory(const tunnel& t, const vip* v, const tunnel_status& st,
                            const std::vector<std::string>& warnings);
// Persisted record of a tunnel, including the key (only ever written to the 0600 state file).
nlohmann::json to_record(const tunnel& t);

// ISO 8601 UTC timestamp of now, e.g. "2026-11-27T08:30:17Z".
std::string now_timestamp();
// 32 lowercase hex characters, as ZStack's uuids (random).
std::string new_uuid();
// Deterministic uuid derived from a text (for config objects without one and system VIPs, so
// that they keep their uuid across restarts).
std::string derived_uuid(std::string_view seed);

} // namespace control

namespace control {

// Everything the control plane owns, as one value: copied, changed and validated as a whole,
// then persisted and swapped in, so a failed operation leaves nothing half-applied.
struct model_state {
    std::vector<network> networks;
    std::vector<vip> vips;
    std::vector<tunnel> tunnels;

    [[nodiscard]] const network* find_network(std::string_view uuid) const;
    [[nodiscard]] const vip* find_vip(std::string_view uuid) const;
    [[nodiscard]] vip* find_vip(std::string_view uuid);
    [[nodiscard]] const tunnel* find_tunnel(std::string_view uuid) const;
    [[nodiscard]] tunnel* find_tunnel(std::string_view uuid);
};

} // namespace control
