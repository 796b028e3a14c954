// Compiling a tunnel (local CIDRs x peer CIDRs) into the outbound protect policy and the
// inbound check policy, then classifying through them.
#include "spd_test_util.hpp"

#include <spd/classifier.hpp>
#include <spd/tunnel.hpp>

#include <catch2/catch.hpp>

using namespace spd;
using spd_test::flow;
using spd_test::pfx;

TEST_CASE("tunnel compiles into out and in policies carrying the SA handles", "[spd][tunnel]") {
    tunnel_selectors t{"t1", {pfx("10.1.0.0/16"), pfx("10.3.0.0/16")}, {pfx("10.2.0.0/16")}, 500, 21, 22};
    auto ps = compile_tunnel(t);
    REQUIRE(ps.size() == 2);
    CHECK(ps[0].name == "t1/out");
    CHECK(ps[0].dir == direction::out);
    CHECK(ps[1].name == "t1/in");
    CHECK(ps[1].dir == direction::in);

    classifier out(ps, direction::out, action::bypass), in(ps, direction::in, action::discard);
    for (const char* local : {"10.1.9.9", "10.3.0.1"}) {
        auto v = out.classify(flow(local, "10.2.0.7"));
        CHECK(v.act == action::protect);
        CHECK(v.sa_handle == 21);
        auto w = in.classify(flow("10.2.0.7", local));
        CHECK(w.act == action::protect);
        CHECK(w.sa_handle == 22);
    }
    CHECK(out.classify(flow("10.2.0.7", "10.1.0.1")).act == action::bypass);   // reverse is not outbound
    CHECK(in.classify(flow("10.2.0.7", "10.4.0.1")).act == action::discard);   // not the tunnel's inner traffic
}

TEST_CASE("tunnel with both families; one-sided families and empty sides are rejected", "[spd][tunnel]") {
    tunnel_selectors t{"dual", {pfx("10.1.0.0/16"), pfx("2001:db8:1::/48")}, {pfx("10.2.0.0/16"), pfx("2001:db8:2::/48")}, 1, 1, 2};
    auto ps = compile_tunnel(t);
    classifier out(ps, direction::out, action::bypass);
    CHECK(out.classify(flow("2001:db8:1::1", "2001:db8:2::1")).sa_handle == 1);
    CHECK(out.classify(flow("2001:db8:1::1", "2001:db8:3::1")).act == action::bypass);
    CHECK(out.stats().boxes_v4 == 1);
    CHECK(out.stats().boxes_v6 == 1);

    tunnel_selectors one_sided{"x", {pfx("10.1.0.0/16"), pfx("2001:db8:1::/48")}, {pfx("10.2.0.0/16")}, 1, 1, 2};
    CHECK_THROWS_AS(compile_tunnel(one_sided), std::invalid_argument);
    tunnel_selectors empty{"y", {}, {pfx("10.2.0.0/16")}, 1, 1, 2};
    CHECK_THROWS_AS(compile_tunnel(empty), std::invalid_argument);
}
