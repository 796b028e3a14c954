// Classification semantics, each case checked on both the linear reference and the compiled
// classifier: priorities (lower wins), ties (earlier wins), default action, families, ports,
// protocols, directions, SA handles.
#include "spd_test_util.hpp"

#include <spd/classifier.hpp>
#include <spd/linear.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <string>

using namespace spd;
using spd_test::flow;
using spd_test::pol;

namespace {

// The name of the winning policy ("" for the default) and the action, agreed by both
// classifiers; a disagreement fails the test.
struct outcome {
    std::string name;
    action act;
    std::uint32_t sa;
};

outcome classify_both(const std::vector<policy>& ps, const flow_key& k, action dflt = action::bypass,
                      direction dir = direction::out) {
    linear_classifier lin(ps, dir, dflt);
    classifier cls(ps, dir, dflt, build_options{.leaf_size = 1});  // force real trees even for tiny sets
    verdict a = lin.classify(k), b = cls.classify(k);
    REQUIRE(a == b);
    return {a.policy == no_policy ? "" : ps.at(a.policy).name, a.act, a.sa_handle};
}

} // namespace

TEST_CASE("lower priority number wins regardless of list order", "[spd][classifier]") {
    std::vector<policy> ps{pol("wide", 200, {"10.0.0.0/8"}, {}, action::bypass),
                           pol("narrow", 100, {"10.1.0.0/16"}, {"10.2.0.0/16"}, action::protect, 7)};
    auto o = classify_both(ps, flow("10.1.2.3", "10.2.3.4"));
    CHECK(o.name == "narrow");
    CHECK(o.act == action::protect);
    CHECK(o.sa == 7);
    CHECK(classify_both(ps, flow("10.1.2.3", "10.3.3.4")).name == "wide");
    CHECK(classify_both(ps, flow("11.1.2.3", "10.2.3.4")).name == "");
}

TEST_CASE("equal priority: the policy added first wins", "[spd][classifier]") {
    std::vector<policy> ps{pol("first", 50, {"10.1.0.0/16"}, {}, action::discard),
                           pol("second", 50, {"10.1.2.0/24"}, {}, action::protect, 1)};
    CHECK(classify_both(ps, flow("10.1.2.3", "192.0.2.1")).name == "first");
    std::swap(ps[0], ps[1]);
    CHECK(classify_both(ps, flow("10.1.2.3", "192.0.2.1")).name == "second");
}

TEST_CASE("uses_ports: only a port selector of the classifier's own direction counts", "[spd][classifier]") {
    std::vector<policy> ps{pol("cidrs", 1, {"10.1.0.0/16"}, {"10.2.0.0/16"}, action::protect, 1),
                           pol("icmp", 2, {}, {}, action::discard)};
    ps[1].proto = proto_icmp;
    CHECK_FALSE(classifier(ps, direction::out, action::bypass).uses_ports());
    CHECK_FALSE(classifier({}, direction::out, action::bypass).uses_ports());
    ps.push_back(pol("ssh", 3, {}, {}, action::bypass));
    ps.back().dport = *port_range::parse("22");
    CHECK(classifier(ps, direction::out, action::bypass).uses_ports());
    ps.back().dir = direction::in;
    CHECK_FALSE(classifier(ps, direction::out, action::bypass).uses_ports());
    CHECK(classifier(ps, direction::in, action::bypass).uses_ports());
    ps.back().dport = {};
    ps.back().sport = *port_range::parse("1000-2000");
    CHECK(classifier(ps, direction::in, action::bypass).uses_ports());
}

TEST_CASE("default action applies when nothing matches, and is configurable", "[spd][classifier]") {
    std::vector<policy> ps{pol("p", 1, {"10.1.0.0/16"}, {}, action::protect, 3)};
    auto o = classify_both(ps, flow("172.16.0.1", "10.1.0.1"));
    CHECK(o.name == "");
    CHECK(o.act == action::bypass);
    CHECK(o.sa == no_sa);
    CHECK(classify_both(ps, flow("172.16.0.1", "10.1.0.1"), action::discard).act == action::discard);
    CHECK(classify_both({}, flow("2001:db8::1", "2001:db8::2"), action::discard).act == action::discard);
}

TEST_CASE("IPv4 and IPv6 selectors in one policy", "[spd][classifier]") {
    std::vector<policy> ps{pol("p1", 100, {"10.1.0.0/24", "2001:db8:1::/48"}, {"10.2.0.0/16", "2001:db8:2::/48"},
                               action::protect, 9)};
    CHECK(classify_both(ps, flow("10.1.0.7", "10.2.9.9")).name == "p1");
    CHECK(classify_both(ps, flow("2001:db8:1:ffff::1", "2001:db8:2::5")).name == "p1");
    CHECK(classify_both(ps, flow("2001:db8:1::1", "2001:db8:3::5")).name == "");
    CHECK(classify_both(ps, flow("10.1.1.7", "10.2.9.9")).name == "");
}

TEST_CASE("IPv6 prefixes longer than 64 bits", "[spd][classifier]") {
    std::vector<policy> ps{pol("h", 1, {"2001:db8::1:0/112"}, {"2001:db8::/127"}, action::discard),
                           pol("n", 2, {"2001:db8::/64"}, {}, action::bypass)};
    CHECK(classify_both(ps, flow("2001:db8::1:abcd", "2001:db8::1")).name == "h");
    CHECK(classify_both(ps, flow("2001:db8::2:abcd", "2001:db8::1")).name == "n");
    CHECK(classify_both(ps, flow("2001:db8::1:abcd", "2001:db8::2")).name == "n");
}

TEST_CASE("protocol and port selectors", "[spd][classifier]") {
    auto https = pol("https", 10, {}, {"192.0.2.0/24"}, action::protect, 1);
    https.proto = proto_tcp;
    https.dport = {443, 443};
    auto dns = pol("dns", 20, {}, {"192.0.2.0/24"}, action::bypass);
    dns.proto = proto_udp;
    dns.sport = {1024, 65535};
    dns.dport = {53, 53};
    auto gre = pol("gre", 30, {}, {}, action::discard);
    gre.proto = 47;
    auto ranged = pol("ranged", 40, {}, {}, action::protect, 2);
    ranged.dport = {1000, 2000};  // any protocol, but only packets with ports
    std::vector<policy> ps{https, dns, gre, ranged};

    CHECK(classify_both(ps, flow("10.0.0.1", "192.0.2.9", proto_tcp, 5000, 443)).name == "https");
    CHECK(classify_both(ps, flow("10.0.0.1", "192.0.2.9", proto_udp, 5000, 443)).name == "");
    CHECK(classify_both(ps, flow("10.0.0.1", "192.0.2.9", proto_udp, 5000, 53)).name == "dns");
    CHECK(classify_both(ps, flow("10.0.0.1", "192.0.2.9", proto_udp, 53, 53)).name == "");
    CHECK(classify_both(ps, flow("10.0.0.1", "192.0.2.9", 47)).name == "gre");
    CHECK(classify_both(ps, flow("10.0.0.1", "192.0.2.9", proto_udp, 7, 1000)).name == "ranged");
    CHECK(classify_both(ps, flow("10.0.0.1", "192.0.2.9", proto_tcp, 7, 2000)).name == "ranged");
    CHECK(classify_both(ps, flow("10.0.0.1", "192.0.2.9", proto_tcp, 7, 2001)).name == "");
    CHECK(classify_both(ps, flow("10.0.0.1", "192.0.2.9", proto_icmp)).name == "");
    CHECK(classify_both(ps, flow("2001:db8::1", "2001:db8::2", proto_sctp, 7, 1500)).name == "ranged");
}

TEST_CASE("non-first fragments match only port-any policies", "[spd][classifier]") {
    auto web = pol("web", 1, {}, {"198.51.100.0/24"}, action::protect, 4);
    web.proto = proto_tcp;
    web.dport = {80, 80};
    auto tcp_any = pol("tcp-any", 2, {}, {"198.51.100.0/24"}, action::discard);
    tcp_any.proto = proto_tcp;
    tcp_any.sport = {0, 65535};  // explicit full range is "any"
    std::vector<policy> ps{web, tcp_any};
    auto k = flow("10.0.0.1", "198.51.100.1", proto_tcp, 999, 80);
    CHECK(classify_both(ps, k).name == "web");
    CHECK(classify_both(ps, spd_test::no_ports(k)).name == "tcp-any");
}

TEST_CASE("direction: outbound and inbound policies are separate sets", "[spd][classifier]") {
    auto out = pol("o", 10, {"10.1.0.0/16"}, {"10.2.0.0/16"}, action::protect, 5);
    auto in = pol("i", 10, {"10.2.0.0/16"}, {"10.1.0.0/16"}, action::protect, 7);
    in.dir = direction::in;
    std::vector<policy> ps{out, in};
    CHECK(classify_both(ps, flow("10.1.0.1", "10.2.0.1")).name == "o");
    CHECK(classify_both(ps, flow("10.2.0.1", "10.1.0.1")).name == "");
    auto o = classify_both(ps, flow("10.2.0.1", "10.1.0.1"), action::discard, direction::in);
    CHECK(o.name == "i");
    CHECK(o.sa == 7);
    CHECK(classify_both(ps, flow("10.1.0.1", "10.2.0.1"), action::discard, direction::in).act == action::discard);
}

TEST_CASE("a covering rule shadows later ones; many overlapping rules still resolve", "[spd][classifier]") {
    std::vector<policy> ps;
    ps.push_back(pol("catch-all", 5, {"0.0.0.0/0"}, {"0.0.0.0/0"}, action::discard));
    for (int i = 0; i < 50; ++i)
        ps.push_back(pol("r" + std::to_string(i), 1 + std::uint32_t(i % 3), {"10." + std::to_string(i) + ".0.0/16"},
                         {}, action::protect, std::uint32_t(i)));
    CHECK(classify_both(ps, flow("10.7.1.1", "1.1.1.1")).name == "r7");
    CHECK(classify_both(ps, flow("11.7.1.1", "1.1.1.1")).name == "catch-all");
    CHECK(classify_both(ps, flow("2001:db8::1", "2001:db8::2")).name == "");
}

TEST_CASE("burst classify fills each slot and the stats describe the structure", "[spd][classifier]") {
    std::vector<policy> ps;
    for (int i = 0; i < 300; ++i)
        ps.push_back(pol("r" + std::to_string(i), std::uint32_t(i), {"10." + std::to_string(i % 256) + ".0.0/16"},
                         {"172.16." + std::to_string(i % 200) + ".0/24"}, action::protect, std::uint32_t(i)));
    classifier cls(ps, direction::out, action::bypass);
    linear_classifier lin(ps, direction::out, action::bypass);
    std::vector<flow_key> in;
    for (int i = 0; i < 32; ++i)
        in.push_back(flow("10." + std::to_string(i * 7 % 256) + ".1.1", "172.16." + std::to_string(i * 7 % 200) + ".9"));
    std::vector<verdict> a(32), b(32);
    cls.classify(in, a);
    lin.classify(in, b);
    CHECK(a == b);
    std::size_t hits = 0;
    for (auto& v : a) hits += v.policy != no_policy;
    CHECK(hits == 32);
    CHECK(cls.stats().policies == 300);
    CHECK(cls.stats().boxes_v4 == 300);
    CHECK(cls.stats().boxes_v6 == 0);
    CHECK(cls.stats().trees >= 1);
    CHECK(cls.stats().max_leaf <= 8);
    CHECK(cls.stats().bytes > 0);
}

TEST_CASE("a tight memory budget gives longer leaves, never wrong answers", "[spd][classifier]") {
    std::vector<policy> ps;
    for (int i = 0; i < 2000; ++i) {
        auto p = pol("r" + std::to_string(i), std::uint32_t(i % 7), {"10." + std::to_string(i % 256) + ".0.0/16"},
                     {"172.16." + std::to_string(i / 256) + ".0/24"}, action::protect, std::uint32_t(i));
        if (i % 3 == 0) { p.proto = proto_udp; p.dport = {std::uint16_t(i), std::uint16_t(i + 100)}; }
        ps.push_back(p);
    }
    classifier roomy(ps, direction::out, action::bypass, build_options{.leaf_size = 1});
    classifier tight(ps, direction::out, action::bypass, build_options{.leaf_size = 1, .max_replication = 0});
    linear_classifier lin(ps, direction::out, action::bypass);
    CHECK(tight.stats().tree_entries + tight.stats().leaf_rules < roomy.stats().tree_entries + roomy.stats().leaf_rules);
    CHECK(tight.stats().max_leaf > roomy.stats().max_leaf);
    for (int i = 0; i < 4000; ++i) {
        auto k = flow("10." + std::to_string(i % 256) + ".3.4", "172.16." + std::to_string(i % 9) + ".1",
                      i % 2 ? proto_udp : proto_tcp, 7, std::uint16_t(i % 2100));
        REQUIRE(tight.classify(k) == lin.classify(k));
        REQUIRE(roomy.classify(k) == lin.classify(k));
    }
}

TEST_CASE("classify over spans longer than a burst, families interleaved", "[spd][classifier]") {
    std::vector<policy> ps{pol("v4", 1, {"10.0.0.0/8"}, {}, action::protect, 4),
                           pol("v6", 1, {"2001:db8::/32"}, {}, action::discard)};
    classifier cls(ps, direction::out, action::bypass);
    std::vector<flow_key> in;
    for (int i = 0; i < 101; ++i)
        in.push_back(i % 3 == 0 ? flow("2001:db8::" + std::to_string(i), "2001:db9::1")
                     : i % 3 == 1 ? flow("10.0.0." + std::to_string(i), "192.0.2.1")
                                  : flow("11.0.0." + std::to_string(i), "192.0.2.1"));
    std::vector<verdict> out(in.size());
    cls.classify(in, out);
    for (std::size_t i = 0; i < in.size(); ++i) {
        INFO("flow " << i);
        CHECK(out[i] == cls.classify(in[i]));
        CHECK(out[i].policy == (i % 3 == 0 ? 1u : i % 3 == 1 ? 0u : no_policy));
    }
}

TEST_CASE("leaf checks at the unsigned edges: address top bits, all-ones, ports 0 and 65535", "[spd][classifier]") {
    // The leaf rules compare addresses as 64-bit halves with the sign bit flipped and ports as
    // 16-bit lanes (complemented upper bounds for IPv6): the edges of each lane must still be
    // exact, in both halves of an IPv6 address.
    auto ports = [](policy p, std::uint16_t lo, std::uint16_t hi) { p.dport = {lo, hi}; return p; };
    std::vector<policy> ps{
        ports(pol("top-port", 1, {"2001:db8::/32", "10.0.0.0/8"}, {}, action::discard), 65535, 65535),
        ports(pol("zero-port", 1, {"2001:db8::/32", "10.0.0.0/8"}, {}, action::discard), 0, 0),
        pol("low-half-top", 2, {"2001:db8::8000:0:0:0/65"}, {}, action::protect, 7),
        pol("upper6", 3, {"8000::/1"}, {}, action::protect, 8),
        pol("upper4", 3, {"128.0.0.0/1"}, {}, action::protect, 9),
        pol("host6", 4, {}, {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"}, action::bypass)};
    for (unsigned leaf : {1u, 8u}) {
        linear_classifier lin(ps, direction::out, action::discard);
        classifier cls(ps, direction::out, action::discard, build_options{.leaf_size = leaf});
        auto name = [&](const flow_key& k) {
            const verdict a = lin.classify(k), b = cls.classify(k);
            REQUIRE(a == b);
            std::array<flow_key, 1> in{k};
            std::array<verdict, 1> out{};
            cls.classify(in, out);
            REQUIRE(out[0] == a);
            return a.policy == no_policy ? std::string() : ps.at(a.policy).name;
        };
        INFO("leaf size " << leaf);
        CHECK(name(flow("2001:db8::1", "2001:db9::1", proto_udp, 1, 65535)) == "top-port");
        CHECK(name(flow("2001:db8::1", "2001:db9::1", proto_udp, 1, 65534)).empty());
        CHECK(name(flow("2001:db8::1", "2001:db9::1", proto_udp, 1, 0)) == "zero-port");
        CHECK(name(flow("10.0.0.1", "192.0.2.1", proto_udp, 1, 65535)) == "top-port");
        CHECK(name(flow("10.0.0.1", "192.0.2.1", proto_tcp, 1, 0)) == "zero-port");
        CHECK(name(spd_test::no_ports(flow("2001:db8::1", "2001:db9::1", proto_udp, 1, 0))).empty());
        CHECK(name(flow("2001:db8::7fff:ffff:ffff:ffff", "2001:db9::1", proto_udp, 1, 80)).empty());
        CHECK(name(flow("2001:db8::8000:0:0:0", "2001:db9::1", proto_udp, 1, 80)) == "low-half-top");
        CHECK(name(flow("2001:db8::ffff:ffff:ffff:ffff", "2001:db9::1", proto_udp, 1, 80)) == "low-half-top");
        CHECK(name(flow("7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::1")).empty());
        CHECK(name(flow("8000::", "2001:db9::1")) == "upper6");
        CHECK(name(flow("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::")) == "upper6");
        CHECK(name(flow("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")) == "host6");
        CHECK(name(flow("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe")).empty());
        CHECK(name(flow("127.255.255.255", "192.0.2.1")).empty());
        CHECK(name(flow("128.0.0.0", "192.0.2.1")) == "upper4");
        CHECK(name(flow("255.255.255.255", "0.0.0.0")) == "upper4");
    }
}
