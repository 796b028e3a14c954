#pragma once
// Asio UDP sockets for standalone use (tools/ike-peer, interop tests): one socket per configured
// local endpoint (by default <address>:500 and <address>:4500). Runs on the caller's io_context.
#include "ike/transport.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace ike {

class udp_transport final : public transport {
public:
    // Binds every endpoint; throws boost::system::system_error at start-up when a bind fails.
    udp_transport(boost::asio::io_context& io, const std::vector<udp_endpoint>& binds);
    ~udp_transport() override;
    void send(const udp_endpoint& local, const udp_endpoint& remote, std::span<const std::uint8_t> data) override;
    void close();

private:
    struct socket_state {
        explicit socket_state(boost::asio::io_context& io) : sock(io) {}
        boost::asio::ip::udp::socket sock;
        udp_endpoint local;
        udp_endpoint from;
        std::array<std::uint8_t, 65536> buf{};
    };
    void arm(socket_state& s);
    std::vector<std::unique_ptr<socket_state>> _sockets;
};

} // namespace ike
