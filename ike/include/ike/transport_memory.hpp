#pragma once
// In-memory datagram network for two-peer tests: every send is queued, and the test decides when
// queued datagrams are delivered (flush / deliver_one). Options: seeded random loss, a drop
// filter for "lose exactly this message", reordering, and a 1:1 NAPT in front of one address so
// NAT detection and the switch to port 4500 can be exercised without sockets.
#include "ike/transport.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <vector>

namespace ike {

struct memory_datagram {
    udp_endpoint from;
    udp_endpoint to;
    std::vector<std::uint8_t> data;
};

class memory_network;

class memory_transport final : public transport {
public:
    memory_transport(memory_network& net, ip_address address) : _net(net), _address(address) {}
    void send(const udp_endpoint& local, const udp_endpoint& remote, std::span<const std::uint8_t> data) override;
    [[nodiscard]] const ip_address& address() const { return _address; }

private:
    friend class memory_network;
    void receive(const memory_datagram& d) { deliver(d.to, d.from, d.data); }
    memory_network& _net;
    ip_address _address;
};

class memory_network {
public:
    explicit memory_network(std::uint32_t seed = 1) : _rng(seed) {}

    // One transport per host address; it receives everything sent to that address, any port.
    memory_transport& attach(const ip_address& address);

    // A NAPT: datagrams from `inside` leave with source `outside` and port + port_offset; replies
    // to `outside` are translated back. Models a peer behind a NAT (RFC 7296 section 2.23).
    void add_nat(const ip_address& inside, const ip_address& outside, std::uint16_t port_offset = 10000);

    void set_loss(double probability) { _loss = probability; }
    void set_reorder(bool on) { _reorder = on; }
    // Returns true to drop this datagram (as seen on the wire, after NAT). Applied at send time.
    void set_drop_filter(std::function<bool(const memory_datagram&)> f) { _drop = std::move(f); }
    // Sees every datagram that is put on the wire (before loss), e.g. to assert retransmissions.
    void set_tap(std::function<void(const memory_datagram&)> f) { _tap = std::move(f); }

    // Delivers queued datagrams (including those sent while delivering) until none are left or
    // `limit` were delivered; returns how many were delivered.
    std::size_t flush(std::size_t limit = 1000);
    bool deliver_one();
    [[nodiscard]] std::size_t queued() const { return _queue.size(); }
    [[nodiscard]] std::size_t dropped() const { return _dropped; }
    [[nodiscard]] const std::deque<memory_datagram>& queue() const { return _queue; }
    void clear() { _queue.clear(); }
    // Puts a datagram on the wire as if an attacker or a duplicate had sent it.
    void inject(memory_datagram d) { _queue.push_back(std::move(d)); }

private:
    friend class memory_transport;
    void send(memory_datagram d);

    struct nat {
        ip_address inside, outside;
        std::uint16_t offset;
    };
    std::map<ip_address, std::unique_ptr<memory_transport>> _hosts;
    std::vector<nat> _nats;
    std::deque<memory_datagram> _queue;
    std::mt19937 _rng;
    double _loss = 0;
    bool _reorder = false;
    std::size_t _dropped = 0;
    std::function<bool(const memory_datagram&)> _drop;
    std::function<void(const memory_datagram&)> _tap;
};

} // namespace ike
