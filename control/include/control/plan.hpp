#pragma once
// What the engine needs for one tunnel, as plain structs owned by control (the ike and spd
// modules will provide their own types later; the whole mapping from the model lives in
// plan.cpp so that switching over touches one file).
//
//   tunnel (model) --compile_tunnel()--> tunnel_plan { peer_config, [spd_policy...] }
#include "control/ipv4.hpp"
#include "control/model.hpp"

#include <base/secret_bytes.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace control {

// IKEv2 identification types (RFC 7296 section 3.5).
enum class id_type : std::uint8_t { ipv4_addr = 1, fqdn = 2, key_id = 11 };

struct peer_identity {
    id_type type = id_type::ipv4_addr;
    std::string value;
};

// One proposal with its IANA transform IDs (RFC 7296 section 3.3.2, IKEv2 registry) and the
// strongSwan-style text used in logs, status and interop configs ("aes256-sha256-modp2048").
struct proposal {
    std::string text;
    std::uint16_t encr_id = 0;       // ENCR_3DES 3, ENCR_AES_CBC 12, ENCR_AES_GCM_16 20
    std::uint16_t encr_key_bits = 0; // 0 for 3DES (fixed key size)
    std::uint16_t integ_id = 0;      // AUTH_HMAC_*; 0 (none) with AEAD
    std::uint16_t prf_id = 0;        // PRF_HMAC_*; IKE only
    std::uint16_t dh_group = 0;      // 0 = no DH (ESP without PFS)
};

enum class nat_t_mode : std::uint8_t { automatic, force };
enum class dpd_action : std::uint8_t { restart, clear, hold };

struct peer_config {
    std::string tunnel_uuid, name;
    ipv4 local_address, peer_address;
    peer_identity local_id, remote_id;
    base::secret_bytes psk;
    proposal ike, esp;
    std::uint32_t ike_lifetime_s = 86400, child_lifetime_s = 3600;
    std::uint32_t dpd_delay_s = 30;  // 0 = off
    dpd_action dpd = dpd_action::restart;
    nat_t_mode nat_t = nat_t_mode::automatic;
    std::uint32_t replay_window = 64;
    std::vector<ipv4_cidr> local_cidrs, peer_cidrs;
    bool enabled = true;             // disabled: keep config, negotiate nothing
};

enum class policy_direction : std::uint8_t { out, in };
enum class policy_action : std::uint8_t { protect, bypass, discard };

// Outbound: traffic local -> peer is PROTECTed by the tunnel's SA. Inbound: decrypted traffic
// must match peer -> local ("check": anything else arriving on the SA is dropped).
struct spd_policy {
    std::string tunnel_uuid;
    policy_direction direction = policy_direction::out;
    policy_action action = policy_action::protect;
    ipv4_cidr src, dst;
    std::uint32_t priority = 0;      // longer prefixes first: lower value = earlier match
};

struct tunnel_plan {
    peer_config peer;
    std::vector<spd_policy> policies;
};

// Proposal text/IDs for IKE (with PRF) and ESP (PFS group appended unless "none").
proposal ike_proposal(const std::string& encryption, const std::string& auth, int dh_group);
proposal esp_proposal(const std::string& encryption, const std::string& auth, const std::string& pfs);
// strongSwan keyword of a DH group ("modp1024", "ecp256", "curve25519").
std::string dh_group_keyword(int group);

// Compiles a validated tunnel (its VIP and local networks must exist in `m`).
tunnel_plan compile_tunnel(const tunnel& t, const model_state& m);

std::string_view to_string(policy_direction d);
std::string_view to_string(policy_action a);

} // namespace control
