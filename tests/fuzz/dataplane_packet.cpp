// Fuzz target: the data plane's header code (dataplane/packet.hpp) on arbitrary bytes taken as
// an Ethernet frame, an ARP body and an IPv4 packet: parsing, the in-place rewrites (echo
// reply, MSS clamp, TTL) and the writers that quote or split a packet (ICMP fragmentation
// needed, RFC 791 fragmentation). Nothing may read or write out of bounds (ASan), and what
// the writers produce must itself parse, within the sizes they promise. The fast path's SPD
// key read in place (flow_key.hpp) must equal spd::extract_flow's for every packet that parses.
#include <dataplane/flow_key.hpp>
#include <dataplane/packet.hpp>

#include <spd/flow.hpp>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

using namespace dataplane;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> in(data, size);
    (void)parse_eth(in);
    (void)parse_arp(in);
    (void)is_ike_payload(port_ike, in);
    (void)is_ike_payload(port_nat_t, in);
    drop why;
    auto v = parse_ipv4(in, why);
    if (!v) return 0;
    if (v->total_len > size || v->ihl < 20 || v->ihl > v->total_len) std::abort();
    spd::flow_key fast, ref;
    ipv4_flow_key(in, *v, fast);
    if (spd::extract_flow(in, ref) != spd::extract_status::ok || fast.src != ref.src || fast.dst != ref.dst ||
        fast.family != ref.family || fast.proto != ref.proto || fast.ports_known != ref.ports_known ||
        fast.sport != ref.sport || fast.dport != ref.dport)
        std::abort();

    std::vector<std::uint8_t> buf(in.begin(), in.end());
    (void)clamp_tcp_mss(buf, 536);
    if (v->ttl > 1) decrement_ttl(buf.data());
    if (!parse_ipv4(buf, why)) std::abort();  // rewrites keep the header valid
    if (v->proto == proto_icmp && !v->fragment && icmp_echo_to_reply(buf, v->dst) && !parse_ipv4(buf, why)) std::abort();

    std::array<std::uint8_t, icmp_frag_needed_max> icmp{};
    auto n = write_icmp_frag_needed(icmp.data(), in, 0x0a000001, 576);
    if (n > icmp.size() || (n && !parse_ipv4(std::span(icmp.data(), n), why))) std::abort();

    const std::size_t payload = v->total_len - v->ihl;
    for (std::size_t mtu : {std::size_t(68), std::size_t(576), std::size_t(v->total_len / 2 + 24)}) {
        auto pieces = ipv4_fragment_count(in, mtu);
        if (pieces > max_fragments) std::abort();
        std::vector<std::uint8_t> out(mtu);
        std::size_t carried = 0;
        for (std::size_t i = 0; i < pieces; ++i) {
            auto len = write_ipv4_fragment(in, mtu, i, out.data());
            if (len == 0 || len > mtu) std::abort();
            auto f = parse_ipv4(std::span(out.data(), len), why);
            if (!f) std::abort();
            carried += len - f->ihl;
        }
        if (pieces && carried != payload) std::abort();
    }
    return 0;
}
