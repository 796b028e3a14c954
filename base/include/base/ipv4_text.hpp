#pragma once
// Strict text forms for IPv4 in configs and API bodies: a dotted quad of four decimal octets
// with no sign, no leading zeros (so "010.0.0.1" is refused rather than read as octal or
// decimal), and a decimal component parser shared by prefix lengths.
#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace base {

// A decimal number in [0, max] that occupies the whole of s (at most 3 digits, no sign,
// no leading zero except "0" itself).
inline std::optional<unsigned> parse_small_decimal(std::string_view s, unsigned max) {
    if (s.empty() || s.size() > 3 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v > max) return std::nullopt;
    return v;
}

// "a.b.c.d" -> host-order 32-bit value.
inline std::optional<std::uint32_t> parse_ipv4_text(std::string_view s) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
        auto dot = s.find('.');
        if ((i < 3) != (dot != std::string_view::npos)) return std::nullopt;
        auto part = parse_small_decimal(s.substr(0, dot), 255);
        if (!part) return std::nullopt;
        v = (v << 8) | *part;
        s = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
    }
    return v;
}

} // namespace base
