// CHILD SA lifetimes by usage (issue 5): bytes and packets (strongSwan's rekey_bytes/life_bytes,
// rekey_packets/life_packets) and sequence-number exhaustion (RFC 4303 3.3.3: the sender's
// counter must never cycle, so a new SA is needed before it would). The IKE side does not see ESP
// traffic; the installer reports each ESP SA's counters (sa_installer::usage). Flow:
//  1. child_sa_install -> child_usage_probe: one usage() query for the new inbound SA; nullopt
//     (an installer that does not count) means this CHILD SA is never polled.
//  2. ike_sa::on_timer, every peer_config::usage_poll_interval while the IKE SA is established
//     or rekeying -> child_usage_poll: for each installed, polled CHILD SA, usage() of both
//     directions; bytes and packets are the larger of the two (each SA of the pair counts on its
//     own, as the kernel's do for strongSwan); the sequence number is the outbound SA's.
//  3. hard first: life_bytes, life_packets or the last sequence number -> delete (as at the hard
//     time lifetime), recreated when child_recreate_on_expire
//  4. soft, once per CHILD SA and only when no rekey was requested yet: rekey_bytes,
//     rekey_packets or the sequence-number threshold -> CREATE_CHILD_SA rekey (make-before-break,
//     exchange_child_rekey.cpp). The new CHILD SA has new SPIs, so its counters start at zero.
// A CHILD SA whose rekey is in flight (state rekeying) is left to it: if that rekey fails, it is
// installed again and the next poll applies the hard limits.
#include "ike/child_sa.hpp"

#include "ike/ike_sa.hpp"
#include "ike/task.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ike {
namespace {

struct child_usage {
    std::uint64_t bytes = 0;
    std::uint64_t packets = 0;
    std::optional<std::uint64_t> next_seq;  // outbound SA's, when it is installed and reported
};

std::optional<child_usage> read_usage(const ike_sa& sa, const child_sa& c) {
    auto in = c.installed ? sa.svc.installer.usage(sa_direction::inbound, c.spi_in) : std::nullopt;
    auto out = c.outbound_installed ? sa.svc.installer.usage(sa_direction::outbound, c.spi_out) : std::nullopt;
    if (!in && !out) return std::nullopt;
    child_usage u;
    for (const auto& x : {in, out}) {
        if (!x) continue;
        u.bytes = std::max(u.bytes, x->bytes);
        u.packets = std::max(u.packets, x->packets);
    }
    if (out) u.next_seq = out->next_seq;
    return u;
}

// The first limit `u` reached, as log text ("1000000 bytes reached"), or empty.
std::string reached(const child_usage& u, std::uint64_t bytes_limit, std::uint64_t packets_limit,
                    std::uint64_t seq_limit) {
    if (bytes_limit && u.bytes >= bytes_limit) return fmt::format("{} bytes reached", bytes_limit);
    if (packets_limit && u.packets >= packets_limit) return fmt::format("{} packets reached", packets_limit);
    if (seq_limit && u.next_seq && *u.next_seq >= seq_limit)
        return fmt::format("sequence number {:#x} reached", seq_limit);
    return {};
}

} // namespace

std::uint64_t child_seq_rekey_threshold(const peer_config& cfg, bool esn) {
    return esn ? cfg.child_rekey_seq_esn : cfg.child_rekey_seq;
}

void child_usage_probe(ike_sa& sa, child_sa& child) {
    child.usage_polled = sa.cfg.usage_poll_interval.count() > 0 && child.installed &&
                         sa.svc.installer.usage(sa_direction::inbound, child.spi_in).has_value();
}

bool child_usage_wanted(const ike_sa& sa) {
    if (sa.cfg.usage_poll_interval.count() <= 0) return false;
    return std::any_of(sa.children.begin(), sa.children.end(), [](const auto& c) {
        return c->usage_polled && c->sm.state() == child_sa_state::installed;
    });
}

void child_usage_poll(ike_sa& sa, time_point now) {
    sa.usage_polled_at = now;
    const auto& cfg = sa.cfg;
    // Index loop: the tasks queued here add no CHILD SA before the next poll.
    for (std::size_t i = 0; i < sa.children.size(); ++i) {
        child_sa& c = *sa.children[i];
        if (!c.usage_polled || c.sm.state() != child_sa_state::installed) continue;
        auto u = read_usage(sa, c);
        if (!u) continue;
        const bool esn = c.suite.esn;
        if (auto why = reached(*u, cfg.child_life_bytes, cfg.child_life_packets, child_seq_hard_limit(esn));
            !why.empty()) {
            // Like the hard time lifetime (RFC 7296 2.8): the SA must not be used any longer.
            sa.log(log_level::info, fmt::format("CHILD SA reqid {} {:08x}_i: hard limit: {} ({} bytes, {} packets), "
                                                "deleting",
                                                c.reqid, c.spi_in, why, u->bytes, u->packets));
            auto spi = c.spi_in;
            child_sa_remove(sa, c);
            sa.tasks.queue(make_removed_child_delete_task(spi));
            if (cfg.child_recreate_on_expire) sa.tasks.queue(make_child_create_task());
            continue;
        }
        if (c.rekey_requested) continue;
        if (auto why = reached(*u, cfg.child_rekey_bytes, cfg.child_rekey_packets, child_seq_rekey_threshold(cfg, esn));
            !why.empty()) {
            sa.log(log_level::info, fmt::format("CHILD SA reqid {} {:08x}_i: rekey: {} ({} bytes, {} packets), rekeying",
                                                c.reqid, c.spi_in, why, u->bytes, u->packets));
            c.rekey_requested = true;
            c.rekey_at.reset();  // queued now; the time lifetime does not queue a second one
            sa.tasks.queue(make_child_rekey_task(c.spi_in));
        }
    }
}

} // namespace ike
