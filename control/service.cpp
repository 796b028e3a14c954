// Management operations: copy, change, validate, apply, persist, swap (see service.hpp).
#include "control/service.hpp"

#include "control/plan.hpp"
#include "control/validate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

namespace control {

using nlohmann::json;

service::service(engine& eng, state_store* store, model_state initial, service_options opt)
    : _engine(eng), _store(store), _model(std::move(initial)), _opt(std::move(opt)) {
    if (!_opt.log) _opt.log = [](std::string_view line) { std::fprintf(stderr, "control: %.*s\n", int(line.size()), line.data()); };
}

void service::log(const std::string& line) const { _opt.log(line); }

void service::apply_all() {
    std::lock_guard lock(_mu);
    for (const auto& t : _model.tunnels) {
        if (auto e = _engine.apply_tunnel(compile_tunnel(t, _model)))
            log(fmt::format("tunnel {} \"{}\": engine refused the stored config: {}", t.uuid, t.name, e->description));
    }
}

std::size_t service::reconcile() {
    std::lock_guard lock(_mu);
    std::size_t n = 0;
    for (const auto& t : _model.tunnels) {
        if (!t.enabled) continue;
        // dpd action hold is on-demand (strongSwan's trap): the engine initiates such a tunnel
        // when its traffic arrives, not on a timer.
        if (t.dpd.action == "hold") continue;
        auto st = _engine.query_status(t.uuid);
        if (st.status != "Disconnected") continue;
        if (auto e = _engine.reconnect_tunnel(t.uuid)) {
            log(fmt::format("tunnel {} \"{}\": reconcile: re-initiate failed: {}", t.uuid, t.name, e->description));
            continue;
        }
        log(fmt::format("tunnel {} \"{}\": reconcile: was Disconnected ({}), re-initiated", t.uuid, t.name, st.reason));
        ++n;
    }
    return n;
}

status service::persist(const model_state& next) {
    if (!_store) return std::nullopt;
    if (auto ec = _store->save(next))
        return api_error{500, "PersistFailed", fmt::format("cannot write state file {}: {}", _store->file().string(), ec.message())};
    return std::nullopt;
}

json service::inventory(const tunnel& t, const model_state& m) {
    auto st = _engine.query_status(t.uuid);
    if (!t.enabled) st = {"Disconnected", "disabled"};
    return to_inventory(t, m.find_vip(t.vip_uuid), st, weak_warnings(t));
}

model_state service::snapshot() const {
    std::lock_guard lock(_mu);
    return _model;
}

// ---- networks ---------------------------------------------------------------------------

json service::list_networks() const {
    std::lock_guard lock(_mu);
    json out = json::array();
    for (const auto& n : _model.networks) out.push_back(to_json(n));
    return {{"inventories", out}};
}

result<json> service::add_network(const json& body) {
    auto n = parse_network(body, false);
    if (!n) return n.error();
    std::lock_guard lock(_mu);
    if (auto e = check_new_network(*n, _model)) return *e;
    model_state next = _model;
    next.networks.push_back(*n);
    derive_system_vips(next);
    recompute_use_for(next);
    if (auto e = persist(next)) return *e;
    _model = std::move(next);
    log(fmt::format("network {} \"{}\" {} {} added", n->uuid, n->name, to_string(n->category), n->cidr.str()));
    return json{{"inventory", to_json(*n)}};
}

// ---- VIPs -------------------------------------------------------------------------------

json service::list_vips() const {
    std::lock_guard lock(_mu);
    json out = json::array();
    for (const auto& v : _model.vips) out.push_back(to_json(v));
    return {{"inventories", out}};
}

result<json> service::get_vip(const std::string& uuid) const {
    std::lock_guard lock(_mu);
    const vip* v = _model.find_vip(uuid);
    if (!v) return api_error::not_found(fmt::format("no VIP with uuid \"{}\"", uuid));
    return json{{"inventory", to_json(*v)}};
}

result<json> service::create_vip(const json& params) {
    auto req = parse_vip_request(params);
    if (!req) return req.error();
    std::lock_guard lock(_mu);
    auto ip = allocate_vip_address(*req, _model);
    if (!ip) return ip.error();
    vip v;
    v.uuid = req->uuid.empty() ? new_uuid() : req->uuid;
    if (_model.find_vip(v.uuid)) return api_error::conflict(fmt::format("a VIP with uuid {} already exists", v.uuid));
    v.name = req->name;
    v.description = req->description;
    v.l3_network_uuid = req->l3_network_uuid;
    v.ip = *ip;
    v.ip_range_uuid = req->ip_range_uuid;
    v.create_date = v.last_op_date = now_timestamp();
    model_state next = _model;
    next.vips.push_back(v);
    if (auto e = persist(next)) return *e;
    _model = std::move(next);
    log(fmt::format("vip {} \"{}\" {} created", v.uuid, v.name, v.ip.str()));
    return json{{"inventory", to_json(v)}};
}

status service::delete_vip(const std::string& uuid) {
    std::lock_guard lock(_mu);
    const vip* v = _model.find_vip(uuid);
    if (!v) return api_error::not_found(fmt::format("no VIP with uuid \"{}\"", uuid));
    if (v->system) return api_error::conflict(fmt::format("VIP {} is the system VIP of its port and cannot be deleted", v->ip.str()));
    for (const auto& t : _model.tunnels)
        if (t.vip_uuid == uuid)
            return api_error::conflict(fmt::format("VIP {} is used by tunnel \"{}\" ({}); delete the tunnel first", v->ip.str(), t.name, t.uuid));
    model_state next = _model;
    std::erase_if(next.vips, [&](const vip& x) { return x.uuid == uuid; });
    if (auto e = persist(next)) return e;
    log(fmt::format("vip {} \"{}\" deleted", uuid, v->name));
    _model = std::move(next);
    return std::nullopt;
}

// ---- tunnels ----------------------------------------------------------------------------

json service::list_tunnels() {
    std::lock_guard lock(_mu);
    json out = json::array();
    for (const auto& t : _model.tunnels) out.push_back(inventory(t, _model));
    return {{"inventories", out}};
}

result<json> service::get_tunnel(const std::string& uuid) {
    std::lock_guard lock(_mu);
    const tunnel* t = _model.find_tunnel(uuid);
    if (!t) return api_error::not_found(fmt::format("no IPsec connection with uuid \"{}\"", uuid));
    return json{{"inventory", inventory(*t, _model)}};
}

result<json> service::commit_tunnel(model_state next, const std::string& uuid, const char* op, const tunnel* before) {
    tunnel* t = next.find_tunnel(uuid);
    if (auto e = check_tunnel(*t, next)) return *e;
    const vip* v = next.find_vip(t->vip_uuid);
    if (!before || before->vip_uuid != t->vip_uuid) {
        for (std::uint16_t port : {std::uint16_t(500), std::uint16_t(4500)})
            if (auto user = _engine.udp_port_user(v->ip, port))
                return api_error::invalid("vipUuid", fmt::format("UDP {} on {} is used by another service ({}); IPsec needs UDP 500 and 4500",
                                                                 port, v->ip.str(), *user));
    }
    t->last_op_date = now_timestamp();
    recompute_use_for(next);
    if (auto e = _engine.apply_tunnel(compile_tunnel(*t, next))) return *e;
    if (auto e = persist(next)) {
        // Put the engine back to what the stored state says.
        if (before) (void)_engine.apply_tunnel(compile_tunnel(*before, _model));
        else _engine.remove_tunnel(uuid);
        return *e;
    }
    _model = std::move(next);
    const tunnel& now = *_model.find_tunnel(uuid);
    auto warnings = weak_warnings(now);
    log(fmt::format("tunnel {} \"{}\" {}: peer {} vip {} peerCidrs {} ike {} esp {}{}", now.uuid, now.name, op,
                    now.peer_address.str(), v->ip.str(), now.peer_cidrs.size(),
                    ike_proposal(now.ike_encryption_algorithm, now.ike_auth_algorithm, now.ike_dh_group).text,
                    esp_proposal(now.policy_encryption_algorithm, now.policy_auth_algorithm, now.pfs).text,
                    warnings.empty() ? "" : fmt::format(" ({} warnings)", warnings.size())));
    for (const auto& w : warnings) log(fmt::format("tunnel {} \"{}\": {}", now.uuid, now.name, w));
    return json{{"inventory", inventory(now, _model)}};
}

result<json> service::create_tunnel(const json& params) {
    tunnel t;
    if (auto e = apply_tunnel_fields(t, params, field_mode::create)) return *e;
    std::lock_guard lock(_mu);
    if (t.uuid.empty()) t.uuid = new_uuid();
    else if (_model.find_tunnel(t.uuid)) return api_error::conflict(fmt::format("an IPsec connection with uuid {} already exists", t.uuid));
    t.create_date = now_timestamp();
    model_state next = _model;
    auto uuid = t.uuid;
    next.tunnels.push_back(std::move(t));
    return commit_tunnel(std::move(next), uuid, "created", nullptr);
}

result<json> service::update_tunnel(const std::string& uuid, const json& body) {
    if (!body.is_object()) return api_error::malformed("updateIPsecConnection must be a JSON object");
    for (const auto& [k, v] : body.items())
        if (k != "name" && k != "description" && k != "systemTags" && k != "userTags")
            return api_error::invalid(k, "updateIPsecConnection changes only \"name\" and \"description\"; use changeIPsecConnection for the rest");
    std::lock_guard lock(_mu);
    const tunnel* cur = _model.find_tunnel(uuid);
    if (!cur) return api_error::not_found(fmt::format("no IPsec connection with uuid \"{}\"", uuid));
    model_state next = _model;
    tunnel* t = next.find_tunnel(uuid);
    if (auto e = apply_tunnel_fields(*t, body, field_mode::modify)) return *e;
    t->last_op_date = now_timestamp();
    if (auto e = persist(next)) return *e;
    _model = std::move(next);
    log(fmt::format("tunnel {} renamed/described: \"{}\"", uuid, _model.find_tunnel(uuid)->name));
    return json{{"inventory", inventory(*_model.find_tunnel(uuid), _model)}};
}

result<json> service::modify_tunnel(const std::string& uuid, const json& change) {
    if (!change.is_object()) return api_error::malformed("changeIPsecConnection must be a JSON object");
    std::lock_guard lock(_mu);
    const tunnel* cur = _model.find_tunnel(uuid);
    if (!cur) return api_error::not_found(fmt::format("no IPsec connection with uuid \"{}\"", uuid));
    tunnel before = *cur;
    model_state next = _model;
    if (auto e = apply_tunnel_fields(*next.find_tunnel(uuid), change, field_mode::modify)) return *e;
    return commit_tunnel(std::move(next), uuid, "modified", &before);
}

result<json> service::reconnect_tunnel(const std::string& uuid) {
    std::lock_guard lock(_mu);
    tunnel* t = _model.find_tunnel(uuid);
    if (!t) return api_error::not_found(fmt::format("no IPsec connection with uuid \"{}\"", uuid));
    if (!t->enabled) return api_error::conflict(fmt::format("tunnel \"{}\" is disabled; enable it instead of reconnecting", t->name));
    if (auto e = _engine.reconnect_tunnel(uuid)) return *e;
    log(fmt::format("tunnel {} \"{}\" reconnect requested", uuid, t->name));
    return json{{"inventory", inventory(*t, _model)}};
}

result<json> service::set_tunnel_state(const std::string& uuid, bool enabled) {
    std::lock_guard lock(_mu);
    const tunnel* cur = _model.find_tunnel(uuid);
    if (!cur) return api_error::not_found(fmt::format("no IPsec connection with uuid \"{}\"", uuid));
    tunnel before = *cur;
    model_state next = _model;
    next.find_tunnel(uuid)->enabled = enabled;
    return commit_tunnel(std::move(next), uuid, enabled ? "enabled" : "disabled", &before);
}

result<json> service::change_l3_networks(const std::string& uuid, const json& list, bool add) {
    auto uuids = parse_string_list(list, "l3NetworkUuids");
    if (!uuids) return uuids.error();
    if (uuids->empty()) return api_error::invalid("l3NetworkUuids", "at least one network uuid is required");
    std::lock_guard lock(_mu);
    const tunnel* cur = _model.find_tunnel(uuid);
    if (!cur) return api_error::not_found(fmt::format("no IPsec connection with uuid \"{}\"", uuid));
    tunnel before = *cur;
    model_state next = _model;
    auto& l = next.find_tunnel(uuid)->l3_network_uuids;
    for (const auto& u : *uuids) {
        bool present = std::find(l.begin(), l.end(), u) != l.end();
        if (add && present) return api_error::invalid("l3NetworkUuids", fmt::format("\"{}\" is already a local network of this tunnel", u));
        if (!add && !present) return api_error::invalid("l3NetworkUuids", fmt::format("\"{}\" is not a local network of this tunnel", u));
        if (add) l.push_back(u);
        else std::erase(l, u);
    }
    if (l.empty()) return api_error::invalid("l3NetworkUuids", "a tunnel keeps at least one local network");
    return commit_tunnel(std::move(next), uuid, add ? "local networks added" : "local networks removed", &before);
}

result<json> service::change_peer_cidrs(const std::string& uuid, const json& list, bool add) {
    auto cidrs = parse_cidr_list(list, "peerCidrs");
    if (!cidrs) return cidrs.error();
    if (cidrs->empty()) return api_error::invalid("peerCidrs", "at least one CIDR is required");
    std::lock_guard lock(_mu);
    const tunnel* cur = _model.find_tunnel(uuid);
    if (!cur) return api_error::not_found(fmt::format("no IPsec connection with uuid \"{}\"", uuid));
    tunnel before = *cur;
    model_state next = _model;
    auto& l = next.find_tunnel(uuid)->peer_cidrs;
    for (const auto& c : *cidrs) {
        bool present = std::find(l.begin(), l.end(), c) != l.end();
        if (add && present) return api_error::invalid("peerCidrs", fmt::format("{} is already a peer CIDR of this tunnel", c.str()));
        if (!add && !present) return api_error::invalid("peerCidrs", fmt::format("{} is not a peer CIDR of this tunnel", c.str()));
        if (add) l.push_back(c);
        else std::erase(l, c);
    }
    if (l.empty()) return api_error::invalid("peerCidrs", "a tunnel keeps at least one peer CIDR");
    return commit_tunnel(std::move(next), uuid, add ? "peer CIDRs added" : "peer CIDRs removed", &before);
}

status service::delete_tunnel(const std::string& uuid) {
    std::lock_guard lock(_mu);
    const tunnel* t = _model.find_tunnel(uuid);
    if (!t) return api_error::not_found(fmt::format("no IPsec connection with uuid \"{}\"", uuid));
    auto name = t->name;
    model_state next = _model;
    std::erase_if(next.tunnels, [&](const tunnel& x) { return x.uuid == uuid; });
    recompute_use_for(next);
    // Persist first: if the write fails the tunnel stays, still running; if we crash after it,
    // the restart simply does not bring the tunnel back.
    if (auto e = persist(next)) return e;
    _model = std::move(next);
    _engine.remove_tunnel(uuid);
    log(fmt::format("tunnel {} \"{}\" deleted (VIP kept)", uuid, name));
    return std::nullopt;
}

result<json> service::tunnel_sas(const std::string& uuid) {
    std::lock_guard lock(_mu);
    const tunnel* t = _model.find_tunnel(uuid);
    if (!t) return api_error::not_found(fmt::format("no IPsec connection with uuid \"{}\"", uuid));
    json ikes = json::array();
    for (const auto& s : _engine.query_sas(uuid)) {
        json children = json::array();
        for (const auto& c : s.children)
            children.push_back({{"state", c.state},
                                {"protocol", c.protocol},
                                {"spiIn", c.spi_in},
                                {"spiOut", c.spi_out},
                                {"algorithms", c.algorithms},
                                {"localTs", c.local_ts},
                                {"remoteTs", c.remote_ts},
                                {"bytesIn", c.bytes_in},
                                {"bytesOut", c.bytes_out},
                                {"packetsIn", c.packets_in},
                                {"packetsOut", c.packets_out},
                                {"rekeyIn", c.rekey_in_s},
                                {"expiresIn", c.expire_in_s},
                                {"udpEncap", c.udp_encap}});
        ikes.push_back({{"state", s.state},
                        {"initiator", s.initiator},
                        {"spiI", s.spi_i},
                        {"spiR", s.spi_r},
                        {"local", s.local},
                        {"remote", s.remote},
                        {"localId", s.local_id},
                        {"remoteId", s.remote_id},
                        {"algorithms", s.algorithms},
                        {"establishedFor", s.established_s},
                        {"rekeyIn", s.rekey_in_s},
                        {"reauthIn", s.reauth_in_s},
                        {"natDetected", s.nat_detected},
                        {"childSas", children}});
    }
    return json{{"uuid", uuid}, {"name", t->name}, {"engine", _engine.kind()}, {"ikeSas", ikes}};
}

result<json> service::tunnel_log(const std::string& uuid, std::size_t lines) {
    std::lock_guard lock(_mu);
    const tunnel* t = _model.find_tunnel(uuid);
    if (!t) return api_error::not_found(fmt::format("no IPsec connection with uuid \"{}\"", uuid));
    return json{{"uuid", uuid}, {"name", t->name}, {"lines", _engine.tunnel_log(uuid, lines)}};
}

// ---- metrics ----------------------------------------------------------------------------

namespace {
std::string label_value(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}
} // namespace

std::string service::metrics() {
    std::lock_guard lock(_mu);
    std::string out;
    auto header = [&](std::string_view name, std::string_view type, std::string_view help) {
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    };
    struct row {
        std::string labels;
        tunnel_counters c;
        tunnel_status st;
    };
    std::vector<row> rows;
    for (const auto& t : _model.tunnels) {
        row r{fmt::format("tunnel=\"{}\",name=\"{}\"", t.uuid, label_value(t.name)), _engine.query_counters(t.uuid),
              t.enabled ? _engine.query_status(t.uuid) : tunnel_status{"Disconnected", "disabled"}};
        rows.push_back(std::move(r));
    }
    header("ipsec_engine_info", "gauge", "Engine behind the API (\"fake\" is the test double, not a VPN).");
    out += fmt::format("ipsec_engine_info{{kind=\"{}\"}} 1\n", label_value(_engine.kind()));
    header("ipsec_tunnels", "gauge", "Configured IPsec tunnels.");
    out += fmt::format("ipsec_tunnels {}\n", rows.size());
    header("ipsec_tunnel_bytes_total", "counter", "Bytes carried by the tunnel's CHILD SAs.");
    for (const auto& r : rows) {
        out += fmt::format("ipsec_tunnel_bytes_total{{{},direction=\"in\"}} {}\n", r.labels, r.c.bytes_in);
        out += fmt::format("ipsec_tunnel_bytes_total{{{},direction=\"out\"}} {}\n", r.labels, r.c.bytes_out);
    }
    header("ipsec_tunnel_packets_total", "counter", "Packets carried by the tunnel's CHILD SAs.");
    for (const auto& r : rows) {
        out += fmt::format("ipsec_tunnel_packets_total{{{},direction=\"in\"}} {}\n", r.labels, r.c.packets_in);
        out += fmt::format("ipsec_tunnel_packets_total{{{},direction=\"out\"}} {}\n", r.labels, r.c.packets_out);
    }
    header("ipsec_tunnel_drops_total", "counter", "Packets of the tunnel dropped, by reason.");
    for (const auto& r : rows)
        for (const auto& [reason, n] : r.c.drops)
            out += fmt::format("ipsec_tunnel_drops_total{{{},reason=\"{}\"}} {}\n", r.labels, label_value(reason), n);
    header("ipsec_tunnel_ike_sas", "gauge", "IKE SAs of the tunnel.");
    for (const auto& r : rows) out += fmt::format("ipsec_tunnel_ike_sas{{{}}} {}\n", r.labels, r.c.ike_sas);
    header("ipsec_tunnel_child_sas", "gauge", "CHILD SAs of the tunnel.");
    for (const auto& r : rows) out += fmt::format("ipsec_tunnel_child_sas{{{}}} {}\n", r.labels, r.c.child_sas);
    header("ipsec_tunnel_rekeys_total", "counter", "Completed rekeys (IKE and CHILD SAs).");
    for (const auto& r : rows) out += fmt::format("ipsec_tunnel_rekeys_total{{{}}} {}\n", r.labels, r.c.rekeys);
    header("ipsec_tunnel_status", "gauge", "1 for the tunnel's current status.");
    for (const auto& r : rows)
        for (std::string_view s : {"Connecting", "Ready", "Disconnected"})
            out += fmt::format("ipsec_tunnel_status{{{},status=\"{}\"}} {}\n", r.labels, s, r.st.status == s ? 1 : 0);
    header("ipsec_drops_total", "counter", "Packets dropped outside any tunnel, by reason.");
    for (const auto& [reason, n] : _engine.global_drops())
        out += fmt::format("ipsec_drops_total{{reason=\"{}\"}} {}\n", label_value(reason), n);
    return out;
}

} // namespace control
