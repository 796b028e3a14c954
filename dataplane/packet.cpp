// L2/L3 header work for the pipeline: parse through base::reader, rewrite in place.
#include "dataplane/packet.hpp"

#include <base/reader.hpp>

#include <algorithm>
#include <array>
#include <cstring>

namespace dataplane {

using base::load_be16;
using base::load_be32;
using base::store_be16;
using base::store_be32;

namespace {
mac read_mac(base::reader& r) {
    mac m{};
    auto b = r.bytes(6);
    if (b.size() == 6) std::copy(b.begin(), b.end(), m.begin());
    return m;
}
} // namespace

std::optional<arp_view> parse_arp(std::span<const std::uint8_t> l3) {
    base::reader r(l3);
    auto hrd = r.read_u16();
    auto pro = r.read_u16();
    auto hln = r.read_u8();
    auto pln = r.read_u8();
    arp_view a;
    a.op = r.read_u16();
    a.sha = read_mac(r);
    a.spa = r.read_u32();
    a.tha = read_mac(r);
    a.tpa = r.read_u32();
    if (!r.ok() || hrd != 1 || pro != ethertype_ipv4 || hln != 6 || pln != 4 || (a.op != 1 && a.op != 2))
        return std::nullopt;
    return a;
}

void write_arp_frame(std::uint8_t* p, std::uint16_t op, const mac& eth_dst, const mac& sha, ipv4 spa,
                     const mac& tha, ipv4 tpa) {
    write_eth(p, eth_dst, sha, ethertype_arp);
    std::uint8_t* a = p + eth_hlen;
    store_be16(a, 1);
    store_be16(a + 2, ethertype_ipv4);
    a[4] = 6;
    a[5] = 4;
    store_be16(a + 6, op);
    std::memcpy(a + 8, sha.data(), 6);
    store_be32(a + 14, spa);
    std::memcpy(a + 18, tha.data(), 6);
    store_be32(a + 24, tpa);
}

void set_ipv4_checksum(std::uint8_t* ip, std::size_t ihl) {
    store_be16(ip + 10, 0);
    store_be16(ip + 10, inet_checksum({ip, ihl}));
}

bool icmp_echo_to_reply(std::span<std::uint8_t> ip, ipv4 reply_src) {
    drop why;
    auto v = parse_ipv4(ip, why);
    if (!v || v->proto != proto_icmp || v->fragment) return false;
    auto icmp = ip.subspan(v->ihl, v->total_len - v->ihl);
    base::reader r(icmp);
    auto type = r.read_u8();
    auto code = r.read_u8();
    r.skip(6);
    if (!r.ok() || type != 8 || code != 0 || inet_checksum(icmp) != 0) return false;
    store_be32(ip.data() + 16, v->src);
    store_be32(ip.data() + 12, reply_src);
    ip[8] = 64;  // a fresh TTL for the reply, as hosts do
    set_ipv4_checksum(ip.data(), v->ihl);
    std::uint16_t old_word = load_be16(icmp.data());
    icmp[0] = 0;
    checksum_adjust(icmp.data() + 2, old_word, load_be16(icmp.data()));
    return true;
}

std::size_t write_icmp_frag_needed(std::uint8_t* out, std::span<const std::uint8_t> offending_ip, ipv4 src,
                                   std::uint16_t mtu) {
    drop why;
    auto v = parse_ipv4(offending_ip, why);
    if (!v) return 0;
    std::size_t quote = std::min<std::size_t>(v->total_len, std::size_t(v->ihl) + 8);
    std::size_t len = 20 + 8 + quote;
    std::memset(out, 0, 28);
    out[0] = 0x45;
    store_be16(out + 2, std::uint16_t(len));
    out[8] = 64;
    out[9] = proto_icmp;
    store_be32(out + 12, src);
    store_be32(out + 16, v->src);
    set_ipv4_checksum(out, 20);
    std::uint8_t* icmp = out + 20;
    icmp[0] = 3;  // destination unreachable
    icmp[1] = 4;  // fragmentation needed and DF set
    store_be16(icmp + 6, mtu);  // RFC 1191 section 4: next-hop MTU in the low-order 16 bits
    std::memcpy(icmp + 8, offending_ip.data(), quote);
    store_be16(icmp + 2, inet_checksum({icmp, 8 + quote}));
    return len;
}

namespace {

// The options a non-first fragment carries (RFC 791 3.1: those with the copied flag), padded
// with End of Option List to a multiple of 4; returns their length (at most 40).
std::size_t copied_options(std::span<const std::uint8_t> opts, std::uint8_t* out) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < opts.size();) {
        std::uint8_t type = opts[i];
        if (type == 0) break;  // end of list
        if (type == 1) {       // no-operation: one byte, not copied
            ++i;
            continue;
        }
        if (i + 1 >= opts.size() || opts[i + 1] < 2 || i + opts[i + 1] > opts.size()) break;  // malformed: stop
        std::size_t len = opts[i + 1];
        if (type & 0x80) {
            std::memcpy(out + n, opts.data() + i, len);
            n += len;
        }
        i += len;
    }
    while (n % 4) out[n++] = 0;
    return n;
}

struct frag_geometry {
    std::size_t ihl_first, ihl_rest, chunk_first, chunk_rest, payload;
};

std::optional<frag_geometry> geometry(std::span<const std::uint8_t> ip, std::size_t mtu, const ipv4_view& v) {
    std::array<std::uint8_t, 40> opts{};
    frag_geometry g{};
    g.ihl_first = v.ihl;
    g.ihl_rest = 20 + copied_options(ip.subspan(20, v.ihl - 20), opts.data());
    g.payload = v.total_len - v.ihl;
    if (mtu < g.ihl_first + 8 || mtu < g.ihl_rest + 8) return std::nullopt;
    g.chunk_first = (mtu - g.ihl_first) / 8 * 8;
    g.chunk_rest = (mtu - g.ihl_rest) / 8 * 8;
    return g;
}

} // namespace

std::size_t ipv4_fragment_count(std::span<const std::uint8_t> ip, std::size_t mtu) {
    drop why;
    auto v = parse_ipv4(ip, why);
    if (!v || v->df) return 0;
    auto g = geometry(ip, mtu, *v);
    if (!g) return 0;
    if (g->payload <= g->chunk_first) return 1;
    std::size_t n = 1 + (g->payload - g->chunk_first + g->chunk_rest - 1) / g->chunk_rest;
    return n <= max_fragments ? n : 0;
}

std::size_t write_ipv4_fragment(std::span<const std::uint8_t> ip, std::size_t mtu, std::size_t index, std::uint8_t* out) {
    drop why;
    auto v = parse_ipv4(ip, why);
    if (!v || v->df) return 0;
    auto g = geometry(ip, mtu, *v);
    if (!g) return 0;
    std::size_t start = index == 0 ? 0 : g->chunk_first + (index - 1) * g->chunk_rest;
    if (start >= g->payload && !(start == 0 && g->payload == 0)) return 0;
    std::size_t chunk = std::min(index == 0 ? g->chunk_first : g->chunk_rest, g->payload - start);
    bool last = start + chunk == g->payload;
    std::size_t ihl = index == 0 ? g->ihl_first : g->ihl_rest;
    std::memcpy(out, ip.data(), 20);
    if (index == 0) std::memcpy(out + 20, ip.data() + 20, ihl - 20);
    else copied_options(ip.subspan(20, v->ihl - 20), out + 20);
    out[0] = std::uint8_t(0x40 | (ihl / 4));
    store_be16(out + 2, std::uint16_t(ihl + chunk));
    std::uint16_t orig = load_be16(ip.data() + 6);
    std::uint16_t offset = std::uint16_t((orig & 0x1fff) + start / 8);
    bool more = !last || (orig & 0x2000);
    store_be16(out + 6, std::uint16_t((more ? 0x2000 : 0) | offset));
    set_ipv4_checksum(out, ihl);
    std::memcpy(out + ihl, ip.data() + v->ihl + start, chunk);
    return ihl + chunk;
}

bool clamp_tcp_mss(std::span<std::uint8_t> ip, std::uint16_t mss) {
    drop why;
    auto v = parse_ipv4(ip, why);
    if (!v || v->proto != proto_tcp || v->fragment) return false;
    auto tcp = ip.subspan(v->ihl, v->total_len - v->ihl);
    base::reader r(tcp);
    r.skip(12);
    auto off_flags = r.read_u16();
    if (!r.ok() || !(off_flags & 0x0002)) return false;  // SYN only
    std::size_t doff = std::size_t(off_flags >> 12) * 4;
    if (doff < 20 || doff > tcp.size()) return false;
    // Options, RFC 9293 3.1: kind 0 end, kind 1 no-op, else kind, length, data.
    base::reader opts(tcp.subspan(20, doff - 20));
    while (!opts.empty()) {
        std::size_t at = 20 + opts.position();
        auto kind = opts.read_u8();
        if (kind == 0) break;
        if (kind == 1) continue;
        auto len = opts.read_u8();
        if (!opts.ok() || len < 2 || !opts.skip(len - 2u)) return false;
        if (kind == 2 && len == 4) {
            std::uint16_t old_mss = load_be16(tcp.data() + at + 2);
            if (old_mss <= mss) return false;
            store_be16(tcp.data() + at + 2, mss);
            // A field at an odd offset enters the one's complement sum byte-swapped
            // (RFC 1071 2(B), byte order independence).
            auto swap = [](std::uint16_t v) { return std::uint16_t(v << 8 | v >> 8); };
            bool odd = ((at + 2) & 1) != 0;
            checksum_adjust(tcp.data() + 16, odd ? swap(old_mss) : old_mss, odd ? swap(mss) : mss);
            return true;
        }
    }
    return false;
}

bool is_ike_payload(std::uint16_t dport, std::span<const std::uint8_t> udp_payload) {
    if (dport == port_ike) return true;
    if (dport != port_nat_t) return false;
    base::reader r(udp_payload);
    auto marker = r.read_u32();
    // RFC 3948 2.2: a zero "SPI" is the non-ESP marker; a single 0xff byte is NAT-keepalive,
    // which IKE (not ESP) owns as well.
    if (r.ok()) return marker == 0;
    return udp_payload.size() == 1 && udp_payload[0] == 0xff;
}

} // namespace dataplane
