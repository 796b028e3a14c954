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
inline constexpr unsigned max_workers = 16;

struct port_rt {
    std::string name;
    std::uint16_t id = 0;  // DPDK port id
    port_role role = port_role::private_side;
    mac hw{};
    ifaddr4 ip;
    std::vector<ipv4> vips;
    std::uint16_t mtu = 1500;
    ipv4 subnet_broadcast = 0;
    // Queues: worker w polls RX queue w when w < rx_queues (RSS, or the device's own spreading
    // such as net_af_packet's fanout) and sends on TX queue w when w < tx_queues; the other
    // workers' packets for this port go through tx_funnel (MP/SC), sent by worker 0 on queue 0.
    std::uint16_t rx_queues = 1;
    std::uint16_t tx_queues = 1;
    rte_ring* tx_funnel = nullptr;

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
    std::uint64_t bytes = 0;  // TX queues: their pkt_len sum, added as they are queued
};

// A packet handed to the worker that owns its SA (each SA has one owning lcore: sequence
// numbers, replay window and per-SA counters have a single writer). The tag travels in an mbuf
// dynamic field.
enum class handoff_kind : std::uint8_t { encap, decap };
struct handoff_tag {
    std::uint64_t generation;  // tables::generation the SA index belongs to
    std::uint32_t sa;          // out_sas index (encap)
    handoff_kind kind;
};

// A neighbour learned by one worker, told to the others (each has its own table).
struct neighbor_note {
    ipv4 ip;
    std::uint16_t port;
    std::uint8_t create;
    std::uint8_t pad;
    mac hw;
    std::uint8_t pad2[2];
};
static_assert(sizeof(neighbor_note) == 16);

// Packets of a round waiting for ESP encap, in SA groups handed to one esp::encap_batch, so
// the crypto of a burst spread over many SAs runs in one multi-buffer pass (pipeline.cpp 6a).
struct encap_queue {
    esp::encap_batch batch;
    std::array<rte_mbuf*, esp::max_burst> mb{};
    std::array<esp::pkt, esp::max_burst> pk{};
    std::array<esp::drop_reason, esp::max_burst> res{};
    std::array<std::uint32_t, esp::max_burst> sa{};  // out_sas index of each packet
    std::size_t n = 0;
    std::size_t group_start = 0;  // first packet of the group not yet given to the batch
};

struct worker {
    explicit worker(unsigned id) : id(id) {}
    unsigned id;  // RCU reader id, index in state::workers
    unsigned lcore = 0;
    engine::state* engine_state = nullptr;  // for the lcore launch
    neighbor_table neigh{1024};
    std::array<tx_buffer, max_ports> tx{};
    rte_ring* handoff = nullptr;  // MP/SC: packets for SAs this worker owns
    rte_ring* notes = nullptr;    // MP/SC: neighbor_note from the other workers
    std::array<tx_buffer, max_workers> to_worker{};  // handoff, flushed once per burst
    encap_queue encap;
    esp::decap_batch decap;  // pipeline.cpp 6b: one crypto pass per burst over all its SAs
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
    std::uint64_t next_generation = 1;  // control side: stamped on each published snapshot
    int handoff_field = -1;             // mbuf dynfield offset of the handoff_tag
    std::vector<std::unique_ptr<worker>> workers;
    std::atomic<bool> stopping{false};
    std::atomic<bool> ike_attached{false};
    std::atomic<std::uint64_t> last_activity_ms{0};
    std::atomic<std::uint64_t> run_start_ms{0};
    std::atomic<std::uint64_t> run_end_ms{0};
    bool eal_up = false;
    std::vector<std::string> eal_args;

    address_filter special;  // every port address, port VIP and subnet broadcast (setup_port)

    [[nodiscard]] bool is_local(ipv4 a) const {
        if (!special.maybe(a)) return false;
        for (const auto& p : ports)
            if (p.owns(a)) return true;
        return false;
    }
    [[nodiscard]] bool is_directed_broadcast(ipv4 a) const {
        if (!special.maybe(a)) return false;
        for (const auto& p : ports)
            if (p.subnet_broadcast == a) return true;
        return false;
    }
};

std::uint64_t now_ms();
// The same clock (CLOCK_MONOTONIC, which steady_clock reads on Linux) as of the last tick: never
// ahead of now_ms(), a few ms behind at most, and several times cheaper. The workers' per-round
// clock (neighbour timers, last activity).
std::uint64_t now_ms_coarse();
// The worker owning an SA, by its SPI: stable across snapshots, spread by the SPI's low bits.
inline unsigned sa_owner(std::uint32_t spi, std::size_t workers) {
    return workers <= 1 ? 0 : unsigned((spi ^ (spi >> 16)) % workers);
}
// The worker loop (pipeline.cpp): runs until s.stopping.
void run_worker(engine::state& s, worker& w);
// Frees everything a worker still holds (tx buffers, neighbour hold queues) after it stopped.
void drain_worker(engine::state& s, worker& w);
// DPDK telemetry commands /ipsec/... (telemetry.cpp).
void register_telemetry(engine* e);

} // namespace dataplane
