// Property test (issue 5): many seeded random schedules of CHILD and IKE SA rekeys (at short
// lifetimes with jitter, plus forced rekeys on either side so that they collide), datagram loss,
// reordering and delays across timer events, between two endpoints over the in-memory network.
// Invariants:
//  - at every step, each side's outbound SA of a reqid has its inbound SA on the other side
//    (make-before-break, loss_violation)
//  - after the schedule, with the network healed and rekeys stopped: one IKE SA per side, the
//    same on both; exactly one inbound and one outbound ESP SA per CHILD SA per side, mirrored;
//    no SPI held that is not installed (no leak).
// Deterministic: the network, the schedule and the endpoints' nonces/SPIs/jitter come from the
// seed (DH values do not, and they do not steer anything).
#include "rekey_driver.hpp"

#include <ike/crypto_random.hpp>

#include <cstdlib>
#include <iostream>
#include <random>

using namespace exchange_test;
using ike::exchange_type;
using ike::ike_sa_state;
using namespace std::chrono_literals;

namespace {

class seeded_random final : public ike::crypto::random_source {
public:
    explicit seeded_random(std::uint64_t seed) : _rng(seed) {}
    std::error_code fill(std::span<std::uint8_t> out) override {
        for (auto& b : out) b = static_cast<std::uint8_t>(_rng());
        return {};
    }

private:
    std::mt19937_64 _rng;
};

struct schedule {
    std::mt19937 rng;
    double loss;
    bool reorder;
    std::uint64_t moon_child, sun_child, moon_ike, sun_ike;
    bool pfs;
};

ike::duration random_ms(std::mt19937& rng, int max_ms) {
    return std::chrono::milliseconds(std::uniform_int_distribution<int>(0, max_ms)(rng));
}

// Delivers or delays datagrams at random and fires timers, until `total` has passed; now and then
// one side is told to rekey something at once (collisions with the other side's timers).
// Returns false at the first step that broke make-before-break.
bool chaos_drive(two_peers& t, schedule& s, ike::duration total) {
    auto end = t.clock.now() + total;
    for (int guard = 0; guard < 100000; ++guard) {
        bool have = t.net.queued() > 0;
        if (have && s.rng() % 4 != 0) {
            t.net.deliver_one();
            if (!check_step(t)) return false;
            continue;
        }
        std::optional<ike::time_point> next;
        for (auto* p : {&t.moon, &t.sun}) {
            auto d = p->ep->next_deadline();
            if (d && (!next || *d < *next)) next = d;
        }
        auto target = next ? *next : end;
        if (have) target = std::min(target, t.clock.now() + random_ms(s.rng, 1500));
        if (target > end) {
            if (!have) break;
            target = end;
        }
        t.clock.set(std::max(target, t.clock.now()));
        if (s.rng() % 20 == 0) {
            // Forced rekey on one side right now, when it has nothing else queued (an operator
            // or a byte limit, not a flood).
            side& who = s.rng() % 2 ? t.moon : t.sun;
            for (auto* sa : who.ep->sas()) {
                if (sa->state() != ike_sa_state::established || sa->tasks.queued() > 0) continue;
                if (s.rng() % 3 == 0) {
                    sa->tasks.queue(ike::make_ike_rekey_task());
                } else {
                    for (auto& c : sa->children)
                        if (c->sm.state() == ike::child_sa_state::installed) {
                            sa->tasks.queue(ike::make_child_rekey_task(c->spi_in));
                            break;
                        }
                }
                sa->tasks.initiate();
                break;
            }
            if (!check_step(t)) return false;
        }
        t.moon.ep->on_timer();
        if (!check_step(t)) return false;
        t.sun.ep->on_timer();
        if (!check_step(t)) return false;
    }
    t.clock.set(std::max(end, t.clock.now()));
    return true;
}

void stop_rekeys(two_peers& t) {
    for (auto* p : {&t.moon, &t.sun})
        for (auto* sa : p->ep->sas()) {
            // No lifetime runs out either while settling (nothing would rekey it now).
            sa->rekey_at.reset();
            sa->expire_at.reset();
            for (auto& c : sa->children) {
                c->rekey_at.reset();
                c->expire_at.reset();
            }
        }
}

} // namespace

TEST_CASE("Random rekey / loss / reorder schedules keep the SA invariants", "[exchange][rekey][property]") {
    const int schedules = 300;
    // REKEY_PROPERTY_SEED=n replays one schedule with both sides' logs on failure.
    const char* only = std::getenv("REKEY_PROPERTY_SEED");
    int with_collision = 0, with_ike_rekey = 0;
    for (int seed = only ? std::atoi(only) : 1; seed <= (only ? std::atoi(only) : schedules); ++seed) {
        schedule s{std::mt19937(static_cast<std::uint32_t>(seed)), 0, false, 0, 0, 0, 0, false};
        s.loss = std::uniform_int_distribution<int>(0, 15)(s.rng) / 100.0;
        s.reorder = s.rng() % 2;
        // Lifetimes short for many rekeys, long enough that the 10 % rekey margin outlasts a few
        // lost messages (the retransmission schedule: 4 s, 7.2 s, 13 s, ...).
        s.moon_child = std::uniform_int_distribution<int>(300, 600)(s.rng);
        s.sun_child = s.rng() % 2 ? s.moon_child : std::uniform_int_distribution<int>(300, 600)(s.rng);
        s.moon_ike = std::uniform_int_distribution<int>(700, 1500)(s.rng);
        s.sun_ike = std::uniform_int_distribution<int>(700, 1500)(s.rng);
        s.pfs = s.rng() % 2;

        seeded_random moon_rng(seed * 2ULL), sun_rng(seed * 2ULL + 1);
        two_peers t(false, static_cast<std::uint32_t>(seed));
        auto mc = t.config_for(t.moon, t.sun, "sun");
        auto sc = t.config_for(t.sun, t.moon, "moon");
        mc.child_lifetime_seconds = s.moon_child;
        sc.child_lifetime_seconds = s.sun_child;
        mc.ike_lifetime_seconds = s.moon_ike;
        sc.ike_lifetime_seconds = s.sun_ike;
        if (s.pfs) mc.esp_proposals = sc.esp_proposals = {"aes128gcm16-ecp256"};
        mc.dpd_delay = sc.dpd_delay = 30s;
        // At 15 % loss a round trip fails one time in four: with strongSwan's 5 retransmits a
        // peer would now and then be declared dead (correctly, dpd_test covers that); here the
        // subject is rekeying, so the schedule is longer.
        mc.retransmit.tries = sc.retransmit.tries = 10;
        ike::endpoint_options mo, so;
        mo.rng = &moon_rng;
        so.rng = &sun_rng;
        t.start(mc, sc, std::move(so), std::move(mo));
        establish_pair(t);

        t.net.set_loss(s.loss);
        t.net.set_reorder(s.reorder);
        INFO("seed " << seed << " loss " << s.loss << " reorder " << s.reorder << " CHILD " << s.moon_child << "/"
                     << s.sun_child << " s, IKE " << s.moon_ike << "/" << s.sun_ike << " s, pfs " << s.pfs);
        if (!chaos_drive(t, s, 2400s)) {
            FAIL_CHECK((only ? t.moon.dump_log() + t.sun.dump_log() : std::string("(REKEY_PROPERTY_SEED for logs)")));
            continue;
        }

        // Settle: a healed network, no new rekeys, time for retransmissions, DELETEs and grace.
        t.net.set_loss(0);
        stop_rekeys(t);
        // Long enough for liveness checks to retire an IKE SA the peer never completed (a
        // collision loser whose old SA was deleted before its rekey response came) through the
        // whole (10-try) retransmission schedule.
        drive(t, 3600s);
        stop_rekeys(t);
        drive(t, 10s);
        with_collision += t.moon.logged("collision") || t.sun.logged("collision");
        with_ike_rekey += t.moon.logged("IKE SA rekeyed");

        if (only) {
            std::cout << t.moon.dump_log() << t.sun.dump_log();
            for (auto* p : {&t.moon, &t.sun})
                for (auto* sa : p->ep->sas()) {
                    auto d = sa->next_deadline();
                    std::cout << p->name << " ike[" << sa->unique_id << "] " << ike::to_string(sa->state()) << " next "
                              << (d ? std::chrono::duration_cast<std::chrono::seconds>(*d - t.clock.now()).count() : -1)
                              << " s\n";
                    for (auto& c : sa->children)
                        if (c->sm.state() != ike::child_sa_state::destroyed)
                            std::cout << "  " << c->describe() << " " << ike::to_string(c->sm.state()) << "\n";
                }
            for (auto* p : {&t.moon, &t.sun})
                for (const auto& [k, v] : p->installer.sas)
                    std::cout << p->name << " installer " << (k.first == ike::sa_direction::inbound ? "in " : "out ")
                              << std::hex << k.second << std::dec << "\n";
        }
        // An old IKE SA whose DELETE response was lost retransmits until its schedule ends (the
        // peer dropped it already): allowed, as long as it holds no CHILD SA.
        auto live = [](side& p) {
            std::vector<ike::ike_sa*> out;
            for (auto* sa : p.ep->sas()) {
                if (sa->state() == ike_sa_state::deleting) {
                    for (auto& c : sa->children) CHECK(c->sm.state() == ike::child_sa_state::destroyed);
                    continue;
                }
                out.push_back(sa);
            }
            return out;
        };
        auto moon_sas = live(t.moon);
        auto sun_sas = live(t.sun);
        REQUIRE(moon_sas.size() == 1);
        REQUIRE(sun_sas.size() == 1);
        auto* m = moon_sas.front();
        auto* n = sun_sas.front();
        CHECK(m->state() == ike_sa_state::established);
        CHECK(m->spi_i == n->spi_i);
        CHECK(m->spi_r == n->spi_r);
        CHECK(m->keys.sk_d == n->keys.sk_d);
        check_settled(t, 1);
    }
    if (only) return;
    CHECK(with_collision > 10);
    CHECK(with_ike_rekey > 100);
}
