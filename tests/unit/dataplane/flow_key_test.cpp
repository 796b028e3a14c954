// The fast path's in-place readers against independent references: ipv4_flow_key against
// spd::extract_flow (the SPD's own parser) and the word-wise inet_checksum against a byte-wise
// RFC 1071 sum, over seeded random packets and lengths.
#include <dataplane/addr.hpp>
#include <dataplane/flow_key.hpp>
#include <dataplane/packet.hpp>

#include <base/reader.hpp>
#include <spd/flow.hpp>

#include <catch2/catch.hpp>

#include <random>
#include <vector>

using namespace dataplane;

namespace {

std::uint16_t reference_checksum(const std::vector<std::uint8_t>& b, std::uint32_t seed) {
    std::uint64_t sum = seed;
    for (std::size_t i = 0; i < b.size(); i += 2) sum += std::uint32_t(b[i] << 8 | (i + 1 < b.size() ? b[i + 1] : 0));
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return std::uint16_t(~sum);
}

// A valid IPv4 packet with random header length, fragment field, protocol and transport length.
std::vector<std::uint8_t> random_packet(std::mt19937& rng) {
    const std::uint8_t protos[] = {1, 6, 17, 50, 132, 47};
    const std::size_t ihl = 20 + 4 * (rng() % 3 == 0 ? rng() % 11 : 0);
    const std::size_t l4 = rng() % 3 == 0 ? rng() % 6 : rng() % 64;
    std::vector<std::uint8_t> p(ihl + l4 + rng() % 4);  // trailing bytes: Ethernet padding
    for (auto& b : p) b = std::uint8_t(rng());
    p[0] = std::uint8_t(0x40 | ihl / 4);
    base::store_be16(&p[2], std::uint16_t(ihl + l4));
    const std::uint16_t frags[] = {0, 0x4000, 0x2000, 0x2000 | 185, 185, 0x1fff};
    base::store_be16(&p[6], frags[rng() % 6]);
    p[8] = std::uint8_t(2 + rng() % 200);
    p[9] = protos[rng() % 6];
    base::store_be16(&p[10], 0);
    base::store_be16(&p[10], reference_checksum(std::vector<std::uint8_t>(p.begin(), p.begin() + long(ihl)), 0));
    return p;
}

} // namespace

TEST_CASE("inet_checksum matches a byte-wise RFC 1071 sum for every length and seed") {
    std::mt19937 rng(1071);
    for (int i = 0; i < 5000; ++i) {
        std::vector<std::uint8_t> b(rng() % 130);
        for (auto& x : b) x = std::uint8_t(rng());
        if (i % 7 == 0) std::fill(b.begin(), b.end(), 0xff);  // carries in every word
        const std::uint32_t seed = i % 3 == 0 ? 0 : std::uint32_t(rng() % 0x40000);
        INFO("length " << b.size() << " seed " << seed);
        REQUIRE(inet_checksum(b, seed) == reference_checksum(b, seed));
    }
}

TEST_CASE("ipv4_header20_checksum_ok accepts exactly the 20-byte headers whose RFC 1071 sum checks") {
    std::mt19937 rng(791);
    int good = 0, bad = 0;
    for (int i = 0; i < 20000; ++i) {
        std::vector<std::uint8_t> h(20);
        for (auto& x : h) x = std::uint8_t(rng());
        if (i % 5 == 0) std::fill(h.begin(), h.end(), 0xff);  // carries everywhere
        if (i % 5 == 1) std::fill(h.begin(), h.end(), 0x00);
        if (i % 2 == 0) {  // a correct checksum, then sometimes one bit flipped
            base::store_be16(&h[10], 0);
            base::store_be16(&h[10], reference_checksum(h, 0));
            if (i % 4 == 0) h[rng() % 20] ^= std::uint8_t(1u << (rng() % 8));
        }
        const bool expect = reference_checksum(h, 0) == 0;
        INFO("header " << i);
        REQUIRE(ipv4_header20_checksum_ok(h.data()) == expect);
        (expect ? good : bad)++;
    }
    CHECK(good > 5000);
    CHECK(bad > 5000);
}

TEST_CASE("ipv4_flow_key gives spd::extract_flow's key for every validated IPv4 packet") {
    std::mt19937 rng(4301);
    int with_ports = 0, without = 0;
    for (int i = 0; i < 20000; ++i) {
        auto p = random_packet(rng);
        drop why;
        ipv4_view v;
        REQUIRE(parse_ipv4(p, v, why));
        spd::flow_key fast, ref;
        ipv4_flow_key(p, v, fast);
        REQUIRE(spd::extract_flow(p, ref) == spd::extract_status::ok);
        INFO("packet " << i << " proto " << int(v.proto) << " frag " << base::load_be16(&p[6]) << " len " << v.total_len
                       << " ihl " << int(v.ihl));
        REQUIRE(fast.src == ref.src);
        REQUIRE(fast.dst == ref.dst);
        REQUIRE(fast.family == ref.family);
        REQUIRE(fast.proto == ref.proto);
        REQUIRE(fast.ports_known == ref.ports_known);
        REQUIRE(fast.sport == ref.sport);
        REQUIRE(fast.dport == ref.dport);
        (ref.ports_known ? with_ports : without) += 1;
    }
    // Both outcomes were exercised (ports read, and OPAQUE: fragments, short or port-less).
    CHECK(with_ports > 1000);
    CHECK(without > 1000);
}

TEST_CASE("parse_ipv4 in place and the optional form agree, and a bad checksum is rejected") {
    std::mt19937 rng(791);
    for (int i = 0; i < 2000; ++i) {
        auto p = random_packet(rng);
        drop why1, why2;
        ipv4_view v;
        REQUIRE(parse_ipv4(p, v, why1));
        auto o = parse_ipv4(p, why2);
        REQUIRE(o);
        CHECK(o->dst == v.dst);
        CHECK(o->src == v.src);
        CHECK(o->total_len == v.total_len);
        CHECK(o->fragment == v.fragment);
        p[10] ^= 0x01;
        CHECK_FALSE(parse_ipv4(p, v, why1));
        CHECK(why1 == drop::ipv4_malformed);
    }
}

TEST_CASE("address_filter never misses an added address and rules out most others") {
    std::mt19937 rng(826);
    address_filter f;
    std::vector<ipv4> added;
    for (int i = 0; i < 8; ++i) {
        added.push_back(rng());
        f.add(added.back());
    }
    for (auto a : added) REQUIRE(f.maybe(a));
    int hits = 0;
    for (int i = 0; i < 100000; ++i) hits += f.maybe(rng()) ? 1 : 0;
    // 8 of 256 slots set: about 3% of random addresses pass to the list scan.
    CHECK(hits < 100000 / 10);
    CHECK_FALSE(address_filter{}.maybe(added[0]));
}
