#pragma once
// Driving two peers through lifetimes with the fake clock, one datagram or timer at a time, and
// the installer invariants rekeying must keep (issue 5):
//  - at every step: each side's outbound SA of a reqid has its inbound SA on the other side, and
//    no reqid is left without an outbound SA (loss_violation)
//  - once settled: exactly one inbound + one outbound SA per CHILD SA on each side, mirrored
//    crosswise, and the IKE side holds no SPI the installer does not have (no leak).
#include "harness.hpp"

#include <ike/task.hpp>

#include <set>
#include <sstream>
#include <string>

namespace exchange_test {

// What check_no_loss would complain about, as text ("" when nothing).
inline std::string loss_violation(const recording_installer& a, const recording_installer& b) {
    std::ostringstream o;
    for (const auto& [reqid, spi] : a.newest_out)
        if (!b.sas.count({ike::sa_direction::inbound, spi}))
            o << "reqid " << reqid << " sends on " << std::hex << spi << std::dec << " that the peer cannot receive; ";
    for (const auto& [k, v] : a.sas)
        if (!a.newest_out.count(v.reqid))
            o << "reqid " << v.reqid << " has SA " << std::hex << k.second << std::dec << " but no outbound SA; ";
    return o.str();
}

// Returns false (one failed CHECK) at the first step that breaks make-before-break.
inline bool check_step(two_peers& t) {
    auto v = loss_violation(t.moon.installer, t.sun.installer);
    auto w = loss_violation(t.sun.installer, t.moon.installer);
    if (v.empty() && w.empty()) return true;
    FAIL_CHECK("moon: " << v << " sun: " << w);
    return false;
}

// Delivers datagrams one at a time and fires timers in deadline order until `total` has passed,
// checking make-before-break after every step.
inline void drive(two_peers& t, ike::duration total, bool check = true) {
    auto end = t.clock.now() + total;
    for (int guard = 0; guard < 200000; ++guard) {
        while (t.net.deliver_one())
            if (check) check = check_step(t);  // the first violation is the one to read
        std::optional<ike::time_point> next;
        for (auto* s : {&t.moon, &t.sun}) {
            auto d = s->ep->next_deadline();
            if (d && (!next || *d < *next)) next = d;
        }
        if (!next || *next > end) break;
        t.clock.set(std::max(*next, t.clock.now()));
        t.moon.ep->on_timer();
        if (check) check = check_step(t);
        t.sun.ep->on_timer();
        if (check) check = check_step(t);
    }
    t.clock.set(std::max(end, t.clock.now()));
    while (t.net.deliver_one())
        if (check) check = check_step(t);
}

inline std::uint32_t establish_pair(two_peers& t) {
    auto id = t.moon.ep->initiate("sun");
    t.run();
    REQUIRE(t.moon.only_sa());
    REQUIRE(t.moon.only_sa()->state() == ike::ike_sa_state::established);
    REQUIRE(t.sun.only_sa());
    REQUIRE(t.sun.only_sa()->state() == ike::ike_sa_state::established);
    return *id;
}

// The SPIs an endpoint's IKE SAs hold (allocated, so never reused) must be exactly the inbound
// SAs its installer has.
inline void check_no_spi_leak(side& s) {
    std::set<std::uint32_t> installed;
    for (const auto& [k, v] : s.installer.sas)
        if (k.first == ike::sa_direction::inbound) installed.insert(k.second);
    for (auto* sa : s.ep->sas()) {
        CHECK(sa->svc.inbound_spis == installed);
        break;  // the services (and the SPI set) are the endpoint's, shared by its IKE SAs
    }
}

// After settling: `children` CHILD SAs, each one inbound + one outbound SA per side, mirrored.
inline void check_settled(two_peers& t, std::size_t children) {
    for (auto* s : {&t.moon, &t.sun}) {
        INFO(s->name);
        CHECK(s->installer.count(ike::sa_direction::inbound) == children);
        CHECK(s->installer.count(ike::sa_direction::outbound) == children);
        CHECK(s->installer.newest_out.size() == children);
        check_no_spi_leak(*s);
    }
    check_crosswise(t.moon.installer, t.sun.installer);
}

} // namespace exchange_test
