// fake_engine: records what the control plane asks for; negotiates nothing (see header).
#include "control/fake_engine.hpp"

#include <fmt/format.h>

namespace control {

void fake_engine::log_line(entry& e, std::string line) {
    e.log.push_back(fmt::format("{} fake-engine: {}", now_timestamp(), line));
    while (e.log.size() > 1000) e.log.pop_front();
}

status fake_engine::apply_tunnel(const tunnel_plan& plan) {
    std::lock_guard lock(_mu);
    if (_fail_next) {
        auto e = std::move(*_fail_next);
        _fail_next.reset();
        return e;
    }
    ++_applies;
    auto& e = _tunnels[plan.peer.tunnel_uuid];
    bool existed = !e.plan.peer.tunnel_uuid.empty();
    e.plan = plan;
    if (!plan.peer.enabled) {
        e.status = {"Disconnected", "disabled"};
    } else if (_auto_ready) {
        e.status = {"Ready", ""};
    } else if (!existed || e.status.status != "Ready") {
        e.status = {"Connecting", "fake engine: no negotiation"};
    }
    log_line(e, fmt::format("{} tunnel {} peer {} ike {} esp {} policies {}{}", existed ? "modify" : "apply",
                            plan.peer.name, plan.peer.peer_address.str(), plan.peer.ike.text, plan.peer.esp.text,
                            plan.policies.size(), plan.peer.enabled ? "" : " (disabled)"));
    return std::nullopt;
}

void fake_engine::remove_tunnel(const std::string& uuid) {
    std::lock_guard lock(_mu);
    _tunnels.erase(uuid);
    _removed.push_back(uuid);
}

status fake_engine::reconnect_tunnel(const std::string& uuid) {
    std::lock_guard lock(_mu);
    auto it = _tunnels.find(uuid);
    if (it == _tunnels.end()) return api_error::not_found("engine has no tunnel " + uuid);
    ++it->second.reconnects;
    it->second.status = _auto_ready ? tunnel_status{"Ready", ""} : tunnel_status{"Connecting", "reconnecting"};
    log_line(it->second, "reconnect " + it->second.plan.peer.name);
    return std::nullopt;
}

tunnel_status fake_engine::query_status(const std::string& uuid) {
    std::lock_guard lock(_mu);
    auto it = _tunnels.find(uuid);
    if (it == _tunnels.end()) return {"Disconnected", "not configured in the engine"};
    return it->second.status;
}

std::vector<ike_sa_info> fake_engine::query_sas(const std::string& uuid) {
    std::lock_guard lock(_mu);
    auto it = _tunnels.find(uuid);
    if (it == _tunnels.end() || it->second.status.status != "Ready") return {};
    const auto& pc = it->second.plan.peer;
    ike_sa_info ike;
    ike.state = "ESTABLISHED";
    ike.initiator = true;
    ike.spi_i = "00000000000000f1"; // made up: the fake negotiates nothing
    ike.spi_r = "00000000000000f2";
    ike.local = pc.local_address.str() + ":500";
    ike.remote = pc.peer_address.str() + ":500";
    ike.local_id = pc.local_id.value;
    ike.remote_id = pc.remote_id.value;
    ike.algorithms = pc.ike.text;
    ike.established_s = 0;
    ike.rekey_in_s = pc.ike_lifetime_s;
    child_sa_info child;
    child.state = "INSTALLED";
    child.spi_in = "c0000001";
    child.spi_out = "c0000002";
    child.algorithms = pc.esp.text;
    for (const auto& c : pc.local_cidrs) child.local_ts.push_back(c.str());
    for (const auto& c : pc.peer_cidrs) child.remote_ts.push_back(c.str());
    const auto& cnt = it->second.counters;
    child.bytes_in = cnt.bytes_in;
    child.bytes_out = cnt.bytes_out;
    child.packets_in = cnt.packets_in;
    child.packets_out = cnt.packets_out;
    child.rekey_in_s = pc.child_lifetime_s;
    child.expire_in_s = pc.child_lifetime_s;
    ike.children.push_back(child);
    return {ike};
}

tunnel_counters fake_engine::query_counters(const std::string& uuid) {
    std::lock_guard lock(_mu);
    auto it = _tunnels.find(uuid);
    return it == _tunnels.end() ? tunnel_counters{} : it->second.counters;
}

std::map<std::string, std::uint64_t> fake_engine::global_drops() {
    std::lock_guard lock(_mu);
    return _global_drops;
}

std::vector<std::string> fake_engine::tunnel_log(const std::string& uuid, std::size_t lines) {
    std::lock_guard lock(_mu);
    auto it = _tunnels.find(uuid);
    if (it == _tunnels.end()) return {};
    const auto& log = it->second.log;
    auto n = std::min(lines, log.size());
    return {log.end() - std::ptrdiff_t(n), log.end()};
}

std::optional<std::string> fake_engine::udp_port_user(ipv4 address, std::uint16_t port) {
    std::lock_guard lock(_mu);
    auto it = _ports.find({address.value, port});
    if (it == _ports.end()) return std::nullopt;
    return it->second;
}

void fake_engine::set_status(const std::string& uuid, tunnel_status st) {
    std::lock_guard lock(_mu);
    _tunnels[uuid].status = std::move(st);
}
void fake_engine::set_counters(const std::string& uuid, tunnel_counters c) {
    std::lock_guard lock(_mu);
    _tunnels[uuid].counters = std::move(c);
}
void fake_engine::set_global_drops(std::map<std::string, std::uint64_t> d) {
    std::lock_guard lock(_mu);
    _global_drops = std::move(d);
}
void fake_engine::claim_udp_port(ipv4 address, std::uint16_t port, std::string service) {
    std::lock_guard lock(_mu);
    _ports[{address.value, port}] = std::move(service);
}
void fake_engine::fail_next_apply(api_error e) {
    std::lock_guard lock(_mu);
    _fail_next = std::move(e);
}
std::optional<tunnel_plan> fake_engine::plan_of(const std::string& uuid) const {
    std::lock_guard lock(_mu);
    auto it = _tunnels.find(uuid);
    if (it == _tunnels.end() || it->second.plan.peer.tunnel_uuid.empty()) return std::nullopt;
    return it->second.plan;
}
std::size_t fake_engine::apply_count() const {
    std::lock_guard lock(_mu);
    return _applies;
}
std::size_t fake_engine::reconnect_count(const std::string& uuid) const {
    std::lock_guard lock(_mu);
    auto it = _tunnels.find(uuid);
    return it == _tunnels.end() ? 0 : it->second.reconnects;
}
std::vector<std::string> fake_engine::removed() const {
    std::lock_guard lock(_mu);
    return _removed;
}

} // namespace control
