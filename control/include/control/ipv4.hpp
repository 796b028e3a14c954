#pragma once
// IPv4 addresses and CIDR prefixes as the management API spells them ("192.0.2.1",
// "10.1.0.0/16"). Parsing is strict: dotted quad with no leading zeros, prefix 0..32, and a CIDR
// must not have host bits set (so "10.1.0.1/16" is refused instead of silently meaning
// 10.1.0.0/16 — a typo in a peer CIDR should be seen, not guessed).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace control {

struct ipv4 {
    std::uint32_t value = 0; // host byte order

    static std::optional<ipv4> parse(std::string_view s);
    [[nodiscard]] std::string str() const;
    friend bool operator==(ipv4, ipv4) = default;
    friend auto operator<=>(ipv4, ipv4) = default;
};

struct ipv4_cidr {
    ipv4 network{};
    int prefix = 0;

    static std::optional<ipv4_cidr> parse(std::string_view s);
    // Like parse() but tolerates host bits (for a port address written as "192.0.2.5/24").
    static std::optional<ipv4_cidr> parse_host(std::string_view s, ipv4* host);
    [[nodiscard]] std::string str() const;
    [[nodiscard]] std::uint32_t mask() const { return prefix == 0 ? 0 : ~std::uint32_t(0) << (32 - prefix); }
    [[nodiscard]] ipv4 first() const { return network; }
    [[nodiscard]] ipv4 last() const { return ipv4{network.value | ~mask()}; }
    [[nodiscard]] bool contains(ipv4 a) const { return (a.value & mask()) == network.value; }
    [[nodiscard]] bool overlaps(const ipv4_cidr& o) const {
        return contains(o.network) || o.contains(network);
    }
    friend bool operator==(const ipv4_cidr&, const ipv4_cidr&) = default;
};

// Unicast host address usable as a tunnel endpoint: not 0/8, not loopback, not multicast or
// reserved (224/3), not limited broadcast.
bool is_unicast_endpoint(ipv4 a);

} // namespace control
