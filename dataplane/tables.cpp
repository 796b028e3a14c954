// Snapshot construction from the static configuration.
#include "dataplane/tables.hpp"

#include "dataplane/sa_spec.hpp"

#include <spd/types.hpp>

namespace dataplane {

using nlohmann::json;

namespace {

std::string s_at(const json& o, const char* k, const std::string& path) {
    auto it = o.find(k);
    if (it == o.end()) return {};
    if (!it->is_string()) throw config_error(path + "." + k, "must be a string");
    return it->get<std::string>();
}

std::vector<spd::ip_prefix> prefixes(const json& o, const char* k, const std::string& path) {
    std::vector<spd::ip_prefix> out;
    auto it = o.find(k);
    if (it == o.end()) return out;
    auto kp = path + "." + k;
    if (it->is_string()) {
        auto p = spd::ip_prefix::parse(it->get<std::string>());
        if (!p) throw config_error(kp, "bad prefix '" + it->get<std::string>() + "'");
        out.push_back(*p);
        return out;
    }
    if (!it->is_array()) throw config_error(kp, "must be an array of prefixes");
    for (std::size_t i = 0; i < it->size(); ++i) {
        const auto& v = (*it)[i];
        auto ki = kp + "[" + std::to_string(i) + "]";
        if (!v.is_string()) throw config_error(ki, "must be a string");
        auto p = spd::ip_prefix::parse(v.get<std::string>());
        if (!p) throw config_error(ki, "bad prefix '" + v.get<std::string>() + "'");
        out.push_back(*p);
    }
    return out;
}

spd::port_range ports(const json& o, const char* k, const std::string& path) {
    auto it = o.find(k);
    if (it == o.end()) return {};
    if (it->is_number_unsigned() && it->get<std::uint64_t>() <= 65535)
        return {std::uint16_t(it->get<std::uint64_t>()), std::uint16_t(it->get<std::uint64_t>())};
    if (!it->is_string()) throw config_error(path + "." + k, "must be a port or range string");
    auto r = spd::port_range::parse(it->get<std::string>());
    if (!r) throw config_error(path + "." + k, "bad port range '" + it->get<std::string>() + "'");
    return *r;
}

} // namespace

std::vector<spd::policy> parse_policy_object(const json& obj, spd::action& default_action) {
    const std::string base = "static.policies";
    if (!obj.is_object()) throw config_error(base, "must be an object");
    for (auto& [k, v] : obj.items())
        if (k != "default" && k != "policies") throw config_error(base + "." + k, "unknown key");
    default_action = spd::action::bypass;
    if (obj.contains("default")) {
        auto d = s_at(obj, "default", base);
        auto a = spd::parse_action(d);
        if (!a || *a == spd::action::protect) throw config_error(base + ".default", "must be bypass or discard");
        default_action = *a;
    }
    std::vector<spd::policy> out;
    if (!obj.contains("policies")) return out;
    const auto& arr = obj["policies"];
    if (!arr.is_array()) throw config_error(base + ".policies", "must be an array");
    for (std::size_t i = 0; i < arr.size(); ++i) {
        const auto& p = arr[i];
        auto path = base + ".policies[" + std::to_string(i) + "]";
        if (!p.is_object()) throw config_error(path, "must be an object");
        for (auto& [k, v] : p.items()) {
            static const char* known[] = {"name", "priority", "direction", "src", "dst", "proto",
                                          "sport", "dport", "action", "sa"};
            bool ok = false;
            for (auto* n : known) ok = ok || k == n;
            if (!ok) throw config_error(path + "." + k, "unknown key");
        }
        spd::policy pol;
        pol.name = s_at(p, "name", path);
        if (p.contains("priority")) {
            if (!p["priority"].is_number_unsigned()) throw config_error(path + ".priority", "must be a non-negative integer");
            pol.priority = std::uint32_t(p["priority"].get<std::uint64_t>());
        }
        if (p.contains("direction")) {
            auto d = spd::parse_direction(s_at(p, "direction", path));
            if (!d) throw config_error(path + ".direction", "must be in or out");
            pol.dir = *d;
        }
        pol.src = prefixes(p, "src", path);
        pol.dst = prefixes(p, "dst", path);
        if (p.contains("proto")) {
            const auto& v = p["proto"];
            if (v.is_number_unsigned() && v.get<std::uint64_t>() <= 255) pol.proto = std::uint8_t(v.get<std::uint64_t>());
            else {
                auto s = v.is_string() ? v.get<std::string>() : std::string("?");
                if (s == "any") pol.proto.reset();
                else if (s == "tcp") pol.proto = spd::proto_tcp;
                else if (s == "udp") pol.proto = spd::proto_udp;
                else if (s == "icmp") pol.proto = spd::proto_icmp;
                else if (s == "icmpv6") pol.proto = spd::proto_icmpv6;
                else throw config_error(path + ".proto", "must be any, tcp, udp, icmp, icmpv6 or 0-255");
            }
        }
        pol.sport = ports(p, "sport", path);
        pol.dport = ports(p, "dport", path);
        auto act = spd::parse_action(s_at(p, "action", path));
        if (!act) throw config_error(path + ".action", "must be protect, bypass or discard");
        pol.act = *act;
        pol.sa = s_at(p, "sa", path);
        out.push_back(std::move(pol));
    }
    return out;
}

std::unique_ptr<tables> build_tables(const config& c) {
    auto t = std::make_unique<tables>();
    t->routes = build_routes(c);

    std::unordered_map<std::string, std::pair<sa_direction, std::uint32_t>> by_name;
    for (std::size_t i = 0; i < c.sas.size(); ++i) {
        const auto& s = c.sas[i];
        auto key = "static.sas[" + std::to_string(i) + "].spec";
        esp::sa_config sc;
        try {
            sc = parse_sa_spec(s.spec);
        } catch (const spec_error& e) {
            throw config_error(key, e.what());
        }
        if (!sc.src.is_v4() || !sc.dst.is_v4()) throw config_error(key, "outer addresses must be IPv4 (IPv6 outer not handled by the data plane yet)");
        auto v4 = [](const esp::ip_address& a) {
            return ipv4(a.bytes[0]) << 24 | ipv4(a.bytes[1]) << 16 | ipv4(a.bytes[2]) << 8 | a.bytes[3];
        };
        if (s.direction == sa_direction::out) {
            auto r = esp::outbound_sa::create(sc);
            if (!r) throw config_error(key, r.error);
            out_sa_entry e;
            e.name = s.name;
            e.local = v4(sc.src);
            e.peer = v4(sc.dst);
            e.headroom = std::uint16_t(r.sa->headroom());
            e.overhead = r.sa->headroom() + r.sa->tailroom();
            e.block = esp::params(sc.enc).block_size;
            e.icv = esp::icv_len(sc.enc, sc.integ);
            e.sa = std::shared_ptr<esp::outbound_sa>(std::move(r.sa));
            by_name[s.name] = {sa_direction::out, std::uint32_t(t->out_sas.size())};
            t->out_sas.push_back(std::move(e));
        } else {
            auto r = esp::inbound_sa::create(sc);
            if (!r) throw config_error(key, r.error);
            in_sa_entry e;
            e.name = s.name;
            e.spi = sc.spi;
            e.local = v4(sc.dst);
            e.sa = std::shared_ptr<esp::inbound_sa>(std::move(r.sa));
            if (t->sad.contains(sc.spi)) throw config_error(key, "inbound SPI used twice");
            t->sad[sc.spi] = std::uint32_t(t->in_sas.size());
            by_name[s.name] = {sa_direction::in, std::uint32_t(t->in_sas.size())};
            t->in_sas.push_back(std::move(e));
        }
    }

    spd::action def = spd::action::bypass;
    if (!c.policies.is_null()) t->policies = parse_policy_object(c.policies, def);
    for (std::size_t i = 0; i < t->policies.size(); ++i) {
        auto& p = t->policies[i];
        auto key = "static.policies.policies[" + std::to_string(i) + "].sa";
        if (p.act != spd::action::protect) {
            if (!p.sa.empty()) throw config_error(key, "only protect policies name an SA");
            continue;
        }
        if (p.sa.empty()) throw config_error(key, "missing (protect needs an SA)");
        auto it = by_name.find(p.sa);
        if (it == by_name.end()) throw config_error(key, "no SA named '" + p.sa + "'");
        auto want = p.dir == spd::direction::out ? sa_direction::out : sa_direction::in;
        if (it->second.first != want)
            throw config_error(key, "SA '" + p.sa + "' has the other direction than the policy");
        p.sa_handle = it->second.second;
    }
    t->spd_out = std::make_unique<spd::classifier>(t->policies, spd::direction::out, def);
    t->spd_in = std::make_unique<spd::classifier>(t->policies, spd::direction::in, def);
    return t;
}

} // namespace dataplane
