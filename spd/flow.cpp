// 5-tuple extraction. Flow:
//  1. version nibble picks IPv4 or IPv6;
//  2. IPv4: IHL/total length checks, fragment offset, protocol; IPv6: walk the extension
//     header chain (bounded) to the upper-layer protocol;
//  3. for TCP/UDP/SCTP at fragment offset 0 with 4 bytes of transport header: the ports.
#include "spd/flow.hpp"

#include <base/reader.hpp>

#include <algorithm>

namespace spd {

std::string_view to_string(extract_status s) {
    switch (s) {
    case extract_status::ok: return "ok";
    case extract_status::truncated: return "truncated";
    case extract_status::bad_version: return "bad_version";
    case extract_status::bad_header: return "bad_header";
    case extract_status::ext_chain_too_long: return "ext_chain_too_long";
    }
    return "?";
}

namespace {

void read_ports(base::reader transport, flow_key& k) {
    if (!has_ports(k.proto)) return;
    std::uint16_t sp = transport.read_u16();
    std::uint16_t dp = transport.read_u16();
    if (!transport.ok()) return;  // too short for ports: OPAQUE
    k.ports_known = true;
    k.sport = sp;
    k.dport = dp;
}

extract_status extract_v4(base::reader r, flow_key& k) {
    //  0                   1                   2                   3
    // |Version|  IHL  |Type of Service|          Total Length         |
    // |         Identification        |Flags|      Fragment Offset    |
    // |  Time to Live |    Protocol   |         Header Checksum       |
    // |                       Source Address                          |
    // |                    Destination Address                        |
    std::uint8_t vihl = r.read_u8();
    r.skip(1);
    std::uint16_t total = r.read_u16();
    r.skip(2);
    std::uint16_t frag = r.read_u16();
    r.skip(1);
    std::uint8_t proto = r.read_u8();
    r.skip(2);
    auto src = r.bytes(4);
    auto dst = r.bytes(4);
    if (!r.ok()) return extract_status::truncated;
    std::size_t ihl = std::size_t(vihl & 0x0f) * 4;
    if (ihl < 20 || total < ihl) return extract_status::bad_header;
    if (!r.skip(ihl - 20)) return extract_status::truncated;
    k.family = ip_family::v4;
    k.src = {};
    k.dst = {};
    std::copy(src.begin(), src.end(), k.src.begin());
    std::copy(dst.begin(), dst.end(), k.dst.begin());
    k.proto = proto;
    if ((frag & 0x1fff) != 0) return extract_status::ok;  // non-first fragment: no ports
    // The payload ends at Total Length or at the end of the capture, whichever comes first.
    read_ports(r.sub(std::min<std::size_t>(total - ihl, r.remaining())), k);
    return extract_status::ok;
}

extract_status extract_v6(base::reader r, flow_key& k) {
    // |Version| Traffic Class |           Flow Label                  |
    // |         Payload Length        |  Next Header  |   Hop Limit   |
    // |  Source Address (128) | Destination Address (128) |
    r.skip(4);
    std::uint16_t payload_len = r.read_u16();
    std::uint8_t next = r.read_u8();
    r.skip(1);
    auto src = r.bytes(16);
    auto dst = r.bytes(16);
    if (!r.ok()) return extract_status::truncated;
    k.family = ip_family::v6;
    std::copy(src.begin(), src.end(), k.src.begin());
    std::copy(dst.begin(), dst.end(), k.dst.begin());
    // Payload Length 0 is a jumbogram (RFC 2675) or a capture of one: use what was captured.
    base::reader payload = payload_len == 0 ? r.sub(r.remaining()) : r.sub(std::min<std::size_t>(payload_len, r.remaining()));
    for (unsigned n = 0;; ++n) {
        if (next != 0 && next != 43 && next != 44 && next != 60) break;
        if (n == max_ipv6_ext_headers) return extract_status::ext_chain_too_long;
        std::uint8_t following = payload.read_u8();
        if (next == 44) {
            // Fragment header (RFC 8200 4.5): Next Header, Reserved, Offset|Res|M, Identification.
            payload.skip(1);
            std::uint16_t off = payload.read_u16();
            payload.skip(4);
            if (!payload.ok()) return extract_status::truncated;
            next = following;
            if ((off & 0xfff8) != 0) {  // non-first fragment: the rest is not a header chain
                k.proto = next;
                return extract_status::ok;
            }
            continue;
        }
        // Hop-by-Hop, Routing, Destination Options: Hdr Ext Len in 8-octet units, not counting
        // the first 8 octets.
        std::uint8_t ext_len = payload.read_u8();
        if (!payload.skip(std::size_t(ext_len) * 8 + 6)) return extract_status::truncated;
        next = following;
    }
    k.proto = next;
    read_ports(payload, k);
    return extract_status::ok;
}

} // namespace

extract_status extract_flow(std::span<const std::uint8_t> ip, flow_key& k) noexcept {
    k = flow_key{};
    base::reader r(ip);
    std::uint8_t first = r.read_u8();
    if (!r.ok()) return extract_status::truncated;
    switch (first >> 4) {
    case 4: return extract_v4(base::reader(ip), k);
    case 6: return extract_v6(base::reader(ip), k);
    default: return extract_status::bad_version;
    }
}

} // namespace spd
