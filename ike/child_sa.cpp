// CHILD SA key derivation and installation (RFC 7296 2.17), see child_sa.hpp.
#include "ike/child_sa.hpp"

#include "ike/ike_sa.hpp"
#include "ike/keymat.hpp"
#include "ike/ts_narrow.hpp"
#include "ike/crypto_random.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace ike {

std::string child_sa::describe() const {
    return fmt::format("reqid {} SPIs {:08x}_i {:08x}_o, {}{}{}, {} === {}", reqid, spi_in, spi_out,
                       esp_encryption_name(suite.encr), suite.integ == crypto::integ_id::none ? "" : "/",
                       esp_integrity_name(suite.integ), ts_list_to_string(ts_local), ts_list_to_string(ts_remote));
}

std::optional<std::string> child_sa_install(ike_sa& sa, child_sa& child, bool we_initiated,
                                            std::span<const std::uint8_t> g_ir, std::span<const std::uint8_t> ni,
                                            std::span<const std::uint8_t> nr, bool defer_outbound) {
    crypto::child_suite cs{child.suite.encr, child.suite.integ};
    auto keys = crypto::derive_child_sa_keys(sa.ike_suite.prf, sa.keys.sk_d.view(), cs, g_ir, ni, nr);
    if (!keys) return "CHILD SA key derivation: " + keys.error().message();

    // KEYMAT: initiator-to-responder keys first (RFC 7296 2.17); "initiator" is the initiator
    // of the exchange that created this CHILD SA.
    auto& out_e = we_initiated ? keys->encr_i : keys->encr_r;
    auto& out_a = we_initiated ? keys->integ_i : keys->integ_r;
    auto& in_e = we_initiated ? keys->encr_r : keys->encr_i;
    auto& in_a = we_initiated ? keys->integ_r : keys->integ_i;

    auto base_sa = [&](sa_direction dir) {
        esp_sa_install s;
        s.direction = dir;
        s.reqid = child.reqid;
        s.peer = sa.cfg.name;
        s.encryption = esp_encryption_name(child.suite.encr);
        s.integrity = esp_integrity_name(child.suite.integ);
        s.esn = child.suite.esn;
        s.lifetime_hard_seconds = sa.cfg.child_lifetime_seconds;
        s.lifetime_soft_seconds = sa.cfg.child_lifetime_seconds - sa.cfg.child_lifetime_seconds / 10;
        return s;
    };
    bool encap = sa.udp_encapsulation();
    esp_sa_install in = base_sa(sa_direction::inbound);
    in.spi = child.spi_in;
    in.encryption_key = in_e;
    in.integrity_key = in_a;
    in.tunnel_src = sa.remote.address();
    in.tunnel_dst = sa.local.address();
    if (encap) in.encap = esp_udp_encap{sa.remote.port(), sa.local.port()};
    in.src_selectors = ts_to_esp_selectors(child.ts_remote);
    in.dst_selectors = ts_to_esp_selectors(child.ts_local);

    esp_sa_install out = base_sa(sa_direction::outbound);
    out.spi = child.spi_out;
    out.encryption_key = out_e;
    out.integrity_key = out_a;
    out.tunnel_src = sa.local.address();
    out.tunnel_dst = sa.remote.address();
    if (encap) out.encap = esp_udp_encap{sa.local.port(), sa.remote.port()};
    out.src_selectors = ts_to_esp_selectors(child.ts_local);
    out.dst_selectors = ts_to_esp_selectors(child.ts_remote);

    // Inbound first, so the peer's first packets on the new SA are never dropped.
    sa.svc.installer.install_sa(in);
    child.installed = true;
    child.pending_outbound = std::move(out);
    if (!defer_outbound) child_sa_install_outbound(sa, child);
    child.nonce_min.assign(ni.begin(), ni.end());
    if (std::lexicographical_compare(nr.begin(), nr.end(), ni.begin(), ni.end())) child.nonce_min.assign(nr.begin(), nr.end());
    child_sa_schedule(sa, child);
    child_usage_probe(sa, child);
    child.sm.transition(child_sa_state::installed, [&](std::string_view s) {
        sa.log(log_level::debug, fmt::format("CHILD reqid {}: {}", child.reqid, s));
    });
    sa.log(log_level::info, fmt::format("CHILD SA established: {}{}", child.describe(),
                                        encap ? fmt::format(", UDP-encapsulated {}<->{}", sa.local.port(), sa.remote.port())
                                              : std::string()));
    return std::nullopt;
}

void child_sa_install_outbound(ike_sa& sa, child_sa& child) {
    if (!child.pending_outbound) return;
    sa.svc.installer.install_sa(*child.pending_outbound);
    child.pending_outbound.reset();  // wipes the keys (secret_bytes)
    child.outbound_installed = true;
}

void child_sa_remove_outbound(ike_sa& sa, child_sa& child) {
    child.pending_outbound.reset();
    if (!child.outbound_installed) return;
    sa.svc.installer.remove_sa(sa_direction::outbound, child.spi_out);
    child.outbound_installed = false;
}

void child_sa_schedule(ike_sa& sa, child_sa& child) {
    const auto& c = sa.cfg;
    if (c.child_lifetime_seconds == 0) {
        child.rekey_at.reset();
        child.expire_at.reset();
        return;
    }
    auto now = sa.svc.time.now();
    auto life = std::chrono::duration_cast<duration>(std::chrono::seconds(c.child_lifetime_seconds));
    child.expire_at = now + life;
    child.rekey_at = now + rekey_delay(sa, life);
}

duration rekey_delay(ike_sa& sa, duration life) {
    // strongSwan: rekey_time - random(0 .. rand_time).
    auto soft = life * std::min(sa.cfg.rekey_percent, 100u) / 100;
    auto span = life * std::min(sa.cfg.rekey_jitter_percent, 100u) / 100;
    duration jitter{};
    if (span.count() > 0) {
        std::array<std::uint8_t, 8> b{};
        while (sa.svc.rng.fill(b)) {}
        std::uint64_t r = 0;
        for (auto x : b) r = (r << 8) | x;
        jitter = duration(static_cast<duration::rep>(r % static_cast<std::uint64_t>(span.count())));
    }
    auto d = soft - jitter;
    return d.count() > 0 ? d : duration(0);
}

void child_sa_remove(ike_sa& sa, child_sa& child) {
    child_sa_remove_outbound(sa, child);
    if (child.installed) {
        sa.svc.installer.remove_sa(sa_direction::inbound, child.spi_in);
        child.installed = false;
        sa.log(log_level::info, fmt::format("CHILD SA reqid {} removed ({:08x}_i {:08x}_o)", child.reqid, child.spi_in,
                                            child.spi_out));
    }
    child.rekey_at.reset();
    child.expire_at.reset();
    child.remove_at.reset();
    if (child.spi_in) sa.svc.release_esp_spi(child.spi_in);
    auto log = [&](std::string_view s) { sa.log(log_level::debug, fmt::format("CHILD reqid {}: {}", child.reqid, s)); };
    if (child.sm.state() == child_sa_state::installed || child.sm.state() == child_sa_state::created ||
        child.sm.state() == child_sa_state::deleting || child.sm.state() == child_sa_state::rekeying ||
        child.sm.state() == child_sa_state::rekeyed)
        child.sm.transition(child_sa_state::destroyed, log);
}

} // namespace ike
