// IKE SA rekeying (RFC 7296 1.3.2, 2.18): at the soft lifetime by either side, CHILD SAs moving
// to the new IKE SA untouched in the installer, the old IKE SA deleted, Message IDs restarting;
// simultaneous IKE rekeys (2.8.2) and an IKE rekey crossing a CHILD rekey (TEMPORARY_FAILURE).
#include "rekey_driver.hpp"

using namespace exchange_test;
using ike::exchange_type;
using ike::ike_sa_state;
using ike::sa_direction;
using namespace std::chrono_literals;

namespace {

std::pair<ike::peer_config, ike::peer_config> ike_rekey_configs(two_peers& t, std::uint64_t moon_life,
                                                                std::uint64_t sun_life) {
    auto mc = t.config_for(t.moon, t.sun, "sun");
    auto sc = t.config_for(t.sun, t.moon, "moon");
    mc.ike_lifetime_seconds = moon_life;
    sc.ike_lifetime_seconds = sun_life;
    mc.child_lifetime_seconds = sc.child_lifetime_seconds = 100000;
    mc.dpd_delay = sc.dpd_delay = ike::duration(0);
    return {mc, sc};
}

// Both sides' only IKE SA is the same one: SPIs, keys, and the CHILD SAs it holds.
void check_same_ike_sa(two_peers& t) {
    auto* m = t.moon.only_sa();
    auto* s = t.sun.only_sa();
    REQUIRE(m);
    REQUIRE(s);
    CHECK(m->state() == ike_sa_state::established);
    CHECK(s->state() == ike_sa_state::established);
    CHECK(m->spi_i == s->spi_i);
    CHECK(m->spi_r == s->spi_r);
    CHECK(m->original_initiator != s->original_initiator);
    CHECK(m->keys.sk_d == s->keys.sk_d);
    CHECK(m->keys.sk_ei == s->keys.sk_ei);
    CHECK(m->keys.sk_ar == s->keys.sk_ar);
}

} // namespace

TEST_CASE("IKE SA rekey at the soft lifetime, by either side: CHILD SAs move, old IKE SA deleted",
          "[exchange][rekey][ike_rekey]") {
    for (bool by_moon : {true, false}) {
        DYNAMIC_SECTION((by_moon ? "moon rekeys" : "sun rekeys")) {
            two_peers t;
            auto [mc, sc] = ike_rekey_configs(t, by_moon ? 200 : 100000, by_moon ? 100000 : 200);
            t.start(mc, sc);
            establish_pair(t);
            auto old_spi_i = t.moon.only_sa()->spi_i;
            auto old_spi_r = t.moon.only_sa()->spi_r;
            auto old_sk_d = t.moon.only_sa()->keys.sk_d;
            auto esp_before = t.moon.installer.sas.size();
            /* CREATE_CHILD_SA(old) { SA(IKE, SPIi'), Ni, KEi } --> */
            /* <-- CREATE_CHILD_SA(old) { SA(IKE, SPIr'), Nr, KEr } */
            /* INFORMATIONAL(old) { D(IKE) } --> */
            /* <-- INFORMATIONAL(old) { } */
            drive(t, 200s);
            INFO(t.moon.dump_log() << t.sun.dump_log());
            auto reqs = t.messages(exchange_type::create_child_sa, false);
            REQUIRE(reqs.size() == 1);
            auto elapsed = reqs[0].at - t.messages(exchange_type::ike_auth, true)[0].at;
            CHECK(elapsed >= 160s);
            CHECK(elapsed <= 180s);
            check_same_ike_sa(t);
            auto* m = t.moon.only_sa();
            CHECK(m->spi_i != old_spi_i);
            CHECK(m->spi_r != old_spi_r);
            CHECK(m->keys.sk_d != old_sk_d);
            // RFC 7296 2.18: the rekey's initiator is the new SA's original initiator.
            CHECK(m->original_initiator == by_moon);
            CHECK(m->children.size() == 1);
            CHECK(t.sun.only_sa()->children.size() == 1);
            // The CHILD SAs moved: nothing in the installers changed.
            CHECK(t.moon.installer.removed.empty());
            CHECK(t.sun.installer.removed.empty());
            CHECK(t.moon.installer.sas.size() == esp_before);
            // The old SA's DELETE went out under the old SPIs.
            auto dels = t.messages(exchange_type::informational, false);
            REQUIRE(dels.size() == 1);
            CHECK(dels[0].header->spi_i == old_spi_i);

            // The new IKE SA works: Message IDs from 0, a CHILD rekey over it.
            /* CREATE_CHILD_SA(new) { N(REKEY_SA), SA, Ni, TSi, TSr } --> */
            auto* ini = by_moon ? t.moon.only_sa() : t.sun.only_sa();
            CHECK(ini->tasks.next_request_id() == 0);
            ini->tasks.queue(ike::make_child_rekey_task(ini->children.front()->spi_in));
            ini->tasks.initiate();
            drive(t, 10s);
            auto after = t.messages(exchange_type::create_child_sa, false);
            REQUIRE(after.size() == 2);
            CHECK(after[1].header->message_id == 0);
            CHECK(after[1].header->spi_i == m->spi_i);
            check_settled(t, 1);
        }
    }
}

TEST_CASE("IKE SA keeps rekeying over many lifetimes with CHILD rekeys in between", "[exchange][rekey][ike_rekey]") {
    two_peers t;
    auto [mc, sc] = ike_rekey_configs(t, 300, 300);
    mc.child_lifetime_seconds = sc.child_lifetime_seconds = 70;
    t.start(mc, sc);
    establish_pair(t);
    drive(t, 3000s);
    for (auto* s : {&t.moon, &t.sun})
        for (auto* sa : s->ep->sas())
            for (auto& c : sa->children) c->rekey_at.reset();
    // Settle: let pending deletes and grace periods end without new rekeys.
    for (auto* s : {&t.moon, &t.sun})
        for (auto* sa : s->ep->sas()) sa->rekey_at.reset();
    drive(t, 10s);
    INFO(t.moon.dump_log() << t.sun.dump_log());
    CHECK(t.moon.logged("IKE SA rekeyed"));
    check_same_ike_sa(t);
    check_settled(t, 1);
}

TEST_CASE("Simultaneous IKE SA rekey: the exchange with the lowest nonce loses, one IKE SA survives",
          "[exchange][rekey][ike_rekey][collision]") {
    int moon_won = 0, sun_won = 0;
    for (int run = 0; run < 16; ++run) {
        two_peers t;
        auto [mc, sc] = ike_rekey_configs(t, 100000, 100000);
        t.start(mc, sc);
        establish_pair(t);
        auto* m = t.moon.only_sa();
        auto* s = t.sun.only_sa();
        /* CREATE_CHILD_SA { SA(IKE), Ni1, KEi1 } -->   (moon) */
        /* <-- CREATE_CHILD_SA { SA(IKE), Ni2, KEi2 }   (sun)  */
        /* both answered: four new IKE SAs' worth of nonces, two new IKE SAs per side */
        /* loser: INFORMATIONAL(its new SA) { D(IKE) }; winner: INFORMATIONAL(old SA) { D(IKE) } */
        m->tasks.queue(ike::make_ike_rekey_task());
        s->tasks.queue(ike::make_ike_rekey_task());
        m->tasks.initiate();
        s->tasks.initiate();
        drive(t, 10s);
        INFO("run " << run << "\n" << t.moon.dump_log() << t.sun.dump_log());
        bool moon_lost = t.moon.logged("IKE SA rekey collision lost");
        bool sun_lost = t.sun.logged("IKE SA rekey collision lost");
        CHECK(moon_lost != sun_lost);
        moon_won += sun_lost;
        sun_won += moon_lost;
        check_same_ike_sa(t);
        CHECK(t.moon.only_sa()->children.size() == 1);
        CHECK(t.sun.only_sa()->children.size() == 1);
        CHECK(t.moon.installer.removed.empty());
        check_settled(t, 1);
    }
    CHECK(moon_won > 0);
    CHECK(sun_won > 0);
}

TEST_CASE("IKE SA rekey crossing a CHILD SA rekey: TEMPORARY_FAILURE, both retried and done",
          "[exchange][rekey][ike_rekey][collision]") {
    two_peers t;
    auto [mc, sc] = ike_rekey_configs(t, 100000, 100000);
    t.start(mc, sc);
    establish_pair(t);
    auto* m = t.moon.only_sa();
    auto* s = t.sun.only_sa();
    /* CREATE_CHILD_SA { N(REKEY_SA), SA, Ni, TSi, TSr } -->   (moon) */
    /* <-- CREATE_CHILD_SA { SA(IKE), Ni, KEi }                (sun)  */
    /* <-- { N(TEMPORARY_FAILURE) }   /   { N(TEMPORARY_FAILURE) } --> */
    /* ... each retried a few seconds later, one after the other */
    m->tasks.queue(ike::make_child_rekey_task(m->children.front()->spi_in));
    s->tasks.queue(ike::make_ike_rekey_task());
    m->tasks.initiate();
    s->tasks.initiate();
    drive(t, 30s);
    INFO(t.moon.dump_log() << t.sun.dump_log());
    CHECK(t.moon.logged("TEMPORARY_FAILURE"));
    CHECK(t.sun.logged("TEMPORARY_FAILURE"));
    CHECK(t.sun.logged("IKE SA rekeyed"));
    CHECK(t.moon.logged("CHILD SA reqid 1 rekeyed"));
    check_same_ike_sa(t);
    check_settled(t, 1);
}
