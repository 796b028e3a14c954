// Liveness / dead peer detection (RFC 7296 2.4): an empty INFORMATIONAL after dpd_delay without a
// message from the peer; a peer that stops answering is dead after the retransmission schedule
// (4 s * 1.8^n, n = 0..5: 165 s), and dpd_action decides: clear removes everything, restart
// initiates a new IKE SA (which the peer, once back, accepts; INITIAL_CONTACT clears its old one).
#include "rekey_driver.hpp"

using namespace exchange_test;
using ike::exchange_type;
using ike::ike_sa_state;
using namespace std::chrono_literals;

namespace {

std::pair<ike::peer_config, ike::peer_config> dpd_configs(two_peers& t, ike::peer_config::dead_peer_action action) {
    auto mc = t.config_for(t.moon, t.sun, "sun");
    auto sc = t.config_for(t.sun, t.moon, "moon");
    mc.dpd_delay = 30s;
    mc.dpd_action = action;
    sc.dpd_delay = ike::duration(0);
    return {mc, sc};
}

} // namespace

TEST_CASE("DPD: an empty INFORMATIONAL after the delay without traffic, answered, repeated", "[exchange][dpd]") {
    two_peers t;
    auto [mc, sc] = dpd_configs(t, ike::peer_config::dead_peer_action::restart);
    t.start(mc, sc);
    establish_pair(t);
    drive(t, 29s);
    CHECK(t.messages(exchange_type::informational, false).empty());
    /* INFORMATIONAL { } --> */
    /* <-- INFORMATIONAL { } */
    drive(t, 2s);
    INFO(t.moon.dump_log() << t.sun.dump_log());
    auto reqs = t.messages(exchange_type::informational, false);
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].header->initiator);
    CHECK(t.messages(exchange_type::informational, true).size() == 1);
    drive(t, 30s);
    CHECK(t.messages(exchange_type::informational, false).size() == 2);
    // A request from the peer 10 s later counts as traffic: moon's next check moves from 90 s
    // to 100 s after establishment.
    drive(t, 10s);
    REQUIRE(t.sun.ep->send_liveness(t.sun.only_sa()->unique_id));
    drive(t, 25s);
    CHECK(t.messages(exchange_type::informational, false).size() == 3);
    drive(t, 10s);
    CHECK(t.messages(exchange_type::informational, false).size() == 4);
    CHECK(t.moon.only_sa()->state() == ike_sa_state::established);
}

TEST_CASE("DPD: a peer that stops answering is dead after the retransmission schedule", "[exchange][dpd]") {
    using action = ike::peer_config::dead_peer_action;
    for (auto act : {action::clear, action::restart}) {
        DYNAMIC_SECTION((act == action::clear ? "clear" : "restart")) {
            two_peers t;
            auto [mc, sc] = dpd_configs(t, act);
            t.start(mc, sc);
            establish_pair(t);
            auto old_spi = t.moon.only_sa()->spi_i;
            // sun goes silent (its host is cut off; it keeps its state).
            bool cut = true;
            auto sun_addr = t.sun.address;
            t.net.set_drop_filter([&](const ike::memory_datagram& d) {
                return cut && (d.from.address() == sun_addr || d.to.address() == sun_addr);
            });
            /* INFORMATIONAL { } -->  (at 30 s, then retransmitted at +4, +11.2, +24.2, +47.5, +89.5 s) */
            // Not make-before-break: sun keeps sending on SAs moon dropped (that is the point).
            drive(t, 30s + 160s, false);
            INFO(t.moon.dump_log() << t.sun.dump_log());
            CHECK(t.moon.only_sa());
            CHECK(t.moon.only_sa()->spi_i == old_spi);
            CHECK(t.messages(exchange_type::informational, false).size() == 6);
            drive(t, 10s, false);
            CHECK(t.moon.logged("giving up after 5 retransmits"));
            CHECK(t.moon.installer.sas.empty());
            if (act == action::clear) {
                CHECK(t.moon.ep->sas().empty());
                CHECK(t.messages(exchange_type::ike_sa_init, false).size() == 1);
                continue;
            }
            /* restart: IKE_SA_INIT --> (lost while sun is cut off; given up, no restart of a half-open SA) */
            CHECK(t.messages(exchange_type::ike_sa_init, false).size() >= 2);
            cut = false;
            // sun is back before the new IKE_SA_INIT gives up: the retransmission gets through.
            drive(t, 60s, false);  // a fresh IKE_AUTH: the responder sends at once (no rekey)
            REQUIRE(t.moon.only_sa());
            CHECK(t.moon.only_sa()->state() == ike_sa_state::established);
            CHECK(t.moon.only_sa()->spi_i != old_spi);
            // INITIAL_CONTACT made sun drop the IKE SA moon forgot.
            REQUIRE(t.sun.only_sa());
            CHECK(t.sun.only_sa()->spi_i == t.moon.only_sa()->spi_i);
            check_settled(t, 1);
        }
    }
}
