#pragma once
// Header parsing and in-place rewriting for the L2/L3 work of the pipeline, over plain byte
// spans so it is unit-testable without DPDK. Parsing goes through base::reader (STYLE.md
// "Untrusted bytes"); rewriting happens only on offsets a successful parse has proven in range.
#include "dataplane/addr.hpp"
#include "dataplane/drop.hpp"

#include <base/reader.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
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
// Every received frame goes through here and the IPv4 parse below: they are inline so the
// pipeline reads the header fields in place instead of building and copying views.
inline std::optional<eth_view> parse_eth(std::span<const std::uint8_t> frame) {
    // A fixed 14-byte layout: one length check covers every read.
    if (frame.size() < eth_hlen) return std::nullopt;
    std::optional<eth_view> e{std::in_place};
    std::memcpy(e->dst.data(), frame.data(), 6);
    std::memcpy(e->src.data(), frame.data() + 6, 6);
    e->ethertype = base::load_be16(frame.data() + 12);
    return e;
}
inline void write_eth(std::uint8_t* p, const mac& dst, const mac& src, std::uint16_t ethertype) {
    std::memcpy(p, dst.data(), 6);
    std::memcpy(p + 6, src.data(), 6);
    base::store_be16(p + 12, ethertype);
}

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
    // No ports here: only a classified packet needs them, and ipv4_flow_key reads them then
    // (most packets to us are ESP, whose parse would not use them).
};
// RFC 1071 Internet checksum of b, plus `seed` (a partial sum of 16-bit big-endian words, e.g.
// a pseudo-header). The one's complement sum does not depend on byte order (RFC 1071 2.(B)):
// 32-bit words are summed as the CPU loads them and the folded sum is put in network order once.
inline std::uint16_t inet_checksum(std::span<const std::uint8_t> b, std::uint32_t seed = 0) {
    std::uint64_t sum = 0;
    const std::uint8_t* p = b.data();
    std::size_t n = b.size();
    for (; n >= 4; n -= 4, p += 4) {
        std::uint32_t w;
        std::memcpy(&w, p, 4);
        sum += w;
    }
    if (n >= 2) {
        std::uint16_t w;
        std::memcpy(&w, p, 2);
        sum += w;
        n -= 2;
        p += 2;
    }
    if (n) {  // the odd last byte is the high half of a network-order word
        const std::uint8_t pad[2] = {*p, 0};
        std::uint16_t w;
        std::memcpy(&w, pad, 2);
        sum += w;
    }
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    auto be = std::uint16_t(sum);
    if constexpr (std::endian::native == std::endian::little) be = std::uint16_t(be >> 8 | be << 8);
    std::uint64_t total = std::uint64_t(be) + seed;
    while (total >> 16) total = (total & 0xffff) + (total >> 16);
    return std::uint16_t(~total);
}
void set_ipv4_checksum(std::uint8_t* ip, std::size_t ihl);
// The option-less header's checksum (nearly every packet), as inet_checksum(h, 20) == 0 without
// the loop.
inline bool ipv4_header20_checksum_ok(const std::uint8_t* h) {
    // Two 8-byte words and one 4-byte word, each loaded straight into a register (a memcpy into
    // an array went through the stack), summed as 32-bit halves.
    std::uint64_t a, b;
    std::uint32_t c;
    std::memcpy(&a, h, 8);
    std::memcpy(&b, h + 8, 8);
    std::memcpy(&c, h + 16, 4);
    std::uint64_t sum = (a & 0xffffffffu) + (a >> 32) + (b & 0xffffffffu) + (b >> 32) + c;
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;  // the one's complement sum of a valid header is all ones (either byte order)
}
// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for one changed 16-bit word.
inline void checksum_adjust(std::uint8_t* csum, std::uint16_t old_word, std::uint16_t new_word) {
    std::uint32_t sum = std::uint16_t(~base::load_be16(csum));
    sum += std::uint16_t(~old_word);
    sum += new_word;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    base::store_be16(csum, std::uint16_t(~sum));
}
// TTL - 1 with the checksum fixed incrementally; caller checked ttl > 1.
// The new word is computed, not read back: a 16-bit load right after the byte store would wait
// for the store to retire (no store forwarding from a narrower store).
inline void decrement_ttl(std::uint8_t* ip) {
    const std::uint16_t old_word = base::load_be16(ip + 8);  // TTL and protocol share a 16-bit word
    const auto new_word = std::uint16_t(old_word - 0x100);
    base::store_be16(ip + 8, new_word);
    checksum_adjust(ip + 10, old_word, new_word);
}

// Validates version, header length, total length against the bytes present (trailing
// Ethernet padding allowed) and the header checksum. The fast path fills a view of its own
// (no optional<> copied around: a struct built by narrow stores and copied by wide loads
// stalls store forwarding on every packet).
[[gnu::always_inline]] inline bool parse_ipv4(std::span<const std::uint8_t> l3, ipv4_view& v, drop& why) {
    why = drop::ipv4_malformed;
    // The fixed 20 bytes after one length check; options only skipped (and summed).
    if (l3.size() < 20) return false;
    const std::uint8_t* p = l3.data();
    if ((p[0] >> 4) != 4) return false;
    v.ihl = std::uint8_t((p[0] & 15) * 4);
    v.total_len = base::load_be16(p + 2);
    if (v.ihl < 20 || v.total_len < v.ihl || v.total_len > l3.size()) return false;
    // The option-less header (nearly all) summed with its length known, without the loop.
    if (v.ihl == 20 ? !ipv4_header20_checksum_ok(p) : inet_checksum(l3.first(v.ihl)) != 0) return false;
    const std::uint16_t frag = base::load_be16(p + 6);
    v.ttl = p[8];
    v.proto = p[9];
    v.src = base::load_be32(p + 12);
    v.dst = base::load_be32(p + 16);
    v.df = (frag & 0x4000) != 0;
    v.fragment = (frag & 0x3fff) != 0;
    why = drop::count_;
    return true;
}
inline std::optional<ipv4_view> parse_ipv4(std::span<const std::uint8_t> l3, drop& why) {
    ipv4_view v;
    if (!parse_ipv4(l3, v, why)) return std::nullopt;
    return v;
}

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
