// IKE datagrams over the punt/inject rings (see ring_transport.hpp).
#include "ring_transport.hpp"

#include "udp_frame.hpp"

#include <dataplane/engine.hpp>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <array>

namespace ipsecd {

namespace {
constexpr std::size_t poll_burst = 32;
constexpr std::size_t turn_limit = 256;  // packets per timer turn before yielding to the API
constexpr auto idle_interval = std::chrono::microseconds(1000);
}

ring_transport::ring_transport(boost::asio::io_context& io, dataplane::engine& eng) : _eng(eng), _timer(io) {}

ring_transport::~ring_transport() { stop(); }

void ring_transport::start() {
    if (_running) return;
    _running = true;
    _eng.attach_ike(true);
    schedule(idle_interval);
}

void ring_transport::stop() {
    if (!_running) return;
    _running = false;
    _eng.attach_ike(false);
    _timer.cancel();
}

void ring_transport::schedule(std::chrono::microseconds after) {
    _timer.expires_after(after);
    _timer.async_wait([this](const boost::system::error_code& ec) {
        if (ec || !_running) return;
        std::size_t n = poll(turn_limit);
        // Busy: come back at once (after other handlers ran); idle: 1 ms.
        schedule(n == turn_limit ? std::chrono::microseconds(0) : idle_interval);
    });
}

std::size_t ring_transport::poll(std::size_t max) {
    std::size_t total = 0;
    std::array<rte_mbuf*, poll_burst> pkts{};
    while (total < max) {
        unsigned want = unsigned(std::min(poll_burst, max - total));
        unsigned n = rte_ring_dequeue_burst(_eng.punt_ring(), reinterpret_cast<void**>(pkts.data()), want, nullptr);
        if (n == 0) break;
        total += n;
        for (unsigned i = 0; i < n; ++i) {
            rte_mbuf* m = pkts[i];
            if (m->nb_segs != 1) {
                ++_stats.malformed;
                rte_pktmbuf_free(m);
                continue;
            }
            std::span<const std::uint8_t> ip(rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len);
            auto r = parse_udp4(ip, false);  // see udp_frame.hpp: offloaded checksums
            if (!r.datagram) {
                ++_stats.malformed;
                rte_pktmbuf_free(m);
                continue;
            }
            const auto& d = *r.datagram;
            ++_stats.received;
            deliver(ike::udp_endpoint(boost::asio::ip::address_v4(d.dst), d.dport),
                    ike::udp_endpoint(boost::asio::ip::address_v4(d.src), d.sport), d.payload);
            rte_pktmbuf_free(m);  // after deliver: the payload span points into it
        }
        if (n < want) break;
    }
    return total;
}

void ring_transport::send(const ike::udp_endpoint& local, const ike::udp_endpoint& remote,
                          std::span<const std::uint8_t> data) {
    if (!local.address().is_v4() || !remote.address().is_v4()) {
        ++_stats.not_ipv4_peer;
        return;
    }
    rte_mbuf* m = rte_pktmbuf_alloc(_eng.pool());
    if (!m) {
        ++_stats.no_mbuf;
        return;
    }
    const std::size_t len = udp4_header_bytes + data.size();
    auto* p = len <= 0xffff ? reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, std::uint16_t(len))) : nullptr;
    if (!p) {
        ++_stats.too_big;
        rte_pktmbuf_free(m);
        return;
    }
    build_udp4(std::span<std::uint8_t>(p, len), local.address().to_v4().to_uint(), local.port(),
               remote.address().to_v4().to_uint(), remote.port(), data, _ip_id++);
    if (rte_ring_enqueue(_eng.inject_ring(), m) != 0) {
        ++_stats.inject_full;
        rte_pktmbuf_free(m);
        return;
    }
    ++_stats.sent;
}

} // namespace ipsecd
