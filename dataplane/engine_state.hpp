#pragma once
// Engine internals shared by engine.cpp (set-up, control) and pipeline.cpp (the workers).
#include "dataplane/config.hpp"
#include "dataplane/engine.hpp"
#include "dataplane/neighbor.hpp"
#include "dataplane/snapshot.hpp"
#include "dataplane/stats.hpp"
#include "dataplane/tables.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct rte_mbuf;

namespace dataplane {

inline constexpr std::uint16_t burst_size = 32;

struct port_rt {
    std::string name;
    std::uint16_t id = 0;  // DPDK port id
    port_role role = port_role::private_side;
    mac hw{};
    ifaddr4 ip;
    std::vector<ipv4> vips;
    std::uint16_t mtu = 1500;
    ipv4 subnet_broadcast = 0;

    [[nodiscard]] bool owns(ipv4 a) const {
        if (a == ip.addr) return true;
        for (auto v : vips)
            if (v == a) return true;
        return false;
    }
};

struct tx_buffer {
    std::array<rte_mbuf*, 2 * burst_size> pkts{};
    std::uint16_t n = 0;
};

struct worker {
    explicit worker(unsigned id) : id(id) {}
    unsigned id;  // RCU reader id
    neighbor_table neigh{1024};
    std::array<tx_buffer, max_ports> tx{};
    worker_stats stats;
    std::uint64_t last_age_ms = 0;
    std::uint32_t idle_rounds = 0;
};

struct engine::state {
    config cfg;
    std::vector<port_rt> ports;
    rte_mempool* pool = nullptr;
    rte_ring* punt = nullptr;
    rte_ring* inject = nullptr;
    std::unique_ptr<rcu_published<tables>> tables_rcu;
    std::vector<std::unique_ptr<worker>> workers;
    std::atomic<bool> stopping{false};
    std::atomic<bool> ike_attached{false};
    std::atomic<std::uint64_t> last_activity_ms{0};
    std::atomic<std::uint64_t> run_start_ms{0};
    std::atomic<std::uint64_t> run_end_ms{0};
    bool eal_up = false;
    std::vector<std::string> eal_args;

    [[nodiscard]] bool is_local(ipv4 a) const {
        for (const auto& p : ports)
            if (p.owns(a)) return true;
        return false;
    }
    [[nodiscard]] bool is_directed_broadcast(ipv4 a) const {
        for (const auto& p : ports)
            if (p.subnet_broadcast == a) return true;
        return false;
    }
};

std::uint64_t now_ms();
// The worker loop (pipeline.cpp): runs until s.stopping.
void run_worker(engine::state& s, worker& w);
// Frees everything a worker still holds (tx buffers, neighbour hold queues) after it stopped.
void drain_worker(engine::state& s, worker& w);
// DPDK telemetry commands /ipsec/... (telemetry.cpp).
void register_telemetry(engine* e);

} // namespace dataplane
