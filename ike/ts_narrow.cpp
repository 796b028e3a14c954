// Traffic selector narrowing (RFC 7296 section 2.9), see ts_narrow.hpp.
#include "ike/ts_narrow.hpp"

#include <algorithm>

namespace ike {

namespace {
bytes addr_bytes(const ip_address& a) {
    if (a.is_v4()) { auto b = a.to_v4().to_bytes(); return {b.begin(), b.end()}; }
    auto b = a.to_v6().to_bytes();
    return {b.begin(), b.end()};
}
ip_address bytes_addr(const bytes& b) {
    if (b.size() == 4) {
        boost::asio::ip::address_v4::bytes_type x{};
        std::copy(b.begin(), b.end(), x.begin());
        return boost::asio::ip::address_v4(x);
    }
    boost::asio::ip::address_v6::bytes_type x{};
    if (b.size() == 16) std::copy(b.begin(), b.end(), x.begin());
    return boost::asio::ip::address_v6(x);
}
} // namespace

traffic_selector ts_from_cidr(const cidr& c) {
    traffic_selector ts;
    ts.type = c.address.is_v4() ? ts_type::ipv4_addr_range : ts_type::ipv6_addr_range;
    ts.ip_protocol = 0;
    ts.start_port = 0;
    ts.end_port = 65535;
    ts.start_address = addr_bytes(c.first());
    ts.end_address = addr_bytes(c.last());
    return ts;
}

std::vector<traffic_selector> ts_from_cidrs(const std::vector<cidr>& cs) {
    std::vector<traffic_selector> out;
    for (const auto& c : cs) out.push_back(ts_from_cidr(c));
    return out;
}

std::optional<traffic_selector> ts_intersect(const traffic_selector& a, const traffic_selector& b) {
    if (a.type != b.type || a.start_address.size() != b.start_address.size()) return std::nullopt;
    if (a.ip_protocol != 0 && b.ip_protocol != 0 && a.ip_protocol != b.ip_protocol) return std::nullopt;
    traffic_selector r;
    r.type = a.type;
    r.ip_protocol = a.ip_protocol ? a.ip_protocol : b.ip_protocol;
    r.start_port = std::max(a.start_port, b.start_port);
    r.end_port = std::min(a.end_port, b.end_port);
    if (r.start_port > r.end_port) return std::nullopt;
    // Addresses are big-endian byte strings of equal length: lexicographic order is numeric order.
    r.start_address = std::max(a.start_address, b.start_address);
    r.end_address = std::min(a.end_address, b.end_address);
    if (r.start_address > r.end_address) return std::nullopt;
    return r;
}

std::vector<traffic_selector> ts_narrow(const std::vector<traffic_selector>& proposed,
                                        const std::vector<traffic_selector>& configured) {
    std::vector<traffic_selector> out;
    for (const auto& c : configured)
        for (const auto& p : proposed)
            if (auto r = ts_intersect(p, c))
                if (std::find(out.begin(), out.end(), *r) == out.end()) out.push_back(*r);
    return out;
}

bool ts_subset(const std::vector<traffic_selector>& sub, const std::vector<traffic_selector>& super) {
    return std::all_of(sub.begin(), sub.end(), [&](const traffic_selector& s) {
        return std::any_of(super.begin(), super.end(), [&](const traffic_selector& p) {
            auto r = ts_intersect(s, p);
            return r && *r == s;
        });
    });
}

std::string ts_list_to_string(const std::vector<traffic_selector>& ts) {
    std::string s;
    for (const auto& t : ts) {
        if (!s.empty()) s += ' ';
        s += t.to_string();
    }
    return s.empty() ? "(none)" : s;
}

std::vector<esp_selector> ts_to_esp_selectors(const std::vector<traffic_selector>& ts) {
    std::vector<esp_selector> out;
    for (const auto& t : ts)
        out.push_back({bytes_addr(t.start_address), bytes_addr(t.end_address), t.ip_protocol, t.start_port, t.end_port});
    return out;
}

} // namespace ike
