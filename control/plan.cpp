// The one place where the model becomes engine configuration (see plan.hpp).
#include "control/plan.hpp"

#include <fmt/format.h>

namespace control {

namespace {

struct encr_info {
    std::string_view keyword; // strongSwan
    std::uint16_t id, bits;
    bool aead;
};

encr_info encryption_info(const std::string& e) {
    if (e == "3des") return {"3des", 3, 0, false};
    if (e == "aes-128") return {"aes128", 12, 128, false};
    if (e == "aes-192") return {"aes192", 12, 192, false};
    if (e == "aes-128-gcm") return {"aes128gcm16", 20, 128, true};
    if (e == "aes-256-gcm") return {"aes256gcm16", 20, 256, true};
    return {"aes256", 12, 256, false}; // aes-256 (validated before)
}

// IANA IKEv2 Integrity Algorithm and PRF transform IDs.
std::uint16_t integ_id(const std::string& a) {
    if (a == "md5") return 1;     // AUTH_HMAC_MD5_96
    if (a == "sha1") return 2;    // AUTH_HMAC_SHA1_96
    if (a == "sha384") return 13; // AUTH_HMAC_SHA2_384_192
    if (a == "sha512") return 14; // AUTH_HMAC_SHA2_512_256
    return 12;                    // AUTH_HMAC_SHA2_256_128
}
std::uint16_t prf_id(const std::string& a) {
    if (a == "md5") return 1;    // PRF_HMAC_MD5
    if (a == "sha1") return 2;   // PRF_HMAC_SHA1
    if (a == "sha384") return 6; // PRF_HMAC_SHA2_384
    if (a == "sha512") return 7; // PRF_HMAC_SHA2_512
    return 5;                    // PRF_HMAC_SHA2_256
}

id_type to_id_type(const std::string& t) {
    if (t == "fqdn") return id_type::fqdn;
    if (t == "name") return id_type::key_id; // an opaque name, RFC 7296 ID_KEY_ID
    return id_type::ipv4_addr;
}

} // namespace

std::string dh_group_keyword(int g) {
    switch (g) {
    case 2: return "modp1024";
    case 5: return "modp1536";
    case 14: return "modp2048";
    case 15: return "modp3072";
    case 16: return "modp4096";
    case 17: return "modp6144";
    case 18: return "modp8192";
    case 19: return "ecp256";
    case 20: return "ecp384";
    case 21: return "ecp521";
    case 22: return "modp1024s160";
    case 23: return "modp2048s224";
    case 24: return "modp2048s256";
    case 25: return "ecp192";
    case 26: return "ecp224";
    case 31: return "curve25519";
    default: return fmt::format("dh{}", g);
    }
}

proposal ike_proposal(const std::string& encryption, const std::string& auth, int dh_group) {
    auto e = encryption_info(encryption);
    proposal p;
    p.encr_id = e.id;
    p.encr_key_bits = e.bits;
    p.prf_id = prf_id(auth);
    p.dh_group = std::uint16_t(dh_group);
    // With AEAD the auth algorithm only selects the PRF; strongSwan writes it "prf<alg>".
    p.integ_id = e.aead ? 0 : integ_id(auth);
    p.text = e.aead ? fmt::format("{}-prf{}-{}", e.keyword, auth, dh_group_keyword(dh_group))
                    : fmt::format("{}-{}-{}", e.keyword, auth, dh_group_keyword(dh_group));
    return p;
}

proposal esp_proposal(const std::string& encryption, const std::string& auth, const std::string& pfs) {
    auto e = encryption_info(encryption);
    proposal p;
    p.encr_id = e.id;
    p.encr_key_bits = e.bits;
    p.integ_id = e.aead ? 0 : integ_id(auth);
    p.dh_group = pfs == "none" ? 0 : std::uint16_t(std::stoi(pfs.substr(8))); // "dh-groupN"
    p.text = e.aead ? std::string(e.keyword) : fmt::format("{}-{}", e.keyword, auth);
    if (p.dh_group) p.text += "-" + dh_group_keyword(p.dh_group);
    return p;
}

tunnel_plan compile_tunnel(const tunnel& t, const model_state& m) {
    tunnel_plan plan;
    auto& pc = plan.peer;
    pc.tunnel_uuid = t.uuid;
    pc.name = t.name;
    if (const vip* v = m.find_vip(t.vip_uuid)) pc.local_address = v->ip;
    pc.peer_address = t.peer_address;
    pc.local_id = {to_id_type(t.id_type), t.local_id.empty() ? pc.local_address.str() : t.local_id};
    pc.remote_id = {to_id_type(t.id_type), t.remote_id.empty() ? pc.peer_address.str() : t.remote_id};
    pc.psk = t.auth_key;
    pc.ike = ike_proposal(t.ike_encryption_algorithm, t.ike_auth_algorithm, t.ike_dh_group);
    pc.esp = esp_proposal(t.policy_encryption_algorithm, t.policy_auth_algorithm, t.pfs);
    pc.ike_lifetime_s = std::uint32_t(t.ike_lifetime);
    pc.child_lifetime_s = std::uint32_t(t.lifetime);
    pc.dpd_delay_s = std::uint32_t(t.dpd.delay);
    pc.dpd = t.dpd.action == "clear" ? dpd_action::clear : t.dpd.action == "hold" ? dpd_action::hold : dpd_action::restart;
    pc.nat_t = t.nat_traversal == "force" ? nat_t_mode::force : nat_t_mode::automatic;
    pc.replay_window = std::uint32_t(t.replay_window);
    for (const auto& u : t.l3_network_uuids)
        if (const network* n = m.find_network(u)) pc.local_cidrs.push_back(n->cidr);
    pc.peer_cidrs = t.peer_cidrs;
    pc.enabled = t.enabled;

    // local x peer, an outbound PROTECT and an inbound check per pair; more specific pairs
    // first (priority = 64 - combined prefix length).
    for (const auto& l : pc.local_cidrs)
        for (const auto& p : pc.peer_cidrs) {
            auto prio = std::uint32_t(64 - l.prefix - p.prefix);
            plan.policies.push_back({t.uuid, policy_direction::out, policy_action::protect, l, p, prio});
            plan.policies.push_back({t.uuid, policy_direction::in, policy_action::protect, p, l, prio});
        }
    return plan;
}

std::string_view to_string(policy_direction d) { return d == policy_direction::out ? "out" : "in"; }
std::string_view to_string(policy_action a) {
    switch (a) {
    case policy_action::protect: return "protect";
    case policy_action::bypass: return "bypass";
    case policy_action::discard: return "discard";
    }
    return "protect";
}

} // namespace control
