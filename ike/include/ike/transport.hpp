#pragma once
// Datagram transport under the IKE endpoint (ARCHITECTURE.md "The IKE side"): send a datagram
// from one of our local UDP endpoints to a peer, and deliver received ones. The payload is the
// whole UDP payload, i.e. on port 4500 it still carries the 4-byte non-ESP marker (RFC 3948
// section 2.2); framing is the endpoint's job so every transport stays a dumb pipe.
// Implementations: memory_network (tests, transport_memory.hpp), udp_transport (Asio sockets,
// transport_udp.hpp), later the DPDK punt/inject rings.
#include <boost/asio/ip/udp.hpp>

#include <cstdint>
#include <functional>
#include <span>

namespace ike {

using udp_endpoint = boost::asio::ip::udp::endpoint;
using ip_address = boost::asio::ip::address;

class transport {
public:
    // local: the address/port the datagram arrived on; remote: where it came from.
    using receive_fn =
        std::function<void(const udp_endpoint& local, const udp_endpoint& remote, std::span<const std::uint8_t>)>;

    virtual ~transport() = default;
    virtual void send(const udp_endpoint& local, const udp_endpoint& remote, std::span<const std::uint8_t> data) = 0;
    void set_receiver(receive_fn fn) { _receiver = std::move(fn); }

protected:
    void deliver(const udp_endpoint& local, const udp_endpoint& remote, std::span<const std::uint8_t> data) {
        if (_receiver) _receiver(local, remote, data);
    }

private:
    receive_fn _receiver;
};

} // namespace ike
