#pragma once
// The DPDK engine behind ipsecd: EAL, ports, mbuf pool, the IKE punt/inject rings, the RCU-
// published tables and the worker lcore(s) running the burst pipeline (pipeline.cpp).
// One engine per process (DPDK's EAL can be initialised once).
#include "dataplane/config.hpp"
#include "dataplane/tables.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

struct rte_ring;
struct rte_mempool;

namespace dataplane {

class engine {
public:
    // Initialises the EAL with config.eal, resolves and starts the ports, builds the tables.
    // Throws config_error for configuration problems found only now (a device that does not
    // exist, a bad SPEC, an SA name no policy can find) and std::runtime_error for DPDK
    // failures.
    explicit engine(config c);
    ~engine();  // stops and closes the ports (net_pcap flushes its tx file), EAL cleanup
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    // Runs the workers until stop() or, with exit_when_idle_ms, until that long without a
    // packet. The calling thread becomes worker 0 on the main lcore; a control thread prints
    // the periodic summary and reclaims retired snapshots.
    void run();
    void stop();  // async-signal-safe

    // Control side.
    void publish(std::unique_ptr<tables> t);
    [[nodiscard]] const tables& current_tables() const;  // control thread only
    // IKE: packets for UDP 500 / 4500-with-marker arrive on punt_ring() as IPv4 packets (no
    // L2 header; mbuf->port = receiving port). IKE enqueues IPv4 packets to send on
    // inject_ring(); the workers route them and resolve L2. Until attach_ike(true), IKE
    // packets are dropped as no_ike.
    void attach_ike(bool on);
    rte_ring* punt_ring();
    rte_ring* inject_ring();
    rte_mempool* pool();

    [[nodiscard]] nlohmann::json counters_json() const;
    // Drop counters by reason (data-plane and ESP reasons, non-zero only); reads no table, so
    // any thread may call it.
    [[nodiscard]] std::map<std::string, std::uint64_t> drop_counters() const;
    [[nodiscard]] std::string summary_line() const;

    struct state;

private:
    std::unique_ptr<state> _s;
};

} // namespace dataplane
