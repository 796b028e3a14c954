#pragma once
// IPv4 addresses, prefixes and MAC addresses as the config and the fast path use them:
// host-order integers for addresses (compare and mask cheaply), six bytes for MACs.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dataplane {

using ipv4 = std::uint32_t;  // host byte order

struct prefix4 {
    ipv4 addr = 0;      // network address (host bits cleared)
    std::uint8_t len = 0;

    [[nodiscard]] ipv4 mask() const { return len == 0 ? 0 : ~ipv4(0) << (32 - len); }
    [[nodiscard]] bool contains(ipv4 a) const { return (a & mask()) == addr; }
    friend bool operator==(const prefix4&, const prefix4&) = default;
};

// An interface address: the host address and the length of its subnet ("10.1.0.1/24").
struct ifaddr4 {
    ipv4 addr = 0;
    std::uint8_t len = 32;
    [[nodiscard]] prefix4 subnet() const {
        prefix4 p{addr, len};
        p.addr &= p.mask();
        return p;
    }
};

using mac = std::array<std::uint8_t, 6>;
inline constexpr mac mac_broadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
inline constexpr mac mac_zero{};

std::optional<ipv4> parse_ipv4(std::string_view s);
// "a.b.c.d/len"; a bare address means /32. Host bits must be zero unless allow_host_bits.
std::optional<prefix4> parse_prefix4(std::string_view s, bool allow_host_bits = false);
std::optional<ifaddr4> parse_ifaddr4(std::string_view s);
std::optional<mac> parse_mac(std::string_view s);

std::string to_string_ipv4(ipv4 a);
std::string to_string_prefix4(const prefix4& p);
std::string to_string_mac(const mac& m);

// Limited broadcast, class D/E and the subnet-directed broadcast of a port: never protected,
// never routed (ARCHITECTURE.md: tunnels carry unicast only).
inline bool is_multicast_or_broadcast(ipv4 a) { return a >= 0xe0000000u; }

// A 256-bit set of address hashes, asked before scanning the lists of our own addresses: one
// load rules out nearly every transit packet's destination. A miss is definite; a hit is only
// a maybe (the caller then scans).
class address_filter {
public:
    void add(ipv4 a) { _bits[slot(a) >> 6] |= std::uint64_t(1) << (slot(a) & 63); }
    [[nodiscard]] bool maybe(ipv4 a) const { return maybe_at(slot(a)); }
    // For asking several filters about one address with the hash computed once.
    [[nodiscard]] bool maybe_at(unsigned slot) const { return (_bits[slot >> 6] >> (slot & 63)) & 1; }
    static unsigned slot(ipv4 a) { return (a ^ (a >> 8) ^ (a >> 16) ^ (a >> 24)) & 255; }

private:
    std::array<std::uint64_t, 4> _bits{};
};

} // namespace dataplane
