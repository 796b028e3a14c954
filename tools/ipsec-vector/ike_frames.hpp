#pragma once
// ike-decode: find the IKE message in a captured frame. IKE travels in UDP on port 500 as is,
// and on port 4500 behind the 4-byte non-ESP marker (RFC 3948 2.2, RFC 7296 2.23); on 4500 a
// one-byte 0xFF payload is a NAT-keepalive and anything else is UDP-encapsulated ESP.
#include <cstdint>
#include <span>
#include <vector>

namespace ipsec_vector {

enum class ike_frame_kind : std::uint8_t {
    ike,        // `ike` holds the IKE message (header first)
    not_ike,    // no IP, not UDP, other ports, IP fragment, keepalive or ESP-in-UDP
};

struct ike_frame {
    ike_frame_kind kind = ike_frame_kind::not_ike;
    std::span<const std::uint8_t> ike;  // into the frame
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
};

// IPv4 and IPv6 (Hop-by-Hop, Routing and Destination Options headers skipped); the UDP payload
// is bounded by the UDP length field (link padding ignored) and checked against the capture.
ike_frame locate_ike(int linktype, const std::vector<std::uint8_t>& frame);

} // namespace ipsec_vector
