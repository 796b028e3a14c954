// Addresses and the L2/L3 header helpers of the pipeline, checked against independently
// computed values (RFC 1071 checksum from scratch, RFC 1624 incremental update).
#include <dataplane/addr.hpp>
#include <dataplane/flow_key.hpp>
#include <dataplane/packet.hpp>

#include <base/reader.hpp>

#include <catch2/catch.hpp>

#include <random>
#include <vector>

using namespace dataplane;

namespace {

// A minimal IPv4 header + payload builder for the tests (independent of the code under test
// except for the checksum, which is checked separately against a from-scratch sum).
std::vector<std::uint8_t> ipv4_packet(std::uint8_t proto, ipv4 src, ipv4 dst, std::vector<std::uint8_t> payload,
                                      std::uint8_t ttl = 64, std::uint16_t frag = 0x4000) {
    std::vector<std::uint8_t> p(20);
    p[0] = 0x45;
    base::store_be16(&p[2], std::uint16_t(20 + payload.size()));
    base::store_be16(&p[4], 0x1234);
    base::store_be16(&p[6], frag);
    p[8] = ttl;
    p[9] = proto;
    base::store_be32(&p[12], src);
    base::store_be32(&p[16], dst);
    p.insert(p.end(), payload.begin(), payload.end());
    set_ipv4_checksum(p.data(), 20);
    return p;
}

std::uint16_t slow_checksum(const std::vector<std::uint8_t>& b, std::size_t from, std::size_t len) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < len; i += 2) {
        std::uint32_t w = std::uint32_t(b[from + i]) << 8;
        if (i + 1 < len) w |= b[from + i + 1];
        sum += w;
    }
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return std::uint16_t(~sum);
}

} // namespace

TEST_CASE("addr: IPv4, prefixes and MACs parse strictly and print back") {
    CHECK(parse_ipv4("192.0.2.1") == 0xc0000201u);
    CHECK_FALSE(parse_ipv4("192.0.2"));
    CHECK_FALSE(parse_ipv4("192.0.2.256"));
    CHECK_FALSE(parse_ipv4("192.0.2.01"));
    CHECK_FALSE(parse_ipv4("192.0.2.1 "));
    CHECK_FALSE(parse_ipv4("1.2.3.4.5"));
    CHECK(parse_prefix4("10.0.0.0/8") == prefix4{0x0a000000u, 8});
    CHECK(parse_prefix4("10.0.0.1") == prefix4{0x0a000001u, 32});
    CHECK_FALSE(parse_prefix4("10.0.0.1/8"));
    CHECK(parse_prefix4("10.0.0.1/8", true) == prefix4{0x0a000000u, 8});
    CHECK_FALSE(parse_prefix4("10.0.0.0/33"));
    CHECK(parse_prefix4("0.0.0.0/0")->contains(0xffffffffu));
    CHECK(parse_mac("02:aB:00:00:00:ff") == mac{2, 0xab, 0, 0, 0, 0xff});
    CHECK_FALSE(parse_mac("02:ab:00:00:00:f"));
    CHECK_FALSE(parse_mac("02:ab:00:00:00:fg"));
    CHECK(to_string_mac(mac{2, 0xab, 0, 0, 0, 0xff}) == "02:ab:00:00:00:ff");
    CHECK(to_string_prefix4(prefix4{0xac100000u, 12}) == "172.16.0.0/12");
    CHECK(is_multicast_or_broadcast(0xe0000001u));
    CHECK(is_multicast_or_broadcast(0xffffffffu));
    CHECK_FALSE(is_multicast_or_broadcast(0xdfffffffu));
}

TEST_CASE("packet: RFC 1071 checksum and the RFC 1624 TTL update agree with a full recomputation") {
    // RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (checksum 220d).
    std::vector<std::uint8_t> ex{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    CHECK(inet_checksum(ex) == 0x220d);

    std::mt19937 rng(7);
    for (int i = 0; i < 2000; ++i) {
        auto p = ipv4_packet(std::uint8_t(rng()), rng(), rng(), {}, std::uint8_t(2 + rng() % 254),
                             std::uint16_t(rng() & 0x4000));
        CHECK(slow_checksum(p, 0, 20) == 0);
        const std::uint8_t ttl = p[8], proto = p[9];
        decrement_ttl(p.data());
        CHECK(slow_checksum(p, 0, 20) == 0);
        CHECK(p[8] == ttl - 1);
        CHECK(p[9] == proto);
    }
}

TEST_CASE("packet: IPv4 validation rejects what the wire may bring") {
    auto p = ipv4_packet(proto_udp, 0x0a000001u, 0x0a000002u, {0x12, 0x34, 0x00, 0x35, 0, 8, 0, 0});
    drop why;
    auto v = parse_ipv4(p, why);
    REQUIRE(v);
    CHECK(v->ihl == 20);
    CHECK(v->df);
    CHECK_FALSE(v->fragment);
    spd::flow_key k;
    ipv4_flow_key(p, *v, k);
    CHECK(k.ports_known);
    CHECK(k.sport == 0x1234);
    CHECK(k.dport == 53);

    auto bad = p;
    bad[10] ^= 1;  // checksum
    CHECK_FALSE(parse_ipv4(bad, why));
    CHECK(why == drop::ipv4_malformed);
    bad = p;
    base::store_be16(&bad[2], 200);  // total length beyond the bytes present
    set_ipv4_checksum(bad.data(), 20);
    CHECK_FALSE(parse_ipv4(bad, why));
    bad = p;
    bad[0] = 0x44;  // IHL 4
    CHECK_FALSE(parse_ipv4(bad, why));
    CHECK_FALSE(parse_ipv4(std::span(p).first(19), why));
    auto padded = p;
    padded.resize(p.size() + 10, 0);  // Ethernet minimum-frame padding is allowed
    CHECK(parse_ipv4(padded, why));
    auto frag = ipv4_packet(proto_udp, 1, 2, {1, 2, 3, 4, 5, 6, 7, 8}, 64, 0x2000);  // MF
    v = parse_ipv4(frag, why);
    REQUIRE(v);
    CHECK(v->fragment);
    spd::flow_key fk;
    ipv4_flow_key(frag, *v, fk);
    CHECK(fk.ports_known);  // a first fragment (offset 0, MF) carries the ports (RFC 4301 4.4.1.1)
    CHECK(fk.sport == 0x0102);
}

TEST_CASE("packet: ICMP echo request becomes the reply in place (RFC 792)") {
    std::vector<std::uint8_t> icmp{8, 0, 0, 0, 0x12, 0x34, 0x00, 0x01, 'h', 'i', '!'};
    base::store_be16(&icmp[2], inet_checksum(icmp));
    auto p = ipv4_packet(proto_icmp, 0x0a010005u, 0x0a010001u, icmp, 3);
    REQUIRE(icmp_echo_to_reply(p, 0x0a010001u));
    CHECK(base::load_be32(&p[12]) == 0x0a010001u);
    CHECK(base::load_be32(&p[16]) == 0x0a010005u);
    CHECK(p[8] == 64);
    CHECK(p[20] == 0);  // echo reply
    CHECK(slow_checksum(p, 0, 20) == 0);
    CHECK(slow_checksum(p, 20, p.size() - 20) == 0);
    CHECK(std::vector<std::uint8_t>(p.begin() + 24, p.end()) == std::vector<std::uint8_t>{0x12, 0x34, 0, 1, 'h', 'i', '!'});
    // a reply, a bad checksum or a non-ICMP packet is not answered
    CHECK_FALSE(icmp_echo_to_reply(p, 0x0a010001u));
    auto q = ipv4_packet(proto_icmp, 1, 2, {8, 0, 0, 0, 0, 0, 0, 0});
    CHECK_FALSE(icmp_echo_to_reply(q, 2));
}

TEST_CASE("packet: ICMP fragmentation needed carries the MTU and quotes header + 8 bytes (RFC 1191)") {
    std::vector<std::uint8_t> payload(1400, 0xab);
    auto big = ipv4_packet(proto_udp, 0x0a010005u, 0x0a020007u, payload);
    std::vector<std::uint8_t> out(icmp_frag_needed_max);
    auto n = write_icmp_frag_needed(out.data(), big, 0x0a010001u, 1438);
    REQUIRE(n == 20 + 8 + 28);
    out.resize(n);
    drop why;
    auto v = parse_ipv4(out, why);
    REQUIRE(v);
    CHECK(v->proto == proto_icmp);
    CHECK(v->src == 0x0a010001u);
    CHECK(v->dst == 0x0a010005u);
    CHECK(out[20] == 3);
    CHECK(out[21] == 4);
    CHECK(base::load_be16(&out[26]) == 1438);
    CHECK(slow_checksum(out, 20, n - 20) == 0);
    CHECK(std::equal(out.begin() + 28, out.end(), big.begin()));
}

TEST_CASE("packet: TCP MSS clamp on SYN only, checksum kept valid (RFC 6691)") {
    auto tcp_seg = [](std::uint16_t flags, std::uint16_t mss) {
        std::vector<std::uint8_t> t(28, 0);
        base::store_be16(&t[0], 40000);
        base::store_be16(&t[2], 80);
        base::store_be16(&t[12], std::uint16_t(0x7000 | flags));  // data offset 7 words
        t[20] = 1;                                                 // NOP
        t[21] = 2;                                                 // MSS kind, length 4
        t[22] = 4;
        base::store_be16(&t[23], mss);
        t[25] = 0;  // end of options
        return t;
    };
    // TCP checksum over the pseudo-header (RFC 9293 3.1), computed from scratch.
    auto tcp_ok = [](const std::vector<std::uint8_t>& p) {
        std::vector<std::uint8_t> ph(p.begin() + 12, p.begin() + 20);
        ph.push_back(0);
        ph.push_back(proto_tcp);
        ph.push_back(std::uint8_t((p.size() - 20) >> 8));
        ph.push_back(std::uint8_t(p.size() - 20));
        ph.insert(ph.end(), p.begin() + 20, p.end());
        return slow_checksum(ph, 0, ph.size()) == 0;
    };
    auto make = [&](std::uint16_t flags, std::uint16_t mss) {
        auto p = ipv4_packet(proto_tcp, 0x0a010005u, 0x0a020007u, tcp_seg(flags, mss));
        std::vector<std::uint8_t> ph(p.begin() + 12, p.begin() + 20);
        ph.push_back(0);
        ph.push_back(proto_tcp);
        ph.push_back(0);
        ph.push_back(std::uint8_t(p.size() - 20));
        ph.insert(ph.end(), p.begin() + 20, p.end());
        base::store_be16(&p[36], slow_checksum(ph, 0, ph.size()));
        REQUIRE(tcp_ok(p));
        return p;
    };
    auto syn = make(0x02, 1460);
    REQUIRE(clamp_tcp_mss(syn, 1300));
    CHECK(base::load_be16(&syn[20 + 23]) == 1300);
    CHECK(tcp_ok(syn));
    auto small = make(0x02, 1200);
    // MSS as the first option (even offset) as well as behind a NOP (odd offset, above)
    auto aligned = ipv4_packet(proto_tcp, 0x0a010005u, 0x0a020007u, {});
    {
        auto seg = tcp_seg(0x02, 1460);
        seg[20] = 2;  // MSS kind at offset 20, value at 22
        seg[21] = 4;
        base::store_be16(&seg[22], 1460);
        seg[24] = 1;  // NOP, NOP, end
        seg[25] = 1;
        aligned = ipv4_packet(proto_tcp, 0x0a010005u, 0x0a020007u, seg);
        std::vector<std::uint8_t> ph(aligned.begin() + 12, aligned.begin() + 20);
        ph.insert(ph.end(), {0, proto_tcp, 0, std::uint8_t(aligned.size() - 20)});
        ph.insert(ph.end(), aligned.begin() + 20, aligned.end());
        base::store_be16(&aligned[36], slow_checksum(ph, 0, ph.size()));
    }
    REQUIRE(tcp_ok(aligned));
    REQUIRE(clamp_tcp_mss(aligned, 1400));
    CHECK(base::load_be16(&aligned[42]) == 1400);
    CHECK(tcp_ok(aligned));
    CHECK_FALSE(clamp_tcp_mss(small, 1300));
    CHECK(base::load_be16(&small[43]) == 1200);
    auto ack = make(0x10, 1460);
    CHECK_FALSE(clamp_tcp_mss(ack, 1300));
    // an option length running past the header is refused, nothing written
    auto broken = make(0x02, 1460);
    broken[20 + 22] = 40;
    CHECK_FALSE(clamp_tcp_mss(broken, 1300));
}

TEST_CASE("packet: ARP frame round trip and IKE demultiplexing (RFC 826, RFC 3948 2.2)") {
    std::vector<std::uint8_t> f(eth_hlen + arp_len);
    mac a{2, 0, 0, 0, 0, 1}, b{2, 0, 0, 0, 0, 2};
    write_arp_frame(f.data(), 1, mac_broadcast, a, 0x0a010005u, mac_zero, 0x0a010001u);
    auto e = parse_eth(f);
    REQUIRE(e);
    CHECK(e->dst == mac_broadcast);
    CHECK(e->src == a);
    CHECK(e->ethertype == ethertype_arp);
    auto arp = parse_arp(std::span(f).subspan(eth_hlen));
    REQUIRE(arp);
    CHECK(arp->op == 1);
    CHECK(arp->sha == a);
    CHECK(arp->spa == 0x0a010005u);
    CHECK(arp->tpa == 0x0a010001u);
    CHECK_FALSE(parse_arp(std::span(f).subspan(eth_hlen, arp_len - 1)));
    f[eth_hlen + 5] = 16;  // plen for IPv6: not ours
    CHECK_FALSE(parse_arp(std::span(f).subspan(eth_hlen)));
    (void)b;

    std::vector<std::uint8_t> marker{0, 0, 0, 0, 0x11, 0x22};
    std::vector<std::uint8_t> esp{0, 0, 0x10, 0x07, 0, 0, 0, 1};
    std::vector<std::uint8_t> keepalive{0xff};
    CHECK(is_ike_payload(500, esp));
    CHECK(is_ike_payload(4500, marker));
    CHECK(is_ike_payload(4500, keepalive));
    CHECK_FALSE(is_ike_payload(4500, esp));
    CHECK_FALSE(is_ike_payload(4500, std::span(marker).first(3)));
    CHECK_FALSE(is_ike_payload(53, marker));
}
