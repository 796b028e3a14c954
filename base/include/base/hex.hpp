#pragma once
// Hex encoding/decoding for configs, test vectors and diagnostics (never for secrets in logs).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace base {

inline int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Accepts an optional 0x prefix and ignores ':' and whitespace separators.
inline std::optional<std::vector<std::uint8_t>> from_hex(std::string_view s) {
    if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
    std::vector<std::uint8_t> out;
    int hi = -1;
    for (char c : s) {
        if (c == ':' || c == ' ' || c == '\n' || c == '\t') continue;
        int d = hex_digit(c);
        if (d < 0) return std::nullopt;
        if (hi < 0) { hi = d; } else { out.push_back(std::uint8_t(hi << 4 | d)); hi = -1; }
    }
    if (hi >= 0) return std::nullopt;
    return out;
}

inline std::string to_hex(std::span<const std::uint8_t> b) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    s.reserve(b.size() * 2);
    for (auto x : b) { s.push_back(digits[x >> 4]); s.push_back(digits[x & 15]); }
    return s;
}

} // namespace base
