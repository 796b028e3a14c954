#pragma once
// 5-tuple extraction from an IP packet (the SPD selector fields, RFC 4301 section 4.4.1.1).
// Runs on the fast path: no allocation, no exceptions; every byte goes through base::reader.
#include "spd/types.hpp"

#include <cstdint>
#include <span>
#include <string_view>

namespace spd {

enum class extract_status : std::uint8_t {
    ok = 0,
    truncated,         // shorter than the IP header (or an extension header) says
    bad_version,       // neither IPv4 nor IPv6
    bad_header,        // IPv4 IHL < 5 or total length < header length
    ext_chain_too_long // more IPv6 extension headers than max_ipv6_ext_headers
};
std::string_view to_string(extract_status s);

// At most this many IPv6 extension headers are walked before the packet is rejected.
inline constexpr unsigned max_ipv6_ext_headers = 8;

// Fills k from the packet starting at its IP header. IPv4: options skipped, non-first fragments
// (offset != 0) have no ports. IPv6: Hop-by-Hop (0), Routing (43), Fragment (44) and Destination
// Options (60) headers are skipped to find the upper-layer protocol; after a non-first fragment
// the walk stops and the fragment's Next Header is the protocol, without ports. AH and ESP are
// upper-layer protocols here. A transport header shorter than 4 bytes gives ports_known=false.
// The captured length (ip.size()) may be shorter than the IP total length (snap length).
extract_status extract_flow(std::span<const std::uint8_t> ip, flow_key& k) noexcept;

} // namespace spd
