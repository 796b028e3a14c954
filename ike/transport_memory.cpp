// In-memory network for tests (see transport_memory.hpp).
#include "ike/transport_memory.hpp"

namespace ike {

void memory_transport::send(const udp_endpoint& local, const udp_endpoint& remote, std::span<const std::uint8_t> data) {
    _net.send(memory_datagram{local, remote, std::vector<std::uint8_t>(data.begin(), data.end())});
}

memory_transport& memory_network::attach(const ip_address& address) {
    auto& slot = _hosts[address];
    if (!slot) slot = std::make_unique<memory_transport>(*this, address);
    return *slot;
}

void memory_network::add_nat(const ip_address& inside, const ip_address& outside, std::uint16_t port_offset) {
    _nats.push_back(nat{inside, outside, port_offset});
}

void memory_network::send(memory_datagram d) {
    for (const auto& n : _nats) {
        if (d.from.address() == n.inside)
            d.from = udp_endpoint(n.outside, static_cast<std::uint16_t>(d.from.port() + n.offset));
    }
    if (_tap) _tap(d);
    if (_drop && _drop(d)) { ++_dropped; return; }
    if (_loss > 0 && std::uniform_real_distribution<double>(0, 1)(_rng) < _loss) { ++_dropped; return; }
    _queue.push_back(std::move(d));
}

bool memory_network::deliver_one() {
    if (_queue.empty()) return false;
    std::size_t pick = 0;
    if (_reorder && _queue.size() > 1) pick = std::uniform_int_distribution<std::size_t>(0, _queue.size() - 1)(_rng);
    memory_datagram d = std::move(_queue[pick]);
    _queue.erase(_queue.begin() + static_cast<std::ptrdiff_t>(pick));
    // Reverse NAT on the way in: outside:port+offset -> inside:port.
    for (const auto& n : _nats) {
        if (d.to.address() == n.outside && d.to.port() >= n.offset)
            d.to = udp_endpoint(n.inside, static_cast<std::uint16_t>(d.to.port() - n.offset));
    }
    auto it = _hosts.find(d.to.address());
    if (it == _hosts.end()) return true;  // no such host: lost, like on a real network
    it->second->receive(d);
    return true;
}

std::size_t memory_network::flush(std::size_t limit) {
    std::size_t n = 0;
    while (n < limit && deliver_one()) ++n;
    return n;
}

} // namespace ike
