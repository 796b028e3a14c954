// Static configuration parsing: every key is known, every value is checked, and every error
// names the key path so an operator can find it.
#include "dataplane/config.hpp"

#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

namespace dataplane {

using nlohmann::json;

namespace {

void only_keys(const json& obj, const std::string& path, std::initializer_list<std::string_view> allowed) {
    if (!obj.is_object()) throw config_error(path.empty() ? "config" : path, "must be an object");
    for (auto& [k, v] : obj.items()) {
        bool known = false;
        for (auto a : allowed) known = known || a == k;
        if (!known) throw config_error(path.empty() ? k : path + "." + k, "unknown key");
    }
}

std::string key(const std::string& path, std::string_view k) {
    return path.empty() ? std::string(k) : path + "." + std::string(k);
}

const json& require(const json& obj, const std::string& path, std::string_view k) {
    auto it = obj.find(std::string(k));
    if (it == obj.end()) throw config_error(key(path, k), "missing");
    return *it;
}

std::string get_string(const json& v, const std::string& k) {
    if (!v.is_string()) throw config_error(k, "must be a string");
    return v.get<std::string>();
}

std::uint64_t get_uint(const json& v, const std::string& k, std::uint64_t min, std::uint64_t max) {
    if (!v.is_number_integer() || (v.is_number_integer() && !v.is_number_unsigned() && v.get<std::int64_t>() < 0))
        throw config_error(k, "must be a non-negative integer");
    auto n = v.get<std::uint64_t>();
    if (n < min || n > max)
        throw config_error(k, "must be in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    return n;
}

ipv4 get_ipv4(const json& v, const std::string& k) {
    auto s = get_string(v, k);
    auto a = parse_ipv4(s);
    if (!a) throw config_error(k, "bad IPv4 address '" + s + "'");
    return *a;
}

template <class F>
void each(const json& arr, const std::string& k, F&& f) {
    if (!arr.is_array()) throw config_error(k, "must be an array");
    for (std::size_t i = 0; i < arr.size(); ++i) f(arr[i], k + "[" + std::to_string(i) + "]");
}

std::size_t port_ref(const config& c, const json& v, const std::string& k) {
    auto name = get_string(v, k);
    auto idx = c.port_index(name);
    if (!idx) throw config_error(k, "no port named '" + name + "'");
    return *idx;
}

port_config parse_port(const json& p, const std::string& k) {
    only_keys(p, k, {"name", "role", "device", "ip", "vips", "gateway", "mac", "mtu"});
    port_config pc;
    pc.name = get_string(require(p, k, "name"), key(k, "name"));
    if (pc.name.empty()) throw config_error(key(k, "name"), "must not be empty");
    auto role = get_string(require(p, k, "role"), key(k, "role"));
    if (role == "private") pc.role = port_role::private_side;
    else if (role == "public") pc.role = port_role::public_side;
    else throw config_error(key(k, "role"), "must be \"private\" or \"public\", not '" + role + "'");
    pc.device = get_string(require(p, k, "device"), key(k, "device"));
    if (pc.device.empty()) throw config_error(key(k, "device"), "must not be empty");
    auto ip = get_string(require(p, k, "ip"), key(k, "ip"));
    auto ifa = parse_ifaddr4(ip);
    if (!ifa || ifa->len == 0 || ifa->len > 30 || is_multicast_or_broadcast(ifa->addr) ||
        ifa->addr == ifa->subnet().addr || (ifa->addr | ~ifa->subnet().mask()) == ifa->addr)
        throw config_error(key(k, "ip"), "bad interface address '" + ip + "' (want a.b.c.d/len, len 1-30, a host address)");
    pc.ip = *ifa;
    if (p.contains("vips"))
        each(p["vips"], key(k, "vips"), [&](const json& v, const std::string& vk) {
            auto a = get_ipv4(v, vk);
            if (is_multicast_or_broadcast(a) || a == 0) throw config_error(vk, "not a unicast address");
            pc.vips.push_back(a);
        });
    if (p.contains("gateway")) {
        auto g = get_ipv4(p["gateway"], key(k, "gateway"));
        if (!pc.ip.subnet().contains(g) || g == pc.ip.addr)
            throw config_error(key(k, "gateway"), "not a neighbour in " + to_string_prefix4(pc.ip.subnet()));
        pc.gateway = g;
    }
    if (p.contains("mac")) {
        auto s = get_string(p["mac"], key(k, "mac"));
        auto m = parse_mac(s);
        if (!m || ((*m)[0] & 1) || *m == mac_zero) throw config_error(key(k, "mac"), "bad unicast MAC '" + s + "'");
        pc.mac_override = *m;
    }
    if (p.contains("mtu")) pc.mtu = std::uint16_t(get_uint(p["mtu"], key(k, "mtu"), 576, 9000));
    return pc;
}

} // namespace

std::optional<std::size_t> config::port_index(std::string_view name) const {
    for (std::size_t i = 0; i < ports.size(); ++i)
        if (ports[i].name == name) return i;
    return std::nullopt;
}

config parse_config(std::string_view text) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error& e) {
        throw config_error("config", std::string("not valid JSON: ") + e.what());
    }
    only_keys(j, "", {"eal", "ports", "neighbors", "routes", "static", "workers", "exit_when_idle_ms",
                      "idle_sleep_us", "summary_interval_ms", "mss_clamp", "mbufs"});
    config c;
    each(require(j, "", "eal"), "eal", [&](const json& v, const std::string& k) { c.eal.push_back(get_string(v, k)); });

    each(require(j, "", "ports"), "ports", [&](const json& v, const std::string& k) {
        auto pc = parse_port(v, k);
        if (c.port_index(pc.name)) throw config_error(key(k, "name"), "duplicate port name '" + pc.name + "'");
        for (auto& o : c.ports)
            if (o.device == pc.device) throw config_error(key(k, "device"), "device '" + pc.device + "' used twice");
        c.ports.push_back(std::move(pc));
    });
    if (c.ports.empty()) throw config_error("ports", "at least one port is needed");
    if (c.ports.size() > 16) throw config_error("ports", "at most 16 ports");
    std::set<ipv4> ours;
    for (std::size_t i = 0; i < c.ports.size(); ++i) {
        auto k = "ports[" + std::to_string(i) + "]";
        if (!ours.insert(c.ports[i].ip.addr).second) throw config_error(k + ".ip", "address used twice");
        for (auto v : c.ports[i].vips)
            if (!ours.insert(v).second) throw config_error(k + ".vips", "address used twice");
    }

    if (j.contains("neighbors"))
        each(j["neighbors"], "neighbors", [&](const json& v, const std::string& k) {
            only_keys(v, k, {"port", "ip", "mac"});
            neighbor_config n;
            n.port = port_ref(c, require(v, k, "port"), key(k, "port"));
            n.ip = get_ipv4(require(v, k, "ip"), key(k, "ip"));
            if (!c.ports[n.port].ip.subnet().contains(n.ip))
                throw config_error(key(k, "ip"), "not in the subnet of port '" + c.ports[n.port].name + "'");
            auto ms = get_string(require(v, k, "mac"), key(k, "mac"));
            auto m = parse_mac(ms);
            if (!m || ((*m)[0] & 1) || *m == mac_zero) throw config_error(key(k, "mac"), "bad unicast MAC '" + ms + "'");
            n.hw = *m;
            c.neighbors.push_back(n);
        });

    if (j.contains("routes"))
        each(j["routes"], "routes", [&](const json& v, const std::string& k) {
            only_keys(v, k, {"dst", "via", "port"});
            route_config r;
            auto ds = get_string(require(v, k, "dst"), key(k, "dst"));
            auto d = parse_prefix4(ds);
            if (!d) throw config_error(key(k, "dst"), "bad prefix '" + ds + "' (want a.b.c.d/len with host bits zero)");
            r.dst = *d;
            r.port = port_ref(c, require(v, k, "port"), key(k, "port"));
            if (v.contains("via")) {
                auto via = get_ipv4(v["via"], key(k, "via"));
                if (!c.ports[r.port].ip.subnet().contains(via))
                    throw config_error(key(k, "via"), "not in the subnet of port '" + c.ports[r.port].name + "'");
                r.via = via;
            }
            c.routes.push_back(r);
        });

    if (j.contains("static")) {
        const auto& s = j["static"];
        only_keys(s, "static", {"sas", "policies"});
        std::set<std::string> names;
        if (s.contains("sas"))
            each(s["sas"], "static.sas", [&](const json& v, const std::string& k) {
                only_keys(v, k, {"name", "direction", "spec"});
                static_sa_config sa;
                sa.name = get_string(require(v, k, "name"), key(k, "name"));
                if (sa.name.empty() || !names.insert(sa.name).second)
                    throw config_error(key(k, "name"), "empty or duplicate SA name '" + sa.name + "'");
                auto d = get_string(require(v, k, "direction"), key(k, "direction"));
                if (d == "in") sa.direction = sa_direction::in;
                else if (d == "out") sa.direction = sa_direction::out;
                else throw config_error(key(k, "direction"), "must be \"in\" or \"out\", not '" + d + "'");
                sa.spec = get_string(require(v, k, "spec"), key(k, "spec"));
                c.sas.push_back(std::move(sa));
            });
        if (s.contains("policies")) {
            if (!s["policies"].is_object()) throw config_error("static.policies", "must be an object");
            c.policies = s["policies"];
        }
    }

    if (j.contains("workers")) c.workers = unsigned(get_uint(j["workers"], "workers", 1, 16));
    if (j.contains("exit_when_idle_ms"))
        c.exit_when_idle_ms = std::uint32_t(get_uint(j["exit_when_idle_ms"], "exit_when_idle_ms", 0, 86'400'000));
    if (j.contains("idle_sleep_us"))
        c.idle_sleep_us = std::uint32_t(get_uint(j["idle_sleep_us"], "idle_sleep_us", 0, 100'000));
    if (j.contains("summary_interval_ms"))
        c.summary_interval_ms = std::uint32_t(get_uint(j["summary_interval_ms"], "summary_interval_ms", 0, 86'400'000));
    if (j.contains("mss_clamp")) {
        c.mss_clamp = std::uint16_t(get_uint(j["mss_clamp"], "mss_clamp", 0, 65535));
        if (c.mss_clamp != 0 && c.mss_clamp < 536) throw config_error("mss_clamp", "must be 0 (off) or at least 536");
    }
    if (j.contains("mbufs")) c.mbufs = std::uint32_t(get_uint(j["mbufs"], "mbufs", 1023, 1u << 20));
    return c;
}

config load_config(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw config_error("config", "cannot open '" + path + "'");
    std::ostringstream ss;
    ss << f.rdbuf();
    return parse_config(ss.str());
}

} // namespace dataplane
