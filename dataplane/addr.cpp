// Text forms of addresses for the config file and the JSON counters.
#include "dataplane/addr.hpp"

#include <base/ipv4_text.hpp>

#include <charconv>

namespace dataplane {

std::optional<ipv4> parse_ipv4(std::string_view s) { return base::parse_ipv4_text(s); }

std::optional<prefix4> parse_prefix4(std::string_view s, bool allow_host_bits) {
    auto slash = s.find('/');
    auto a = parse_ipv4(s.substr(0, slash));
    if (!a) return std::nullopt;
    prefix4 p{*a, 32};
    if (slash != std::string_view::npos) {
        auto l = base::parse_small_decimal(s.substr(slash + 1), 32);
        if (!l) return std::nullopt;
        p.len = std::uint8_t(*l);
    }
    if ((p.addr & ~p.mask()) != 0) {
        if (!allow_host_bits) return std::nullopt;
        p.addr &= p.mask();
    }
    return p;
}

std::optional<ifaddr4> parse_ifaddr4(std::string_view s) {
    auto slash = s.find('/');
    auto a = parse_ipv4(s.substr(0, slash));
    if (!a) return std::nullopt;
    ifaddr4 r{*a, 32};
    if (slash != std::string_view::npos) {
        auto l = base::parse_small_decimal(s.substr(slash + 1), 32);
        if (!l) return std::nullopt;
        r.len = std::uint8_t(*l);
    }
    return r;
}

std::optional<mac> parse_mac(std::string_view s) {
    if (s.size() != 17) return std::nullopt;
    mac m{};
    for (std::size_t i = 0; i < 6; ++i) {
        if (i < 5 && s[i * 3 + 2] != ':' && s[i * 3 + 2] != '-') return std::nullopt;
        unsigned v = 0;
        auto part = s.substr(i * 3, 2);
        auto [p, ec] = std::from_chars(part.data(), part.data() + 2, v, 16);
        if (ec != std::errc{} || p != part.data() + 2) return std::nullopt;
        m[i] = std::uint8_t(v);
    }
    return m;
}

std::string to_string_ipv4(ipv4 a) {
    return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
           std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
}

std::string to_string_prefix4(const prefix4& p) {
    return to_string_ipv4(p.addr) + "/" + std::to_string(p.len);
}

std::string to_string_mac(const mac& m) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < 6; ++i) {
        if (i) s.push_back(':');
        s.push_back(hex[m[i] >> 4]);
        s.push_back(hex[m[i] & 15]);
    }
    return s;
}

} // namespace dataplane
