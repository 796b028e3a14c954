// Routing of REST requests to service operations (see api.hpp).
#include "control/api.hpp"

#include <fmt/format.h>

#include <charconv>
#include <vector>

namespace control {

using nlohmann::json;

http_reply error_reply(const api_error& e) {
    json j{{"error", {{"code", e.code}, {"description", e.description}}}};
    return {e.status, "application/json", j.dump()};
}

namespace {

http_reply ok(const json& j, int code = 200) { return {code, "application/json", j.dump()}; }

http_reply from(const result<json>& r, int code = 200) { return r ? ok(*r, code) : error_reply(r.error()); }

http_reply from(const status& s) { return s ? error_reply(*s) : ok(json::object()); }

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> parts;
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        auto slash = path.find('/');
        parts.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash);
    }
    return parts;
}

// Value of `key` in a query string "a=1&b=2" (no percent-decoding: our keys and values are plain).
std::optional<std::string_view> query_param(std::string_view q, std::string_view key) {
    while (!q.empty()) {
        auto amp = q.find('&');
        auto kv = q.substr(0, amp);
        auto eq = kv.find('=');
        if (kv.substr(0, eq) == key) return eq == std::string_view::npos ? std::string_view{} : kv.substr(eq + 1);
        if (amp == std::string_view::npos) break;
        q.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

result<json> parse_body(std::string_view body) {
    if (body.empty()) return api_error::malformed("request body is empty; expected a JSON object");
    json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return api_error::malformed("request body is not valid JSON");
    if (!j.is_object()) return api_error::malformed("request body must be a JSON object");
    return j;
}

// {"<key>": {...}} -> the inner object.
result<json> envelope(std::string_view body, std::string_view key) {
    auto j = parse_body(body);
    if (!j) return j;
    auto it = j->find(key);
    if (it == j->end() || !it->is_object())
        return api_error::malformed(fmt::format("expected a body of the form {{\"{}\": {{...}}}}", key));
    for (const auto& [k, v] : j->items())
        if (k != key && k != "systemTags" && k != "userTags")
            return api_error::malformed(fmt::format("unexpected top-level field \"{}\" (expected \"{}\")", k, key));
    return *it;
}

http_reply method_not_allowed(std::string_view method, std::string_view path) {
    return error_reply({405, "MethodNotAllowed", fmt::format("{} is not allowed on {}", method, path)});
}

} // namespace

http_reply api_router::handle(std::string_view method, std::string_view target, std::string_view body) {
    auto qpos = target.find('?');
    std::string_view path = target.substr(0, qpos);
    std::string_view query = qpos == std::string_view::npos ? std::string_view{} : target.substr(qpos + 1);
    auto p = split_path(path);
    auto is = [&](std::string_view m) { return method == m; };
    auto not_found = [&] { return error_reply(api_error::not_found(fmt::format("no such path: {}", path))); };

    if (p.size() == 1 && p[0] == "metrics") {
        if (!is("GET")) return method_not_allowed(method, path);
        return {200, "text/plain; version=0.0.4; charset=utf-8", _svc.metrics()};
    }
    if (p.size() < 2 || p[0] != "v1") return not_found();

    if (p[1] == "networks" && p.size() == 2) {
        if (is("GET")) return ok(_svc.list_networks());
        if (is("POST")) {
            auto b = envelope(body, "params");
            return b ? from(_svc.add_network(*b), 201) : error_reply(b.error());
        }
        return method_not_allowed(method, path);
    }

    if (p[1] == "vips") {
        if (p.size() == 2) {
            if (is("GET")) return ok(_svc.list_vips());
            if (is("POST")) {
                auto b = envelope(body, "params");
                return b ? from(_svc.create_vip(*b), 201) : error_reply(b.error());
            }
            return method_not_allowed(method, path);
        }
        if (p.size() == 3) {
            std::string uuid(p[2]);
            if (is("GET")) return from(_svc.get_vip(uuid));
            if (is("DELETE")) return from(_svc.delete_vip(uuid));
            return method_not_allowed(method, path);
        }
        return not_found();
    }

    if (p[1] != "ipsec") return not_found();
    if (p.size() == 2) {
        if (is("GET")) return ok(_svc.list_tunnels());
        if (is("POST")) {
            auto b = envelope(body, "params");
            return b ? from(_svc.create_tunnel(*b), 201) : error_reply(b.error());
        }
        return method_not_allowed(method, path);
    }
    if (p.size() == 4 && p[2] == "config") {
        if (!is("PUT")) return method_not_allowed(method, path);
        auto b = envelope(body, "changeIPsecConnection");
        return b ? from(_svc.modify_tunnel(std::string(p[3]), *b)) : error_reply(b.error());
    }
    std::string uuid(p[2]);
    if (p.size() == 3) {
        if (is("GET")) return from(_svc.get_tunnel(uuid));
        if (is("DELETE")) return from(_svc.delete_tunnel(uuid));
        if (is("PUT")) {
            auto b = envelope(body, "updateIPsecConnection");
            return b ? from(_svc.update_tunnel(uuid, *b)) : error_reply(b.error());
        }
        return method_not_allowed(method, path);
    }
    if (p.size() != 4) return not_found();
    auto sub = p[3];
    if (sub == "actions") {
        if (!is("PUT")) return method_not_allowed(method, path);
        auto j = parse_body(body);
        if (!j) return error_reply(j.error());
        if (j->size() != 1)
            return error_reply(api_error::malformed(
                "expected exactly one action: {\"reconnectIPsecConnection\": {}} or {\"changeIPsecConnectionState\": {\"stateEvent\": ...}}"));
        if (j->contains("reconnectIPsecConnection")) {
            if (!(*j)["reconnectIPsecConnection"].is_object())
                return error_reply(api_error::malformed("reconnectIPsecConnection must be an object"));
            return from(_svc.reconnect_tunnel(uuid));
        }
        if (j->contains("changeIPsecConnectionState")) {
            const auto& a = (*j)["changeIPsecConnectionState"];
            if (!a.is_object() || !a.contains("stateEvent") || !a["stateEvent"].is_string() ||
                (a["stateEvent"] != "enable" && a["stateEvent"] != "disable"))
                return error_reply(api_error::invalid("stateEvent", "must be \"enable\" or \"disable\""));
            return from(_svc.set_tunnel_state(uuid, a["stateEvent"] == "enable"));
        }
        return error_reply(api_error::malformed(
            fmt::format("unknown action \"{}\"; expected reconnectIPsecConnection or changeIPsecConnectionState", j->begin().key())));
    }
    if (sub == "l3networks" || sub == "peer-cidrs") {
        if (!is("POST") && !is("DELETE")) return method_not_allowed(method, path);
        auto j = parse_body(body);
        if (!j) return error_reply(j.error());
        std::string key = sub == "l3networks" ? "l3NetworkUuids" : "peerCidrs";
        if (!j->contains(key)) return error_reply(api_error::invalid(key, "required: a list"));
        bool add = is("POST");
        return from(sub == "l3networks" ? _svc.change_l3_networks(uuid, (*j)[key], add)
                                        : _svc.change_peer_cidrs(uuid, (*j)[key], add));
    }
    if (sub == "sas") {
        if (!is("GET")) return method_not_allowed(method, path);
        return from(_svc.tunnel_sas(uuid));
    }
    if (sub == "log") {
        if (!is("GET")) return method_not_allowed(method, path);
        std::size_t lines = 30;
        if (auto v = query_param(query, "lines")) {
            std::size_t n = 0;
            auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
            if (ec != std::errc{} || end != v->data() + v->size() || n < 1 || n > 10000)
                return error_reply(api_error::invalid("lines", "must be an integer in 1..10000"));
            lines = n;
        }
        return from(_svc.tunnel_log(uuid, lines));
    }
    return not_found();
}

} // namespace control
