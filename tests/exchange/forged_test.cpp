// Forged and replayed IKE messages during a CHILD SA rekey and an IKE SA rekey change nothing
// (RFC 7296 2.1, 2.2, 2.21.2): before each real message of the rekey exchanges is delivered, an
// attacker on the path puts in front of it
//   - the same message with a flipped bit in the encrypted body and in the ICV (integrity check
//     fails: dropped silently, before any state is touched),
//   - the same message with the other side's SPI changed (no IKE SA: dropped),
//   - the same message with a Message ID outside the window,
//   - a replay of every earlier message of the conversation, requests and responses, including
//     those of the IKE SA that has been rekeyed away.
// After the forgeries both sides' state (installed SAs, IKE SAs, CHILD SAs, Message IDs) is
// exactly what it was, and the real message then completes the rekey as if nothing happened.
#include "rekey_driver.hpp"

#include <tuple>

using namespace exchange_test;
using ike::exchange_type;
using ike::ike_sa_state;
using namespace std::chrono_literals;

namespace {

// Everything an attacker could have changed on one side.
using sa_snapshot = std::vector<std::tuple<std::uint32_t, ike::ike_sa_state, ike::ike_spi, ike::ike_spi, std::uint32_t,
                                           std::uint32_t, std::vector<std::pair<std::uint32_t, std::uint32_t>>>>;

std::pair<std::vector<std::pair<ike::sa_direction, std::uint32_t>>, sa_snapshot> snapshot(side& s) {
    std::vector<std::pair<ike::sa_direction, std::uint32_t>> installed;
    for (const auto& [k, v] : s.installer.sas) installed.push_back(k);
    sa_snapshot ikes;
    for (auto* sa : s.ep->sas()) {
        std::vector<std::pair<std::uint32_t, std::uint32_t>> children;
        for (const auto& c : sa->children)
            if (c->sm.state() != ike::child_sa_state::destroyed) children.emplace_back(c->spi_in, c->spi_out);
        ikes.emplace_back(sa->unique_id, sa->state(), sa->spi_i, sa->spi_r, sa->tasks.next_request_id(),
                          sa->tasks.expected_request_id(), children);
    }
    return {installed, ikes};
}

std::vector<ike::memory_datagram> forgeries_of(const ike::memory_datagram& real, const std::vector<wire_message>& history,
                                               bool replay_init_requests) {
    std::vector<ike::memory_datagram> out;
    auto variant = [&](auto change) {
        ike::memory_datagram d = real;
        change(d.data);
        out.push_back(std::move(d));
    };
    REQUIRE(real.data.size() > 64);
    variant([](auto& b) { b[b.size() - 1] ^= 0x01; });       // ICV
    variant([](auto& b) { b[b.size() / 2 + 20] ^= 0x80; });  // encrypted body
    variant([](auto& b) { b[0] ^= 0x01; });                  // SPIi
    variant([](auto& b) { b[8] ^= 0x01; });                  // SPIr
    variant([](auto& b) { b[20] ^= 0x10; });                 // Message ID + 2^28
    // Replays of everything said before, in both directions.
    for (const auto& w : history) {
        if (w.d.data == real.data) continue;  // that would be delivering it
        bool init_request = w.header && w.header->exchange == exchange_type::ike_sa_init && !w.header->response;
        if (w.header && (replay_init_requests || !init_request)) out.push_back(w.d);
    }
    return out;
}

// Delivers the one real datagram that is queued, with the forgeries in front of it; checks that
// the forgeries changed nothing on either side.
void deliver_through_attacker(two_peers& t, const std::vector<wire_message>& history, bool replay_init_requests) {
    REQUIRE(t.net.queued() == 1);
    auto real = t.net.queue().front();
    t.net.clear();
    auto moon_before = snapshot(t.moon);
    auto sun_before = snapshot(t.sun);
    auto installs_before = t.moon.installer.installed.size() + t.sun.installer.installed.size();
    auto forged = forgeries_of(real, history, replay_init_requests);
    for (auto& d : forged) t.net.inject(std::move(d));
    // The forgeries, and whatever they trigger. A replay of the request whose answer is in flight
    // makes the peer re-send that answer from its response cache (RFC 7296 2.1): byte for byte
    // the real message, held back here so that it arrives once, after the forgeries.
    t.net.set_drop_filter([&real](const ike::memory_datagram& d) { return d.data == real.data; });
    t.net.flush(std::size_t(-1));
    t.net.set_drop_filter(nullptr);
    CHECK(snapshot(t.moon) == moon_before);
    CHECK(snapshot(t.sun) == sun_before);
    CHECK(t.moon.installer.installed.size() + t.sun.installer.installed.size() == installs_before);
    t.net.inject(std::move(real));
}

// Runs the queued exchange step by step through the attacker until nothing is in flight.
void run_through_attacker(two_peers& t, bool replay_init_requests, int max_steps = 10) {
    for (int i = 0; i < max_steps && t.net.queued() == 1; ++i) {
        auto history = t.wire;  // everything said so far
        deliver_through_attacker(t, history, replay_init_requests);
        REQUIRE(t.net.deliver_one());
    }
    CHECK(t.net.queued() == 0);
}

std::pair<ike::peer_config, ike::peer_config> quiet_configs(two_peers& t) {
    auto mc = t.config_for(t.moon, t.sun, "sun");
    auto sc = t.config_for(t.sun, t.moon, "moon");
    mc.dpd_delay = sc.dpd_delay = ike::duration(0);
    mc.child_lifetime_seconds = sc.child_lifetime_seconds = 100000;
    mc.ike_lifetime_seconds = sc.ike_lifetime_seconds = 100000;
    return {mc, sc};
}

} // namespace

TEST_CASE("forged and replayed messages during a CHILD SA rekey change nothing", "[exchange][forged]") {
    for (bool pfs : {false, true}) {
        DYNAMIC_SECTION((pfs ? "with PFS" : "without PFS")) {
            two_peers t;
            auto [mc, sc] = quiet_configs(t);
            if (pfs) mc.esp_proposals = sc.esp_proposals = {"aes256-sha256-modp2048"};
            t.start(mc, sc);
            establish_pair(t);
            auto* m = t.moon.only_sa();
            auto* s = t.sun.only_sa();
            auto old_in = m->children.front()->spi_in;
            auto old_out = m->children.front()->spi_out;
            m->tasks.queue(ike::make_child_rekey_task(old_in));
            m->tasks.initiate();
            /* CREATE_CHILD_SA { N(REKEY_SA), SA, Ni, [KEi,] TSi, TSr } -->   (after the forgeries) */
            /* <-- CREATE_CHILD_SA { SA, Nr, [KEr,] TSi, TSr }                 (after the forgeries) */
            /* INFORMATIONAL { D(ESP old) } -->  <-- INFORMATIONAL { D(ESP old) } (after the forgeries) */
            run_through_attacker(t, true);
            drive(t, 6s);  // the old inbound SA's grace period
            INFO(t.moon.dump_log() << t.sun.dump_log());
            check_settled(t, 1);
            // The forgeries did reach both IKE SAs and were turned away there.
            CHECK(t.moon.logged(ike::icv_failed_reason));
            CHECK(t.sun.logged(ike::icv_failed_reason));
            CHECK(t.sun.logged("re-sending our response"));
            CHECK(m->state() == ike_sa_state::established);
            CHECK(s->state() == ike_sa_state::established);
            CHECK(m->find_child_by_reqid(1) != nullptr);
            CHECK(m->find_child_by_reqid(1)->spi_in != old_in);
            CHECK(m->find_child_by_spi_in(old_in) == nullptr);
            CHECK(s->find_child_by_spi_in(old_out) == nullptr);
            // Exactly one rekey: the first CHILD SA and its successor, two SAs per side each.
            CHECK(t.moon.installer.installed.size() == 4);
            CHECK(t.sun.installer.installed.size() == 4);
            CHECK(m->tasks.next_request_id() == 4);  // IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA, INFORMATIONAL
            CHECK(s->tasks.expected_request_id() == 4);
        }
    }
}

TEST_CASE("forged and replayed messages during an IKE SA rekey change nothing", "[exchange][forged]") {
    two_peers t;
    auto [mc, sc] = quiet_configs(t);
    t.start(mc, sc);
    establish_pair(t);
    // A CHILD rekey first, so the history holds more to replay.
    auto* m = t.moon.only_sa();
    m->tasks.queue(ike::make_child_rekey_task(m->children.front()->spi_in));
    m->tasks.initiate();
    drive(t, 6s);
    auto old_spi_i = m->spi_i;
    auto old_sk_d = m->keys.sk_d;
    auto esp_before = t.moon.installer.sas;

    /* CREATE_CHILD_SA(old) { SA(IKE, SPIi'), Ni, KEi } -->      (after the forgeries) */
    /* <-- CREATE_CHILD_SA(old) { SA(IKE, SPIr'), Nr, KEr }       (after the forgeries) */
    /* INFORMATIONAL(old) { D(IKE) } -->  <-- INFORMATIONAL(old) { } (after the forgeries) */
    m->tasks.queue(ike::make_ike_rekey_task());
    m->tasks.initiate();
    // Replayed IKE_SA_INIT requests are left out here: once the old IKE SA is gone, one is
    // indistinguishable from a new initiation (see the end of this test).
    run_through_attacker(t, false);
    INFO(t.moon.dump_log() << t.sun.dump_log());
    auto* m2 = t.moon.only_sa();
    auto* s2 = t.sun.only_sa();
    REQUIRE(m2);
    REQUIRE(s2);
    CHECK(m2->state() == ike_sa_state::established);
    CHECK(s2->state() == ike_sa_state::established);
    CHECK(m2->spi_i != old_spi_i);
    CHECK(m2->spi_i == s2->spi_i);
    CHECK(m2->spi_r == s2->spi_r);
    CHECK_FALSE(m2->keys.sk_d == old_sk_d);
    CHECK(m2->keys.sk_d == s2->keys.sk_d);
    CHECK(t.moon.installer.sas.size() == esp_before.size());  // CHILD SAs moved untouched
    for (const auto& [k, v] : esp_before) CHECK(t.moon.installer.sas.count(k) == 1);
    check_settled(t, 1);

    // Afterwards the whole conversation, old IKE SA included, replayed once more: the new IKE SA
    // keeps working (a liveness check goes through) and nothing changed. The replayed
    // IKE_SA_INIT of the IKE SA rekeyed away is a new initiation to sun (2.6: it cannot tell):
    // one half-open SA (its answer finds no IKE SA at moon), gone after the half-open timeout.
    auto moon_before = snapshot(t.moon);
    auto sun_before = snapshot(t.sun);
    auto history = t.wire;
    for (const auto& w : history)
        if (w.header) t.net.inject(w.d);
    t.net.flush(std::size_t(-1));
    CHECK(snapshot(t.moon) == moon_before);
    CHECK(t.sun.ep->dos().half_open() == 1);
    t.advance(31s);
    CHECK(t.sun.ep->dos().half_open() == 0);
    CHECK(snapshot(t.sun) == sun_before);
    CHECK(snapshot(t.moon) == moon_before);
    REQUIRE(t.moon.ep->send_liveness(m2->unique_id));
    t.run();
    CHECK(m2->tasks.next_request_id() == 1);
    CHECK(s2->tasks.expected_request_id() == 1);
    check_settled(t, 1);
}
