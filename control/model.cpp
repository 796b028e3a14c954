// JSON forms of the model and identifiers (ZStack field names, issue 7).
#include "control/model.hpp"

#include <base/hex.hpp>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <ctime>
#include <stdexcept>

namespace control {

using nlohmann::json;

std::string_view to_string(network_category c) {
    switch (c) {
    case network_category::public_net: return "public";
    case network_category::private_net: return "private";
    case network_category::management: return "management";
    }
    return "private";
}

std::optional<network_category> category_from_string(std::string_view s) {
    if (s == "public") return network_category::public_net;
    if (s == "private") return network_category::private_net;
    if (s == "management") return network_category::management;
    return std::nullopt;
}

json to_json(const network& n) {
    json j{{"uuid", n.uuid},
           {"name", n.name},
           {"category", to_string(n.category)},
           {"port", n.port},
           {"cidr", n.cidr.str()},
           {"source", n.from_config ? "config" : "api"}};
    if (n.gateway) j["gateway"] = n.gateway->str();
    if (n.port_ip) j["portIp"] = n.port_ip->str();
    j["ipRanges"] = json::array();
    for (const auto& r : n.ip_ranges)
        j["ipRanges"].push_back({{"uuid", r.uuid}, {"name", r.name}, {"start", r.start.str()}, {"end", r.end.str()}});
    j["addressPools"] = json::array();
    for (const auto& p : n.address_pools)
        j["addressPools"].push_back({{"uuid", p.uuid}, {"name", p.name}, {"cidr", p.cidr.str()}});
    return j;
}

json to_json(const vip& v) {
    return json{{"uuid", v.uuid},
                {"name", v.name},
                {"description", v.description},
                {"l3NetworkUuid", v.l3_network_uuid},
                {"ip", v.ip.str()},
                {"system", v.system},
                {"ipRangeUuid", v.ip_range_uuid},
                {"useFor", v.use_for},
                {"createDate", v.create_date},
                {"lastOpDate", v.last_op_date}};
}

namespace {
json common_fields(const tunnel& t) {
    json cidrs = json::array();
    for (const auto& c : t.peer_cidrs) cidrs.push_back(c.str());
    return json{{"uuid", t.uuid},
                {"name", t.name},
                {"description", t.description},
                {"vipUuid", t.vip_uuid},
                {"peerAddress", t.peer_address.str()},
                {"l3NetworkUuids", t.l3_network_uuids},
                {"peerCidrs", cidrs},
                {"authMode", t.auth_mode},
                {"idType", t.id_type},
                {"ikeVersion", t.ike_version},
                {"ikeAuthAlgorithm", t.ike_auth_algorithm},
                {"ikeEncryptionAlgorithm", t.ike_encryption_algorithm},
                {"ikeDhGroup", t.ike_dh_group},
                {"ikeLifeTime", t.ike_lifetime},
                {"policyAuthAlgorithm", t.policy_auth_algorithm},
                {"policyEncryptionAlgorithm", t.policy_encryption_algorithm},
                {"pfs", t.pfs},
                {"policyMode", t.policy_mode},
                {"transformProtocol", t.transform_protocol},
                {"lifeTime", t.lifetime},
                {"dpd", {{"delay", t.dpd.delay}, {"action", t.dpd.action}}},
                {"natTraversal", t.nat_traversal},
                {"replayWindow", t.replay_window},
                {"state", t.enabled ? "Enabled" : "Disabled"},
                {"createDate", t.create_date},
                {"lastOpDate", t.last_op_date}};
}
} // namespace

json to_inventory(const tunnel& t, const vip* v, const tunnel_status& st, const std::vector<std::string>& warnings) {
    json j = common_fields(t);
    j["authKey"] = std::string(base::secret_bytes::redacted());
    j["localId"] = !t.local_id.empty() ? t.local_id : (v ? v->ip.str() : "");
    j["remoteId"] = !t.remote_id.empty() ? t.remote_id : t.peer_address.str();
    j["status"] = st.status;
    j["statusReason"] = st.reason;
    j["warnings"] = warnings;
    j["weak"] = !warnings.empty();
    return j;
}

json to_record(const tunnel& t) {
    json j = common_fields(t);
    j["authKey"] = std::string(reinterpret_cast<const char*>(t.auth_key.data()), t.auth_key.size());
    if (!t.local_id.empty()) j["localId"] = t.local_id;
    if (!t.remote_id.empty()) j["remoteId"] = t.remote_id;
    return j;
}

std::string now_timestamp() {
    auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::array<char, 32> buf{};
    auto n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf.data(), n);
}

std::string new_uuid() {
    std::array<std::uint8_t, 16> b{};
    if (RAND_bytes(b.data(), int(b.size())) != 1) throw std::runtime_error("RAND_bytes failed");
    return base::to_hex(b);
}

std::string derived_uuid(std::string_view seed) {
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> md{};
    unsigned len = 0;
    EVP_Digest(seed.data(), seed.size(), md.data(), &len, EVP_sha256(), nullptr);
    return base::to_hex(std::span<const std::uint8_t>(md.data(), 16));
}

const network* model_state::find_network(std::string_view uuid) const {
    for (const auto& n : networks)
        if (n.uuid == uuid) return &n;
    return nullptr;
}
const vip* model_state::find_vip(std::string_view uuid) const {
    for (const auto& v : vips)
        if (v.uuid == uuid) return &v;
    return nullptr;
}
vip* model_state::find_vip(std::string_view uuid) {
    for (auto& v : vips)
        if (v.uuid == uuid) return &v;
    return nullptr;
}
const tunnel* model_state::find_tunnel(std::string_view uuid) const {
    for (const auto& t : tunnels)
        if (t.uuid == uuid) return &t;
    return nullptr;
}
tunnel* model_state::find_tunnel(std::string_view uuid) {
    for (auto& t : tunnels)
        if (t.uuid == uuid) return &t;
    return nullptr;
}

} // namespace control
