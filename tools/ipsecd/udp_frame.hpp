#pragma once
// IPv4 + UDP framing for IKE datagrams between the data plane's punt/inject rings and the IKE
// endpoint (ring_transport). Pure functions over byte spans (no DPDK), so the framing is unit
// tested on its own. Received packets are untrusted: parsed with base::reader, every length
// checked against the header and against what is there.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace ipsecd {

struct udp4_datagram {
    std::uint32_t src = 0, dst = 0;  // host order
    std::uint16_t sport = 0, dport = 0;
    std::span<const std::uint8_t> payload;  // the whole UDP payload (non-ESP marker included)
};

enum class udp4_error : std::uint8_t {
    truncated,      // shorter than the headers or the lengths they announce
    not_ipv4,       // version is not 4 or header length below 20
    not_udp,
    fragment,       // MF set or fragment offset non-zero: IKE fragments are not reassembled here
    bad_ip_checksum,
    bad_udp_length, // UDP length below 8 or beyond the IP payload
    bad_udp_checksum,
};
std::string_view to_string(udp4_error e);

// An IPv4 packet (no L2 header) carrying UDP. Trailing bytes after the IP total length are
// ignored (Ethernet padding). A zero UDP checksum means none (RFC 768); else it is verified
// when `verify_udp_checksum` (ring_transport does not: a Linux veth peer with TX checksum
// offload hands af_packet a partial checksum, and IKE authenticates its messages anyway).
struct udp4_parse_result {
    std::optional<udp4_datagram> datagram;
    udp4_error error = udp4_error::truncated;
};
udp4_parse_result parse_udp4(std::span<const std::uint8_t> packet, bool verify_udp_checksum = true);

inline constexpr std::size_t udp4_header_bytes = 20 + 8;

// Writes IPv4 (no options, DF set, TTL 64, fresh id) + UDP with checksum + payload into `out`;
// returns the packet length, or 0 when `out` is too small or the packet would exceed 65535.
std::size_t build_udp4(std::span<std::uint8_t> out, std::uint32_t src, std::uint16_t sport, std::uint32_t dst,
                       std::uint16_t dport, std::span<const std::uint8_t> payload, std::uint16_t ip_id);

} // namespace ipsecd
