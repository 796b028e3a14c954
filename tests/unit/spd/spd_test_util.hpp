#pragma once
// Helpers for the spd tests: flows and policies from strings.
#include <spd/types.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace spd_test {

inline spd::ip_prefix pfx(const std::string& s) {
    auto p = spd::ip_prefix::parse(s);
    if (!p) throw std::invalid_argument("bad prefix in test: " + s);
    return *p;
}

// A flow between two addresses; ports_known follows the protocol unless told otherwise.
inline spd::flow_key flow(const std::string& src, const std::string& dst, std::uint8_t proto = spd::proto_tcp,
                          std::uint16_t sport = 1234, std::uint16_t dport = 80) {
    spd::flow_key k;
    auto s = pfx(src), d = pfx(dst);
    if (s.family != d.family) throw std::invalid_argument("mixed families in test flow");
    k.family = s.family;
    k.src = s.addr;
    k.dst = d.addr;
    k.proto = proto;
    k.ports_known = spd::has_ports(proto);
    if (k.ports_known) { k.sport = sport; k.dport = dport; }
    return k;
}

inline spd::flow_key no_ports(spd::flow_key k) {
    k.ports_known = false;
    k.sport = k.dport = 0;
    return k;
}

inline spd::policy pol(const std::string& name, std::uint32_t prio, std::vector<std::string> src,
                       std::vector<std::string> dst, spd::action a, std::uint32_t sa = spd::no_sa) {
    spd::policy p;
    p.name = name;
    p.priority = prio;
    for (auto& s : src) p.src.push_back(pfx(s));
    for (auto& d : dst) p.dst.push_back(pfx(d));
    p.act = a;
    p.sa_handle = sa;
    return p;
}

} // namespace spd_test
