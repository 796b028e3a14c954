// IKE SA reauthentication (RFC 7296 2.8.3; strongSwan reauth_time, make_before_break).
//
// Make-before-break (peer_config::reauth_make_before_break, the default), by either original role:
//   1. reauth_at on the old IKE SA: a new IKE SA to the same peer, our SPI random
//        HDR, SAi1, KEi, Ni  -->                     <--  HDR, SAr1, KEr, Nr
//        HDR, SK { IDi, [IDr], AUTH, SAi2, TSi, TSr }  -->     (no INITIAL_CONTACT: 2.4)
//                                  <--  HDR, SK { IDr, AUTH, SAr2, TSi, TSr }
//      full authentication with the PSK configured now; the first CHILD SA of the old IKE SA is
//      recreated with the same selectors and reqid (installer: new inbound, then the new outbound
//      takes over from the old one of that reqid)
//   2. one CREATE_CHILD_SA { SA, Ni, [KEi,] TSi, TSr } per further CHILD SA, the same way
//   3. the new IKE SA established and idle: INFORMATIONAL(old) { D(IKE) }, which removes the old
//      CHILD SAs (their outbound SAs no longer carry traffic)
//   If the new IKE SA fails (AUTHENTICATION_FAILED, no answer, ...), the old one stays, the
//   failure is logged and recorded, and the reauthentication is tried again at the next soft
//   point. A CHILD SA the peer refuses to recreate is logged; the old IKE SA is deleted anyway.
// Break-before-make: the old CHILD SAs are removed here and INFORMATIONAL(old) { D(IKE) } is
// queued before the new IKE SA's IKE_SA_INIT; the same CHILD SAs are then negotiated anew.
//
// The responder of a reauthentication does nothing special: a second IKE SA with the same peer
// stands beside the first (only INITIAL_CONTACT replaces SAs, endpoint.cpp) until the DELETE.
#include "ike/ike_sa.hpp"
#include "ike/task.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ike {

namespace {

// The CHILD SAs the old IKE SA carries traffic on: not rekeyed away, not being deleted.
std::vector<child_spec> live_children(const ike_sa& sa) {
    std::vector<child_spec> out;
    for (const auto& c : sa.children) {
        auto st = c->sm.state();
        if (st != child_sa_state::installed && st != child_sa_state::rekeying) continue;
        // Two CHILD SAs of one reqid (a rekey under way): recreate it once.
        if (std::any_of(out.begin(), out.end(), [&](const child_spec& s) { return s.reqid == c->reqid; })) continue;
        out.push_back({c->ts_local, c->ts_remote, c->reqid});
    }
    return out;
}

std::size_t installed_children(const ike_sa& sa) {
    return static_cast<std::size_t>(std::count_if(sa.children.begin(), sa.children.end(), [](const auto& c) {
        return c->sm.state() == child_sa_state::installed || c->sm.state() == child_sa_state::rekeying;
    }));
}

void schedule_retry(ike_sa& old) {
    if (old.cfg.reauth_seconds == 0) return;
    auto delay = rekey_delay(old, std::chrono::seconds(old.cfg.reauth_seconds));
    old.reauth_at = old.svc.time.now() + delay;
    old.log(log_level::info, fmt::format("reauthentication retried in {} s",
                                         std::chrono::duration_cast<std::chrono::seconds>(delay).count()));
}

} // namespace

void ike_sa_reauthenticate(ike_sa& old) {
    if (old.destroyed() || old.reauth_id || !old.svc.create_sa) return;
    // A responder for %any knows the peer only by where it is now.
    if (old.cfg.peer_address.is_unspecified() && old.remote.address().is_unspecified()) {
        old.fail("cannot reauthenticate: the peer's address is unknown");
        return;
    }
    auto children = live_children(old);
    bool mbb = old.cfg.reauth_make_before_break;
    ike_sa* fresh = old.svc.create_sa(old.cfg, true);
    if (old.cfg.peer_address.is_unspecified()) fresh->remote = udp_endpoint(old.remote.address(), old.cfg.peer_port);
    old.log(log_level::info, fmt::format("reauthenticating: new IKE SA [{}] for {} CHILD SA{}, {}", fresh->unique_id,
                                         children.size(), children.size() == 1 ? "" : "s",
                                         mbb ? "make-before-break" : "break-before-make"));
    std::optional<child_spec> first;
    if (!children.empty()) first = children.front();
    fresh->tasks.queue(make_ike_init_task());
    fresh->tasks.queue(make_ike_auth_task(first, false));
    for (std::size_t i = 1; i < children.size(); ++i) fresh->tasks.queue(make_child_recreate_task(children[i]));
    if (mbb) {
        old.reauth_id = fresh->unique_id;
        fresh->reauth_of = old.unique_id;
    } else {
        // Break: nothing of the old IKE SA carries traffic any more, and the peer learns it first.
        for (auto& c : old.children)
            if (c->sm.state() != child_sa_state::destroyed) child_sa_remove(old, *c);
        if (old.state() == ike_sa_state::established) {
            old.tasks.queue(make_ike_delete_task());
            old.tasks.initiate();
        } else {
            old.destroy("reauthenticated (break-before-make)");
        }
    }
    fresh->tasks.initiate();
}

void ike_sa_reauth_progress(ike_sa& fresh) {
    if (!fresh.reauth_of) return;
    ike_sa* old = fresh.svc.find_sa ? fresh.svc.find_sa(fresh.reauth_of) : nullptr;
    if (!old || old->destroyed() || old->reauth_id != fresh.unique_id) {
        // The old IKE SA went away meanwhile (deleted by the peer, dead, replaced): nothing to do.
        fresh.reauth_of = 0;
        return;
    }
    if (fresh.destroyed()) {
        fresh.reauth_of = 0;
        old->reauth_id = 0;
        old->fail(fmt::format("reauthentication failed, keeping this IKE SA: {}",
                              fresh.last_error.empty() ? std::string("new IKE SA destroyed") : fresh.last_error));
        schedule_retry(*old);
        return;
    }
    if (fresh.state() != ike_sa_state::established || fresh.tasks.busy() || fresh.tasks.queued() > 0) return;
    fresh.reauth_of = 0;
    old->reauth_id = 0;
    auto wanted = live_children(*old).size();
    auto made = installed_children(fresh);
    auto level = made < wanted ? log_level::warning : log_level::info;
    old->log(level, fmt::format("reauthenticated as IKE SA [{}] ({} of {} CHILD SAs recreated), deleting this one",
                                fresh.unique_id, made, wanted));
    if (old->state() == ike_sa_state::established) {
        old->tasks.queue(make_ike_delete_task());
        old->tasks.initiate();
    }
}

} // namespace ike
