#pragma once
// Data-plane counters. Each counter has one writer (the worker lcore that owns it) and is read
// by the control thread (summary line, JSON, telemetry): a relaxed atomic load/store pair, so
// the fast path pays a plain add, never a locked instruction.
#include "dataplane/drop.hpp"

#include <esp/drop.hpp>

#include <array>
#include <atomic>
#include <cstdint>

namespace dataplane {

inline constexpr std::size_t max_ports = 16;

class counter {
public:
    void add(std::uint64_t n = 1) { _v.store(_v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t get() const { return _v.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> _v{0};
};

struct port_stats {
    counter rx_packets, rx_bytes, tx_packets, tx_bytes;
};

#define DATAPLANE_EVENTS(X)                                                          \
    X(arp_requests_answered) X(arp_requests_sent) X(arp_replies_learned)              \
    X(icmp_echo_answered) X(icmp_frag_needed_sent) X(bypassed) X(encapsulated)        \
    X(decapsulated) X(punted) X(injected) X(mss_clamped) X(handed_off) X(fragmented)

struct alignas(64) worker_stats {
    std::array<port_stats, max_ports> ports;
    std::array<counter, drop_count> drops;
    std::array<counter, esp::drop_reason_count> esp_drops;  // by esp::drop_reason (index 0 unused)
#define X(name) counter name;
    DATAPLANE_EVENTS(X)
#undef X

    void drop_one(drop d) { drops[std::size_t(d)].add(); }
    [[nodiscard]] std::uint64_t drops_total() const {
        std::uint64_t t = 0;
        for (auto& c : drops) t += c.get();
        return t;
    }
};

} // namespace dataplane
