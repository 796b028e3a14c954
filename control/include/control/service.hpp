#pragma once
// The management operations behind the REST API (and, later, ipsecd's own reconcile loop).
// Each mutating operation works on a copy of the model: apply the request's fields, validate
// the whole candidate, hand the changed tunnel to the engine, persist atomically, then swap
// the copy in. A failure at any step leaves the previous model (and engine config) in place.
// Thread-safe (one mutex); the authKey never reaches a log line or a reply.
#include "control/engine.hpp"
#include "control/model.hpp"
#include "control/persist.hpp"
#include "control/result.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <mutex>
#include <string>

namespace control {

struct service_options {
    // Audit log of operations (default: stderr). Never given a key.
    std::function<void(std::string_view)> log;
};

class service {
public:
    // `store` may be null (no persistence, for tests of pure API behaviour).
    service(engine& eng, state_store* store, model_state initial, service_options opt = {});

    // Pushes every stored tunnel to the engine (at daemon start and after a restart).
    void apply_all();
    // Periodic reconcile (ZStack's agent re-initiates every 60 s; ipsecd calls this from a
    // timer): asks the engine to re-initiate every enabled tunnel it reports Disconnected,
    // except those with dpd action hold (the engine initiates them on traffic). Returns how
    // many were re-initiated.
    std::size_t reconcile();

    nlohmann::json list_networks() const;
    result<nlohmann::json> add_network(const nlohmann::json& body);

    nlohmann::json list_vips() const;
    result<nlohmann::json> get_vip(const std::string& uuid) const;
    result<nlohmann::json> create_vip(const nlohmann::json& params);
    status delete_vip(const std::string& uuid);

    nlohmann::json list_tunnels();
    result<nlohmann::json> get_tunnel(const std::string& uuid);
    result<nlohmann::json> create_tunnel(const nlohmann::json& params);
    result<nlohmann::json> update_tunnel(const std::string& uuid, const nlohmann::json& body);
    result<nlohmann::json> modify_tunnel(const std::string& uuid, const nlohmann::json& change);
    result<nlohmann::json> reconnect_tunnel(const std::string& uuid);
    result<nlohmann::json> set_tunnel_state(const std::string& uuid, bool enabled);
    result<nlohmann::json> change_l3_networks(const std::string& uuid, const nlohmann::json& list, bool add);
    result<nlohmann::json> change_peer_cidrs(const std::string& uuid, const nlohmann::json& list, bool add);
    status delete_tunnel(const std::string& uuid);
    result<nlohmann::json> tunnel_sas(const std::string& uuid);
    result<nlohmann::json> tunnel_log(const std::string& uuid, std::size_t lines);

    // Prometheus text exposition (format 0.0.4).
    std::string metrics();

    [[nodiscard]] model_state snapshot() const;

private:
    // Validates `t` against `next`, applies it to the engine, persists `next`, swaps it in.
    result<nlohmann::json> commit_tunnel(model_state next, const std::string& uuid, const char* op,
                                         const tunnel* before);
    status persist(const model_state& next);
    nlohmann::json inventory(const tunnel& t, const model_state& m);
    void log(const std::string& line) const;

    mutable std::mutex _mu;
    engine& _engine;
    state_store* _store;
    model_state _model;
    service_options _opt;
};

} // namespace control
