#include "control/ipv4.hpp"

#include <base/ipv4_text.hpp>

namespace control {

std::optional<ipv4> ipv4::parse(std::string_view s) {
    auto v = base::parse_ipv4_text(s);
    if (!v) return std::nullopt;
    return ipv4{*v};
}

std::string ipv4::str() const {
    return std::to_string(value >> 24) + '.' + std::to_string((value >> 16) & 255) + '.' +
           std::to_string((value >> 8) & 255) + '.' + std::to_string(value & 255);
}

std::optional<ipv4_cidr> ipv4_cidr::parse_host(std::string_view s, ipv4* host) {
    auto slash = s.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto addr = ipv4::parse(s.substr(0, slash));
    auto len = base::parse_small_decimal(s.substr(slash + 1), 32);
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
