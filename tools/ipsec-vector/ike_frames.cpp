// ike-decode frame walk: link header (pcapio) -> IPv4/IPv6 -> UDP -> port 500 / 4500 + marker.
#include "ike_frames.hpp"

#include <base/reader.hpp>
#include <pcapio/pcapio.hpp>

namespace ipsec_vector {
namespace {

constexpr std::uint8_t ip_proto_udp = 17;
constexpr std::uint16_t port_ike = 500;
constexpr std::uint16_t port_natt = 4500;

// Positions the reader at the UDP header; false when the packet is not an unfragmented UDP one.
bool to_udp(base::reader& r) {
    const std::uint8_t version = r.rest().empty() ? 0 : std::uint8_t(r.rest().front() >> 4);
    if (version == 4) {
        const std::uint8_t vihl = r.read_u8();
        r.skip(1);
        const std::uint16_t total = r.read_u16();
        r.skip(2);
        const std::uint16_t frag = r.read_u16();
        r.skip(1);
        const std::uint8_t proto = r.read_u8();
        const std::size_t ihl = std::size_t(vihl & 0x0f) * 4;
        if (!r.ok() || ihl < 20 || total < ihl || (frag & 0x3fff) != 0 || proto != ip_proto_udp) return false;
        // Options, then restrict the reader to the IP payload (the capture may be padded).
        base::reader ip = r;
        ip.skip(ihl - 10);
        base::reader payload = ip.sub(total - ihl);
        if (!ip.ok()) {  // truncated capture: keep what was captured, UDP length decides
            ip = r;
            ip.skip(ihl - 10);
            if (!ip.ok()) return false;
            r = ip;
            return true;
        }
        r = payload;
        return true;
    }
    if (version == 6) {
        r.skip(4);
        const std::uint16_t plen = r.read_u16();
        std::uint8_t next = r.read_u8();
        r.skip(1 + 32);
        if (!r.ok()) return false;
        base::reader payload = r.remaining() >= plen ? r.sub(plen) : r;
        for (int hops = 0; hops < 8 && payload.ok(); ++hops) {
            if (next == ip_proto_udp) { r = payload; return true; }
            if (next != 0 && next != 43 && next != 60) return false;  // fragment (44), ESP, ...
            next = payload.read_u8();
            const std::size_t len = (std::size_t(payload.read_u8()) + 1) * 8;
            payload.skip(len - 2);
        }
        return false;
    }
    return false;
}

} // namespace

ike_frame locate_ike(int linktype, const std::vector<std::uint8_t>& frame) {
    ike_frame out;
    auto off = pcapio::ip_offset(linktype, frame);
    if (!off || *off > frame.size()) return out;
    base::reader r(std::span<const std::uint8_t>(frame).subspan(*off));
    if (!to_udp(r)) return out;
    out.src_port = r.read_u16();
    out.dst_port = r.read_u16();
    const std::uint16_t ulen = r.read_u16();
    r.skip(2);
    if (!r.ok() || ulen < 8) return out;
    base::reader udp = r.sub(std::min<std::size_t>(ulen - 8u, r.remaining()));
    auto is = [&](std::uint16_t p) { return out.src_port == p || out.dst_port == p; };
    if (is(port_natt)) {
        if (udp.remaining() < 4) return out;  // keepalive (0xFF) or runt
        base::reader marker = udp;
        if (marker.read_u32() != 0) return out;  // ESP in UDP: SPI is never zero
        out.kind = ike_frame_kind::ike;
        out.ike = marker.rest();
        return out;
    }
    if (is(port_ike)) {
        out.kind = ike_frame_kind::ike;
        out.ike = udp.rest();
    }
    return out;
}

} // namespace ipsec_vector
