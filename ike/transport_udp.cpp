// Asio UDP transport (see transport_udp.hpp). Receives are re-armed after each datagram; a send
// goes out of the socket whose local port matches (falling back to the first socket).
#include "ike/transport_udp.hpp"

#include <boost/asio/buffer.hpp>

namespace ike {

udp_transport::udp_transport(boost::asio::io_context& io, const std::vector<udp_endpoint>& binds) {
    for (const auto& b : binds) {
        auto s = std::make_unique<socket_state>(io);
        s->sock.open(b.protocol());
        s->sock.set_option(boost::asio::socket_base::reuse_address(true));
        s->sock.bind(b);
        s->local = s->sock.local_endpoint();
        _sockets.push_back(std::move(s));
    }
    for (auto& s : _sockets) arm(*s);
}

udp_transport::~udp_transport() { close(); }

void udp_transport::close() {
    for (auto& s : _sockets) {
        boost::system::error_code ec;
        s->sock.close(ec);
    }
}

void udp_transport::arm(socket_state& s) {
    s.sock.async_receive_from(boost::asio::buffer(s.buf), s.from,
                              [this, &s](const boost::system::error_code& ec, std::size_t n) {
                                  if (ec == boost::asio::error::operation_aborted || !s.sock.is_open()) return;
                                  if (!ec) deliver(s.local, s.from, std::span<const std::uint8_t>(s.buf.data(), n));
                                  arm(s);
                              });
}

void udp_transport::send(const udp_endpoint& local, const udp_endpoint& remote, std::span<const std::uint8_t> data) {
    socket_state* pick = nullptr;
    for (auto& s : _sockets) {
        if (s->local.port() == local.port() && s->local.protocol() == remote.protocol()) { pick = s.get(); break; }
    }
    if (!pick) {
        for (auto& s : _sockets)
            if (s->local.protocol() == remote.protocol()) { pick = s.get(); break; }
    }
    if (!pick) return;
    boost::system::error_code ec;
    pick->sock.send_to(boost::asio::buffer(data.data(), data.size()), remote, 0, ec);  // best effort, like the wire
}

} // namespace ike
