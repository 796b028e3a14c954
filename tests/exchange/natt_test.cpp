// NAT traversal (RFC 7296 2.23, RFC 3948): detection, the switch to port 4500 with the non-ESP
// marker, UDP-encapsulated ESP SAs, keepalives, forced encapsulation.
#include "harness.hpp"

using namespace exchange_test;
using ike::exchange_type;
using ike::ike_sa_state;
using ike::sa_direction;
using namespace std::chrono_literals;

TEST_CASE("initiator behind a NAPT: detected on both sides, IKE_AUTH on 4500, ESP in UDP", "[exchange][natt]") {
    two_peers t(true);  // moon 10.0.0.2 behind 203.0.113.5 (ports + 10000)
    t.start_default();
    t.moon.ep->initiate("sun");
    /* IKE_SA_INIT { HDR, SAi1, KEi, Ni, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP) } --> (500) */
    /* <-- IKE_SA_INIT { HDR, SAr1, KEr, Nr, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP) } */
    /* IKE_AUTH { non-ESP marker, HDR, SK { IDi, AUTH, SAi2, TSi, TSr } } --> (4500) */
    /* <-- IKE_AUTH { non-ESP marker, HDR, SK { IDr, AUTH, SAr2, TSi, TSr } } */
    t.run();
    INFO(t.moon.dump_log() << t.sun.dump_log());
    auto* m = t.moon.only_sa();
    auto* s = t.sun.only_sa();
    REQUIRE(m);
    REQUIRE(s);
    REQUIRE(m->state() == ike_sa_state::established);
    CHECK(m->nat_here);
    CHECK_FALSE(m->nat_there);
    CHECK(s->nat_there);
    CHECK_FALSE(s->nat_here);
    auto init = t.messages(exchange_type::ike_sa_init, false).at(0);
    CHECK(init.d.to.port() == 500);
    CHECK_FALSE(init.natt);
    auto auth = t.messages(exchange_type::ike_auth, false).at(0);
    CHECK(auth.natt);
    CHECK(auth.d.to.port() == 4500);
    CHECK(auth.d.from == ike::udp_endpoint(addr("203.0.113.5"), 14500));
    auto auth_r = t.messages(exchange_type::ike_auth, true).at(0);
    CHECK(auth_r.natt);
    CHECK(auth_r.d.to == ike::udp_endpoint(addr("203.0.113.5"), 14500));
    CHECK(s->remote == ike::udp_endpoint(addr("203.0.113.5"), 14500));

    // ESP SAs: UDP encapsulation with the ports each side sees.
    check_crosswise(t.moon.installer, t.sun.installer, false);
    const auto& moon_out = t.moon.installer.sas.at({sa_direction::outbound, m->children.front()->spi_out});
    REQUIRE(moon_out.encap);
    CHECK(moon_out.encap->src_port == 4500);
    CHECK(moon_out.encap->dst_port == 4500);
    CHECK(moon_out.tunnel_src == addr("10.0.0.2"));
    const auto& sun_out = t.sun.installer.sas.at({sa_direction::outbound, s->children.front()->spi_out});
    REQUIRE(sun_out.encap);
    CHECK(sun_out.encap->src_port == 4500);
    CHECK(sun_out.encap->dst_port == 14500);
    CHECK(sun_out.tunnel_dst == addr("203.0.113.5"));

    // Keepalives (RFC 3948 2.3) from the side behind the NAT, every 20 s.
    auto t0 = t.clock.now();
    t.run_for(61s);
    std::vector<ike::time_point> keepalives;
    for (const auto& w : t.wire)
        if (w.d.data.size() == 1 && w.d.data[0] == 0xff) {
            keepalives.push_back(w.at);
            CHECK(w.d.from.port() == 14500);  // from moon's NAT-T socket, through the NAT
            CHECK(w.d.to.port() == 4500);
        }
    REQUIRE(keepalives.size() == 3);
    CHECK(keepalives[0] - t0 == 20s);
    CHECK(keepalives[1] - keepalives[0] == 20s);
    // sun (not behind a NAT) ignored them and sends none itself.
    CHECK(t.sun.ep->dropped() == 0);
    // Later exchanges stay on 4500.
    REQUIRE(t.moon.ep->send_liveness(m->unique_id));
    t.run();
    CHECK(t.messages(exchange_type::informational, false).at(0).natt);
}

TEST_CASE("force_encap without a NAT: the peer sees a NAT, both use UDP encapsulation", "[exchange][natt]") {
    two_peers t;
    auto mc = t.config_for(t.moon, t.sun, "sun");
    mc.force_encap = true;
    t.start(mc, t.config_for(t.sun, t.moon, "moon"));
    t.moon.ep->initiate("sun");
    t.run();
    INFO(t.moon.dump_log() << t.sun.dump_log());
    auto* m = t.moon.only_sa();
    auto* s = t.sun.only_sa();
    REQUIRE(m);
    REQUIRE(m->state() == ike_sa_state::established);
    CHECK(s->nat_there);  // the faked source hash
    CHECK_FALSE(m->nat_here);
    CHECK(t.messages(exchange_type::ike_auth, false).at(0).natt);
    check_crosswise(t.moon.installer, t.sun.installer);
    for (const auto& [k, sa] : t.moon.installer.sas) {
        REQUIRE(sa.encap);
        CHECK(sa.encap->src_port == 4500);
        CHECK(sa.encap->dst_port == 4500);
    }
}

TEST_CASE("no NAT: IKE stays on port 500 and ESP is not encapsulated", "[exchange][natt]") {
    two_peers t;
    t.start_default();
    t.moon.ep->initiate("sun");
    t.run();
    CHECK_FALSE(t.moon.only_sa()->nat_here);
    CHECK_FALSE(t.moon.only_sa()->nat_there);
    CHECK_FALSE(t.messages(exchange_type::ike_auth, false).at(0).natt);
    for (const auto& [k, sa] : t.moon.installer.sas) CHECK_FALSE(sa.encap);
}

TEST_CASE("ESP arriving on the NAT-T port is not taken for IKE", "[exchange][natt]") {
    two_peers t;
    t.start_default();
    // An ESP packet (SPI != 0) on 4500 and a keepalive: neither creates state nor an answer.
    t.net.inject({{addr("192.0.2.1"), 4500}, {addr("198.51.100.2"), 4500}, {0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 9, 9}});
    t.net.inject({{addr("192.0.2.1"), 4500}, {addr("198.51.100.2"), 4500}, {0xff}});
    std::size_t before = t.wire.size();
    t.run();
    CHECK(t.wire.size() == before);
    CHECK(t.sun.ep->dropped() == 1);
    CHECK(t.sun.ep->sas().empty());
}
