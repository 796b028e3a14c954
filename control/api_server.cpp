// Boost.Beast HTTP/1.1 server for the management API (see api_server.hpp).
//
// Per connection:
//   1. read one request (header limit 16 KiB, body limit from options, idle timeout)
//   2. TCP only: check "Authorization: Bearer <token>" in constant time -> 401
//   3. api_router::handle -> reply; keep-alive as the client asks
//   4. on a request we cannot read (400/413): reply, shut down our side, drain what the client
//      is still sending for a moment (so the reply is not lost to a connection reset), close.
#include "control/api_server.hpp"

#include <utility> // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <openssl/crypto.h>

#include <atomic>
#include <filesystem>
#include <sys/stat.h>

namespace control {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using unix_proto = net::local::stream_protocol;
using tcp = net::ip::tcp;

// Open connections, so that stop() can close them.
struct closable {
    virtual ~closable() = default;
    virtual void close() = 0;
};

struct api_server::impl : std::enable_shared_from_this<api_server::impl> {
    net::io_context& io;
    api_router& router;
    api_server_options opt;
    std::optional<unix_proto::acceptor> unix_acceptor;
    std::optional<tcp::acceptor> tcp_acceptor;
    std::atomic<std::size_t> connections{0};
    std::atomic<bool> stopped{false};
    bool unix_bound = false; // our socket is at opt.unix_socket (only then stop() unlinks it)
    std::vector<std::weak_ptr<closable>> sessions;

    impl(net::io_context& i, api_router& r, api_server_options o) : io(i), router(r), opt(std::move(o)) {}

    void log(const std::string& s) const {
        if (opt.log) opt.log(s);
    }

    bool authorized(std::string_view header) const {
        constexpr std::string_view scheme = "Bearer ";
        if (header.size() != scheme.size() + opt.bearer_token.size() || header.substr(0, scheme.size()) != scheme) return false;
        auto got = header.substr(scheme.size());
        return CRYPTO_memcmp(got.data(), opt.bearer_token.data(), got.size()) == 0;
    }

    template <class Protocol>
    void accept(net::basic_socket_acceptor<Protocol>& acceptor, bool is_tcp);
};

namespace {

template <class Protocol>
class session final : public closable, public std::enable_shared_from_this<session<Protocol>> {
public:
    session(std::shared_ptr<api_server::impl> srv, typename Protocol::socket sock, bool is_tcp)
        : _srv(std::move(srv)), _stream(std::move(sock)), _tcp(is_tcp) {}
    ~session() { --_srv->connections; }

    void start() { read(); }
    void close() override {
        beast::error_code ec;
        _stream.socket().shutdown(net::socket_base::shutdown_both, ec);
        _stream.socket().close(ec);
    }

private:
    void read() {
        _parser.emplace();
        _parser->header_limit(16 * 1024);
        _parser->body_limit(_srv->opt.body_limit);
        _stream.expires_after(_srv->opt.idle_timeout);
        http::async_read(_stream, _buffer, *_parser,
                         [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == net::error::operation_aborted ||
            ec == net::error::connection_reset || ec == net::error::eof || _srv->stopped)
            return close();
        if (ec == http::error::body_limit)
            return fail(api_error{413, "BodyTooLarge", fmt::format("request body exceeds {} bytes", _srv->opt.body_limit)});
        if (ec == http::error::header_limit) return fail(api_error{400, "MalformedRequest", "request header exceeds 16384 bytes"});
        if (ec) return fail(api_error::malformed(fmt::format("cannot parse the HTTP request: {}", ec.message())));

        auto& req = _parser->get();
        http_reply reply;
        auto auth = req[http::field::authorization];
        if (_tcp && !_srv->authorized(std::string_view(auth.data(), auth.size()))) {
            reply = error_reply({401, "Unauthorized", "a valid \"Authorization: Bearer <token>\" header is required"});
        } else {
            try {
                reply = _srv->router.handle(std::string_view(req.method_string().data(), req.method_string().size()),
                                            std::string_view(req.target().data(), req.target().size()), req.body());
            } catch (const std::exception& e) { // a bug, not the client's fault: keep serving
                _srv->log(fmt::format("api: internal error on {} {}: {}", std::string_view(req.method_string().data(), req.method_string().size()),
                                      std::string_view(req.target().data(), req.target().size()), e.what()));
                reply = error_reply({500, "Internal", "internal error"});
            }
        }
        write(std::move(reply), req.keep_alive(), req.version());
    }

    void write(http_reply reply, bool keep_alive, unsigned version) {
        auto res = std::make_shared<http::response<http::string_body>>(http::status(reply.status), version);
        res->set(http::field::server, "ipsecd-api");
        res->set(http::field::content_type, reply.content_type);
        res->keep_alive(keep_alive);
        res->body() = std::move(reply.body);
        res->prepare_payload();
        _stream.expires_after(_srv->opt.idle_timeout);
        http::async_write(_stream, *res, [self = this->shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
            if (ec || !keep_alive || self->_srv->stopped) return self->close();
            self->read();
        });
    }

    // Reply to a request we could not read, then drain briefly and close (see file comment).
    void fail(const api_error& e) {
        auto res = std::make_shared<http::response<http::string_body>>(http::status(e.status), 11);
        res->set(http::field::server, "ipsecd-api");
        res->set(http::field::content_type, "application/json");
        res->keep_alive(false);
        res->body() = error_reply(e).body;
        res->prepare_payload();
        _stream.expires_after(std::chrono::seconds(5));
        http::async_write(_stream, *res, [self = this->shared_from_this(), res](beast::error_code ec, std::size_t) {
            if (ec) return self->close();
            beast::error_code ignored;
            self->_stream.socket().shutdown(net::socket_base::shutdown_send, ignored);
            self->_drained = 0;
            self->drain();
        });
    }

    void drain() {
        _stream.async_read_some(net::buffer(_scratch), [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
            self->_drained += n;
            if (ec || self->_drained > 64 * 1024 * 1024) return self->close();
            self->drain();
        });
    }

    std::shared_ptr<api_server::impl> _srv;
    beast::basic_stream<Protocol> _stream;
    bool _tcp;
    beast::flat_buffer _buffer;
    std::optional<http::request_parser<http::string_body>> _parser;
    std::array<char, 16384> _scratch{};
    std::size_t _drained = 0;
};

} // namespace

template <class Protocol>
void api_server::impl::accept(net::basic_socket_acceptor<Protocol>& acceptor, bool is_tcp) {
    acceptor.async_accept([self = shared_from_this(), &acceptor, is_tcp](beast::error_code ec, typename Protocol::socket sock) {
        if (self->stopped || ec == net::error::operation_aborted) return;
        if (!ec) {
            if (self->connections >= self->opt.max_connections) {
                beast::error_code ignored;
                sock.close(ignored);
            } else {
                ++self->connections;
                auto s = std::make_shared<session<Protocol>>(self, std::move(sock), is_tcp);
                std::erase_if(self->sessions, [](const std::weak_ptr<closable>& w) { return w.expired(); });
                self->sessions.push_back(s);
                s->start();
            }
        } else {
            self->log(fmt::format("api: accept: {}", ec.message()));
        }
        self->accept(acceptor, is_tcp);
    });
}

api_server::api_server(net::io_context& io, api_router& router, api_server_options opt)
    : _impl(std::make_shared<impl>(io, router, std::move(opt))) {}

api_server::~api_server() { stop(); }

status api_server::start() {
    auto& o = _impl->opt;
    beast::error_code ec;
    if (!o.unix_socket.empty()) {
        namespace fs = std::filesystem;
        fs::path path(o.unix_socket);
        if (path.native().size() >= sizeof(sockaddr_un{}.sun_path) - 5)
            return api_error{500, "BadSocketPath", "unix socket path too long: " + o.unix_socket};
        std::error_code fec;
        auto dir = path.parent_path();
        if (!dir.empty() && !fs::exists(dir, fec)) {
            fs::create_directories(dir, fec);
            if (fec) return api_error{500, "BadSocketPath", fmt::format("cannot create {}: {}", dir.string(), fec.message())};
            fs::permissions(dir, fs::perms::owner_all, fec);
        }
        // Bind under a temporary name, restrict it to 0600, then rename into place: no moment
        // where the socket exists at its public path with the umask's permissions.
        auto tmp = path;
        tmp += ".new";
        struct stat st {};
        if (::lstat(path.c_str(), &st) == 0) {
            if (!S_ISSOCK(st.st_mode)) return api_error{500, "BadSocketPath", o.unix_socket + " exists and is not a socket"};
            // A socket someone still answers on belongs to a running server: do not steal it.
            unix_proto::socket probe(_impl->io);
            beast::error_code pec;
            probe.connect(unix_proto::endpoint(o.unix_socket), pec);
            if (!pec) return api_error{500, "SocketInUse", o.unix_socket + " is in use by another running server"};
        }
        ::unlink(tmp.c_str());
        _impl->unix_acceptor.emplace(_impl->io);
        auto& a = *_impl->unix_acceptor;
        a.open(unix_proto(), ec);
        if (!ec) a.bind(unix_proto::endpoint(tmp.string()), ec);
        if (!ec && ::chmod(tmp.c_str(), 0600) != 0) ec = beast::error_code(errno, beast::system_category());
        if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
        if (!ec && ::rename(tmp.c_str(), path.c_str()) != 0) ec = beast::error_code(errno, beast::system_category());
        if (ec) {
            ::unlink(tmp.c_str());
            return api_error{500, "BindFailed", fmt::format("unix socket {}: {}", o.unix_socket, ec.message())};
        }
        _impl->unix_bound = true;
        _impl->accept(a, false);
    }
    if (o.tcp_port) {
        auto addr = net::ip::make_address(o.tcp_address, ec);
        if (ec || !addr.is_loopback())
            return api_error{500, "BadTcpAddress", fmt::format("TCP address \"{}\" must be a loopback address", o.tcp_address)};
        if (o.bearer_token.size() < 16)
            return api_error{500, "NoToken", "the TCP listener needs a bearer token of at least 16 characters"};
        _impl->tcp_acceptor.emplace(_impl->io);
        auto& a = *_impl->tcp_acceptor;
        tcp::endpoint ep(addr, *o.tcp_port);
        a.open(ep.protocol(), ec);
        if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
        if (!ec) a.bind(ep, ec);
        if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
        if (ec) return api_error{500, "BindFailed", fmt::format("TCP {}:{}: {}", o.tcp_address, *o.tcp_port, ec.message())};
        _impl->accept(a, true);
    }
    return std::nullopt;
}

void api_server::stop() {
    if (!_impl || _impl->stopped.exchange(true)) return;
    beast::error_code ec;
    if (_impl->unix_acceptor) {
        _impl->unix_acceptor->close(ec);
        if (_impl->unix_bound) ::unlink(_impl->opt.unix_socket.c_str());
    }
    if (_impl->tcp_acceptor) _impl->tcp_acceptor->close(ec);
    for (auto& w : _impl->sessions)
        if (auto sp = w.lock()) sp->close();
    _impl->sessions.clear();
}

std::uint16_t api_server::tcp_port() const {
    if (!_impl->tcp_acceptor || !_impl->tcp_acceptor->is_open()) return 0;
    beast::error_code ec;
    auto ep = _impl->tcp_acceptor->local_endpoint(ec);
    return ec ? 0 : ep.port();
}

} // namespace control
