#pragma once
// The SPD flow key of an IPv4 packet that parse_ipv4 has validated, read in place: the key
// spd::extract_flow gives for the same bytes (tests/unit/dataplane/flow_key_test.cpp compares
// the two), without walking the header a second time on the fast path. key_runs: the keys of a
// burst, one per run of packets the policies cannot tell apart.
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

// The SPD keys of a burst. When no policy of the direction has a port selector (tunnel policies
// are CIDR pairs; spd::classifier::uses_ports), a verdict depends on the addresses and the
// protocol only: a run of consecutive IPv4 packets that agree on those shares one key, so one
// lookup, and a burst through one tunnel is often a single lookup. Otherwise every packet has
// a key of its own. keys must hold one key per packet added.
struct key_runs {
    spd::flow_key* keys;
    bool per_packet;           // the policies look at ports
    std::size_t n = 0;         // keys used
    bool open = false;         // keys[n - 1] is an IPv4 key the next packet may share
    std::uint64_t addrs = 0;   // its source and destination as they lie in the header
    std::uint8_t proto = 0;

    key_runs(spd::flow_key* k, bool uses_ports) : keys(k), per_packet(uses_ports) {}

    // The key index of an IPv4 packet parse_ipv4 validated (ip from its header).
    [[gnu::always_inline]] std::uint8_t add_v4(std::span<const std::uint8_t> ip, const ipv4_view& v) {
        std::uint64_t a;
        std::memcpy(&a, ip.data() + 12, 8);
        if (!open || a != addrs || v.proto != proto || per_packet) {
            ipv4_flow_key(ip, v, keys[n++]);
            open = true;
            addrs = a;
            proto = v.proto;
        }
        return std::uint8_t(n - 1);
    }
    // The key index of a key the caller built into keys[n] (another family): never shared.
    std::uint8_t add_built() {
        open = false;
        return std::uint8_t(n++);
    }
};

} // namespace dataplane
