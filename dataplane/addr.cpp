// Text forms of addresses for the config file and the JSON counters.
#include "dataplane/addr.hpp"

#include <charconv>

namespace dataplane {

namespace {
// Parses a decimal number in [0, max] that occupies the whole of s (no sign, no spaces,
// no leading zeros beyond a single "0").
std::optional<unsigned> parse_dec(std::string_view s, unsigned max) {
    if (s.empty() || s.size() > 3 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v > max) return std::nullopt;
    return v;
}
} // namespace

std::optional<ipv4> parse_ipv4(std::string_view s) {
    ipv4 a = 0;
    for (int i = 0; i < 4; ++i) {
        auto dot = s.find('.');
        if ((i < 3) != (dot != std::string_view::npos)) return std::nullopt;
        auto part = s.substr(0, dot);
        auto v = parse_dec(part, 255);
        if (!v) return std::nullopt;
        a = (a << 8) | *v;
        s = i < 3 ? s.substr(dot + 1) : std::string_view{};
    }
    return a;
}

std::optional<prefix4> parse_prefix4(std::string_view s, bool allow_host_bits) {
    auto slash = s.find('/');
    auto a = parse_ipv4(s.substr(0, slash));
    if (!a) return std::nullopt;
    prefix4 p{*a, 32};
    if (slash != std::string_view::npos) {
        auto l = parse_dec(s.substr(slash + 1), 32);
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
        auto l = parse_dec(s.substr(slash + 1), 32);
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
