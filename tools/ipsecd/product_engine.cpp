// ipsecd's control::engine over the IKE endpoint and the SA table (see product_engine.hpp).
#include "product_engine.hpp"

#include "tunnel_compile.hpp"

#include <base/hex.hpp>
#include <ike/proposal_select.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace ipsecd {

namespace {

std::string upper(std::string_view s) {
    std::string o(s);
    std::transform(o.begin(), o.end(), o.begin(), [](unsigned char c) { return char(std::toupper(c)); });
    return o;
}

std::string endpoint_text(const ike::udp_endpoint& e) {
    return fmt::format("{}:{}", e.address().to_string(), e.port());
}

bool same_cidr(const control::ipv4_cidr& p, const control::ipv4_cidr& q) {
    return p.network == q.network && p.prefix == q.prefix;
}
bool contains_cidr(const std::vector<control::ipv4_cidr>& list, const control::ipv4_cidr& c) {
    return std::any_of(list.begin(), list.end(), [&](const auto& x) { return same_cidr(x, c); });
}
bool cidrs_equal(const std::vector<control::ipv4_cidr>& x, const std::vector<control::ipv4_cidr>& y) {
    return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin(), same_cidr);
}
// Every CIDR of `old` is still in `now`.
bool cidrs_kept(const std::vector<control::ipv4_cidr>& old, const std::vector<control::ipv4_cidr>& now) {
    return std::all_of(old.begin(), old.end(), [&](const auto& c) { return contains_cidr(now, c); });
}
std::vector<control::ipv4_cidr> cidrs_added(const std::vector<control::ipv4_cidr>& old,
                                            const std::vector<control::ipv4_cidr>& now) {
    std::vector<control::ipv4_cidr> out;
    for (const auto& c : now)
        if (!contains_cidr(old, c)) out.push_back(c);
    return out;
}

// Fields of the plan that the IKE side negotiates with, apart from the traffic selectors.
bool same_ike_except_cidrs(const control::peer_config& a, const control::peer_config& b) {
    auto psk_equal = [](const base::secret_bytes& x, const base::secret_bytes& y) {
        return x.size() == y.size() && std::equal(x.view().begin(), x.view().end(), y.view().begin());
    };
    return a.local_address == b.local_address && a.peer_address == b.peer_address &&
           a.local_id.type == b.local_id.type && a.local_id.value == b.local_id.value &&
           a.remote_id.type == b.remote_id.type && a.remote_id.value == b.remote_id.value && psk_equal(a.psk, b.psk) &&
           a.ike.text == b.ike.text && a.esp.text == b.esp.text && a.ike_lifetime_s == b.ike_lifetime_s &&
           a.child_lifetime_s == b.child_lifetime_s && a.nat_t == b.nat_t && a.replay_window == b.replay_window &&
           a.dpd_delay_s == b.dpd_delay_s && a.dpd == b.dpd && a.enabled == b.enabled;
}
// A change of any of these renegotiates the tunnel.
bool same_ike(const control::peer_config& a, const control::peer_config& b) {
    return same_ike_except_cidrs(a, b) && cidrs_equal(a.local_cidrs, b.local_cidrs) &&
           cidrs_equal(a.peer_cidrs, b.peer_cidrs);
}
// Only CIDRs were added (none removed, nothing else changed): existing CHILD SAs stay and the new
// pairs get CHILD SAs of their own.
bool only_cidrs_added(const control::peer_config& old, const control::peer_config& now) {
    return same_ike_except_cidrs(old, now) && cidrs_kept(old.local_cidrs, now.local_cidrs) &&
           cidrs_kept(old.peer_cidrs, now.peer_cidrs) && !same_ike(old, now);
}


std::int64_t seconds_until(const std::optional<ike::time_point>& t, ike::time_point now) {
    if (!t) return -1;
    return std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(*t - now).count());
}

bool has_installed_child(const ike::ike_sa& sa) {
    return std::any_of(sa.children.begin(), sa.children.end(), [](const auto& c) {
        return c->installed && c->sm.state() != ike::child_sa_state::destroyed;
    });
}

} // namespace

product_engine::product_engine(ike::transport& net, ike::clock& time, product_engine_options opt)
    : _opt(std::move(opt)),
      _time(time),
      _sas(_opt.publish, [this](const std::string& uuid, std::string_view line) { tunnel_log_line(uuid, line); }) {
    auto eo = _opt.ike;
    eo.log = [this](ike::log_level l, std::string_view line) { ike_log(l, line); };
    _ep = std::make_unique<ike::endpoint>(net, time, _sas, std::move(eo));
}

product_engine::~product_engine() {
    _ep.reset();  // before _sas: destroying SAs calls the installer
}

void product_engine::tunnel_log_line(const std::string& uuid, std::string_view line) {
    auto it = _tunnels.find(uuid);
    std::string stamped = fmt::format("{} {}", control::now_timestamp(), line);
    if (_opt.log) _opt.log(fmt::format("tunnel {}: {}", uuid, line));
    if (it == _tunnels.end()) return;
    auto& log = it->second.log;
    log.push_back(std::move(stamped));
    while (log.size() > _opt.log_lines_per_tunnel) log.pop_front();
}

void product_engine::ike_log(ike::log_level level, std::string_view line) {
    // SA lines start "ike[<id>] <peer>: "; the SA's config name is the tunnel uuid.
    if (line.starts_with("ike[")) {
        auto close = line.find(']');
        std::uint32_t id = 0;
        if (close != std::string_view::npos) {
            auto r = std::from_chars(line.data() + 4, line.data() + close, id);
            if (r.ec == std::errc() && r.ptr == line.data() + close) {
                if (const ike::ike_sa* sa = _ep ? _ep->find(id) : nullptr) {
                    if (level == ike::log_level::debug) return;
                    return tunnel_log_line(sa->cfg.name, line);
                }
            }
        }
    }
    if (level != ike::log_level::debug && _opt.log) _opt.log(line);
}

control::status product_engine::configure_ike(tunnel_rec& t, const std::string& uuid, bool initiate) {
    if (t.configured) {
        _ep->remove_peer(uuid, true);
        t.configured = false;
    }
    if (!t.plan.peer.enabled) return std::nullopt;
    std::string err;
    auto cfg = to_ike_peer(t.plan.peer, err);
    if (!cfg) return control::api_error{500, "EngineError", err};
    cfg->retransmit = _opt.retransmit;
    cfg->fragment_size = _opt.fragment_size;
    try {
        _ep->add_peer(std::move(*cfg));
    } catch (const std::exception& e) {
        return control::api_error{500, "EngineError", std::string("IKE configuration refused: ") + e.what()};
    }
    t.configured = true;
    if (initiate && !_ep->initiate(uuid)) return control::api_error{500, "EngineError", "cannot initiate IKE"};
    return std::nullopt;
}

control::status product_engine::apply_tunnel(const control::tunnel_plan& plan) {
    const auto& uuid = plan.peer.tunnel_uuid;
    std::string err;
    if (plan.peer.enabled && !to_ike_peer(plan.peer, err))
        return control::api_error{500, "EngineError", err};  // checked before anything changes
    auto [it, fresh] = _tunnels.try_emplace(uuid);
    auto& t = it->second;
    if (!fresh && t.configured && only_cidrs_added(t.plan.peer, plan.peer) && add_children(t, uuid, plan)) return std::nullopt;
    const bool renegotiate = fresh || !same_ike(t.plan.peer, plan.peer);
    t.plan = plan;
    _sas.set_tunnel(uuid, to_spd_policies(plan.policies), plan.peer.replay_window);
    refresh_vips();
    if (renegotiate) {
        tunnel_log_line(uuid, fmt::format("{} tunnel {} peer {} ike {} esp {}{}", fresh ? "apply" : "modify",
                                          plan.peer.name, plan.peer.peer_address.str(), plan.peer.ike.text,
                                          plan.peer.esp.text, plan.peer.enabled ? "" : " (disabled)"));
        if (auto e = configure_ike(t, uuid, true)) return e;
    }
    return std::nullopt;
}

bool product_engine::add_children(tunnel_rec& t, const std::string& uuid, const control::tunnel_plan& plan) {
    // Only when every IKE SA of the tunnel is established: one still in IKE_AUTH would create
    // its CHILD SA for the old selectors only, so renegotiating is simpler and as quick.
    std::vector<std::uint32_t> ike_ids;
    for (auto* sa : _ep->sas()) {
        if (sa->cfg.name != uuid || sa->destroyed() || sa->state() == ike::ike_sa_state::rekeyed) continue;
        if (sa->state() != ike::ike_sa_state::established) return false;
        ike_ids.push_back(sa->unique_id);
    }
    const auto& old = t.plan.peer;
    const auto& now = plan.peer;
    const auto new_local = cidrs_added(old.local_cidrs, now.local_cidrs);
    const auto new_peer = cidrs_added(old.peer_cidrs, now.peer_cidrs);
    t.plan = plan;
    _sas.set_tunnel(uuid, to_spd_policies(plan.policies), plan.peer.replay_window);
    _ep->update_selectors(uuid, to_ike_cidrs(now.local_cidrs), to_ike_cidrs(now.peer_cidrs));
    auto text = [](const std::vector<control::ipv4_cidr>& l) {
        std::string s;
        for (const auto& c : l) s += (s.empty() ? "" : ",") + c.str();
        return s;
    };
    tunnel_log_line(uuid, fmt::format("modify: added local [{}] peer [{}]; existing CHILD SAs kept, negotiating "
                                      "CHILD SAs for the new pairs on {} IKE SA(s)",
                                      text(new_local), text(new_peer), ike_ids.size()));
    // New pairs: every local network with each new peer CIDR, and each new local network with
    // the old peer CIDRs (RFC 7296 1.3.1: one CREATE_CHILD_SA per selector set).
    for (auto id : ike_ids) {
        if (!new_peer.empty()) _ep->create_child(id, to_ike_cidrs(now.local_cidrs), to_ike_cidrs(new_peer));
        if (!new_local.empty() && !old.peer_cidrs.empty())
            _ep->create_child(id, to_ike_cidrs(new_local), to_ike_cidrs(old.peer_cidrs));
    }
    return true;
}

void product_engine::remove_tunnel(const std::string& uuid) {
    auto it = _tunnels.find(uuid);
    if (it == _tunnels.end()) return;
    tunnel_log_line(uuid, "remove tunnel: IKE SAs deleted, policies removed");
    if (it->second.configured) _ep->remove_peer(uuid, true);
    _sas.remove_tunnel(uuid);
    _tunnels.erase(uuid);
    refresh_vips();
}

control::status product_engine::reconnect_tunnel(const std::string& uuid) {
    auto it = _tunnels.find(uuid);
    if (it == _tunnels.end()) return control::api_error::not_found("engine has no tunnel " + uuid);
    if (!it->second.plan.peer.enabled) return control::api_error::conflict("tunnel " + uuid + " is disabled");
    tunnel_log_line(uuid, "reconnect: tearing down and initiating");
    return configure_ike(it->second, uuid, true);
}

control::tunnel_status product_engine::query_status(const std::string& uuid) {
    auto it = _tunnels.find(uuid);
    if (it == _tunnels.end()) return {"Disconnected", "not configured in the engine"};
    if (!it->second.plan.peer.enabled) return {"Disconnected", "disabled"};
    bool connecting = false;
    for (auto* sa : _ep->sas()) {
        if (sa->cfg.name != uuid || sa->destroyed()) continue;
        if (sa->state() == ike::ike_sa_state::established && has_installed_child(*sa)) {
            // Ready, but say so when some network pairs have no CHILD SA (a CHILD SA for pairs a
            // modify added was refused or is still being negotiated).
            auto missing = _sas.policies_without_sa(uuid);
            if (missing.empty()) return {"Ready", ""};
            auto err = _ep->last_error(uuid);
            return {"Ready", fmt::format("{} of the tunnel's network pairs have no CHILD SA (traffic dropped){}",
                                         missing.size(), err.empty() ? "" : ": " + err)};
        }
        connecting = true;
    }
    auto err = _ep->last_error(uuid);
    if (connecting) return {"Connecting", err};
    return {"Disconnected", err.empty() ? "no IKE SA (waiting for the next attempt)" : err};
}

std::vector<control::ike_sa_info> product_engine::query_sas(const std::string& uuid) {
    std::vector<control::ike_sa_info> out;
    const auto now = _time.now();
    for (auto* sa : _ep->sas()) {
        if (sa->cfg.name != uuid || sa->destroyed()) continue;
        control::ike_sa_info i;
        i.state = upper(ike::to_string(sa->state()));
        i.initiator = sa->original_initiator;
        i.spi_i = base::to_hex(sa->spi_i);
        i.spi_r = base::to_hex(sa->spi_r);
        i.local = endpoint_text(sa->local);
        i.remote = endpoint_text(sa->remote);
        i.local_id = sa->local_id.to_string();
        i.remote_id = sa->peer_id ? sa->peer_id->to_string() : "";
        i.algorithms = sa->ike_proposal_text;
        i.established_s = std::chrono::duration_cast<std::chrono::seconds>(now - sa->created_at).count();
        i.nat_detected = sa->nat_here || sa->nat_there;
        i.rekey_in_s = seconds_until(sa->rekey_at, now);
        for (const auto& c : sa->children) {
            if (c->sm.state() == ike::child_sa_state::destroyed) continue;
            control::child_sa_info ci;
            ci.state = upper(ike::to_string(c->sm.state()));
            ci.spi_in = fmt::format("{:08x}", c->spi_in);
            ci.spi_out = fmt::format("{:08x}", c->spi_out);
            ci.algorithms = ike::esp_encryption_name(c->suite.encr);
            if (c->suite.integ != ike::crypto::integ_id::none)
                ci.algorithms += "/" + ike::esp_integrity_name(c->suite.integ);
            for (const auto& ts : c->ts_local) ci.local_ts.push_back(ts.to_string());
            for (const auto& ts : c->ts_remote) ci.remote_ts.push_back(ts.to_string());
            if (auto v = _sas.find(ike::sa_direction::inbound, c->spi_in)) {
                ci.bytes_in = v->bytes;
                ci.packets_in = v->packets;
            }
            if (auto v = _sas.find(ike::sa_direction::outbound, c->spi_out)) {
                ci.bytes_out = v->bytes;
                ci.packets_out = v->packets;
            }
            ci.udp_encap = sa->udp_encapsulation();
            ci.rekey_in_s = seconds_until(c->rekey_at, now);
            ci.expire_in_s = seconds_until(c->expire_at, now);
            i.children.push_back(std::move(ci));
        }
        out.push_back(std::move(i));
    }
    return out;
}

control::tunnel_counters product_engine::query_counters(const std::string& uuid) {
    control::tunnel_counters c;
    for (const auto& v : _sas.sas_of(uuid)) {
        if (v.direction == ike::sa_direction::inbound) {
            c.bytes_in += v.bytes;
            c.packets_in += v.packets;
            if (v.drops) c.drops["esp_inbound"] += v.drops;
        } else {
            c.bytes_out += v.bytes;
            c.packets_out += v.packets;
            if (v.drops) c.drops["esp_outbound"] += v.drops;
        }
    }
    for (auto* sa : _ep->sas()) {
        if (sa->cfg.name != uuid || sa->destroyed()) continue;
        ++c.ike_sas;
        for (const auto& ch : sa->children)
            if (ch->installed && ch->sm.state() != ike::child_sa_state::destroyed) ++c.child_sas;
    }
    return c;
}

std::map<std::string, std::uint64_t> product_engine::global_drops() {
    auto d = _opt.drops ? _opt.drops() : std::map<std::string, std::uint64_t>{};
    if (auto n = _ep->dropped()) d["ike_dropped"] = n;
    // IKE_SA_INIT requests answered with a COOKIE or dropped by the DoS guard (dos_guard.hpp).
    const auto& dos = _ep->dos().counters();
    for (auto [name, n] : {std::pair{"ike_init_cookie_sent", dos.cookie_sent}, {"ike_init_bad_cookie", dos.bad_cookie},
                           {"ike_init_blocked_source", dos.blocked_source}, {"ike_init_half_open_cap", dos.half_open_cap},
                           {"ike_half_open_timeout", dos.half_open_timeout}})
        if (n) d[name] = n;
    if (auto n = _sas.install_failures()) d["sa_install_failed"] = n;
    return d;
}

std::vector<std::string> product_engine::tunnel_log(const std::string& uuid, std::size_t lines) {
    auto it = _tunnels.find(uuid);
    if (it == _tunnels.end()) return {};
    const auto& log = it->second.log;
    auto n = std::min(lines, log.size());
    return {log.end() - std::ptrdiff_t(n), log.end()};
}

std::optional<std::string> product_engine::udp_port_user(control::ipv4, std::uint16_t) {
    return std::nullopt;  // ipsecd runs no other UDP service on its ports
}

void product_engine::set_model_vips(std::vector<control::ipv4> vips) {
    std::sort(vips.begin(), vips.end());
    if (vips == _model_vips) return;
    _model_vips = std::move(vips);
    refresh_vips();
}

void product_engine::refresh_vips() {
    std::vector<control::ipv4> all = _model_vips;
    for (const auto& [uuid, t] : _tunnels) all.push_back(t.plan.peer.local_address);
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    std::vector<dataplane::local_address> out;
    for (auto a : all) {
        if (a.value == 0) continue;
        auto port = _opt.port_of ? _opt.port_of(a) : std::nullopt;
        if (port) out.push_back({*port, a.value});
    }
    _sas.set_vips(std::move(out));
}

void product_engine::handle_acquires() {
    if (!_opt.acquires) return;
    auto hits = _opt.acquires();
    std::sort(hits.begin(), hits.end());
    hits.erase(std::unique(hits.begin(), hits.end()), hits.end());
    for (const auto& uuid : hits) {
        auto it = _tunnels.find(uuid);
        if (it == _tunnels.end() || !it->second.configured || !it->second.plan.peer.enabled ||
            it->second.plan.peer.dpd != control::dpd_action::hold)
            continue;
        bool has_sa = false;
        for (auto* sa : _ep->sas()) has_sa = has_sa || (sa->cfg.name == uuid && !sa->destroyed());
        if (has_sa) continue;  // up, or an attempt already under way
        tunnel_log_line(uuid, "acquire: traffic for the held tunnel (dpd action hold), initiating");
        _ep->initiate(uuid);
    }
}

ike::time_point product_engine::on_timer() {
    handle_acquires();
    _ep->on_timer();
    auto now = _time.now();
    auto next = _ep->next_deadline().value_or(now + std::chrono::milliseconds(100));
    return std::min(next, now + std::chrono::milliseconds(100));
}

void product_engine::shutdown() {
    for (auto& [uuid, t] : _tunnels) {
        if (!t.configured) continue;
        _ep->remove_peer(uuid, true);
        t.configured = false;
    }
}

} // namespace ipsecd
