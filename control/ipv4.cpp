#include "control/ipv4.hpp"

#include <charconv>

namespace control {

namespace {
// One decimal component 0..max without sign, leading zeros or trailing junk.
std::optional<unsigned> parse_decimal(std::string_view s, unsigned max) {
    if (s.empty() || s.size() > 3 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v > max) return std::nullopt;
    return v;
}
} // namespace

std::optional<ipv4> ipv4::parse(std::string_view s) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
        auto dot = s.find('.');
        if ((i < 3) != (dot != std::string_view::npos)) return std::nullopt;
        auto part = parse_decimal(s.substr(0, dot), 255);
        if (!part) return std::nullopt;
        v = (v << 8) | *part;
        s = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
    }
    return ipv4{v};
}

std::string ipv4::str() const {
    return std::to_string(value >> 24) + '.' + std::to_string((value >> 16) & 255) + '.' +
           std::to_string((value >> 8) & 255) + '.' + std::to_string(value & 255);
}

std::optional<ipv4_cidr> ipv4_cidr::parse_host(std::string_view s, ipv4* host) {
    auto slash = s.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto addr = ipv4::parse(s.substr(0, slash));
    auto len = parse_decimal(s.substr(slash + 1), 32);
    if (!addr || !len) return std::nullopt;
    ipv4_cidr c{*addr, int(*len)};
    if (host) *host = *addr;
    c.network.value &= c.mask();
    return c;
}

std::optional<ipv4_cidr> ipv4_cidr::parse(std::string_view s) {
    ipv4 host;
    auto c = parse_host(s, &host);
    if (!c || c->network != host) return std::nullopt;
    return c;
}

std::string ipv4_cidr::str() const { return network.str() + '/' + std::to_string(prefix); }

bool is_unicast_endpoint(ipv4 a) {
    auto top = a.value >> 24;
    return top != 0 && top != 127 && top < 224;
}

} // namespace control
