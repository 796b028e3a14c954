#pragma once
// The SPD flow key of an IPv4 packet that parse_ipv4 has validated, read in place: the key
// spd::extract_flow gives for the same bytes (tests/unit/dataplane/flow_key_test.cpp compares
// the two), without walking the header a second time on the fast path.
#include "dataplane/packet.hpp"

#include <base/reader.hpp>
#include <spd/types.hpp>

#include <cstdint>
#include <cstring>
#include <span>

namespace dataplane {

// ip: the packet from its IPv4 header (at least v.total_len bytes, as parse_ipv4 checked).
inline void ipv4_flow_key(std::span<const std::uint8_t> ip, const ipv4_view& v, spd::flow_key& k) {
    const std::uint8_t* p = ip.data();
    k.src = {};
    k.dst = {};
    std::memcpy(k.src.data(), p + 12, 4);
    std::memcpy(k.dst.data(), p + 16, 4);
    k.family = spd::ip_family::v4;
    k.proto = v.proto;
    k.ports_known = false;
    k.sport = 0;
    k.dport = 0;
    // Ports from an unfragmented packet or a first fragment (offset 0, MF may be set) whose
    // transport header holds them (RFC 4301 4.4.1.1: otherwise OPAQUE).
    const bool offset_zero = (base::load_be16(p + 6) & 0x1fff) == 0;
    if (offset_zero && spd::has_ports(v.proto) && v.total_len - v.ihl >= 4) {
        k.ports_known = true;
        k.sport = base::load_be16(p + v.ihl);
        k.dport = base::load_be16(p + v.ihl + 2);
    }
}

} // namespace dataplane
