#pragma once
// ike::transport over the data plane's IKE rings (ARCHITECTURE.md "The IKE side"):
//  1. a timer on the IKE thread's io_context polls punt_ring: 1 ms while idle, immediately again
//     while bursts keep coming (at most `burst` packets per turn so the API stays responsive)
//  2. each punted IPv4 packet is parsed (udp_frame.hpp) and delivered with local = destination
//     address:port, remote = source address:port and the whole UDP payload; malformed ones are
//     counted and freed
//  3. send() builds IPv4 + UDP (with checksum) in an mbuf from the engine's pool and enqueues it
//     on inject_ring; the workers route it and resolve L2 like any packet
// DPDK types stay in this file's implementation; ike/ and control/ never see them.
#include <ike/transport.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>

namespace dataplane {
class engine;
}

namespace ipsecd {

struct ring_transport_stats {
    std::uint64_t received = 0, sent = 0;
    std::uint64_t malformed = 0;     // punted packets that were not well-formed IPv4/UDP
    std::uint64_t not_ipv4_peer = 0; // send() to an IPv6 endpoint (the data plane is IPv4)
    std::uint64_t too_big = 0;       // datagram larger than an mbuf
    std::uint64_t no_mbuf = 0, inject_full = 0;
};

class ring_transport final : public ike::transport {
public:
    ring_transport(boost::asio::io_context& io, dataplane::engine& eng);
    ~ring_transport() override;
    ring_transport(const ring_transport&) = delete;
    ring_transport& operator=(const ring_transport&) = delete;

    void start();  // attaches IKE to the data plane and starts polling
    void stop();   // stops polling and detaches (punted packets are then dropped as no_ike)

    void send(const ike::udp_endpoint& local, const ike::udp_endpoint& remote,
              std::span<const std::uint8_t> data) override;

    // Drains up to `max` punted packets now; returns how many were taken (tests, shutdown).
    std::size_t poll(std::size_t max);
    [[nodiscard]] const ring_transport_stats& stats() const { return _stats; }

private:
    void schedule(std::chrono::microseconds after);

    dataplane::engine& _eng;
    boost::asio::steady_timer _timer;
    bool _running = false;
    std::uint16_t _ip_id = 1;
    ring_transport_stats _stats;
};

} // namespace ipsecd
