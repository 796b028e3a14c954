// The fast path's in-place readers against independent references: ipv4_flow_key against
// spd::extract_flow (the SPD's own parser), key_runs' shared keys against the reference linear
// classifier on each packet's own key, and the word-wise inet_checksum against a byte-wise
// RFC 1071 sum, over seeded random packets, policies and lengths.
#include <dataplane/addr.hpp>
#include <dataplane/flow_key.hpp>
#include <dataplane/packet.hpp>

#include <base/reader.hpp>
#include <spd/classifier.hpp>
#include <spd/flow.hpp>
#include <spd/linear.hpp>

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

// Policies over a small pool of prefixes, protocols and (when with_ports) port ranges, so that
// random packets from the same pools hit them, overlap and tie.
std::vector<spd::policy> random_policies(std::mt19937& rng, bool with_ports) {
    const char* prefixes[] = {"10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3/32", "192.0.2.0/24", "10.2.0.0/16",
                              "2001:db8::/32"};
    std::vector<spd::policy> ps(rng() % 12);
    for (auto& p : ps) {
        p.name = "p";
        p.priority = std::uint32_t(rng() % 4);
        p.dir = rng() % 4 == 0 ? spd::direction::in : spd::direction::out;
        for (auto* l : {&p.src, &p.dst})
            for (unsigned k = rng() % 3; k > 0; --k) l->push_back(*spd::ip_prefix::parse(prefixes[rng() % 7]));
        if (rng() % 3 == 0) p.proto = std::uint8_t(rng() % 2 ? 17 : 6);
        if (with_ports && rng() % 3 == 0) p.dport = {std::uint16_t(rng() % 3), std::uint16_t(rng() % 3 + 1)};
        p.act = spd::action(rng() % 3);
        p.sa_handle = p.act == spd::action::protect ? std::uint32_t(rng() % 5) : spd::no_sa;
    }
    return ps;
}

// An IPv4 packet from small pools of addresses, protocols and ports; often the previous
// packet's addresses and protocol again (the runs key_runs shares).
std::vector<std::uint8_t> pooled_packet(std::mt19937& rng, const std::vector<std::uint8_t>* prev) {
    std::vector<std::uint8_t> p(20 + 8);
    for (auto& b : p) b = std::uint8_t(rng());
    p[0] = 0x45;
    base::store_be16(&p[2], std::uint16_t(p.size()));
    base::store_be16(&p[6], rng() % 5 == 0 ? 185 : 0);  // some non-first fragments (no ports)
    p[8] = 64;
    const std::uint32_t addrs[] = {0x0a010203, 0x0a010204, 0x0a020001, 0xc0000201, 0x0b000001};
    if (prev && rng() % 3 != 0) {
        std::copy(prev->begin() + 12, prev->begin() + 20, p.begin() + 12);
        p[9] = rng() % 4 != 0 ? (*prev)[9] : std::uint8_t(rng() % 2 ? 17 : 6);
    } else {
        base::store_be32(&p[12], addrs[rng() % 5]);
        base::store_be32(&p[16], addrs[rng() % 5]);
        p[9] = std::uint8_t(rng() % 3 == 0 ? 1 : rng() % 2 ? 17 : 6);
    }
    base::store_be16(&p[20], std::uint16_t(rng() % 4));  // ports 0..3: the policies' ranges
    base::store_be16(&p[22], std::uint16_t(rng() % 4));
    base::store_be16(&p[10], 0);
    base::store_be16(&p[10], reference_checksum(std::vector<std::uint8_t>(p.begin(), p.begin() + 20), 0));
    return p;
}

} // namespace

TEST_CASE("key_runs: every packet's shared key classifies as its own key does") {
    std::mt19937 rng(4301);
    std::size_t packets_blind = 0, keys_blind = 0, packets_ports = 0, keys_ports = 0;
    for (int set = 0; set < 600; ++set) {
        const bool with_ports = set % 2 == 1;
        const auto policies = random_policies(rng, with_ports);
        for (auto dir : {spd::direction::out, spd::direction::in}) {
            const auto def = rng() % 2 ? spd::action::bypass : spd::action::discard;
            const spd::classifier cls(policies, dir, def);
            const spd::linear_classifier ref(policies, dir, def);
            std::vector<std::vector<std::uint8_t>> burst;
            std::vector<spd::flow_key> keys(32);
            std::vector<std::uint8_t> key_of;
            key_runs runs(keys.data(), cls.uses_ports());
            for (int i = 0; i < 32; ++i) {
                if (rng() % 16 == 0) {  // another family's key, built by the caller: ends a run
                    burst.emplace_back();
                    keys[runs.n] = spd::flow_key{};
                    keys[runs.n].family = spd::ip_family::v6;
                    keys[runs.n].src[0] = 0x20;
                    key_of.push_back(runs.add_built());
                    continue;
                }
                burst.push_back(pooled_packet(rng, burst.empty() || burst.back().empty() ? nullptr : &burst.back()));
                ipv4_view v;
                drop why;
                REQUIRE(parse_ipv4(burst.back(), v, why));
                key_of.push_back(runs.add_v4(burst.back(), v));
            }
            REQUIRE(runs.n <= burst.size());
            for (std::size_t i = 0; i < burst.size(); ++i) {
                spd::flow_key own = keys[key_of[i]];
                if (!burst[i].empty()) REQUIRE(spd::extract_flow(burst[i], own) == spd::extract_status::ok);
                INFO("set " << set << " packet " << i);
                REQUIRE(cls.classify(keys[key_of[i]]) == ref.classify(own));
            }
            (cls.uses_ports() ? packets_ports : packets_blind) += burst.size();
            (cls.uses_ports() ? keys_ports : keys_blind) += runs.n;
        }
    }
    // Both modes ran; port-blind runs shared keys, port-aware ones never did.
    CHECK(packets_ports > 1000);
    CHECK(keys_ports == packets_ports);
    CHECK(packets_blind > 1000);
    CHECK(keys_blind < packets_blind * 3 / 4);
}

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
