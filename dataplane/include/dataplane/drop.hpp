#pragma once
// Every packet the data plane does not forward is counted under exactly one reason from this
// table, which yields both the counter index and its name (STYLE.md "every drop has a reason").
// ESP-level reasons (ICV, replay, padding, ...) come from esp's own table and are counted
// beside these; see counters.hpp.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dataplane {

#define DATAPLANE_DROP_REASONS(X)                                                              \
    X(runt, "frame shorter than its headers")                                                \
    X(multi_segment, "chained mbuf (jumbo frames are not handled)")                           \
    X(not_for_us, "destination MAC neither ours nor broadcast")                               \
    X(unsupported_ethertype, "neither IPv4 nor ARP (IPv6 and VLAN tags are not handled yet)") \
    X(arp_malformed, "ARP that is not Ethernet/IPv4 or is truncated")                         \
    X(arp_not_for_us, "ARP request for an address we do not own")                            \
    X(ipv4_malformed, "bad version, header length, total length or checksum")                 \
    X(ipv4_fragment, "IPv4 fragment where a whole packet is needed (no reassembly)")          \
    X(ttl_exceeded, "TTL would reach zero on forwarding")                                     \
    X(multicast, "broadcast/multicast destination: never routed or protected")                \
    X(no_route, "no route to the destination or the tunnel peer")                             \
    X(neighbor_hold_full, "next hop unresolved and its hold queue is full")                   \
    X(neighbor_timeout, "next hop did not answer ARP while the packet was held")             \
    X(local_unhandled, "addressed to us but neither ICMP echo, IKE nor ESP on the public side") \
    X(policy_discard, "SPD says DISCARD")                                                     \
    X(policy_no_sa, "SPD says PROTECT but the SA is not installed")                           \
    X(frag_needed, "too big for the tunnel with DF set: ICMP fragmentation needed sent")      \
    X(too_big, "too big and not fragmentable (over 8 pieces, or MTU below header + 8)")      \
    X(outbound_esp_error, "ESP encap refused the packet (see esp_drops)")                     \
    X(no_headroom, "no room in the mbuf for the Ethernet header")                             \
    X(inbound_unprotected, "plaintext on the public side matching an inbound PROTECT policy") \
    X(inbound_no_sa, "ESP with an SPI we do not know")                                        \
    X(inbound_esp_error, "ESP rejected by the SA (see esp_drops)")                            \
    X(inbound_policy_mismatch, "decrypted packet outside the SA's selectors")                \
    X(punt_full, "IKE punt ring full")                                                        \
    X(no_ike, "IKE packet with no IKE endpoint attached")                                     \
    X(no_mbuf, "mbuf pool empty when building a reply")                                       \
    X(tx_full, "port TX queue full")                                                          \
    X(handoff_full, "ring to the worker owning the SA full")

enum class drop : std::uint8_t {
#define X(name, text) name,
    DATAPLANE_DROP_REASONS(X)
#undef X
    count_
};
inline constexpr std::size_t drop_count = std::size_t(drop::count_);

constexpr std::string_view to_string(drop d) {
    switch (d) {
#define X(name, text) case drop::name: return #name;
        DATAPLANE_DROP_REASONS(X)
#undef X
    case drop::count_: break;
    }
    return "unknown";
}

constexpr std::string_view describe(drop d) {
    switch (d) {
#define X(name, text) case drop::name: return text;
        DATAPLANE_DROP_REASONS(X)
#undef X
    case drop::count_: break;
    }
    return "unknown";
}

} // namespace dataplane
