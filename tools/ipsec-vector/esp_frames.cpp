// Frame handling for esp-encap / esp-decap (see esp_frames.hpp). Every byte read from the
// capture goes through base::reader.
#include "esp_frames.hpp"

#include <base/reader.hpp>
#include <pcapio/pcapio.hpp>

#include <pcap/pcap.h>

#include <algorithm>

namespace ipsec_vector {
namespace {
constexpr std::uint8_t proto_udp = 17;
} // namespace

std::optional<ip_frame> locate_ip(int linktype, const std::vector<std::uint8_t>& frame) {
    auto off = pcapio::ip_offset(linktype, frame);
    if (!off) return std::nullopt;
    ip_frame f;
    f.l2_len = *off;
    base::reader r(std::span<const std::uint8_t>(frame).subspan(*off));
    const std::size_t captured = r.remaining();
    f.ip_len = captured;
    const std::uint8_t v = r.read_u8();
    if (!r.ok()) return f;
    if (v >> 4 == 4) {
        f.version = 4;
        r.skip(1);
        const std::uint16_t total = r.read_u16();
        // Trim link-layer padding (short Ethernet frames); keep anything inconsistent whole.
        if (r.ok() && total >= 20 && total <= captured) f.ip_len = total;
    } else if (v >> 4 == 6) {
        f.version = 6;
        r.skip(3);
        const std::uint16_t plen = r.read_u16();
        if (r.ok() && std::size_t(plen) + 40 <= captured) f.ip_len = std::size_t(plen) + 40;
    }
    return f;
}

std::vector<std::uint8_t> link_header_for(std::span<const std::uint8_t> l2, std::uint8_t ip_version) {
    std::vector<std::uint8_t> h(l2.begin(), l2.end());
    if (h.size() >= 2) {
        const std::uint16_t et = ip_version == 6 ? 0x86dd : 0x0800;
        base::store_be16(h.data() + h.size() - 2, et);
    }
    return h;
}

int output_linktype(int in_linktype, bool saw_v4, bool saw_v6) {
    // libpcap's DLT values (DLT_RAW is 12 or 14 by platform; files say LINKTYPE_RAW 101).
    if ((in_linktype == DLT_IPV4 && saw_v6) || (in_linktype == DLT_IPV6 && saw_v4)) return DLT_RAW;
    return in_linktype;
}

udp_non_esp classify_udp(std::span<const std::uint8_t> ip, std::uint16_t port_a, std::uint16_t port_b) {
    base::reader r(ip);
    const std::uint8_t vihl = r.read_u8();
    std::uint8_t proto = 0;
    if (vihl >> 4 == 4) {
        const std::size_t ihl = std::size_t(vihl & 15) * 4;
        r.skip(5);
        const std::uint16_t frag = r.read_u16();
        r.skip(1);  // TTL
        proto = r.read_u8();
        if (ihl < 20 || (frag & 0x3fff) != 0) return udp_non_esp::esp_or_other;  // fragments: library
        r.skip(ihl - 10);
    } else if (vihl >> 4 == 6) {
        r.skip(5);
        proto = r.read_u8();
        r.skip(33);  // hop limit, addresses
    } else {
        return udp_non_esp::esp_or_other;
    }
    if (!r.ok() || proto != proto_udp) return udp_non_esp::esp_or_other;
    const std::uint16_t sport = r.read_u16();
    const std::uint16_t dport = r.read_u16();
    const std::uint16_t ulen = r.read_u16();
    r.skip(2);
    if (!r.ok() || ulen < 8) return udp_non_esp::esp_or_other;
    auto ours = [&](std::uint16_t p) { return p == 4500 || p == port_a || p == port_b; };
    if (!ours(dport) && !ours(sport)) return udp_non_esp::other_port;
    base::reader payload = r.sub(std::min<std::size_t>(ulen - 8, r.remaining()));
    if (payload.remaining() == 1 && payload.read_u8() == 0xff) return udp_non_esp::keepalive;
    if (payload.remaining() >= 4 && payload.read_u32() == 0) return udp_non_esp::ike;
    return udp_non_esp::esp_or_other;
}

} // namespace ipsec_vector
