#pragma once
// fake_engine: an in-memory stand-in for the engine, for tests and the API test server only.
// It negotiates nothing and carries no traffic. It records every call (plans, removes,
// reconnects) so tests can assert what the control plane asked for, and it reports the status,
// SAs and counters that a test sets.
#include "control/engine.hpp"

#include <deque>
#include <map>
#include <mutex>

namespace control {

class fake_engine final : public engine {
public:
    // auto_ready: an enabled tunnel reports "Ready" (with one made-up IKE/CHILD SA) right after
    // apply; otherwise it stays "Connecting" until set_status().
    explicit fake_engine(bool auto_ready = false) : _auto_ready(auto_ready) {}

    status apply_tunnel(const tunnel_plan& plan) override;
    void remove_tunnel(const std::string& uuid) override;
    status reconnect_tunnel(const std::string& uuid) override;
    tunnel_status query_status(const std::string& uuid) override;
    std::vector<ike_sa_info> query_sas(const std::string& uuid) override;
    tunnel_counters query_counters(const std::string& uuid) override;
    std::map<std::string, std::uint64_t> global_drops() override;
    std::vector<std::string> tunnel_log(const std::string& uuid, std::size_t lines) override;
    std::optional<std::string> udp_port_user(ipv4 address, std::uint16_t port) override;
    [[nodiscard]] std::string kind() const override { return "fake"; }

    // Test controls.
    void set_status(const std::string& uuid, tunnel_status st);
    void set_counters(const std::string& uuid, tunnel_counters c);
    void set_global_drops(std::map<std::string, std::uint64_t> d);
    void claim_udp_port(ipv4 address, std::uint16_t port, std::string service);
    void fail_next_apply(api_error e);
    [[nodiscard]] std::optional<tunnel_plan> plan_of(const std::string& uuid) const;
    [[nodiscard]] std::size_t apply_count() const;
    [[nodiscard]] std::size_t reconnect_count(const std::string& uuid) const;
    [[nodiscard]] std::vector<std::string> removed() const;

private:
    struct entry {
        tunnel_plan plan;
        tunnel_status status;
        tunnel_counters counters;
        std::deque<std::string> log;
        std::size_t reconnects = 0;
    };
    void log_line(entry& e, std::string line);

    mutable std::mutex _mu;
    bool _auto_ready;
    std::map<std::string, entry> _tunnels;
    std::map<std::pair<std::uint32_t, std::uint16_t>, std::string> _ports;
    std::map<std::string, std::uint64_t> _global_drops;
    std::optional<api_error> _fail_next;
    std::size_t _applies = 0;
    std::vector<std::string> _removed;
};

} // namespace control
