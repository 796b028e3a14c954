#include <ike/ts_narrow.hpp>

#include <catch2/catch.hpp>

namespace {
ike::traffic_selector ts(const char* c) { return *ike::traffic_selector::from_cidr(c); }
}

TEST_CASE("TS intersection narrows addresses, ports and protocol (RFC 7296 2.9)", "[ike][ts]") {
    auto r = ike::ts_intersect(ts("10.0.0.0/8"), ts("10.1.2.0/24"));
    REQUIRE(r);
    CHECK(*r == ts("10.1.2.0/24"));
    CHECK_FALSE(ike::ts_intersect(ts("10.0.0.0/8"), ts("192.168.0.0/16")));
    CHECK_FALSE(ike::ts_intersect(ts("10.0.0.0/8"), ts("2001:db8::/32")));
    auto tcp = *ike::traffic_selector::from_cidr("10.1.0.0/16", 6, 80, 443);
    auto r2 = ike::ts_intersect(ts("10.0.0.0/8"), tcp);
    REQUIRE(r2);
    CHECK(r2->ip_protocol == 6);
    CHECK(r2->start_port == 80);
    CHECK_FALSE(ike::ts_intersect(tcp, *ike::traffic_selector::from_cidr("10.1.0.0/16", 17)));
    CHECK_FALSE(ike::ts_intersect(tcp, *ike::traffic_selector::from_cidr("10.1.0.0/16", 6, 1000, 2000)));
}

TEST_CASE("narrowing a proposal to configured CIDRs and subset checks", "[ike][ts]") {
    auto n = ike::ts_narrow({ts("10.0.0.0/8")}, {ts("10.1.0.0/16"), ts("10.2.0.0/16"), ts("172.16.0.0/12")});
    REQUIRE(n.size() == 2);
    CHECK(ike::ts_list_to_string(n) == "10.1.0.0/16 10.2.0.0/16");
    CHECK(ike::ts_subset(n, {ts("10.0.0.0/8")}));
    CHECK_FALSE(ike::ts_subset({ts("10.0.0.0/7")}, {ts("10.0.0.0/8")}));
    CHECK(ike::ts_narrow({ts("192.168.0.0/16")}, {ts("10.0.0.0/8")}).empty());
    auto sel = ike::ts_to_esp_selectors({ts("10.1.0.0/16")});
    REQUIRE(sel.size() == 1);
    CHECK(sel[0].start.to_string() == "10.1.0.0");
    CHECK(sel[0].end.to_string() == "10.1.255.255");
    CHECK(ike::ts_from_cidr(*ike::cidr::parse("2001:db8::/64")) == ts("2001:db8::/64"));
}
