#pragma once
// SPD vocabulary (RFC 4301 section 4.4.1): selectors, actions and policies as the control side
// writes them, and the flow key the fast path extracts from each packet.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spd {

enum class ip_family : std::uint8_t { v4 = 4, v6 = 6 };

// What to do with traffic a policy selects (RFC 4301 section 4.4.1: PROTECT, BYPASS, DISCARD).
enum class action : std::uint8_t { bypass = 0, discard = 1, protect = 2 };
// out: private side towards the tunnels; in: check of decrypted inner packets.
enum class direction : std::uint8_t { out = 0, in = 1 };

std::string_view to_string(action a);
std::string_view to_string(direction d);
std::optional<action> parse_action(std::string_view s);
std::optional<direction> parse_direction(std::string_view s);

// Well-known IP protocol numbers used by selectors.
inline constexpr std::uint8_t proto_icmp = 1, proto_tcp = 6, proto_udp = 17, proto_icmpv6 = 58,
                              proto_sctp = 132;
// Protocols whose first 4 bytes are source and destination port (RFC 4301 4.4.1.1 "Local/Remote
// Port"); everything else has no ports and matches only port-any selectors.
constexpr bool has_ports(std::uint8_t proto) {
    return proto == proto_tcp || proto == proto_udp || proto == proto_sctp;
}

// An address prefix. addr holds the network-order address (IPv4 in the first 4 bytes) with all
// bits past len cleared.
struct ip_prefix {
    ip_family family = ip_family::v4;
    std::array<std::uint8_t, 16> addr{};
    std::uint8_t len = 0;

    // "10.1.0.0/24", "2001:db8::/32"; a bare address is a host prefix (/32 or /128). Host bits
    // set past the prefix length are rejected ("10.1.0.1/24"), since they usually mean a typo.
    static std::optional<ip_prefix> parse(std::string_view s);
    std::string to_string() const;
    unsigned max_len() const { return family == ip_family::v4 ? 32 : 128; }
    // True when addr (in the same family, network order) lies inside this prefix.
    bool contains(ip_family f, const std::array<std::uint8_t, 16>& a) const;
    friend bool operator==(const ip_prefix&, const ip_prefix&) = default;
};

// Inclusive port range; 0-65535 is "any" and also matches packets without ports.
struct port_range {
    std::uint16_t lo = 0;
    std::uint16_t hi = 65535;
    bool is_any() const { return lo == 0 && hi == 65535; }
    // "443", "1000-2000".
    static std::optional<port_range> parse(std::string_view s);
    std::string to_string() const;
    friend bool operator==(const port_range&, const port_range&) = default;
};

inline constexpr std::uint32_t no_sa = 0xffffffffu;

struct policy {
    std::string name;
    std::uint32_t priority = 0;           // lower wins; ties: earlier in the list wins
    direction dir = direction::out;
    std::vector<ip_prefix> src;           // empty: any address of either family
    std::vector<ip_prefix> dst;           // empty: any
    std::optional<std::uint8_t> proto;    // nullopt: any
    port_range sport;
    port_range dport;
    action act = action::bypass;
    std::string sa;                       // protect: the SA / bundle as named in the config
    std::uint32_t sa_handle = no_sa;      // protect: opaque handle resolved by the caller
};

// True when the policy's selectors match the flow (the direction is not looked at).
struct flow_key;
bool selectors_match(const policy& p, const flow_key& k);

// The selector fields of one packet. Addresses in network order, IPv4 in the first 4 bytes (the
// rest zero). ports_known is false for protocols without ports, non-first fragments and
// transport headers too short to hold the ports (RFC 4301 4.4.1.1: OPAQUE); then sport and
// dport are 0 and only port-any selectors match.
struct flow_key {
    std::array<std::uint8_t, 16> src{};
    std::array<std::uint8_t, 16> dst{};
    ip_family family = ip_family::v4;
    std::uint8_t proto = 0;
    bool ports_known = false;
    std::uint16_t sport = 0;
    std::uint16_t dport = 0;
};

// The outcome of classifying one flow.
inline constexpr std::uint32_t no_policy = 0xffffffffu;
struct verdict {
    std::uint32_t policy = no_policy;  // index into the policy list the classifier was built from
    std::uint32_t sa_handle = no_sa;
    action act = action::bypass;
    friend bool operator==(const verdict&, const verdict&) = default;
};

} // namespace spd
