// 5-tuple extraction from raw IP packets built field by field (RFC 791 / RFC 8200 layouts).
#include "spd_test_util.hpp"

#include <base/writer.hpp>
#include <spd/flow.hpp>

#include <catch2/catch.hpp>

using namespace spd;
using spd_test::pfx;

namespace {

// IPv4 header (RFC 791 3.1) with optional options, then payload.
std::vector<std::uint8_t> ipv4(std::uint8_t proto, std::vector<std::uint8_t> payload, std::uint16_t frag = 0,
                               std::size_t option_words = 0, int total_adjust = 0) {
    base::writer w;
    w.u8(std::uint8_t(0x40 | (5 + option_words)));
    w.u8(0);
    w.u16(std::uint16_t(20 + option_words * 4 + payload.size() + total_adjust));
    w.u16(0x1234);
    w.u16(frag);
    w.u8(64);
    w.u8(proto);
    w.u16(0);
    w.bytes(std::span<const std::uint8_t>(pfx("192.0.2.1").addr).first(4));
    w.bytes(std::span<const std::uint8_t>(pfx("198.51.100.2").addr).first(4));
    auto b = w.take();
    b.insert(b.end(), option_words * 4, 1);  // NOP options
    b.insert(b.end(), payload.begin(), payload.end());
    return b;
}

std::vector<std::uint8_t> ports(std::uint16_t s, std::uint16_t d, std::size_t extra = 4) {
    base::writer w;
    w.u16(s);
    w.u16(d);
    w.zeros(extra);
    return w.take();
}

// IPv6 header (RFC 8200 3) followed by a chain of raw bytes.
std::vector<std::uint8_t> ipv6(std::uint8_t next, std::vector<std::uint8_t> rest) {
    base::writer w;
    w.u32(0x60000000);
    w.u16(std::uint16_t(rest.size()));
    w.u8(next);
    w.u8(64);
    w.bytes(pfx("2001:db8:1::1").addr);
    w.bytes(pfx("2001:db8:2::2").addr);
    w.bytes(rest);
    return w.take();
}

// Generic extension header: Next Header, Hdr Ext Len (8-octet units after the first 8), data.
std::vector<std::uint8_t> ext(std::uint8_t next, std::uint8_t len_units) {
    std::vector<std::uint8_t> b(8 + std::size_t(len_units) * 8, 0);
    b[0] = next;
    b[1] = len_units;
    return b;
}

std::vector<std::uint8_t> frag_hdr(std::uint8_t next, std::uint16_t offset_units, bool more) {
    base::writer w;
    w.u8(next);
    w.u8(0);
    w.u16(std::uint16_t(offset_units << 3 | (more ? 1 : 0)));
    w.u32(0xabcd);
    return w.take();
}

template <class... Parts>
std::vector<std::uint8_t> cat(Parts... parts) {
    std::vector<std::uint8_t> out;
    (out.insert(out.end(), parts.begin(), parts.end()), ...);
    return out;
}

} // namespace

TEST_CASE("IPv4 TCP: addresses, protocol and ports", "[spd][flow]") {
    flow_key k;
    REQUIRE(extract_flow(ipv4(proto_tcp, ports(40000, 443, 16)), k) == extract_status::ok);
    CHECK(k.family == ip_family::v4);
    CHECK(k.src == pfx("192.0.2.1").addr);
    CHECK(k.dst == pfx("198.51.100.2").addr);
    CHECK(k.proto == proto_tcp);
    CHECK(k.ports_known);
    CHECK(k.sport == 40000);
    CHECK(k.dport == 443);
}

TEST_CASE("IPv4 options are skipped using IHL", "[spd][flow]") {
    flow_key k;
    REQUIRE(extract_flow(ipv4(proto_udp, ports(53, 5353), 0, 3), k) == extract_status::ok);
    CHECK(k.ports_known);
    CHECK(k.sport == 53);
    CHECK(k.dport == 5353);
}

TEST_CASE("IPv4 fragments: first fragment has ports, later ones do not", "[spd][flow]") {
    flow_key k;
    REQUIRE(extract_flow(ipv4(proto_udp, ports(1, 2), 0x2000 /* MF, offset 0 */), k) == extract_status::ok);
    CHECK(k.ports_known);
    REQUIRE(extract_flow(ipv4(proto_udp, ports(1, 2), 0x0001 /* offset 8 bytes */), k) == extract_status::ok);
    CHECK(k.proto == proto_udp);
    CHECK_FALSE(k.ports_known);
    CHECK(k.sport == 0);
}

TEST_CASE("IPv4: port-less protocols, short transport headers, Total Length bounds", "[spd][flow]") {
    flow_key k;
    REQUIRE(extract_flow(ipv4(proto_icmp, {8, 0, 0, 0, 0, 1, 0, 1}), k) == extract_status::ok);
    CHECK(k.proto == proto_icmp);
    CHECK_FALSE(k.ports_known);
    REQUIRE(extract_flow(ipv4(proto_tcp, {0x01, 0x02, 0x03}), k) == extract_status::ok);
    CHECK_FALSE(k.ports_known);
    // Total Length says 2 bytes of payload although 8 were captured: ports lie beyond it.
    REQUIRE(extract_flow(ipv4(proto_tcp, ports(7, 8), 0, 0, -6), k) == extract_status::ok);
    CHECK_FALSE(k.ports_known);
}

TEST_CASE("IPv4 malformed headers are rejected", "[spd][flow]") {
    flow_key k;
    auto p = ipv4(proto_tcp, ports(1, 2));
    CHECK(extract_flow(std::span(p).first(19), k) == extract_status::truncated);
    auto bad_ihl = p;
    bad_ihl[0] = 0x44;
    CHECK(extract_flow(bad_ihl, k) == extract_status::bad_header);
    auto long_ihl = p;
    long_ihl[0] = 0x4f;  // 60-byte header in a 32-byte packet
    CHECK(extract_flow(long_ihl, k) != extract_status::ok);
    auto bad_total = p;
    bad_total[2] = 0;
    bad_total[3] = 10;
    CHECK(extract_flow(bad_total, k) == extract_status::bad_header);
    std::vector<std::uint8_t> v5{0x50, 0, 0, 0};
    CHECK(extract_flow(v5, k) == extract_status::bad_version);
    CHECK(extract_flow({}, k) == extract_status::truncated);
}

TEST_CASE("IPv6 UDP without extension headers", "[spd][flow]") {
    flow_key k;
    REQUIRE(extract_flow(ipv6(proto_udp, ports(500, 4500)), k) == extract_status::ok);
    CHECK(k.family == ip_family::v6);
    CHECK(k.src == pfx("2001:db8:1::1").addr);
    CHECK(k.dst == pfx("2001:db8:2::2").addr);
    CHECK(k.proto == proto_udp);
    CHECK(k.ports_known);
    CHECK(k.sport == 500);
    CHECK(k.dport == 4500);
}

TEST_CASE("IPv6: Hop-by-Hop, Routing, Destination Options are walked to TCP", "[spd][flow]") {
    flow_key k;
    auto p = ipv6(0, cat(ext(43, 1), ext(60, 0), ext(proto_tcp, 2), ports(22, 2222, 16)));
    REQUIRE(extract_flow(p, k) == extract_status::ok);
    CHECK(k.proto == proto_tcp);
    CHECK(k.ports_known);
    CHECK(k.sport == 22);
    CHECK(k.dport == 2222);
}

TEST_CASE("IPv6 fragments: offset 0 continues to the ports, later fragments stop", "[spd][flow]") {
    flow_key k;
    REQUIRE(extract_flow(ipv6(44, cat(frag_hdr(proto_udp, 0, true), ports(9, 10))), k) == extract_status::ok);
    CHECK(k.proto == proto_udp);
    CHECK(k.ports_known);
    CHECK(k.dport == 10);
    REQUIRE(extract_flow(ipv6(44, cat(frag_hdr(proto_udp, 185, false), ports(9, 10))), k) == extract_status::ok);
    CHECK(k.proto == proto_udp);
    CHECK_FALSE(k.ports_known);
}

TEST_CASE("IPv6: ESP, AH and ICMPv6 are upper-layer protocols without ports", "[spd][flow]") {
    flow_key k;
    for (std::uint8_t proto : {std::uint8_t(50), std::uint8_t(51), proto_icmpv6, std::uint8_t(59)}) {
        REQUIRE(extract_flow(ipv6(60, cat(ext(proto, 0), ports(1, 2))), k) == extract_status::ok);
        CHECK(k.proto == proto);
        CHECK_FALSE(k.ports_known);
    }
}

TEST_CASE("IPv6: truncated and overlong extension chains are rejected", "[spd][flow]") {
    flow_key k;
    auto trunc = ipv6(0, ext(proto_tcp, 4));
    trunc.pop_back();
    trunc[5] = std::uint8_t(trunc.size() - 40);
    CHECK(extract_flow(trunc, k) == extract_status::truncated);
    // max_ipv6_ext_headers headers are fine, one more is not.
    std::vector<std::uint8_t> chain;
    for (unsigned i = 0; i + 1 < max_ipv6_ext_headers; ++i) chain = cat(chain, ext(60, 0));
    auto ok = ipv6(60, cat(chain, ext(proto_udp, 0), ports(1, 2)));
    REQUIRE(extract_flow(ok, k) == extract_status::ok);
    CHECK(k.proto == proto_udp);
    auto too_long = ipv6(60, cat(chain, ext(60, 0), ext(proto_udp, 0), ports(1, 2)));
    CHECK(extract_flow(too_long, k) == extract_status::ext_chain_too_long);
    CHECK(extract_flow(std::span(ok).first(39), k) == extract_status::truncated);
}
