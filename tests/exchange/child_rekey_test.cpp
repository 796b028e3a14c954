// CHILD SA rekeying (RFC 7296 1.3.3, 2.8): at the soft lifetime by either side, with and without
// PFS, INVALID_KE_PAYLOAD, make-before-break as the installers see it after every delivered
// datagram and timer, the grace period of the old inbound SA, the hard lifetime, and the
// simultaneous-rekey collision (2.8.1).
#include "rekey_driver.hpp"

using namespace exchange_test;
using ike::child_sa_state;
using ike::exchange_type;
using ike::ike_sa_state;
using ike::sa_direction;
using namespace std::chrono_literals;

namespace {

std::pair<ike::peer_config, ike::peer_config> rekey_configs(two_peers& t, std::uint64_t moon_life, std::uint64_t sun_life) {
    auto mc = t.config_for(t.moon, t.sun, "sun");
    auto sc = t.config_for(t.sun, t.moon, "moon");
    mc.child_lifetime_seconds = moon_life;
    sc.child_lifetime_seconds = sun_life;
    mc.dpd_delay = sc.dpd_delay = ike::duration(0);  // message counts below are the rekeys' alone
    return {mc, sc};
}

ike::child_sa* newest_installed_child(side& s) {
    ike::child_sa* c = nullptr;
    for (auto& ch : s.only_sa()->children)
        if (ch->sm.state() == child_sa_state::installed) c = ch.get();
    return c;
}

} // namespace

TEST_CASE("CHILD SA rekey at the soft lifetime, by either side: make-before-break, reqid kept", "[exchange][rekey]") {
    for (bool by_moon : {true, false}) {
        DYNAMIC_SECTION((by_moon ? "moon rekeys" : "sun rekeys")) {
            two_peers t;
            auto [mc, sc] = rekey_configs(t, by_moon ? 100 : 1000, by_moon ? 1000 : 100);
            t.start(mc, sc);
            establish_pair(t);
            side& ini = by_moon ? t.moon : t.sun;
            side& resp = by_moon ? t.sun : t.moon;
            auto* old = ini.only_sa()->children.front().get();
            const auto reqid = old->reqid, old_in = old->spi_in, old_out = old->spi_out;
            auto old_key = ini.installer.sas.at({sa_direction::outbound, old_out}).encryption_key;

            // Soft lifetime: 90 % of 100 s minus up to 10 % jitter, so nothing before 80 s.
            drive(t, 79s);
            CHECK(t.messages(exchange_type::create_child_sa, false).empty());
            /* CREATE_CHILD_SA { N(REKEY_SA, ESP, old), SA, Ni, TSi, TSr } --> */
            /* <-- CREATE_CHILD_SA { SA, Nr, TSi, TSr } */
            /* INFORMATIONAL { D(ESP, old) } --> */
            /* <-- INFORMATIONAL { D(ESP, old') } */
            for (int s = 0; s < 12 && t.messages(exchange_type::create_child_sa, false).empty(); ++s) drive(t, 1s);
            INFO(t.moon.dump_log() << t.sun.dump_log());
            auto reqs = t.messages(exchange_type::create_child_sa, false);
            REQUIRE(reqs.size() == 1);
            CHECK(reqs[0].header->initiator == by_moon);  // the I flag is the IKE SA's, not the exchange's
            auto elapsed = reqs[0].at - t.messages(exchange_type::ike_auth, true)[0].at;
            CHECK(elapsed >= 80s);
            CHECK(elapsed <= 90s);
            CHECK(t.messages(exchange_type::informational, false).size() == 1);

            // Rekeyed: same reqid, new SPIs; the initiator keeps the old inbound SA for the grace.
            auto* fresh = newest_installed_child(ini);
            REQUIRE(fresh);
            CHECK(fresh->reqid == reqid);
            CHECK(fresh->spi_in != old_in);
            CHECK(fresh->spi_out != old_out);
            CHECK(ini.installer.sas.size() == 3);
            CHECK(ini.installer.sas.count({sa_direction::inbound, old_in}) == 1);
            CHECK(ini.installer.newest_out.at(reqid) == fresh->spi_out);
            CHECK(resp.installer.sas.size() == 2);
            CHECK(resp.installer.newest_out.at(reqid) == fresh->spi_in);
            drive(t, 4s);
            CHECK(ini.installer.sas.count({sa_direction::inbound, old_in}) == 1);
            drive(t, 2s);
            CHECK(ini.installer.sas.count({sa_direction::inbound, old_in}) == 0);
            check_settled(t, 1);
            CHECK(ini.installer.sas.at({sa_direction::outbound, fresh->spi_out}).encryption_key != old_key);
            for (auto* s : {&ini, &resp})
                for (const auto& [k, v] : s->installer.sas) CHECK(v.reqid == reqid);
            // Inbound first, then outbound on the initiator; the responder's outbound waits for
            // the DELETE (it is installed last).
            CHECK(resp.installer.installed.back().direction == sa_direction::outbound);
            CHECK(resp.installer.installed.back().spi == fresh->spi_in);
        }
    }
}

TEST_CASE("CHILD SA rekey keeps rekeying: ten lifetimes, no SPI leaked", "[exchange][rekey]") {
    two_peers t;
    auto [mc, sc] = rekey_configs(t, 60, 60);
    t.start(mc, sc);
    establish_pair(t);
    drive(t, 600s);
    // Settle: no further rekeys, and any grace period running ends.
    for (auto* s : {&t.moon, &t.sun})
        for (auto& c : s->only_sa()->children) c->rekey_at.reset();
    drive(t, 6s);
    INFO(t.moon.dump_log() << t.sun.dump_log());
    auto rekeys = t.messages(exchange_type::create_child_sa, false).size();
    CHECK(rekeys >= 10);
    CHECK(rekeys <= 13);
    check_settled(t, 1);
    CHECK(t.moon.only_sa()->state() == ike_sa_state::established);
}

TEST_CASE("CHILD SA rekey with PFS: KE in the rekey, INVALID_KE_PAYLOAD retried with the peer's group",
          "[exchange][rekey]") {
    two_peers t;
    auto [mc, sc] = rekey_configs(t, 100, 1000);
    mc.esp_proposals = {"aes256-sha256-modp2048-ecp256"};
    sc.esp_proposals = {"aes256-sha256-ecp256"};
    t.start(mc, sc);
    establish_pair(t);
    /* CREATE_CHILD_SA { N(REKEY_SA), SA, Ni, KEi(MODP_2048), TSi, TSr } --> */
    /* <-- CREATE_CHILD_SA { N(INVALID_KE_PAYLOAD, ECP_256) } */
    /* CREATE_CHILD_SA { N(REKEY_SA), SA, Ni, KEi(ECP_256), TSi, TSr } --> */
    /* <-- CREATE_CHILD_SA { SA, Nr, KEr, TSi, TSr } */
    drive(t, 100s);
    INFO(t.moon.dump_log() << t.sun.dump_log());
    auto reqs = t.messages(exchange_type::create_child_sa, false);
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[1].header->message_id == reqs[0].header->message_id + 1);
    CHECK(t.moon.logged("peer requests ECP_256 for PFS, retrying"));
    auto* fresh = newest_installed_child(t.moon);
    REQUIRE(fresh);
    CHECK(fresh->suite.dh == ike::dh_group::ecp256);
    CHECK(reqs[1].d.data.size() + 150 < reqs[0].d.data.size());  // KEi: 256 bytes of MODP_2048, then 64 of ECP_256
    check_settled(t, 1);
}

TEST_CASE("CHILD SA hard lifetime: deleted, and re-created when configured", "[exchange][rekey]") {
    for (bool recreate : {true, false}) {
        DYNAMIC_SECTION((recreate ? "re-created" : "gone")) {
            two_peers t;
            auto [mc, sc] = rekey_configs(t, 60, 1000);
            mc.rekey_percent = 100;  // soft = hard: the hard lifetime comes first
            mc.rekey_jitter_percent = 0;
            mc.child_recreate_on_expire = recreate;
            t.start(mc, sc);
            establish_pair(t);
            auto first = t.moon.only_sa()->children.front()->reqid;
            /* INFORMATIONAL { D(ESP, SPI) } --> */
            /* <-- INFORMATIONAL { D(ESP, SPI') } */
            /* [ CREATE_CHILD_SA { SA, Ni, TSi, TSr } --> <-- { SA, Nr, TSi, TSr } ] */
            // Not make-before-break: past the hard lifetime the old SA must not carry traffic,
            // and a new CHILD SA's responder sends at once (as for any CREATE_CHILD_SA).
            drive(t, 61s, false);
            INFO(t.moon.dump_log() << t.sun.dump_log());
            CHECK(t.moon.logged("reached its hard lifetime"));
            CHECK(t.messages(exchange_type::informational, false).size() == 1);
            if (recreate) {
                check_settled(t, 1);
                CHECK(newest_installed_child(t.moon)->reqid != first);
            } else {
                CHECK(t.moon.installer.sas.empty());
                CHECK(t.sun.installer.sas.empty());
                CHECK(t.moon.only_sa()->state() == ike_sa_state::established);
            }
        }
    }
}

TEST_CASE("CHILD SA rekey of a CHILD SA the peer does not know: CHILD_SA_NOT_FOUND", "[exchange][rekey]") {
    two_peers t;
    auto [mc, sc] = rekey_configs(t, 1000, 1000);
    t.start(mc, sc);
    establish_pair(t);
    auto* m = t.moon.only_sa();
    auto spi = m->children.front()->spi_in;
    // The peer forgot the CHILD SA without telling us (its DELETE was lost for good).
    auto* s = t.sun.only_sa();
    ike::child_sa_remove(*s, *s->children.front());
    /* CREATE_CHILD_SA { N(REKEY_SA, ESP, SPI), SA, Ni, TSi, TSr } --> */
    /* <-- CREATE_CHILD_SA { N(CHILD_SA_NOT_FOUND) } */
    m->tasks.queue(ike::make_child_rekey_task(spi));
    m->tasks.initiate();
    t.run();
    INFO(t.moon.dump_log() << t.sun.dump_log());
    CHECK(t.sun.logged("CHILD_SA_NOT_FOUND"));
    CHECK(t.moon.installer.sas.empty());
    CHECK(t.moon.only_sa()->svc.inbound_spis.empty());
    CHECK(m->state() == ike_sa_state::established);
}

TEST_CASE("CHILD SA rekey collision: the exchange with the lowest nonce loses, one CHILD SA survives",
          "[exchange][rekey][collision]") {
    // Many runs so that each side wins some (the nonces are random).
    int moon_won = 0, sun_won = 0;
    for (int run = 0; run < 16; ++run) {
        two_peers t;
        auto [mc, sc] = rekey_configs(t, 1000, 1000);
        t.start(mc, sc);
        establish_pair(t);
        auto* m = t.moon.only_sa();
        auto* s = t.sun.only_sa();
        /* CREATE_CHILD_SA { N(REKEY_SA), SA, Ni1, TSi, TSr } -->  (moon) */
        /* <-- CREATE_CHILD_SA { N(REKEY_SA), SA, Ni2, TSi, TSr }  (sun)  */
        /* each answers the other: { SA, Nr1 ... } / { SA, Nr2 ... } */
        /* the winner:  INFORMATIONAL { D(ESP, old) }  --> */
        /* the loser:   INFORMATIONAL { D(ESP, redundant) } --> */
        m->tasks.queue(ike::make_child_rekey_task(m->children.front()->spi_in));
        s->tasks.queue(ike::make_child_rekey_task(s->children.front()->spi_in));
        m->tasks.initiate();
        s->tasks.initiate();
        drive(t, 10s);
        INFO("run " << run << "\n" << t.moon.dump_log() << t.sun.dump_log());
        bool moon_lost = t.moon.logged("collision lost");
        bool sun_lost = t.sun.logged("collision lost");
        CHECK(moon_lost != sun_lost);
        moon_won += sun_lost;
        sun_won += moon_lost;
        CHECK(t.messages(exchange_type::informational, false).size() == 2);
        check_settled(t, 1);
    }
    CHECK(moon_won > 0);
    CHECK(sun_won > 0);
}

TEST_CASE("CHILD SA rekey crossing a DELETE of the same CHILD SA: both gone, nothing leaked",
          "[exchange][rekey][collision]") {
    two_peers t;
    auto [mc, sc] = rekey_configs(t, 1000, 1000);
    t.start(mc, sc);
    auto id = establish_pair(t);
    auto* m = t.moon.only_sa();
    /* CREATE_CHILD_SA { N(REKEY_SA, ESP, SPI), SA, Ni, TSi, TSr } -->   (moon) */
    /* <-- INFORMATIONAL { D(ESP, SPI') }                              (sun)  */
    /* moon answers the DELETE { D(ESP, SPI) } and drops the CHILD SA; sun answers the rekey with */
    /* N(TEMPORARY_FAILURE) (it is deleting that CHILD SA); moon's offer is discarded */
    m->tasks.queue(ike::make_child_rekey_task(m->children.front()->spi_in));
    REQUIRE(t.sun.ep->delete_child(t.sun.only_sa()->unique_id, t.sun.only_sa()->children.front()->reqid));
    m->tasks.initiate();
    drive(t, 10s, false);  // a DELETE ends the CHILD SA: no make-before-break to check
    INFO(t.moon.dump_log() << t.sun.dump_log());
    CHECK(t.sun.logged("TEMPORARY_FAILURE"));
    CHECK(t.moon.installer.sas.empty());
    CHECK(t.sun.installer.sas.empty());
    check_no_spi_leak(t.moon);
    check_no_spi_leak(t.sun);
    CHECK(t.moon.ep->find(id)->state() == ike_sa_state::established);
    CHECK(t.sun.only_sa()->state() == ike_sa_state::established);
}

TEST_CASE("CHILD SA rekey with a lost response or a lost DELETE: retransmitted, one new CHILD SA",
          "[exchange][rekey]") {
    for (auto lost : {exchange_type::create_child_sa, exchange_type::informational}) {
        DYNAMIC_SECTION((lost == exchange_type::create_child_sa ? "response lost" : "DELETE lost")) {
            two_peers t;
            auto [mc, sc] = rekey_configs(t, 100, 1000);
            t.start(mc, sc);
            establish_pair(t);
            bool dropped = false;
            // The rekey's response (sun -> moon) or moon's DELETE of the old CHILD SA, once.
            t.net.set_drop_filter([&](const ike::memory_datagram& d) {
                auto h = ike::parse_header(d.data);
                bool hit = h && h->exchange == lost &&
                           (lost == exchange_type::create_child_sa ? h->response : !h->response);
                if (!hit || dropped) return false;
                dropped = true;
                return true;
            });
            /* CREATE_CHILD_SA { N(REKEY_SA), ... } -->   <-- { SA, Nr, TSi, TSr }  (lost?)  */
            /* retransmitted after 4 s; the responder re-sends its cached response byte for byte */
            /* INFORMATIONAL { D(ESP, old) } -->  (lost?)  retransmitted; <-- { D(ESP, old') } */
            drive(t, 110s);
            INFO(t.moon.dump_log() << t.sun.dump_log());
            CHECK(dropped);
            // The responder built exactly one new CHILD SA (the retransmission was answered from
            // the cache) and switched its outbound SA only when the DELETE came.
            std::size_t sun_inbound = 0;
            for (const auto& sa : t.sun.installer.installed) sun_inbound += sa.direction == sa_direction::inbound;
            CHECK(sun_inbound == 2);
            if (lost == exchange_type::create_child_sa) CHECK(t.sun.logged("re-sending our response"));
            check_settled(t, 1);
        }
    }
}
