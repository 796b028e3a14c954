// Synchronous Beast client for the management API (see api_client.hpp).
#include "control/api_client.hpp"

#include <utility> // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace control {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

template <class Stream>
api_response send_and_receive(Stream& stream, const api_client_options& opt, std::string_view method, std::string_view target,
                      std::string_view body) {
    http::request<http::string_body> req(http::string_to_verb(beast::string_view(method.data(), method.size())),
                                         beast::string_view(target.data(), target.size()), 11);
    if (req.method() == http::verb::unknown) req.method_string(beast::string_view(method.data(), method.size()));
    req.set(http::field::host, "ipsecd");
    req.set(http::field::user_agent, "ipsecctl");
    if (!opt.bearer_token.empty()) req.set(http::field::authorization, "Bearer " + opt.bearer_token);
    if (!body.empty()) {
        req.set(http::field::content_type, "application/json");
        req.body() = std::string(body);
    }
    req.keep_alive(false);
    req.prepare_payload();
    stream.expires_after(opt.timeout);
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(stream, buf, parser);
    auto& res = parser.get();
    return {int(res.result_int()), std::string(res[http::field::content_type]), std::move(res.body())};
}

} // namespace

api_response api_client::request(std::string_view method, std::string_view target, std::string_view body) const {
    net::io_context io;
    if (_opt.tcp_port) {
        beast::tcp_stream stream(io);
        stream.expires_after(_opt.timeout);
        stream.connect(net::ip::tcp::endpoint(net::ip::make_address(_opt.tcp_host), _opt.tcp_port));
        return send_and_receive(stream, _opt, method, target, body);
    }
    beast::basic_stream<net::local::stream_protocol> stream(io);
    stream.socket().connect(net::local::stream_protocol::endpoint(_opt.unix_socket));
    return send_and_receive(stream, _opt, method, target, body);
}

std::string api_client::raw(std::string_view bytes) const {
    net::io_context io;
    net::local::stream_protocol::socket sock(io);
    if (_opt.tcp_port) throw std::runtime_error("raw() is for the unix socket");
    sock.connect(net::local::stream_protocol::endpoint(_opt.unix_socket));
    net::write(sock, net::buffer(bytes.data(), bytes.size()));
    sock.shutdown(net::socket_base::shutdown_send);
    std::string out;
    std::array<char, 4096> buf{};
    for (;;) {
        beast::error_code ec;
        auto n = sock.read_some(net::buffer(buf), ec);
        out.append(buf.data(), n);
        if (ec) break;
    }
    return out;
}

} // namespace control
