// Selector vocabulary: prefixes and port ranges as written in configs, and the reference
// matching semantics (RFC 4301 section 4.4.1.1) that the classifiers implement.
#include "spd_test_util.hpp"

#include <catch2/catch.hpp>

using namespace spd;
using spd_test::flow;
using spd_test::pfx;

TEST_CASE("ip_prefix parses IPv4 and IPv6 CIDRs and rejects bad ones", "[spd][selectors]") {
    auto a = ip_prefix::parse("10.1.0.0/24");
    REQUIRE(a);
    CHECK(a->family == ip_family::v4);
    CHECK(a->len == 24);
    CHECK(a->to_string() == "10.1.0.0/24");
    auto b = ip_prefix::parse("2001:db8:2::/48");
    REQUIRE(b);
    CHECK(b->family == ip_family::v6);
    CHECK(b->len == 48);
    CHECK(b->to_string() == "2001:db8:2::/48");
    auto host = ip_prefix::parse("192.0.2.7");
    REQUIRE(host);
    CHECK(host->len == 32);
    CHECK(ip_prefix::parse("::")->len == 128);
    CHECK(ip_prefix::parse("0.0.0.0/0")->len == 0);

    for (const char* bad : {"10.1.0.0/33", "10.1.0.1/24", "10.1.0/24", "10.1.0.0/", "/24", "", "10.1.0.0/2a",
                            "10.1.0.0/-1", "2001:db8::/129", "2001:db8::1/64", "300.1.1.1/32", "10.1.0.0/24 ",
                            "01.2.3.4/32", "hello", "2001:db8:::/48", "10.1.0.0/+8"})
        CHECK_FALSE(ip_prefix::parse(bad));
}

TEST_CASE("ip_prefix::contains honours the prefix length and the family", "[spd][selectors]") {
    auto p = pfx("10.1.0.0/23");
    CHECK(p.contains(ip_family::v4, pfx("10.1.0.1").addr));
    CHECK(p.contains(ip_family::v4, pfx("10.1.1.255").addr));
    CHECK_FALSE(p.contains(ip_family::v4, pfx("10.1.2.0").addr));
    CHECK_FALSE(p.contains(ip_family::v6, pfx("a01::").addr));  // 0x0a01 = same leading bytes, other family
    auto z = pfx("::/0");
    CHECK(z.contains(ip_family::v6, pfx("2001:db8::1").addr));
    CHECK_FALSE(z.contains(ip_family::v4, pfx("10.0.0.1").addr));
    auto h = pfx("2001:db8::1:0/113");
    CHECK(h.contains(ip_family::v6, pfx("2001:db8::1:7fff").addr));
    CHECK_FALSE(h.contains(ip_family::v6, pfx("2001:db8::1:8000").addr));
}

TEST_CASE("port_range parses single ports and ranges", "[spd][selectors]") {
    CHECK(port_range::parse("443") == port_range{443, 443});
    CHECK(port_range::parse("1000-2000") == port_range{1000, 2000});
    CHECK(port_range::parse("0-65535")->is_any());
    for (const char* bad : {"", "-", "2000-1000", "65536", "1-65536", "a", "1 - 2", "-5", "5-"})
        CHECK_FALSE(port_range::parse(bad));
}

TEST_CASE("selectors: ports match only packets that have ports, unless the range is any", "[spd][selectors]") {
    policy p;
    p.dport = {443, 443};
    CHECK(selectors_match(p, flow("10.0.0.1", "10.0.0.2", proto_tcp, 5, 443)));
    CHECK_FALSE(selectors_match(p, flow("10.0.0.1", "10.0.0.2", proto_tcp, 5, 444)));
    CHECK_FALSE(selectors_match(p, spd_test::no_ports(flow("10.0.0.1", "10.0.0.2", proto_tcp, 5, 443))));
    CHECK_FALSE(selectors_match(p, flow("10.0.0.1", "10.0.0.2", proto_icmp)));
    policy any;
    CHECK(selectors_match(any, flow("10.0.0.1", "10.0.0.2", proto_icmp)));
    CHECK(selectors_match(any, flow("2001:db8::1", "2001:db8::2", 47)));
}

TEST_CASE("selectors: a v4-only source list never matches IPv6 traffic", "[spd][selectors]") {
    auto p = spd_test::pol("p", 0, {"10.1.0.0/24"}, {"10.2.0.0/16", "2001:db8:2::/48"}, action::protect);
    CHECK(selectors_match(p, flow("10.1.0.9", "10.2.200.1")));
    CHECK_FALSE(selectors_match(p, flow("2001:db8:1::1", "2001:db8:2::1")));
    p.src.clear();  // any source
    CHECK(selectors_match(p, flow("2001:db8:1::1", "2001:db8:2::1")));
    CHECK_FALSE(selectors_match(p, flow("2001:db8:1::1", "2001:db8:3::1")));
}
