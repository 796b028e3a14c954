#pragma once
// Header parsing and in-place rewriting for the L2/L3 work of the pipeline, over plain byte
// spans so it is unit-testable without DPDK. Parsing goes through base::reader (STYLE.md
// "Untrusted bytes"); rewriting happens only on offsets a successful parse has proven in range.
#include "dataplane/addr.hpp"
#include "dataplane/drop.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace dataplane {

inline constexpr std::uint16_t ethertype_ipv4 = 0x0800;
inline constexpr std::uint16_t ethertype_arp = 0x0806;
inline constexpr std::size_t eth_hlen = 14;
inline constexpr std::uint8_t proto_icmp = 1;
inline constexpr std::uint8_t proto_tcp = 6;
inline constexpr std::uint8_t proto_udp = 17;
inline constexpr std::uint8_t proto_esp = 50;
inline constexpr std::uint16_t port_ike = 500;
inline constexpr std::uint16_t port_nat_t = 4500;

struct eth_view {
    mac dst{};
    mac src{};
    std::uint16_t ethertype = 0;
};
std::optional<eth_view> parse_eth(std::span<const std::uint8_t> frame);
void write_eth(std::uint8_t* p, const mac& dst, const mac& src, std::uint16_t ethertype);

/*  RFC 826 for Ethernet/IPv4:
    hrd(2)=1 pro(2)=0x0800 hln(1)=6 pln(1)=4 op(2) sha(6) spa(4) tha(6) tpa(4)  = 28 bytes */
inline constexpr std::size_t arp_len = 28;
struct arp_view {
    std::uint16_t op = 0;  // 1 request, 2 reply
    mac sha{};
    ipv4 spa = 0;
    mac tha{};
    ipv4 tpa = 0;
};
std::optional<arp_view> parse_arp(std::span<const std::uint8_t> l3);
// Writes a complete Ethernet+ARP frame of eth_hlen + arp_len bytes at p.
void write_arp_frame(std::uint8_t* p, std::uint16_t op, const mac& eth_dst, const mac& sha, ipv4 spa,
                     const mac& tha, ipv4 tpa);

/*  RFC 791 header; we accept options (ihl > 5) but never generate them. */
struct ipv4_view {
    std::uint8_t ihl = 0;           // header length in bytes
    std::uint16_t total_len = 0;
    std::uint8_t ttl = 0;
    std::uint8_t proto = 0;
    bool df = false;
    bool fragment = false;          // MF set or offset non-zero
    ipv4 src = 0;
    ipv4 dst = 0;
    std::uint16_t sport = 0;        // TCP/UDP ports when present in this (first) fragment
    std::uint16_t dport = 0;
    bool has_ports = false;
};
// Validates version, header length, total length against the bytes present (trailing
// Ethernet padding allowed) and the header checksum.
std::optional<ipv4_view> parse_ipv4(std::span<const std::uint8_t> l3, drop& why);

std::uint16_t inet_checksum(std::span<const std::uint8_t> b, std::uint32_t seed = 0);
void set_ipv4_checksum(std::uint8_t* ip, std::size_t ihl);
// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for one changed 16-bit word.
void checksum_adjust(std::uint8_t* csum, std::uint16_t old_word, std::uint16_t new_word);
// TTL - 1 with the checksum fixed incrementally; caller checked ttl > 1.
void decrement_ttl(std::uint8_t* ip);

// Turns an ICMP echo request (already validated: ours, not a fragment) into the reply in
// place: swaps addresses, type 8 -> 0, fixes both checksums. false: not a valid echo request.
bool icmp_echo_to_reply(std::span<std::uint8_t> ip, ipv4 reply_src);

// RFC 792 / RFC 1191 "fragmentation needed and DF set" (type 3 code 4) with the next-hop MTU,
// quoting the offending header + 8 bytes. Writes an IPv4 packet at out and returns its length;
// out must hold icmp_frag_needed_max bytes.
inline constexpr std::size_t icmp_frag_needed_max = 20 + 8 + 60 + 8;
std::size_t write_icmp_frag_needed(std::uint8_t* out, std::span<const std::uint8_t> offending_ip, ipv4 src,
                                   std::uint16_t mtu);

// RFC 791 fragmentation of a validated IPv4 packet without DF (it may itself be a fragment)
// into pieces of at most `mtu` bytes. ipv4_fragment_count() says how many (0: the mtu leaves
// no room for 8 bytes of data after the header, or more than max_fragments would be needed);
// write_ipv4_fragment() writes piece `index` at out (at most mtu bytes) and returns its length.
// The first piece keeps every option, the others only those with the copied flag (RFC 791
// 3.1), padded to a multiple of 4; offsets, MF and the checksum are set for each.
inline constexpr std::size_t max_fragments = 8;
std::size_t ipv4_fragment_count(std::span<const std::uint8_t> ip, std::size_t mtu);
std::size_t write_ipv4_fragment(std::span<const std::uint8_t> ip, std::size_t mtu, std::size_t index, std::uint8_t* out);

// RFC 879 / RFC 6691: lowers the MSS option of a TCP SYN to at most `mss`, fixing the TCP
// checksum incrementally. Returns true when the option was changed.
bool clamp_tcp_mss(std::span<std::uint8_t> ip, std::uint16_t mss);

// IKE on UDP 500, or on UDP 4500 behind the four-byte non-ESP marker (RFC 3948 2.2).
// `udp_payload` is what follows the UDP header.
bool is_ike_payload(std::uint16_t dport, std::span<const std::uint8_t> udp_payload);

} // namespace dataplane
