// Responder DoS protection (RFC 7296 2.6, RFC 8019, strongSwan's receiver rules; dos_guard.hpp):
// COOKIEs once half-open IKE SAs reach a threshold (globally and per source) and off again when
// they complete or time out, per-source blocking, the half-open cap, the half-open timeout, and
// cookies that must not verify (forged, for another SPIi/Ni/address, replayed, made with a
// secret that has been replaced twice). Attackers are datagrams injected with any source.
#include "dos_driver.hpp"

using namespace exchange_test;
using ike::exchange_type;
using ike::ike_sa_state;
using namespace std::chrono_literals;

namespace {

struct dos_fixture {
    counting_ke_factory sun_ke;
    two_peers t;
    init_forger forge;

    explicit dos_fixture(ike::dos_options dos, bool always = false) {
        ike::endpoint_options sun_opts;
        sun_opts.ke_factory = &sun_ke;
        sun_opts.dos = dos;
        sun_opts.require_cookie = always;
        auto mc = t.config_for(t.moon, t.sun, "sun");
        auto sc = t.config_for(t.sun, t.moon, "moon");
        mc.dpd_delay = sc.dpd_delay = ike::duration(0);
        mc.send_initial_contact = false;  // moon keeps several IKE SAs with sun in one test
        t.start(mc, sc, std::move(sun_opts));
        t.sun.ep->add_peer(any_peer_config(t));
    }
    forged_init from(const char* address) { return {addr(address), forge.spi(), forge.nonce()}; }
    void send(const forged_init& i, const std::vector<std::uint8_t>& cookie = {}) {
        inject(t, forge, i, cookie);
        t.net.flush(std::size_t(-1));
    }
    [[nodiscard]] const ike::dos_counters& counters() const { return t.sun.ep->dos().counters(); }
    [[nodiscard]] std::size_t half_open() const { return t.sun.ep->dos().half_open(); }
};

ike::dos_options thresholds(unsigned global, unsigned per_ip, unsigned block, unsigned cap) {
    ike::dos_options o;
    o.cookie_threshold = global;
    o.cookie_threshold_ip = per_ip;
    o.block_threshold = block;
    o.init_limit_half_open = cap;
    return o;
}

} // namespace

TEST_CASE("DoS: the global threshold turns COOKIEs on, completed and timed-out half-open SAs turn them off",
          "[exchange][dos]") {
    auto o = thresholds(3, 0, 0, 0);
    o.cookie_calmdown = 0s;
    dos_fixture f(o);
    auto& t = f.t;
    // Three IKE SAs from moon whose IKE_AUTH is held back: three half-open SAs on sun.
    t.net.set_drop_filter([](const ike::memory_datagram& d) {
        auto h = ike::parse_header(d.data);
        return h && h->exchange == exchange_type::ike_auth;
    });
    for (int i = 0; i < 3; ++i) t.moon.ep->initiate("sun");
    /* 3x IKE_SA_INIT { HDR, SAi1, KEi, Ni } -->   <-- { HDR, SAr1, KEr, Nr }   (IKE_AUTH lost) */
    t.run();
    CHECK(f.half_open() == 3);
    CHECK(f.sun_ke.created == 3);
    CHECK(f.counters().cookie_sent == 0);

    // Threshold reached: anybody, from any address, is asked for a COOKIE first.
    auto a = f.from("10.9.0.1");
    /* IKE_SA_INIT { HDR(A,0), SAi1, KEi, Ni } --> */
    f.send(a);
    /* <-- IKE_SA_INIT { HDR(A,0), N(COOKIE) } */
    auto cookie = cookie_sent_to(t, a.from, a.spi_i);
    CHECK_FALSE(cookie.empty());
    CHECK(f.counters().cookie_sent == 1);
    CHECK(f.sun_ke.created == 3);  // no DH work, and no IKE SA for it
    CHECK(t.sun.ep->sas().size() == 3);

    // The IKE_AUTHs get through (moon's retransmissions): the half-open SAs complete...
    t.net.set_drop_filter(nullptr);
    t.advance(5s);
    t.run();
    INFO(t.moon.dump_log() << t.sun.dump_log());
    CHECK(f.half_open() == 0);
    for (auto* sa : t.sun.ep->sas()) CHECK(sa->state() == ike_sa_state::established);
    // ...and cookies are off again: a new initiator gets a full answer at once.
    auto b = f.from("10.9.0.2");
    /* IKE_SA_INIT { HDR(B,0), SAi1, KEi, Ni } -->   <-- { HDR(B,B'), SAr1, KEr, Nr } */
    f.send(b);
    CHECK(cookie_sent_to(t, b.from, b.spi_i).empty());
    CHECK(full_responses_to(t, b.from) == 1);
    CHECK(f.half_open() == 1);

    // Three more forged ones reach the threshold again; they never complete and time out.
    for (const char* s : {"10.9.0.3", "10.9.0.4"}) f.send(f.from(s));
    CHECK(f.half_open() == 3);
    auto c = f.from("10.9.0.5");
    f.send(c);
    CHECK_FALSE(cookie_sent_to(t, c.from, c.spi_i).empty());
    t.advance(31s);
    CHECK(f.half_open() == 0);
    CHECK(f.counters().half_open_timeout == 3);
    CHECK(t.sun.ep->sas().size() == 3);  // moon's three established IKE SAs stay
    auto d = f.from("10.9.0.6");
    f.send(d);
    CHECK(cookie_sent_to(t, d.from, d.spi_i).empty());
    CHECK(full_responses_to(t, d.from) == 1);
}

TEST_CASE("DoS: cookies stay on for the calm-down period after the threshold was reached", "[exchange][dos]") {
    auto o = thresholds(2, 0, 0, 0);
    o.cookie_calmdown = 10s;
    o.half_open_timeout = 5s;
    dos_fixture f(o);
    for (const char* s : {"10.9.1.1", "10.9.1.2"}) f.send(f.from(s));
    auto a = f.from("10.9.1.3");
    f.send(a);
    CHECK_FALSE(cookie_sent_to(f.t, a.from, a.spi_i).empty());
    f.t.advance(6s);  // both half-open SAs timed out
    CHECK(f.half_open() == 0);
    auto b = f.from("10.9.1.4");
    f.send(b);  // still within 10 s of the last time the threshold was reached
    CHECK_FALSE(cookie_sent_to(f.t, b.from, b.spi_i).empty());
    f.t.advance(5s);
    auto c = f.from("10.9.1.5");
    f.send(c);
    CHECK(cookie_sent_to(f.t, c.from, c.spi_i).empty());
    CHECK(f.half_open() == 1);
}

TEST_CASE("DoS: per-source cookie threshold and per-source block (strongSwan 3 / 5)", "[exchange][dos]") {
    dos_fixture f(thresholds(30, 3, 5, 1000));
    auto& t = f.t;
    // Three half-open SAs from one address are answered without a cookie.
    for (int i = 0; i < 3; ++i) f.send(f.from("10.9.2.1"));
    CHECK(f.half_open() == 3);
    CHECK(t.sun.ep->dos().half_open_from(addr("10.9.2.1")) == 3);
    CHECK(f.counters().cookie_sent == 0);

    // The fourth from that address must carry a cookie; another address need not.
    auto x = f.from("10.9.2.1");
    /* IKE_SA_INIT { HDR(X,0), SAi1, KEi, Ni } -->   <-- { HDR(X,0), N(COOKIE) } */
    f.send(x);
    auto cookie = cookie_sent_to(t, x.from, x.spi_i);
    REQUIRE_FALSE(cookie.empty());
    CHECK(f.half_open() == 3);
    auto other = f.from("10.9.2.2");
    f.send(other);
    CHECK(cookie_sent_to(t, other.from, other.spi_i).empty());
    CHECK(f.half_open() == 4);

    // With the cookie it is accepted (a source that answers cookies is reachable).
    /* IKE_SA_INIT { HDR(X,0), N(COOKIE), SAi1, KEi, Ni } -->   <-- { HDR(X,X'), SAr1, KEr, Nr } */
    f.send(x, cookie);
    CHECK(f.counters().cookie_accepted == 1);
    CHECK(t.sun.ep->dos().half_open_from(x.from) == 4);
    auto y = f.from("10.9.2.1");
    f.send(y);
    f.send(y, cookie_sent_to(t, y.from, y.spi_i));
    CHECK(t.sun.ep->dos().half_open_from(x.from) == 5);

    // Five half-open from that address: blocked, even with a valid cookie, and nothing is sent.
    auto z = f.from("10.9.2.1");
    f.send(z);
    auto zc = cookie_sent_to(t, z.from, z.spi_i);
    REQUIRE_FALSE(zc.empty());
    auto wire_before = t.wire.size();
    auto ke_before = f.sun_ke.created;
    f.send(z, zc);
    CHECK(f.counters().blocked_source == 1);
    CHECK(t.wire.size() == wire_before);  // no answer at all
    CHECK(f.sun_ke.created == ke_before);
    CHECK(t.sun.ep->dos().half_open_from(x.from) == 5);

    // The other address is not affected by the block.
    f.send(f.from("10.9.2.3"));
    CHECK(f.half_open() == 7);
}

TEST_CASE("DoS: the half-open cap drops new IKE_SA_INITs (counted) until half-open SAs time out",
          "[exchange][dos]") {
    dos_fixture f(thresholds(0, 0, 0, 10));
    auto& t = f.t;
    for (int i = 0; i < 15; ++i) f.send(f.from(("10.9.3." + std::to_string(i + 1)).c_str()));
    CHECK(f.half_open() == 10);
    CHECK(f.counters().half_open_cap == 5);
    CHECK(f.sun_ke.created == 10);  // no DH for dropped requests
    CHECK(t.sun.ep->sas().size() == 10);
    // Established and retransmitted traffic is not IKE_SA_INIT with SPIr = 0: moon cannot set up
    // an IKE SA now, but one already up is unaffected (see the flood test); after the timeout
    // there is room again.
    t.advance(31s);
    CHECK(f.half_open() == 0);
    CHECK(f.counters().half_open_timeout == 10);
    t.moon.ep->initiate("sun");
    t.run();
    REQUIRE(t.moon.only_sa());
    CHECK(t.moon.only_sa()->state() == ike_sa_state::established);
    CHECK(f.half_open() == 0);
}

TEST_CASE("DoS: the initiator gets through a required COOKIE, a retransmitted request makes no new SA",
          "[exchange][dos]") {
    dos_fixture f(thresholds(1, 0, 0, 0));
    auto& t = f.t;
    f.send(f.from("10.9.4.1"));  // one half-open SA: threshold 1 reached
    REQUIRE(f.half_open() == 1);
    /* IKE_SA_INIT { HDR(A,0), SAi1, KEi, Ni } --> */
    /* <-- IKE_SA_INIT { HDR(A,0), N(COOKIE) } */
    /* IKE_SA_INIT { HDR(A,0), N(COOKIE), SAi1, KEi, Ni } --> */
    /* <-- IKE_SA_INIT { HDR(A,B), SAr1, KEr, Nr } */
    /* IKE_AUTH --> <-- IKE_AUTH */
    t.moon.ep->initiate("sun");
    t.run();
    INFO(t.moon.dump_log() << t.sun.dump_log());
    REQUIRE(t.moon.only_sa());
    CHECK(t.moon.only_sa()->state() == ike_sa_state::established);
    CHECK(f.counters().cookie_sent == 1);
    CHECK(f.counters().cookie_accepted == 1);
    CHECK(t.messages(exchange_type::ike_sa_init, false).size() == 2);
    CHECK(f.sun_ke.created == 2);  // the forged one and moon's second request

    // A replay of moon's accepted request (with its valid cookie) finds the existing IKE SA.
    auto replay = t.messages(exchange_type::ike_sa_init, false).back().d;
    auto sas_before = t.sun.ep->sas().size();
    t.net.inject(replay);
    t.run();
    CHECK(t.sun.ep->sas().size() == sas_before);
    CHECK(f.sun_ke.created == 2);
    CHECK(t.moon.only_sa()->state() == ike_sa_state::established);
}

TEST_CASE("DoS: cookies that must not verify: forged, other SPIi, other Ni, other address, truncated",
          "[exchange][dos]") {
    dos_fixture f(thresholds(30, 3, 5, 1000), true);  // require_cookie: always
    auto& t = f.t;
    auto a = f.from("10.9.5.1");
    /* IKE_SA_INIT { HDR(A,0), SAi1, KEi, Ni } -->   <-- { HDR(A,0), N(COOKIE) } */
    f.send(a);
    auto cookie = cookie_sent_to(t, a.from, a.spi_i);
    REQUIRE(cookie.size() == 33);  // version byte + HMAC-SHA-256
    CHECK(f.counters().cookie_sent == 1);

    SECTION("forged: one bit flipped") {
        auto bad = cookie;
        bad[10] ^= 0x01;
        f.send(a, bad);
    }
    SECTION("unknown secret version") {
        auto bad = cookie;
        bad[0] ^= 0x80;
        f.send(a, bad);
    }
    SECTION("replayed for another SPIi") {
        auto other = a;
        other.spi_i = f.forge.spi();
        f.send(other, cookie);
    }
    SECTION("replayed with another Ni") {
        auto other = a;
        other.nonce = f.forge.nonce();
        f.send(other, cookie);
    }
    SECTION("replayed from another address") {
        auto other = a;
        other.from = addr("10.9.5.2");
        f.send(other, cookie);
    }
    SECTION("truncated") {
        f.send(a, std::vector<std::uint8_t>(cookie.begin(), cookie.begin() + 16));
    }
    CHECK(f.counters().bad_cookie == 1);
    CHECK(f.counters().cookie_sent == 2);  // a fresh cookie for the bad one (stateless)
    CHECK(f.counters().cookie_accepted == 0);
    CHECK(f.sun_ke.created == 0);
    CHECK(t.sun.ep->sas().empty());
    CHECK(f.half_open() == 0);
}

TEST_CASE("DoS: the cookie secret rotates, the previous secret is accepted for one more period",
          "[exchange][dos]") {
    auto o = thresholds(0, 0, 0, 0);
    o.cookie_secret_lifetime = 60s;
    dos_fixture f(o, true);
    auto& t = f.t;
    auto v0 = t.sun.ep->dos().secret_version();
    auto a = f.from("10.9.6.1");
    auto b = f.from("10.9.6.2");
    f.send(a);
    f.send(b);
    auto ca = cookie_sent_to(t, a.from, a.spi_i);
    auto cb = cookie_sent_to(t, b.from, b.spi_i);
    REQUIRE(ca.size() == 33);
    CHECK(ca[0] == v0);

    // One period later: a new secret (version + 1); a's cookie of the previous one still works.
    t.clock.advance(61s);
    auto c = f.from("10.9.6.3");
    f.send(c);
    auto cc = cookie_sent_to(t, c.from, c.spi_i);
    CHECK(t.sun.ep->dos().secret_version() == std::uint8_t(v0 + 1));
    CHECK(cc[0] == std::uint8_t(v0 + 1));
    /* IKE_SA_INIT { HDR(A,0), N(COOKIE(v0)), SAi1, KEi, Ni } -->   <-- { HDR(A,A'), SAr1, KEr, Nr } */
    f.send(a, ca);
    CHECK(f.counters().cookie_accepted == 1);
    CHECK(full_responses_to(t, a.from) == 1);

    // Another period: version + 2; b's cookie (v0) is two secrets old and refused, c's (v0 + 1) works.
    t.clock.advance(61s);
    auto d = f.from("10.9.6.4");
    f.send(d);
    CHECK(t.sun.ep->dos().secret_version() == std::uint8_t(v0 + 2));
    /* IKE_SA_INIT { HDR(B,0), N(COOKIE(v0)), ... } -->   <-- { HDR(B,0), N(COOKIE(v0 + 2)) } */
    f.send(b, cb);
    CHECK(f.counters().bad_cookie == 1);
    CHECK(full_responses_to(t, b.from) == 0);
    CHECK(cookie_sent_to(t, b.from, b.spi_i)[0] == std::uint8_t(v0 + 2));
    f.send(c, cc);
    CHECK(f.counters().cookie_accepted == 2);

    // Idle for two periods: nothing older than the fresh secret is valid.
    auto e = f.from("10.9.6.5");
    f.send(e);
    auto ce = cookie_sent_to(t, e.from, e.spi_i);
    t.clock.advance(150s);
    f.send(e, ce);
    CHECK(f.counters().bad_cookie == 2);
    CHECK(full_responses_to(t, e.from) == 0);
    CHECK(f.sun_ke.created == 2);
}
