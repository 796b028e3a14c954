// Selector vocabulary: prefixes, port ranges, action/direction names, and the reference
// semantics of a policy's selectors (selectors_match), which the linear classifier uses as is.
#include "spd/types.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace spd {

std::string_view to_string(action a) {
    switch (a) {
    case action::bypass: return "bypass";
    case action::discard: return "discard";
    case action::protect: return "protect";
    }
    return "?";
}

std::string_view to_string(direction d) { return d == direction::out ? "out" : "in"; }

std::optional<action> parse_action(std::string_view s) {
    if (s == "bypass") return action::bypass;
    if (s == "discard") return action::discard;
    if (s == "protect") return action::protect;
    return std::nullopt;
}

std::optional<direction> parse_direction(std::string_view s) {
    if (s == "out") return direction::out;
    if (s == "in") return direction::in;
    return std::nullopt;
}

namespace {
// Decimal without sign, leading '+' or spaces; at most max.
std::optional<unsigned> parse_uint(std::string_view s, unsigned max) {
    if (s.empty() || s.size() > 10) return std::nullopt;
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v > max) return std::nullopt;
    return v;
}
} // namespace

std::optional<ip_prefix> ip_prefix::parse(std::string_view s) {
    std::string_view addr_part = s, len_part;
    if (auto slash = s.find('/'); slash != std::string_view::npos) {
        addr_part = s.substr(0, slash);
        len_part = s.substr(slash + 1);
        if (len_part.empty()) return std::nullopt;
    }
    if (addr_part.empty() || addr_part.size() > 45) return std::nullopt;
    char buf[46] = {};
    std::memcpy(buf, addr_part.data(), addr_part.size());
    ip_prefix p;
    if (addr_part.find(':') != std::string_view::npos) {
        p.family = ip_family::v6;
        if (inet_pton(AF_INET6, buf, p.addr.data()) != 1) return std::nullopt;
    } else {
        p.family = ip_family::v4;
        if (inet_pton(AF_INET, buf, p.addr.data()) != 1) return std::nullopt;
    }
    unsigned len = p.max_len();
    if (!len_part.empty()) {
        auto l = parse_uint(len_part, p.max_len());
        if (!l) return std::nullopt;
        len = *l;
    }
    p.len = static_cast<std::uint8_t>(len);
    // Host bits must be clear.
    for (unsigned bit = len; bit < p.max_len(); ++bit)
        if (p.addr[bit / 8] & (0x80u >> (bit % 8))) return std::nullopt;
    return p;
}

std::string ip_prefix::to_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(family == ip_family::v4 ? AF_INET : AF_INET6, addr.data(), buf, sizeof buf);
    return std::string(buf) + "/" + std::to_string(len);
}

bool ip_prefix::contains(ip_family f, const std::array<std::uint8_t, 16>& a) const {
    if (f != family) return false;
    unsigned full = len / 8;
    if (std::memcmp(a.data(), addr.data(), full) != 0) return false;
    unsigned rest = len % 8;
    if (rest == 0) return true;
    std::uint8_t mask = static_cast<std::uint8_t>(0xff00u >> rest);
    return (a[full] & mask) == addr[full];
}

std::optional<port_range> port_range::parse(std::string_view s) {
    auto dash = s.find('-');
    if (dash == std::string_view::npos) {
        auto v = parse_uint(s, 65535);
        if (!v) return std::nullopt;
        return port_range{std::uint16_t(*v), std::uint16_t(*v)};
    }
    auto lo = parse_uint(s.substr(0, dash), 65535);
    auto hi = parse_uint(s.substr(dash + 1), 65535);
    if (!lo || !hi || *lo > *hi) return std::nullopt;
    return port_range{std::uint16_t(*lo), std::uint16_t(*hi)};
}

std::string port_range::to_string() const {
    if (lo == hi) return std::to_string(lo);
    return std::to_string(lo) + "-" + std::to_string(hi);
}

namespace {
bool list_matches(const std::vector<ip_prefix>& list, ip_family f, const std::array<std::uint8_t, 16>& a) {
    if (list.empty()) return true;
    for (const auto& p : list)
        if (p.contains(f, a)) return true;
    return false;
}
bool port_matches(const port_range& r, bool known, std::uint16_t port) {
    if (r.is_any()) return true;
    return known && port >= r.lo && port <= r.hi;
}
} // namespace

bool selectors_match(const policy& p, const flow_key& k) {
    if (p.proto && *p.proto != k.proto) return false;
    if (!port_matches(p.sport, k.ports_known, k.sport)) return false;
    if (!port_matches(p.dport, k.ports_known, k.dport)) return false;
    return list_matches(p.src, k.family, k.src) && list_matches(p.dst, k.family, k.dst);
}

} // namespace spd
