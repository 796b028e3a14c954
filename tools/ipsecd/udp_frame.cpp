// IPv4 + UDP framing of IKE datagrams (see udp_frame.hpp).
#include "udp_frame.hpp"

#include <base/reader.hpp>

#include <algorithm>
#include <cstring>

namespace ipsecd {

namespace {

// RFC 1071 one's-complement sum, folded by the caller.
std::uint32_t sum16(std::span<const std::uint8_t> b, std::uint32_t acc = 0) {
    std::size_t i = 0;
    for (; i + 1 < b.size(); i += 2) acc += std::uint32_t(b[i]) << 8 | b[i + 1];
    if (i < b.size()) acc += std::uint32_t(b[i]) << 8;
    return acc;
}
std::uint16_t fold(std::uint32_t acc) {
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return std::uint16_t(~acc & 0xffff);
}
// RFC 768: the pseudo header (src, dst, zero, protocol 17, UDP length) and the UDP bytes.
std::uint16_t udp_checksum(std::uint32_t src, std::uint32_t dst, std::span<const std::uint8_t> udp) {
    std::uint32_t acc = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 17 + std::uint32_t(udp.size());
    return fold(sum16(udp, acc));
}

} // namespace

std::string_view to_string(udp4_error e) {
    switch (e) {
    case udp4_error::truncated: return "truncated";
    case udp4_error::not_ipv4: return "not IPv4";
    case udp4_error::not_udp: return "not UDP";
    case udp4_error::fragment: return "IPv4 fragment";
    case udp4_error::bad_ip_checksum: return "bad IPv4 header checksum";
    case udp4_error::bad_udp_length: return "bad UDP length";
    case udp4_error::bad_udp_checksum: return "bad UDP checksum";
    }
    return "unknown";
}

udp4_parse_result parse_udp4(std::span<const std::uint8_t> packet, bool verify_udp_checksum) {
    udp4_parse_result res;
    base::reader r(packet);
    auto vihl = r.read_u8();
    if (!r.ok()) return res;
    if ((vihl >> 4) != 4 || (vihl & 15) < 5) {
        res.error = udp4_error::not_ipv4;
        return res;
    }
    const std::size_t ihl = std::size_t(vihl & 15) * 4;
    r.skip(1);  // DSCP/ECN
    auto total = r.read_u16();
    r.skip(2);  // id
    auto frag = r.read_u16();
    r.skip(1);  // TTL
    auto proto = r.read_u8();
    r.skip(2);  // checksum (verified over the header below)
    auto src = r.read_u32();
    auto dst = r.read_u32();
    if (!r.ok() || total < ihl || total > packet.size() || ihl > packet.size()) return res;
    if (fold(sum16(packet.first(ihl))) != 0) {
        res.error = udp4_error::bad_ip_checksum;
        return res;
    }
    if (proto != 17) {
        res.error = udp4_error::not_udp;
        return res;
    }
    if ((frag & 0x3fff) != 0) {  // MF or an offset
        res.error = udp4_error::fragment;
        return res;
    }
    auto ip_payload = packet.subspan(ihl, total - ihl);
    base::reader u(ip_payload);
    auto sport = u.read_u16();
    auto dport = u.read_u16();
    auto ulen = u.read_u16();
    auto csum = u.read_u16();
    if (!u.ok()) return res;
    if (ulen < 8 || ulen > ip_payload.size()) {
        res.error = udp4_error::bad_udp_length;
        return res;
    }
    auto udp = ip_payload.first(ulen);
    if (verify_udp_checksum && csum != 0 && udp_checksum(src, dst, udp) != 0) {
        res.error = udp4_error::bad_udp_checksum;
        return res;
    }
    res.datagram = udp4_datagram{src, dst, sport, dport, udp.subspan(8)};
    return res;
}

std::size_t build_udp4(std::span<std::uint8_t> out, std::uint32_t src, std::uint16_t sport, std::uint32_t dst,
                       std::uint16_t dport, std::span<const std::uint8_t> payload, std::uint16_t ip_id) {
    const std::size_t total = udp4_header_bytes + payload.size();
    if (total > 65535 || out.size() < total) return 0;
    std::uint8_t* ip = out.data();
    ip[0] = 0x45;
    ip[1] = 0;
    base::store_be16(ip + 2, std::uint16_t(total));
    base::store_be16(ip + 4, ip_id);
    base::store_be16(ip + 6, 0x4000);  // DF: IKE handles its own fragmentation (RFC 7383)
    ip[8] = 64;
    ip[9] = 17;
    base::store_be16(ip + 10, 0);
    base::store_be32(ip + 12, src);
    base::store_be32(ip + 16, dst);
    base::store_be16(ip + 10, fold(sum16(std::span<const std::uint8_t>(ip, 20))));
    std::uint8_t* udp = ip + 20;
    base::store_be16(udp, sport);
    base::store_be16(udp + 2, dport);
    base::store_be16(udp + 4, std::uint16_t(8 + payload.size()));
    base::store_be16(udp + 6, 0);
    if (!payload.empty()) std::memcpy(udp + 8, payload.data(), payload.size());
    auto c = udp_checksum(src, dst, std::span<const std::uint8_t>(udp, 8 + payload.size()));
    base::store_be16(udp + 6, c == 0 ? 0xffff : c);  // RFC 768: a computed zero is sent as ones
    return total;
}

} // namespace ipsecd
