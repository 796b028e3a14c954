// IKE endpoint: configurations, SA table, datagram demultiplexing (see endpoint.hpp).
#include "ike/endpoint.hpp"

#include "ike/task.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace ike {

namespace {
bool is_zero(const ike_spi& s) {
    return std::all_of(s.begin(), s.end(), [](auto b) { return b == 0; });
}
} // namespace

endpoint::endpoint(transport& net, clock& time, sa_installer& installer, endpoint_options opts)
    : _svc{net,
           time,
           installer,
           opts.rng ? *opts.rng : crypto::system_random(),
           opts.ke_factory ? *opts.ke_factory : crypto::system_key_exchange_factory(),
           std::move(opts.log),
           1,
           {},
           {},
           {},
           {},
           {}},
      _dos(opts.dos, opts.require_cookie, _svc.rng, time) {
    _svc.initial_contact = [this](ike_sa& fresh) {
        // RFC 7296 2.4: the peer rebooted or lost state; its older SAs with us are stale and go
        // away without a DELETE (the peer would not know them).
        for (auto& [id, sa] : _sas) {
            if (sa.get() == &fresh || sa->destroyed() || &sa->cfg != &fresh.cfg || !sa->peer_id ||
                *sa->peer_id != *fresh.peer_id)
                continue;
            sa->log(log_level::info, "replaced: peer sent INITIAL_CONTACT on a new IKE SA");
            sa->destroy("INITIAL_CONTACT");
        }
    };
    _svc.create_sa = [this](const peer_config& cfg, bool initiator) { return create_sa(cfg, initiator); };
    _svc.find_sa = [this](std::uint32_t id) { return find(id); };
    net.set_receiver([this](const udp_endpoint& local, const udp_endpoint& remote, std::span<const std::uint8_t> d) {
        receive(local, remote, d);
    });
}

endpoint::~endpoint() {
    _svc.net.set_receiver(nullptr);
    _sas.clear();
}

void endpoint::add_peer(peer_config cfg) {
    std::string err;
    auto ike_p = parse_proposals(cfg.ike_proposals, protocol_id::ike, &err);
    if (!ike_p) throw std::invalid_argument(cfg.name + ": " + err);
    auto esp_p = parse_proposals(cfg.esp_proposals, protocol_id::esp, &err);
    if (!esp_p) throw std::invalid_argument(cfg.name + ": " + err);
    _peer_errors.erase(cfg.name);
    _peers.push_back(std::make_unique<peer_config>(std::move(cfg)));
    _proposals[_peers.back().get()] = {std::move(*ike_p), std::move(*esp_p)};
}

bool endpoint::remove_peer(const std::string& peer_name, bool send_delete) {
    auto it = std::find_if(_peers.begin(), _peers.end(), [&](const auto& p) { return p->name == peer_name; });
    if (it == _peers.end()) return false;
    const peer_config* cfg = it->get();
    for (auto& [id, sa] : _sas) {
        if (&sa->cfg != cfg || sa->destroyed()) continue;
        if (send_delete && sa->state() == ike_sa_state::established) {
            sa->tasks.queue(make_ike_delete_task());
            sa->tasks.initiate();
        }
        sa->destroy("configuration removed");
    }
    reap();
    _peer_errors.erase(peer_name);
    _proposals.erase(cfg);
    _peers.erase(it);
    return true;
}

bool endpoint::update_selectors(const std::string& peer_name, std::vector<cidr> local_ts, std::vector<cidr> peer_ts) {
    auto it = std::find_if(_peers.begin(), _peers.end(), [&](const auto& p) { return p->name == peer_name; });
    if (it == _peers.end()) return false;
    (*it)->local_ts = std::move(local_ts);
    (*it)->peer_ts = std::move(peer_ts);
    return true;
}

std::string endpoint::last_error(const std::string& peer_name) const {
    auto it = _peer_errors.find(peer_name);
    return it == _peer_errors.end() ? std::string() : it->second;
}

ike_sa* endpoint::create_sa(const peer_config& cfg, bool initiator) {
    const auto& props = _proposals.at(&cfg);
    auto sa = std::make_unique<ike_sa>(_svc, cfg, _next_id++, initiator, props.first, props.second);
    // RFC 7296 2.6: SPIs are random, never zero.
    for (auto* spi : {initiator ? &sa->spi_i : &sa->spi_r}) {
        do {
            while (_svc.rng.fill(*spi)) {}
        } while (is_zero(*spi));
    }
    auto* raw = sa.get();
    _sas[raw->unique_id] = std::move(sa);
    return raw;
}

std::optional<std::uint32_t> endpoint::initiate(const std::string& peer_name) {
    auto it = std::find_if(_peers.begin(), _peers.end(), [&](const auto& p) { return p->name == peer_name; });
    if (it == _peers.end()) return std::nullopt;
    ike_sa* sa = create_sa(**it, true);
    sa->log(log_level::info, "initiating IKE SA for " + peer_name);
    sa->tasks.queue(make_ike_init_task());
    sa->tasks.queue(make_ike_auth_task());
    sa->tasks.initiate();
    auto id = sa->unique_id;
    reap();
    return id;
}

namespace {
template <class F>
bool with_established(endpoint& ep, std::uint32_t id, F&& f) {
    ike_sa* sa = ep.find(id);
    if (!sa || sa->state() != ike_sa_state::established) return false;
    f(*sa);
    sa->tasks.initiate();
    return true;
}
} // namespace

bool endpoint::create_child(std::uint32_t id, std::vector<cidr> local_ts, std::vector<cidr> peer_ts) {
    bool ok = with_established(*this, id, [&](ike_sa& sa) {
        sa.tasks.queue(make_child_create_task(std::move(local_ts), std::move(peer_ts)));
    });
    reap();
    return ok;
}
bool endpoint::delete_child(std::uint32_t id, std::uint32_t reqid) {
    bool ok = with_established(*this, id, [&](ike_sa& sa) { sa.tasks.queue(make_child_delete_task(reqid)); });
    reap();
    return ok;
}
bool endpoint::delete_ike(std::uint32_t id) {
    bool ok = with_established(*this, id, [](ike_sa& sa) { sa.tasks.queue(make_ike_delete_task()); });
    reap();
    return ok;
}
bool endpoint::send_liveness(std::uint32_t id) {
    bool ok = with_established(*this, id, [](ike_sa& sa) { sa.tasks.queue(make_liveness_task()); });
    reap();
    return ok;
}

ike_sa* endpoint::find(std::uint32_t id) {
    auto it = _sas.find(id);
    return it == _sas.end() ? nullptr : it->second.get();
}

std::vector<ike_sa*> endpoint::sas() {
    std::vector<ike_sa*> out;
    for (auto& [id, sa] : _sas) out.push_back(sa.get());
    return out;
}

const peer_config* endpoint::match_config(const udp_endpoint& local, const udp_endpoint& remote) const {
    const peer_config* best = nullptr;
    int best_score = -1;
    for (const auto& p : _peers) {
        if (!p->local_address.is_unspecified() && p->local_address != local.address()) continue;
        bool any_peer = p->peer_address.is_unspecified();
        if (!any_peer && p->peer_address != remote.address()) continue;
        int score = any_peer ? 0 : 1;
        if (score > best_score) { best = p.get(); best_score = score; }
    }
    return best;
}

void endpoint::receive(const udp_endpoint& local, const udp_endpoint& remote, std::span<const std::uint8_t> data) {
    bool natt_port = std::any_of(_peers.begin(), _peers.end(),
                                 [&](const auto& p) { return p->local_natt_port == local.port(); });
    if (natt_port) {
        // RFC 3948 2.2/2.3: keepalive, IKE behind the non-ESP marker, or ESP (not ours here).
        if (data.size() == 1 && data[0] == 0xff) return;
        if (data.size() < 4 || data[0] || data[1] || data[2] || data[3]) {
            ++_dropped;
            return;
        }
        data = data.subspan(4);
    }
    auto h = parse_header(data);
    if (!h) {
        ++_dropped;
        if (_svc.log) _svc.log(log_level::debug, fmt::format("dropped datagram from {}: {}", remote.address().to_string(),
                                                              h.error().reason));
        return;
    }
    if (h->major_version != ike_major_version) {
        // RFC 7296 2.5: a request of a higher major version gets INVALID_MAJOR_VERSION with our
        // version in the header, and no state; older versions (IKEv1) are not ours to answer.
        ++_dropped;
        if (h->major_version > ike_major_version && !h->response && h->exchange == exchange_type::ike_sa_init) {
            message r;
            r.header = *h;
            r.header.major_version = ike_major_version;
            r.header.minor_version = 0;
            r.header.response = true;
            r.header.initiator = false;
            r.header.version = false;
            r.header.spi_r = {};
            r.payloads.push_back(make_notify(notify_type::invalid_major_version));
            if (auto bytes = serialize_message(r)) {
                std::vector<std::uint8_t> out;
                if (natt_port) out.assign(4, 0);
                out.insert(out.end(), bytes->begin(), bytes->end());
                _svc.net.send(local, remote, out);
            }
        }
        return;
    }
    ike_sa* target = nullptr;
    // The I flag marks messages from the original initiator: we are the responder, our SPI is SPIr.
    const ike_spi& ours = h->initiator ? h->spi_r : h->spi_i;
    if (h->exchange == exchange_type::ike_sa_init && !h->response && h->initiator && is_zero(h->spi_r)) {
        for (auto& [id, sa] : _sas)
            if (!sa->original_initiator && sa->spi_i == h->spi_i && sa->remote.address() == remote.address() &&
                !sa->destroyed())
                target = sa.get();
        if (!target) {
            const peer_config* cfg = match_config(local, remote);
            if (!cfg) {
                ++_dropped;
                if (_svc.log)
                    _svc.log(log_level::warning, fmt::format("no configuration for IKE_SA_INIT {}:{} -> {}:{}",
                                                             remote.address().to_string(), remote.port(),
                                                             local.address().to_string(), local.port()));
                return;
            }
            // RFC 7296 2.6: COOKIE, blocking and the half-open cap before any state or DH work.
            message reply;
            auto verdict = _dos.check_init(*h, data, remote.address(), reply);
            if (verdict != init_verdict::accept && _svc.log)
                _svc.log(log_level::debug, fmt::format("IKE_SA_INIT from {}:{}: {}", remote.address().to_string(),
                                                       remote.port(), _dos.last_reason()));
            if (verdict == init_verdict::send_cookie) {
                if (auto bytes = serialize_message(reply)) {
                    std::vector<std::uint8_t> out;
                    if (natt_port) out.assign(4, 0);
                    out.insert(out.end(), bytes->begin(), bytes->end());
                    _svc.net.send(local, remote, out);
                }
                return;
            }
            if (verdict == init_verdict::drop) {
                ++_dropped;
                return;
            }
            target = create_sa(*cfg, false);
            target->spi_i = h->spi_i;
            target->local = local;
            target->remote = remote;
            _dos.opened(target->unique_id, remote.address());
            target->log(log_level::info, fmt::format("IKE_SA_INIT from {}:{}", remote.address().to_string(), remote.port()));
        }
    } else if (!is_zero(ours)) {
        for (auto& [id, sa] : _sas) {
            if (sa->destroyed()) continue;
            bool we_are_initiator = sa->original_initiator;
            if (we_are_initiator == h->initiator) continue;  // our own direction reflected back
            if ((we_are_initiator ? sa->spi_i : sa->spi_r) == ours) { target = sa.get(); break; }
        }
    }
    if (!target) {
        ++_dropped;
        if (_svc.log)
            _svc.log(log_level::debug, fmt::format("dropped {} from {}: no IKE SA", to_string(h->exchange),
                                                    remote.address().to_string()));
        return;
    }
    target->receive(data, local, remote);
    reap();
}

std::optional<time_point> endpoint::next_deadline() const {
    std::optional<time_point> d = _dos.next_deadline();
    for (const auto& [id, sa] : _sas) {
        auto t = sa->next_deadline();
        if (t && (!d || *t < *d)) d = t;
    }
    return d;
}

void endpoint::on_timer() {
    for (auto id : _dos.expired()) {
        if (ike_sa* sa = find(id); sa && !sa->destroyed()) {
            sa->fail("half-open IKE SA timed out");
            sa->destroy("half-open timeout");
        }
    }
    std::vector<ike_sa*> all;
    for (auto& [id, sa] : _sas) all.push_back(sa.get());
    for (auto* sa : all) sa->on_timer();
    reap();
}

void endpoint::reap() {
    for (auto it = _sas.begin(); it != _sas.end();) {
        const auto& err = it->second->last_error;
        if (!err.empty()) {
            _last_error = err;
            _peer_errors[it->second->cfg.name] = err;
        }
        if (it->second->destroyed())
            it = _sas.erase(it);
        else
            ++it;
    }
    _dos.settle([this](std::uint32_t id) {
        const ike_sa* sa = find(id);
        return sa && sa->state() < ike_sa_state::established;
    });
    // dpd_action restart (ike_sa::peer_dead), once the dead IKE SA is gone.
    auto restarts = std::move(_svc.restarts);
    _svc.restarts.clear();
    for (const auto& name : restarts) initiate(name);
}

} // namespace ike
