// An IKE_SA_INIT flood from thousands of spoofed source addresses (RFC 7296 2.6, RFC 8019 4)
// while an established IKE SA between moon and sun rekeys a CHILD SA and then itself, and a new
// legitimate peer (star) connects through a COOKIE. Bounded: 6 x 1000 forged requests, each from
// its own address in 10.64.0.0/10 (nobody answers there: the COOKIE replies are lost).
// Asserted: sun does DH work only for the first cookie_threshold forged requests (counted by its
// key exchange factory), its half-open SAs and IKE SAs stay bounded, the established SA's rekeys
// complete with the installer invariants kept, star gets in, and when the flood is over the
// half-open SAs time out and cookies are no longer required.
#include "dos_driver.hpp"

using namespace exchange_test;
using ike::exchange_type;
using ike::ike_sa_state;
using ike::sa_direction;
using namespace std::chrono_literals;

namespace {

constexpr int batch = 1000;

// Queues `batch` forged IKE_SA_INITs, each from a new spoofed address, behind what is queued.
void flood(two_peers& t, init_forger& f, std::uint32_t& next_source) {
    for (int i = 0; i < batch; ++i, ++next_source) {
        auto a = boost::asio::ip::address_v4(0x0A400000u + next_source);  // 10.64.0.0 + n
        inject(t, f, {ike::ip_address(a), f.spi(), f.nonce()});
    }
}

} // namespace

TEST_CASE("DoS flood: spoofed IKE_SA_INITs cost no DH work past the threshold, established SAs rekey and a new "
          "peer connects through a COOKIE",
          "[exchange][dos][flood]") {
    counting_ke_factory sun_ke;
    two_peers t;
    side star;
    init_forger forge;
    std::uint32_t source = 1;

    ike::endpoint_options sun_opts;
    sun_opts.ke_factory = &sun_ke;  // strongSwan defaults: 30 / 3 per source / block 5 / cap 1000 / 30 s
    auto mc = t.config_for(t.moon, t.sun, "sun");
    auto sc = t.config_for(t.sun, t.moon, "moon");
    mc.dpd_delay = sc.dpd_delay = ike::duration(0);
    t.start(mc, sc, std::move(sun_opts));
    t.sun.ep->add_peer(any_peer_config(t));
    start_star(t, star);
    const auto threshold = t.sun.ep->dos().options().cookie_threshold;
    REQUIRE(threshold == 30);

    establish_pair(t);
    CHECK(t.sun.ep->dos().half_open() == 0);
    auto ke_established = sun_ke.created;  // sun's KE for moon's IKE_SA_INIT
    CHECK(ke_established == 1);

    // Bounds that must hold after every phase: the flood's SAs never exceed the threshold.
    auto check_bounded = [&] {
        CHECK(t.sun.ep->dos().half_open() <= threshold + 1);  // + star's own while it connects
        CHECK(t.sun.ep->sas().size() <= threshold + 4);        // + moon old/new IKE SA, star
    };

    // ---- Phase 1: 1000 spoofed IKE_SA_INIT { HDR(X,0), SAi1, KEi, Ni } --> ----
    flood(t, forge, source);
    t.net.flush(std::size_t(-1));
    /* the first 30: <-- IKE_SA_INIT { HDR(X,X'), SAr1, KEr, Nr } (half-open, DH done) */
    /* the other 970: <-- IKE_SA_INIT { HDR(X,0), N(COOKIE) } (stateless, no DH) */
    CHECK(t.sun.ep->dos().half_open() == threshold);
    CHECK(sun_ke.created == ke_established + threshold);
    CHECK(t.sun.ep->dos().counters().cookie_sent == batch - threshold);
    check_bounded();

    // ---- Phase 2: CHILD SA rekey on the established IKE SA, interleaved with 1000 more ----
    auto* m = t.moon.only_sa();
    REQUIRE(m);
    auto old_child_in = m->children.front()->spi_in;
    flood(t, forge, source);
    /* CREATE_CHILD_SA { N(REKEY_SA), SA, Ni, TSi, TSr } --> (behind 1000 forged requests) */
    m->tasks.queue(ike::make_child_rekey_task(old_child_in));
    m->tasks.initiate();
    flood(t, forge, source);
    /* <-- CREATE_CHILD_SA { SA, Nr, TSi, TSr };  INFORMATIONAL { D(ESP) } --> <-- */
    drive_all(t, {&t.moon, &t.sun, &star}, 6s);  // past the rekeyed SA's 5 s grace period
    CHECK(sun_ke.created == ke_established + threshold);  // no PFS configured: no KE at all
    CHECK_FALSE(m->find_child_by_spi_in(old_child_in));
    check_settled(t, 1);
    check_bounded();

    // ---- Phase 3: IKE SA rekey, interleaved with 1000 more ----
    auto old_spi_i = m->spi_i;
    m->tasks.queue(ike::make_ike_rekey_task());
    m->tasks.initiate();
    /* CREATE_CHILD_SA { SA(IKE), Ni, KEi } --> <-- { SA(IKE), Nr, KEr };  INFORMATIONAL { D } --> <-- */
    flood(t, forge, source);
    drive_all(t, {&t.moon, &t.sun, &star}, 1s);
    auto* m2 = t.moon.only_sa();
    auto* s2 = [&]() -> ike::ike_sa* {
        for (auto* sa : t.sun.ep->sas())
            if (&sa->cfg == t.sun.ep->peers().front().get() && sa->state() == ike_sa_state::established) return sa;
        return nullptr;
    }();
    REQUIRE(m2);
    REQUIRE(s2);
    CHECK(m2->spi_i != old_spi_i);
    CHECK(m2->state() == ike_sa_state::established);
    CHECK(m2->spi_i == s2->spi_i);
    CHECK(m2->keys.sk_d == s2->keys.sk_d);
    CHECK(m2->children.size() == 1);
    CHECK(sun_ke.created == ke_established + threshold + 1);  // the IKE rekey's KEr only
    check_settled(t, 1);
    check_bounded();

    // ---- Phase 4: star connects while 1000 more arrive ----
    flood(t, forge, source);
    /* IKE_SA_INIT { HDR(S,0), SAi1, KEi, Ni } --> */
    /* <-- IKE_SA_INIT { HDR(S,0), N(COOKIE) } */
    /* IKE_SA_INIT { HDR(S,0), N(COOKIE), SAi1, KEi, Ni } --> <-- { HDR(S,S'), SAr1, KEr, Nr } */
    /* IKE_AUTH --> <-- IKE_AUTH */
    auto star_id = star.ep->initiate("sun");
    REQUIRE(star_id);
    flood(t, forge, source);
    drive_all(t, {&t.moon, &t.sun, &star}, 1s);
    auto* st = star.ep->find(*star_id);
    REQUIRE(st);
    CHECK(st->state() == ike_sa_state::established);
    CHECK(star.installer.count(sa_direction::outbound) == 1);
    CHECK(t.sun.ep->dos().counters().cookie_accepted == 1);
    CHECK(sun_ke.created == ke_established + threshold + 2);
    check_bounded();

    // Totals: 6000 forged requests, 30 got state, the rest a stateless cookie; nothing dropped
    // by the block or the cap (each source sent one request).
    const auto& c = t.sun.ep->dos().counters();
    CHECK(c.cookie_sent == std::uint64_t(6 * batch - threshold + 1));  // + star's first request
    CHECK(c.bad_cookie == 0);
    CHECK(c.blocked_source == 0);
    CHECK(c.half_open_cap == 0);

    // ---- After the flood: the 30 half-open SAs time out, cookies are no longer required ----
    drive_all(t, {&t.moon, &t.sun, &star}, 45s);
    CHECK(t.sun.ep->dos().half_open() == 0);
    CHECK(t.sun.ep->dos().counters().half_open_timeout == threshold);
    CHECK_FALSE(t.sun.ep->dos().cookie_required(addr("10.64.200.1")));
    CHECK(t.sun.ep->sas().size() == 2);  // moon's (rekeyed) and star's
    CHECK(t.moon.only_sa()->state() == ike_sa_state::established);
    CHECK(st->state() == ike_sa_state::established);
    // One CHILD SA each between moon and sun and between star and sun, mirrored.
    for (auto* s : {&t.moon, &star}) {
        CHECK(s->installer.count(sa_direction::inbound) == 1);
        CHECK(s->installer.count(sa_direction::outbound) == 1);
        for (const auto& [k, v] : s->installer.sas) {
            auto mirror = k.first == sa_direction::inbound ? sa_direction::outbound : sa_direction::inbound;
            CHECK(t.sun.installer.sas.count({mirror, k.second}) == 1);
        }
    }
    CHECK(t.sun.installer.sas.size() == 4);
}
