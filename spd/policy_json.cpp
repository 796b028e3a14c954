#include "spd/policy_json.hpp"

#include <nlohmann/json.hpp>

#include <set>

namespace spd {

namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& who, std::string_view field, const std::string& what) {
    throw policy_error(who + ": field \"" + std::string(field) + "\": " + what);
}

std::string shown(const json& v) {
    std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
    if (s.size() > 80) s = s.substr(0, 77) + "...";
    return s;
}

std::vector<ip_prefix> parse_prefixes(const json& v, const std::string& who, std::string_view field) {
    std::vector<ip_prefix> out;
    auto one = [&](const json& e) {
        if (!e.is_string()) fail(who, field, "expected a CIDR string, got " + shown(e));
        auto p = ip_prefix::parse(e.get_ref<const std::string&>());
        if (!p) fail(who, field, "bad CIDR " + shown(e) + " (need a.b.c.d/len or x:y::/len, no host bits set)");
        out.push_back(*p);
    };
    if (v.is_string()) {
        one(v);
    } else if (v.is_array()) {
        if (v.empty()) fail(who, field, "empty list (omit the field for any)");
        for (const auto& e : v) one(e);
    } else {
        fail(who, field, "expected a list of CIDR strings, got " + shown(v));
    }
    return out;
}

std::optional<std::uint8_t> parse_proto(const json& v, const std::string& who) {
    if (v.is_number_integer()) {
        auto n = v.get<std::int64_t>();
        if (n < 0 || n > 255) fail(who, "proto", "protocol number out of range 0-255: " + shown(v));
        return std::uint8_t(n);
    }
    if (!v.is_string()) fail(who, "proto", "expected a name or number, got " + shown(v));
    const auto& s = v.get_ref<const std::string&>();
    if (s == "any") return std::nullopt;
    if (s == "tcp") return proto_tcp;
    if (s == "udp") return proto_udp;
    if (s == "icmp") return proto_icmp;
    if (s == "icmpv6") return proto_icmpv6;
    if (s == "sctp") return proto_sctp;
    if (!s.empty() && s.size() <= 3 && s.find_first_not_of("0123456789") == std::string::npos) {
        int n = std::stoi(s);
        if (n <= 255) return std::uint8_t(n);
    }
    fail(who, "proto", "unknown protocol " + shown(v) + " (any, tcp, udp, icmp, icmpv6, sctp or 0-255)");
}

port_range parse_ports(const json& v, const std::string& who, std::string_view field) {
    if (v.is_number_integer()) {
        auto n = v.get<std::int64_t>();
        if (n < 0 || n > 65535) fail(who, field, "port out of range 0-65535: " + shown(v));
        return port_range{std::uint16_t(n), std::uint16_t(n)};
    }
    if (!v.is_string()) fail(who, field, "expected \"port\" or \"lo-hi\", got " + shown(v));
    const auto& s = v.get_ref<const std::string&>();
    if (s == "any") return port_range{};
    auto r = port_range::parse(s);
    if (!r) fail(who, field, "bad port range " + shown(v) + " (need \"443\" or \"1000-2000\", 0-65535, lo <= hi)");
    return *r;
}

policy parse_one(const json& j, std::size_t index) {
    std::string who = "policy #" + std::to_string(index);
    if (!j.is_object()) throw policy_error(who + ": expected an object, got " + shown(j));
    policy p;
    auto name = j.find("name");
    if (name == j.end()) fail(who, "name", "missing");
    if (!name->is_string() || name->get_ref<const std::string&>().empty())
        fail(who, "name", "expected a non-empty string, got " + shown(*name));
    p.name = name->get<std::string>();
    who = "policy \"" + p.name + "\" (#" + std::to_string(index) + ")";

    static const std::set<std::string, std::less<>> known{"name", "priority", "direction", "src", "dst", "proto",
                                                          "sport", "dport", "action", "sa"};
    for (const auto& [key, value] : j.items())
        if (!known.count(key)) fail(who, key, "unknown field");

    if (auto it = j.find("priority"); it != j.end()) {
        if (!it->is_number_integer()) fail(who, "priority", "expected an integer, got " + shown(*it));
        auto n = it->get<std::int64_t>();
        if (it->is_number_unsigned() && it->get<std::uint64_t>() > 0xffffffffu) n = -1;
        if (n < 0 || n > 0xffffffffll) fail(who, "priority", "out of range 0-4294967295: " + shown(*it));
        p.priority = std::uint32_t(n);
    }
    if (auto it = j.find("direction"); it != j.end()) {
        auto d = it->is_string() ? parse_direction(it->get_ref<const std::string&>()) : std::nullopt;
        if (!d) fail(who, "direction", "expected \"out\" or \"in\", got " + shown(*it));
        p.dir = *d;
    }
    if (auto it = j.find("src"); it != j.end()) p.src = parse_prefixes(*it, who, "src");
    if (auto it = j.find("dst"); it != j.end()) p.dst = parse_prefixes(*it, who, "dst");
    if (auto it = j.find("proto"); it != j.end()) p.proto = parse_proto(*it, who);
    if (auto it = j.find("sport"); it != j.end()) p.sport = parse_ports(*it, who, "sport");
    if (auto it = j.find("dport"); it != j.end()) p.dport = parse_ports(*it, who, "dport");
    if (p.proto && !has_ports(*p.proto)) {
        if (!p.sport.is_any()) fail(who, "sport", "port selector needs proto tcp, udp, sctp or any");
        if (!p.dport.is_any()) fail(who, "dport", "port selector needs proto tcp, udp, sctp or any");
    }
    auto act = j.find("action");
    if (act == j.end()) fail(who, "action", "missing");
    auto a = act->is_string() ? parse_action(act->get_ref<const std::string&>()) : std::nullopt;
    if (!a) fail(who, "action", "expected \"protect\", \"bypass\" or \"discard\", got " + shown(*act));
    p.act = *a;
    if (auto it = j.find("sa"); it != j.end()) {
        if (p.act != action::protect) fail(who, "sa", "only a protect policy refers to an SA");
        if (it->is_string() && !it->get_ref<const std::string&>().empty()) {
            p.sa = it->get<std::string>();
        } else if (it->is_number_unsigned() && it->get<std::uint64_t>() < no_sa) {
            p.sa_handle = it->get<std::uint32_t>();
            p.sa = std::to_string(p.sa_handle);
        } else {
            fail(who, "sa", "expected an SA name or handle, got " + shown(*it));
        }
    }
    return p;
}

} // namespace

policy_set parse_policy_value(const nlohmann::json& doc) {
    if (!doc.is_object()) throw policy_error("policies: expected a JSON object at the top level");
    for (const auto& [key, value] : doc.items())
        if (key != "default" && key != "policies") throw policy_error("policies: unknown top-level field \"" + key + "\"");
    policy_set set;
    if (auto it = doc.find("default"); it != doc.end()) {
        auto a = it->is_string() ? parse_action(it->get_ref<const std::string&>()) : std::nullopt;
        if (!a || *a == action::protect)
            throw policy_error("policies: field \"default\": expected \"bypass\" or \"discard\", got " + shown(*it));
        set.default_action = *a;
    }
    auto list = doc.find("policies");
    if (list == doc.end()) throw policy_error("policies: field \"policies\": missing");
    if (!list->is_array()) throw policy_error("policies: field \"policies\": expected a list, got " + shown(*list));
    std::set<std::string, std::less<>> names;
    for (std::size_t i = 0; i < list->size(); ++i) {
        policy p = parse_one((*list)[i], i);
        if (!names.insert(p.name).second)
            throw policy_error("policy \"" + p.name + "\" (#" + std::to_string(i) + "): field \"name\": duplicate name");
        set.policies.push_back(std::move(p));
    }
    return set;
}

policy_set parse_policy_json(std::string_view text) {
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(text.begin(), text.end());
    } catch (const nlohmann::json::parse_error& e) {
        throw policy_error(std::string("policies: bad JSON: ") + e.what());
    }
    return parse_policy_value(doc);
}

} // namespace spd
