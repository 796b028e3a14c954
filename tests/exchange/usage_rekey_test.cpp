// CHILD SA lifetimes by usage (issue 5, ike/child_usage.cpp): the installer reports what each ESP
// SA carried (sa_installer::usage), the IKE SA polls it every usage_poll_interval and rekeys at
// the soft byte / packet / sequence-number limits (RFC 7296 2.8, RFC 4303 3.3.3) and deletes at
// the hard ones. The recording installer's usage is set by hand: a data plane that counted.
#include "rekey_driver.hpp"

using namespace exchange_test;
using ike::child_sa_state;
using ike::exchange_type;
using ike::ike_sa_state;
using ike::sa_direction;
using namespace std::chrono_literals;

namespace {

// Long time lifetimes (only usage rekeys here), no DPD (message counts are the rekeys' alone),
// both installers reporting usage.
std::pair<ike::peer_config, ike::peer_config> usage_configs(two_peers& t) {
    auto mc = t.config_for(t.moon, t.sun, "sun");
    auto sc = t.config_for(t.sun, t.moon, "moon");
    mc.child_lifetime_seconds = sc.child_lifetime_seconds = 10000;
    mc.dpd_delay = sc.dpd_delay = ike::duration(0);
    t.moon.installer.reports_usage = t.sun.installer.reports_usage = true;
    return {mc, sc};
}

ike::child_sa* installed_child(side& s) {
    ike::child_sa* c = nullptr;
    for (auto& ch : s.only_sa()->children)
        if (ch->sm.state() == child_sa_state::installed) c = ch.get();
    return c;
}

// CREATE_CHILD_SA requests sent by `s`.
std::vector<wire_message> child_requests_from(const two_peers& t, const side& s) {
    std::vector<wire_message> out;
    for (auto& w : t.messages(exchange_type::create_child_sa, false))
        if (w.d.from.address() == s.address) out.push_back(w);
    return out;
}

// A rekey by `ini`: one CREATE_CHILD_SA request from it and none from the other side, same
// reqid, new SPIs, settled to one CHILD SA after the grace period of the old inbound SA.
void check_rekeyed_by(two_peers& t, side& ini, side& resp, std::uint32_t reqid, std::uint32_t old_in,
                      std::uint32_t old_out) {
    INFO(t.moon.dump_log() << t.sun.dump_log());
    CHECK(child_requests_from(t, ini).size() == 1);
    CHECK(child_requests_from(t, resp).empty());
    auto* fresh = installed_child(ini);
    REQUIRE(fresh);
    CHECK(fresh->reqid == reqid);
    CHECK(fresh->spi_in != old_in);
    CHECK(fresh->spi_out != old_out);
    CHECK(ini.installer.newest_out.at(reqid) == fresh->spi_out);
    CHECK(resp.installer.newest_out.at(reqid) == fresh->spi_in);
    drive(t, 6s);  // the old inbound SA's grace period (rekeyed_inbound_grace, 5 s)
    check_settled(t, 1);
    CHECK(ini.installer.sas.count({sa_direction::inbound, old_in}) == 0);
}

} // namespace

TEST_CASE("CHILD SA rekey at rekey_bytes, by the side that crossed it; the successor starts from zero",
          "[exchange][rekey][usage]") {
    for (bool by_moon : {true, false}) {
        DYNAMIC_SECTION((by_moon ? "moon's outbound SA" : "sun's inbound SA")) {
            two_peers t;
            auto [mc, sc] = usage_configs(t);
            (by_moon ? mc : sc).child_rekey_bytes = 1000000;
            t.start(mc, sc);
            establish_pair(t);
            side& ini = by_moon ? t.moon : t.sun;
            side& resp = by_moon ? t.sun : t.moon;
            auto* old = ini.only_sa()->children.front().get();
            REQUIRE(old->usage_polled);
            const auto reqid = old->reqid, old_in = old->spi_in, old_out = old->spi_out;

            // Below the limit: polled every second, nothing happens.
            auto key = by_moon ? std::pair{sa_direction::outbound, old_out} : std::pair{sa_direction::inbound, old_in};
            ini.installer.usage_of[key] = {999, 999999, 1000};
            drive(t, 5s);
            CHECK(t.messages(exchange_type::create_child_sa, false).empty());

            // The limit counts the larger direction (sun's outbound SA stays at zero).
            /* CREATE_CHILD_SA { N(REKEY_SA, ESP, old), SA, Ni, TSi, TSr } --> */
            /* <-- CREATE_CHILD_SA { SA, Nr, TSi, TSr } */
            /* INFORMATIONAL { D(ESP, old) } -->  <-- INFORMATIONAL { D(ESP, old') } */
            ini.installer.usage_of[key] = {1000, 1000000, 1001};
            drive(t, 1s);
            CHECK(ini.logged("rekey: 1000000 bytes reached (1000000 bytes, 1000 packets), rekeying"));
            check_rekeyed_by(t, ini, resp, reqid, old_in, old_out);

            // The new CHILD SA has new SPIs and counts from zero: no further rekey.
            drive(t, 10s);
            CHECK(t.messages(exchange_type::create_child_sa, false).size() == 1);
            CHECK(installed_child(ini)->usage_polled);
        }
    }
}

TEST_CASE("CHILD SA rekey at rekey_packets", "[exchange][rekey][usage]") {
    two_peers t;
    auto [mc, sc] = usage_configs(t);
    sc.child_rekey_packets = 5000;
    t.start(mc, sc);
    establish_pair(t);
    auto* old = t.sun.only_sa()->children.front().get();
    const auto reqid = old->reqid, old_in = old->spi_in, old_out = old->spi_out;
    /* sun: CREATE_CHILD_SA { N(REKEY_SA, ESP, old), SA, Ni, TSi, TSr } --> */
    t.sun.installer.usage_of[{sa_direction::outbound, old_out}] = {5000, 700000, 5001};
    drive(t, 2s);
    CHECK(t.sun.logged("rekey: 5000 packets reached"));
    check_rekeyed_by(t, t.sun, t.moon, reqid, old_in, old_out);
}

TEST_CASE("CHILD SA hard usage limit: deleted, and re-created when configured", "[exchange][rekey][usage]") {
    for (bool recreate : {true, false}) {
        for (bool by_packets : {false, true}) {
            DYNAMIC_SECTION((recreate ? "re-created" : "gone") << (by_packets ? ", life_packets" : ", life_bytes")) {
                two_peers t;
                auto [mc, sc] = usage_configs(t);
                // The soft limit is passed too: the hard one wins, no rekey is attempted.
                mc.child_rekey_bytes = 1000;
                mc.child_rekey_packets = 10;
                (by_packets ? mc.child_life_packets : mc.child_life_bytes) = 2000000;
                mc.child_recreate_on_expire = recreate;
                t.start(mc, sc);
                establish_pair(t);
                auto* c = t.moon.only_sa()->children.front().get();
                const auto first = c->reqid;
                t.moon.installer.usage_of[{sa_direction::inbound, c->spi_in}] = {2000000, 2000000, 0};
                /* INFORMATIONAL { D(ESP, SPI) } --> */
                /* <-- INFORMATIONAL { D(ESP, SPI') } */
                /* [ CREATE_CHILD_SA { SA, Ni, TSi, TSr } --> <-- { SA, Nr, TSi, TSr } ] */
                drive(t, 2s, false);  // not make-before-break: the old SA must not be used any longer
                INFO(t.moon.dump_log() << t.sun.dump_log());
                CHECK(t.moon.logged(by_packets ? "hard limit: 2000000 packets reached" : "hard limit: 2000000 bytes reached"));
                CHECK_FALSE(t.moon.logged("rekey:"));
                CHECK(t.messages(exchange_type::informational, false).size() == 1);
                if (recreate) {
                    auto reqs = t.messages(exchange_type::create_child_sa, false);
                    REQUIRE(reqs.size() == 1);
                    check_settled(t, 1);
                    CHECK(installed_child(t.moon)->reqid != first);
                    drive(t, 5s);  // the new CHILD SA counts from zero
                    CHECK(t.messages(exchange_type::create_child_sa, false).size() == 1);
                } else {
                    CHECK(t.messages(exchange_type::create_child_sa, false).empty());
                    CHECK(t.moon.installer.sas.empty());
                    CHECK(t.sun.installer.sas.empty());
                    CHECK(t.moon.only_sa()->state() == ike_sa_state::established);
                }
            }
        }
    }
}

TEST_CASE("CHILD SA rekey before the sequence number runs out, with and without ESN", "[exchange][rekey][usage]") {
    for (bool esn : {false, true}) {
        DYNAMIC_SECTION((esn ? "ESN" : "32-bit")) {
            two_peers t;
            auto [mc, sc] = usage_configs(t);
            if (esn) mc.esp_proposals = sc.esp_proposals = {"aes256-sha256-esn"};
            t.start(mc, sc);
            establish_pair(t);
            auto* old = t.moon.only_sa()->children.front().get();
            REQUIRE(old->suite.esn == esn);
            const auto reqid = old->reqid, old_in = old->spi_in, old_out = old->spi_out;
            auto& u = t.moon.installer.usage_of[{sa_direction::outbound, old_out}];
            // One short of the default threshold (2^32 - 2^30; 2^64 - 2^62 with ESN). With ESN the
            // 32-bit threshold itself means nothing.
            u.next_seq = esn ? 0xC000000000000000ULL - 1 : 0xC0000000ULL - 1;
            drive(t, 3s);
            CHECK(t.messages(exchange_type::create_child_sa, false).empty());
            if (esn) {
                u.next_seq = 0xFFFFFFFFULL + 1;
                drive(t, 3s);
                CHECK(t.messages(exchange_type::create_child_sa, false).empty());
            }
            /* CREATE_CHILD_SA { N(REKEY_SA, ESP, old), SA, Ni, TSi, TSr } --> */
            u.next_seq = esn ? 0xC000000000000000ULL : 0xC0000000ULL;
            drive(t, 1s);
            CHECK(t.moon.logged(esn ? "rekey: sequence number 0xc000000000000000 reached"
                                    : "rekey: sequence number 0xc0000000 reached"));
            check_rekeyed_by(t, t.moon, t.sun, reqid, old_in, old_out);
        }
    }
}

TEST_CASE("CHILD SA sequence-number limits: a configured threshold, and the last number deletes",
          "[exchange][rekey][usage]") {
    SECTION("child_rekey_seq lowered") {
        two_peers t;
        auto [mc, sc] = usage_configs(t);
        mc.child_rekey_seq = 1000;
        t.start(mc, sc);
        establish_pair(t);
        auto* old = t.moon.only_sa()->children.front().get();
        const auto reqid = old->reqid, old_in = old->spi_in, old_out = old->spi_out;
        t.moon.installer.usage_of[{sa_direction::outbound, old_out}] = {999, 99900, 1000};
        drive(t, 2s);
        CHECK(t.moon.logged("rekey: sequence number 0x3e8 reached"));
        check_rekeyed_by(t, t.moon, t.sun, reqid, old_in, old_out);
    }
    SECTION("2^32 - 1 is next: deleted and re-created, not rekeyed") {
        two_peers t;
        auto [mc, sc] = usage_configs(t);
        t.start(mc, sc);
        establish_pair(t);
        auto* c = t.moon.only_sa()->children.front().get();
        const auto first = c->reqid;
        t.moon.installer.usage_of[{sa_direction::outbound, c->spi_out}].next_seq = 0xFFFFFFFFULL;
        drive(t, 2s, false);
        INFO(t.moon.dump_log() << t.sun.dump_log());
        CHECK(t.moon.logged("hard limit: sequence number 0xffffffff reached"));
        CHECK(t.messages(exchange_type::informational, false).size() == 1);
        check_settled(t, 1);
        CHECK(installed_child(t.moon)->reqid != first);
    }
}

TEST_CASE("CHILD SA usage rekey: no second rekey while one is in flight", "[exchange][rekey][usage]") {
    two_peers t;
    auto [mc, sc] = usage_configs(t);
    mc.child_rekey_bytes = 1000;
    t.start(mc, sc);
    establish_pair(t);
    auto* old = t.moon.only_sa()->children.front().get();
    const auto reqid = old->reqid, old_in = old->spi_in, old_out = old->spi_out;
    t.moon.installer.usage_of[{sa_direction::outbound, old_out}] = {10, 5000, 11};
    /* CREATE_CHILD_SA { N(REKEY_SA, ESP, old), SA, Ni, TSi, TSr } -->   (held on the wire) */
    // Three polls while the request is outstanding (the first retransmission is at 4 s) and the
    // usage keeps growing: the CHILD SA is rekeying, nothing more is queued or sent.
    for (int i = 1; i <= 3; ++i) {
        t.moon.installer.usage_of[{sa_direction::outbound, old_out}].bytes += 1000;
        t.clock.advance(1s);
        t.moon.ep->on_timer();
        t.sun.ep->on_timer();
    }
    INFO(t.moon.dump_log() << t.sun.dump_log());
    CHECK(old->sm.state() == child_sa_state::rekeying);
    CHECK(child_requests_from(t, t.moon).size() == 1);
    CHECK(t.moon.only_sa()->tasks.queued() == 0);
    /* <-- CREATE_CHILD_SA { SA, Nr, TSi, TSr } */
    drive(t, 1s);
    check_rekeyed_by(t, t.moon, t.sun, reqid, old_in, old_out);
    // The rekeyed CHILD SA's time lifetime does not start another one either.
    drive(t, 20s);
    CHECK(t.messages(exchange_type::create_child_sa, false).size() == 1);
}

TEST_CASE("CHILD SA usage limits: an installer without usage is never polled", "[exchange][rekey][usage]") {
    two_peers t;
    auto [mc, sc] = usage_configs(t);
    t.moon.installer.reports_usage = t.sun.installer.reports_usage = false;
    mc.child_rekey_bytes = sc.child_rekey_bytes = 1000;
    mc.child_life_packets = sc.child_life_packets = 10;
    t.start(mc, sc);
    establish_pair(t);
    auto* c = t.moon.only_sa()->children.front().get();
    // Values far beyond every limit, which a reporting installer would have triggered on.
    t.moon.installer.usage_of[{sa_direction::outbound, c->spi_out}] = {1000000, 1000000000, 0xFFFFFFFFULL};
    auto deadline = t.moon.ep->next_deadline();
    drive(t, 30s);
    INFO(t.moon.dump_log() << t.sun.dump_log());
    CHECK_FALSE(c->usage_polled);
    CHECK(t.moon.only_sa()->usage_polled_at == ike::time_point{});
    CHECK(t.moon.ep->next_deadline() == deadline);  // the keepalive / lifetime deadlines alone
    CHECK(t.messages(exchange_type::create_child_sa, false).empty());
    CHECK(t.messages(exchange_type::informational, false).empty());
    check_settled(t, 1);
}
