// ike-decode payload -> JSON. The SK/SKF objects get their "icv" and inner "payloads" from
// cmd_ike.cpp, which holds the keys; here they only describe the raw body.
#include "ike_json.hpp"

#include <ike/payload_proposal.hpp>
#include <ike/wire_types.hpp>

#include <base/hex.hpp>

#include <arpa/inet.h>

#include <string>
#include <type_traits>

namespace ipsec_vector {
namespace {

using json = nlohmann::ordered_json;

std::string hex(std::span<const std::uint8_t> b) { return base::to_hex(b); }

std::string address_text(const ike::bytes& a) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (a.size() == 4 && inet_ntop(AF_INET, a.data(), buf, sizeof buf)) return buf;
    if (a.size() == 16 && inet_ntop(AF_INET6, a.data(), buf, sizeof buf)) return buf;
    return hex(a);
}

json transform_json(const ike::transform& t) {
    json j;
    j["type"] = ike::to_string(t.type);
    j["id"] = t.id;
    j["name"] = ike::transform_id_name(t.type, t.id);
    if (t.key_length) j["key_length"] = *t.key_length;
    if (!t.other_attributes.empty()) {
        json attrs = json::array();
        for (const auto& a : t.other_attributes) {
            json aj;
            aj["type"] = a.type;
            if (a.tv) aj["value"] = a.value;
            else aj["data"] = hex(a.data);
            attrs.push_back(std::move(aj));
        }
        j["attributes"] = std::move(attrs);
    }
    return j;
}

json body_json(const ike::sa_payload& v) {
    json j;
    json props = json::array();
    for (const auto& p : v.proposals) {
        json pj;
        pj["number"] = p.number;
        pj["protocol"] = ike::to_string(p.protocol);
        pj["spi"] = hex(p.spi);
        pj["proposal"] = ike::to_string(p);
        json ts = json::array();
        for (const auto& t : p.transforms) ts.push_back(transform_json(t));
        pj["transforms"] = std::move(ts);
        props.push_back(std::move(pj));
    }
    j["proposals"] = std::move(props);
    j["proposal"] = ike::to_string(v);
    return j;
}

json body_json(const ike::ke_payload& v) {
    json j;
    j["group"] = ike::to_string(v.group);
    j["group_id"] = static_cast<unsigned>(v.group);
    j["length"] = v.data.size();
    return j;
}

json body_json(const ike::nonce_payload& v) {
    json j;
    j["length"] = v.data.size();
    j["data"] = hex(v.data);
    return j;
}

json body_json(const ike::id_payload& v) {
    json j;
    j["id_type"] = ike::to_string(v.type);
    j["value"] = v.to_string();
    return j;
}

json body_json(const ike::auth_payload& v) {
    json j;
    j["method"] = ike::to_string(v.method);
    j["data"] = hex(v.data);
    return j;
}

json body_json(const ike::cert_payload& v) {
    json j;
    j["encoding"] = ike::to_string(v.encoding);
    j["data"] = hex(v.data);
    return j;
}

json body_json(const ike::notify_payload& v) {
    json j;
    j["notify"] = ike::to_string(v.type);
    j["notify_id"] = static_cast<unsigned>(v.type);
    j["protocol"] = ike::to_string(v.protocol);
    j["spi"] = hex(v.spi);
    j["data"] = hex(v.data);
    return j;
}

json body_json(const ike::delete_payload& v) {
    json j;
    j["protocol"] = ike::to_string(v.protocol);
    j["spi_size"] = v.spi_size;
    json spis = json::array();
    for (const auto& s : v.spis) spis.push_back(hex(s));
    j["spis"] = std::move(spis);
    return j;
}

json body_json(const ike::vendor_payload& v) {
    json j;
    j["data"] = hex(v.data);
    return j;
}

json body_json(const ike::ts_payload& v) {
    json j;
    json sel = json::array();
    for (const auto& t : v.selectors) {
        json tj;
        tj["ts_type"] = ike::to_string(t.type);
        tj["protocol"] = t.ip_protocol;
        tj["start_port"] = t.start_port;
        tj["end_port"] = t.end_port;
        tj["start"] = address_text(t.start_address);
        tj["end"] = address_text(t.end_address);
        tj["text"] = t.to_string();
        sel.push_back(std::move(tj));
    }
    j["selectors"] = std::move(sel);
    return j;
}

json body_json(const ike::sk_payload& v) {
    json j;
    j["next"] = ike::to_string(v.inner_first);
    j["length"] = v.data.size();
    return j;
}

json body_json(const ike::skf_payload& v) {
    json j;
    j["next"] = ike::to_string(v.inner_first);
    j["fragment_number"] = v.fragment_number;
    j["total_fragments"] = v.total_fragments;
    j["length"] = v.data.size();
    return j;
}

json body_json(const ike::cp_payload& v) {
    json j;
    j["cfg_type"] = ike::to_string(v.type);
    json attrs = json::array();
    for (const auto& a : v.attributes) {
        json aj;
        aj["type"] = a.type;
        aj["value"] = hex(a.value);
        attrs.push_back(std::move(aj));
    }
    j["attributes"] = std::move(attrs);
    return j;
}

json body_json(const ike::eap_payload& v) {
    json j;
    j["data"] = hex(v.data);
    return j;
}

json body_json(const ike::unknown_payload& v) {
    json j;
    j["type_id"] = v.type;
    j["data"] = hex(v.data);
    return j;
}

} // namespace

nlohmann::ordered_json payload_json(const ike::payload& p) {
    json j;
    j["type"] = ike::to_string(p.type);
    if (p.critical) j["critical"] = true;
    json body = std::visit([](const auto& b) { return body_json(b); }, p.body);
    for (auto& [k, v] : body.items()) j[k] = v;
    return j;
}

} // namespace ipsec_vector
