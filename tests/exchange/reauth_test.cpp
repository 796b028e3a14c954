// IKE SA reauthentication (RFC 7296 2.8.3, ike/reauth.cpp): at the soft point computed from
// reauth_seconds, by either original role, a new IKE SA (full IKE_SA_INIT + IKE_AUTH, without
// INITIAL_CONTACT) recreates every CHILD SA with the same selectors and reqids before the old IKE
// SA is deleted (make-before-break); a changed PSK is used; a refused reauthentication keeps the
// old SA and is retried; break-before-make; a lossy network.
#include "rekey_driver.hpp"

#include <ike/ts_narrow.hpp>

#include <functional>
#include <set>

using namespace exchange_test;
using ike::exchange_type;
using ike::ike_sa_state;
using ike::sa_direction;
using namespace std::chrono_literals;

namespace {

// Reauthentication by `by_moon` ? moon : sun every 200 s (soft point 160..180 s); the other side
// neither rekeys nor reauthenticates within the test.
std::pair<ike::peer_config, ike::peer_config> reauth_configs(two_peers& t, bool by_moon, bool mbb = true) {
    auto mc = t.config_for(t.moon, t.sun, "sun");
    auto sc = t.config_for(t.sun, t.moon, "moon");
    mc.ike_lifetime_seconds = sc.ike_lifetime_seconds = 100000;
    mc.child_lifetime_seconds = sc.child_lifetime_seconds = 100000;
    mc.dpd_delay = sc.dpd_delay = ike::duration(0);
    auto& r = by_moon ? mc : sc;
    r.reauth_seconds = 200;
    r.reauth_make_before_break = mbb;
    return {mc, sc};
}

// As rekey_driver.hpp's drive, with `step` called after every delivered datagram and timer.
void drive_with(two_peers& t, ike::duration total, const std::function<void()>& step) {
    auto end = t.clock.now() + total;
    for (int guard = 0; guard < 200000; ++guard) {
        while (t.net.deliver_one()) step();
        std::optional<ike::time_point> next;
        for (auto* s : {&t.moon, &t.sun}) {
            auto d = s->ep->next_deadline();
            if (d && (!next || *d < *next)) next = d;
        }
        if (!next || *next > end) break;
        t.clock.set(std::max(*next, t.clock.now()));
        t.moon.ep->on_timer();
        step();
        t.sun.ep->on_timer();
        step();
    }
    t.clock.set(std::max(end, t.clock.now()));
    while (t.net.deliver_one()) step();
}

using selector_pair = std::pair<std::vector<ike::esp_selector>, std::vector<ike::esp_selector>>;

std::set<std::uint32_t> outbound_reqids(const recording_installer& r) {
    std::set<std::uint32_t> out;
    for (const auto& [k, v] : r.sas)
        if (k.first == sa_direction::outbound) out.insert(v.reqid);
    return out;
}

std::vector<selector_pair> outbound_selectors(const recording_installer& r) {
    std::vector<selector_pair> out;
    for (const auto& [k, v] : r.sas)
        if (k.first == sa_direction::outbound) out.emplace_back(v.src_selectors, v.dst_selectors);
    return out;
}

bool covers(const recording_installer& r, const std::vector<selector_pair>& wanted) {
    auto have = outbound_selectors(r);
    for (const auto& w : wanted)
        if (std::find(have.begin(), have.end(), w) == have.end()) return false;
    return true;
}

std::size_t count_logged(const side& s, std::string_view needle) {
    std::size_t n = 0;
    for (const auto& l : s.log) n += l.find(needle) != std::string::npos;
    return n;
}

// What a CHILD SA was: reqid, selectors, SPIs.
struct child_view {
    std::uint32_t reqid, spi_in, spi_out;
    std::string ts;
};
std::vector<child_view> children_of(ike::ike_sa& sa) {
    std::vector<child_view> v;
    for (auto& c : sa.children)
        if (c->sm.state() == ike::child_sa_state::installed)
            v.push_back({c->reqid, c->spi_in, c->spi_out,
                         ike::ts_list_to_string(c->ts_local) + " === " + ike::ts_list_to_string(c->ts_remote)});
    return v;
}

} // namespace

TEST_CASE("Reauthentication at the soft point, make-before-break, by either side, one and two CHILD SAs",
          "[exchange][reauth]") {
    for (bool by_moon : {true, false}) {
        for (std::size_t n : {1u, 2u}) {
            DYNAMIC_SECTION((by_moon ? "moon" : "sun") << " reauthenticates, " << n << " CHILD SAs") {
                two_peers t;
                auto [mc, sc] = reauth_configs(t, by_moon);
                t.start(mc, sc);
                auto id = establish_pair(t);
                if (n == 2) {
                    /* CREATE_CHILD_SA { SA, Ni, TSi(10.1.5.0/24), TSr(10.2.5.0/24) } --> */
                    REQUIRE(t.moon.ep->create_child(id, {*ike::cidr::parse("10.1.5.0/24")},
                                                    {*ike::cidr::parse("10.2.5.0/24")}));
                    t.run();
                }
                check_settled(t, n);
                side& ini = by_moon ? t.moon : t.sun;
                side& resp = by_moon ? t.sun : t.moon;
                auto* old_ini = ini.only_sa();
                REQUIRE(old_ini);
                auto old_spi_i = old_ini->spi_i, old_spi_r = old_ini->spi_r;
                auto old_children = children_of(*old_ini);
                REQUIRE(old_children.size() == n);
                auto ini_reqids = outbound_reqids(ini.installer);
                auto moon_sel = outbound_selectors(t.moon.installer);
                auto sun_sel = outbound_selectors(t.sun.installer);
                auto contacts_before = count_logged(resp, "peer sent INITIAL_CONTACT");

                /* reauth_at on the old IKE SA (160..180 s):                                    */
                /* IKE_SA_INIT { SA, KEi, Ni } -->                 <-- { SA, KEr, Nr }          */
                /* IKE_AUTH { IDi, [IDr], AUTH, SA, TSi, TSr } --> (no N(INITIAL_CONTACT))      */
                /*                                  <-- IKE_AUTH { IDr, AUTH, SA, TSi, TSr }    */
                /* [CREATE_CHILD_SA(new) { SA, Ni, TSi, TSr } --> <-- { SA, Nr, TSi, TSr }]     */
                /* INFORMATIONAL(old) { D(IKE) } -->                <-- INFORMATIONAL(old) { }  */
                std::size_t max_moon = 0, max_sun = 0;
                bool gap = false;
                drive_with(t, 200s, [&] {
                    max_moon = std::max(max_moon, t.moon.ep->sas().size());
                    max_sun = std::max(max_sun, t.sun.ep->sas().size());
                    // No moment without an outbound SA: per reqid on the reauthenticating side
                    // (it keeps the reqids), per selector pair on both.
                    auto now_reqids = outbound_reqids(ini.installer);
                    for (auto r : ini_reqids) gap = gap || !now_reqids.count(r);
                    gap = gap || !covers(t.moon.installer, moon_sel) || !covers(t.sun.installer, sun_sel);
                });
                INFO(t.moon.dump_log() << t.sun.dump_log());
                CHECK_FALSE(gap);
                // The overlap: both IKE SAs of the one configuration existed side by side, and
                // the responder kept the first (no INITIAL_CONTACT on the reauthentication).
                CHECK(max_moon == 2);
                CHECK(max_sun == 2);
                CHECK(count_logged(resp, "peer sent INITIAL_CONTACT") == contacts_before);
                CHECK_FALSE(resp.logged("replaced: peer sent INITIAL_CONTACT"));

                auto inits = t.messages(exchange_type::ike_sa_init, false);
                REQUIRE(inits.size() == 2);
                auto elapsed = inits[1].at - t.messages(exchange_type::ike_auth, true)[0].at;
                CHECK(elapsed >= 160s);
                CHECK(elapsed <= 180s);
                CHECK(t.messages(exchange_type::ike_auth, false).size() == 2);
                CHECK(t.messages(exchange_type::create_child_sa, false).size() == (n == 2 ? 2u : 0u));
                // The old IKE SA deleted under its SPIs, by the reauthenticating side.
                auto dels = t.messages(exchange_type::informational, false);
                REQUIRE(dels.size() == 1);
                CHECK(dels[0].header->spi_i == old_spi_i);
                CHECK(dels[0].header->initiator == by_moon);

                // One new IKE SA on each side, the reauthenticating side its initiator.
                auto* m = t.moon.only_sa();
                auto* s = t.sun.only_sa();
                REQUIRE(m);
                REQUIRE(s);
                CHECK(m->state() == ike_sa_state::established);
                CHECK(s->state() == ike_sa_state::established);
                CHECK(m->spi_i == s->spi_i);
                CHECK(m->spi_r == s->spi_r);
                CHECK(m->spi_i != old_spi_i);
                CHECK(m->spi_r != old_spi_r);
                CHECK(ini.only_sa()->original_initiator);
                CHECK_FALSE(resp.only_sa()->original_initiator);
                // Every CHILD SA recreated: same selectors and reqid, new SPIs.
                auto now_children = children_of(*ini.only_sa());
                REQUIRE(now_children.size() == n);
                for (const auto& o : old_children) {
                    auto it = std::find_if(now_children.begin(), now_children.end(),
                                           [&](const child_view& c) { return c.reqid == o.reqid; });
                    REQUIRE(it != now_children.end());
                    CHECK(it->ts == o.ts);
                    CHECK(it->spi_in != o.spi_in);
                    CHECK(it->spi_out != o.spi_out);
                }
                check_settled(t, n);
                CHECK(t.moon.ep->last_error().empty());
                CHECK(t.sun.ep->last_error().empty());
            }
        }
    }
}

TEST_CASE("Reauthentication uses a PSK changed on both sides", "[exchange][reauth]") {
    two_peers t;
    auto [mc, sc] = reauth_configs(t, true);
    t.start(mc, sc);
    establish_pair(t);
    auto old_sk_d = t.moon.only_sa()->keys.sk_d;
    // The PSK changes in both configurations; the established IKE SA is not affected.
    for (auto* s : {&t.moon, &t.sun})
        s->ep->peers().front()->psks.front().secret = base::secret_bytes(std::string_view("n3w-s3cr3t"));
    /* IKE_SA_INIT, IKE_AUTH { AUTH = prf(prf("n3w-s3cr3t", "Key Pad for IKEv2"), ...) } --> */
    // (Unchecked steps: the responder's new outbound SA is used as soon as it answers, before the
    // initiator has the inbound one; make-before-break is checked in the first test.)
    drive(t, 200s, false);
    INFO(t.moon.dump_log() << t.sun.dump_log());
    // The responder verified AUTH with the new PSK only: the reauthentication used it.
    REQUIRE(t.moon.only_sa());
    REQUIRE(t.sun.only_sa());
    CHECK(t.moon.only_sa()->keys.sk_d != old_sk_d);
    CHECK(t.moon.only_sa()->keys.sk_d == t.sun.only_sa()->keys.sk_d);
    CHECK(t.moon.logged("reauthenticated as IKE SA"));
    CHECK(t.moon.ep->last_error().empty());
    check_settled(t, 1);
}

TEST_CASE("A refused reauthentication keeps the old IKE SA and is retried at the next point",
          "[exchange][reauth]") {
    two_peers t;
    auto [mc, sc] = reauth_configs(t, true);
    t.start(mc, sc);
    establish_pair(t);
    auto old_spi_i = t.moon.only_sa()->spi_i;
    auto esp_before = t.moon.installer.sas;
    // Only sun's PSK changed: moon's reauthentication cannot authenticate.
    t.sun.ep->peers().front()->psks.front().secret = base::secret_bytes(std::string_view("n3w-s3cr3t"));
    /* IKE_SA_INIT --> <-- IKE_SA_INIT; IKE_AUTH { IDi, AUTH(old PSK), ... } --> */
    /* <-- IKE_AUTH { N(AUTHENTICATION_FAILED) }: the new IKE SA is gone, the old one stays */
    drive(t, 200s);
    INFO(t.moon.dump_log() << t.sun.dump_log());
    CHECK(t.messages(exchange_type::ike_sa_init, false).size() == 2);
    CHECK(t.moon.logged("reauthentication failed, keeping this IKE SA"));
    CHECK(t.moon.ep->last_error("sun").find("AUTHENTICATION_FAILED") != std::string::npos);
    CHECK(t.messages(exchange_type::informational, false).empty());
    REQUIRE(t.moon.only_sa());
    REQUIRE(t.sun.only_sa());
    CHECK(t.moon.only_sa()->spi_i == old_spi_i);
    CHECK(t.sun.only_sa()->spi_i == old_spi_i);
    CHECK(t.moon.only_sa()->state() == ike_sa_state::established);
    // The CHILD SAs were never touched.
    CHECK(t.moon.installer.removed.empty());
    CHECK(t.sun.installer.removed.empty());
    CHECK(t.moon.installer.sas.size() == esp_before.size());
    check_settled(t, 1);

    // Once moon has the new PSK too, the retry at the next soft point succeeds.
    t.moon.ep->peers().front()->psks.front().secret = base::secret_bytes(std::string_view("n3w-s3cr3t"));
    drive(t, 200s, false);
    CHECK(t.messages(exchange_type::ike_sa_init, false).size() == 3);
    REQUIRE(t.moon.only_sa());
    CHECK(t.moon.only_sa()->spi_i != old_spi_i);
    CHECK(t.moon.logged("reauthenticated as IKE SA"));
    check_settled(t, 1);
}

TEST_CASE("Break-before-make reauthentication: the old IKE SA is deleted first", "[exchange][reauth]") {
    two_peers t;
    auto [mc, sc] = reauth_configs(t, true, false);
    t.start(mc, sc);
    establish_pair(t);
    auto old_spi_i = t.moon.only_sa()->spi_i;
    auto old_reqid = t.moon.only_sa()->children.front()->reqid;
    /* INFORMATIONAL(old) { D(IKE) } -->  (old CHILD SAs removed here)               */
    /* IKE_SA_INIT --> ... IKE_AUTH { IDi, AUTH, SA, TSi, TSr } -->  <-- IKE_AUTH      */
    bool broke = false, overlap = false;
    drive_with(t, 200s, [&] {
        broke = broke || t.moon.installer.count(sa_direction::outbound) == 0;
        overlap = overlap || (t.moon.ep->sas().size() > 1 && t.moon.installer.count(sa_direction::outbound) > 1);
    });
    INFO(t.moon.dump_log() << t.sun.dump_log());
    CHECK(broke);
    CHECK_FALSE(overlap);
    auto dels = t.messages(exchange_type::informational, false);
    REQUIRE(dels.size() == 1);
    CHECK(dels[0].header->spi_i == old_spi_i);
    // The DELETE went out before the new IKE_SA_INIT.
    auto inits = t.messages(exchange_type::ike_sa_init, false);
    REQUIRE(inits.size() == 2);
    auto del_pos = std::find_if(t.wire.begin(), t.wire.end(), [](const wire_message& w) {
        return w.header && w.header->exchange == exchange_type::informational;
    });
    auto init_pos = std::find_if(del_pos, t.wire.end(), [](const wire_message& w) {
        return w.header && w.header->exchange == exchange_type::ike_sa_init;
    });
    CHECK(init_pos != t.wire.end());
    REQUIRE(t.moon.only_sa());
    REQUIRE(t.sun.only_sa());
    CHECK(t.moon.only_sa()->spi_i != old_spi_i);
    REQUIRE(t.moon.only_sa()->children.size() == 1);
    CHECK(t.moon.only_sa()->children.front()->reqid == old_reqid);
    check_settled(t, 1);
}

TEST_CASE("Reauthentication over a lossy network ends with one IKE SA and all CHILD SAs", "[exchange][reauth][loss]") {
    for (std::uint32_t seed : {1u, 2u, 3u, 4u, 5u, 6u}) {
        DYNAMIC_SECTION("seed " << seed) {
            two_peers t(false, seed);
            auto [mc, sc] = reauth_configs(t, seed % 2 == 1);
            t.start(mc, sc);
            auto id = establish_pair(t);
            REQUIRE(t.moon.ep->create_child(id, {*ike::cidr::parse("10.1.7.0/24")}, {*ike::cidr::parse("10.2.7.0/24")}));
            t.run();
            check_settled(t, 2);
            auto old_spi_i = t.moon.only_sa()->spi_i;
            /* the same exchanges as above, a quarter of all datagrams lost (retransmissions) */
            t.net.set_loss(0.25);
            drive(t, 175s, false);
            t.net.set_loss(0.0);
            // Let the retransmissions finish; nothing else is due for a long while.
            drive(t, 120s, false);
            INFO(t.moon.dump_log() << t.sun.dump_log());
            auto* m = t.moon.only_sa();
            auto* s = t.sun.only_sa();
            REQUIRE(m);
            REQUIRE(s);
            CHECK(m->state() == ike_sa_state::established);
            CHECK(m->spi_i == s->spi_i);
            // Reauthenticated, or (if the new IKE SA died of the loss) the old one kept.
            if (m->spi_i == old_spi_i) CHECK((t.moon.logged("reauthentication failed") || t.sun.logged("reauthentication failed")));
            check_settled(t, 2);
        }
    }
}
