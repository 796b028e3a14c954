// ring_transport's IPv4 + UDP framing (tools/ipsecd/udp_frame.*): what the IKE endpoint is handed
// for a punted packet and what goes on the inject ring, including malformed punted packets.
#include "udp_frame.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <vector>

using namespace ipsecd;

namespace {
constexpr std::uint32_t a_us = 0xCB00710A;    // 203.0.113.10
constexpr std::uint32_t a_peer = 0xCB007102;  // 203.0.113.2

std::vector<std::uint8_t> frame(std::span<const std::uint8_t> payload, std::uint16_t sport = 4500,
                                std::uint16_t dport = 4500) {
    std::vector<std::uint8_t> out(udp4_header_bytes + payload.size());
    REQUIRE(build_udp4(out, a_peer, sport, a_us, dport, payload, 7) == out.size());
    return out;
}
} // namespace

TEST_CASE("udp4: built packet parses back with addresses, ports and payload", "[product][udp_frame]") {
    // odd length: the checksum pads with a zero byte (RFC 1071)
    const std::array<std::uint8_t, 9> payload{0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0x55};
    auto pkt = frame(payload);
    CHECK(pkt[0] == 0x45);
    CHECK(pkt[9] == 17);
    CHECK((pkt[6] & 0x40) != 0);  // DF
    CHECK((pkt[26] | pkt[27]) != 0);  // a UDP checksum was computed
    auto r = parse_udp4(pkt);
    REQUIRE(r.datagram);
    CHECK(r.datagram->src == a_peer);
    CHECK(r.datagram->dst == a_us);
    CHECK(r.datagram->sport == 4500);
    CHECK(r.datagram->dport == 4500);
    CHECK(std::vector<std::uint8_t>(r.datagram->payload.begin(), r.datagram->payload.end()) ==
          std::vector<std::uint8_t>(payload.begin(), payload.end()));
}

TEST_CASE("udp4: Ethernet padding after the IP total length is ignored", "[product][udp_frame]") {
    const std::array<std::uint8_t, 3> payload{1, 2, 3};
    auto pkt = frame(payload, 500, 500);
    pkt.resize(pkt.size() + 15, 0xee);
    auto r = parse_udp4(pkt);
    REQUIRE(r.datagram);
    CHECK(r.datagram->payload.size() == 3);
}

TEST_CASE("udp4: too small an output buffer builds nothing", "[product][udp_frame]") {
    const std::array<std::uint8_t, 10> payload{};
    std::vector<std::uint8_t> out(udp4_header_bytes + 9);
    CHECK(build_udp4(out, 1, 2, 3, 4, payload, 1) == 0);
}

TEST_CASE("udp4: malformed punted packets are refused with a reason", "[product][udp_frame]") {
    const std::array<std::uint8_t, 12> payload{0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    const auto good = frame(payload);

    SECTION("every truncation") {
        for (std::size_t n = 0; n < good.size(); ++n) {
            auto r = parse_udp4(std::span(good).first(n));
            CHECK_FALSE(r.datagram);
        }
    }
    SECTION("IPv6 / bad header length") {
        auto p = good;
        p[0] = 0x65;
        CHECK(parse_udp4(p).error == udp4_error::not_ipv4);
        p[0] = 0x44;
        CHECK(parse_udp4(p).error == udp4_error::not_ipv4);
    }
    SECTION("header checksum") {
        auto p = good;
        p[8] ^= 1;  // TTL changed, checksum not
        CHECK(parse_udp4(p).error == udp4_error::bad_ip_checksum);
    }
    SECTION("UDP checksum (verified unless the caller opts out)") {
        auto p = good;
        p.back() ^= 0x80;
        CHECK(parse_udp4(p).error == udp4_error::bad_udp_checksum);
        CHECK(parse_udp4(p, false).datagram);
        p[26] = p[27] = 0;  // zero = no checksum (RFC 768)
        CHECK(parse_udp4(p).datagram);
    }
    SECTION("not UDP, fragments") {
        auto fix = [](std::vector<std::uint8_t>& p) {
            p[10] = p[11] = 0;
            std::uint32_t s = 0;
            for (int i = 0; i < 20; i += 2) s += std::uint32_t(p[i]) << 8 | p[i + 1];
            while (s >> 16) s = (s & 0xffff) + (s >> 16);
            p[10] = std::uint8_t(~s >> 8);
            p[11] = std::uint8_t(~s);
        };
        auto p = good;
        p[9] = 50;  // ESP
        fix(p);
        CHECK(parse_udp4(p).error == udp4_error::not_udp);
        p = good;
        p[6] = 0x20;  // MF
        fix(p);
        CHECK(parse_udp4(p).error == udp4_error::fragment);
        p = good;
        p[6] = 0x00;
        p[7] = 0x10;  // offset
        fix(p);
        CHECK(parse_udp4(p).error == udp4_error::fragment);
    }
    SECTION("UDP length beyond the IP payload or below 8") {
        auto p = good;
        p[24] = 0x7f;
        CHECK(parse_udp4(p, false).error == udp4_error::bad_udp_length);
        p[24] = 0;
        p[25] = 7;
        CHECK(parse_udp4(p, false).error == udp4_error::bad_udp_length);
    }
    SECTION("IP total length beyond the buffer") {
        auto p = good;
        p.pop_back();
        CHECK_FALSE(parse_udp4(p).datagram);
    }
}
