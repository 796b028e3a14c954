// The API server in-process over a temp unix socket (and loopback TCP with a bearer token):
// real HTTP/1.1 through Boost.Beast, malformed and oversized requests, socket permissions.
#include "fixture.hpp"

#include <control/api_client.hpp>
#include <control/api_server.hpp>

#include <utility>

#include <boost/asio.hpp>
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <fstream>
#include <thread>

using namespace control_test;

namespace {

struct running_server {
    fixture f;
    boost::asio::io_context io;
    std::unique_ptr<control::api_server> server;
    std::thread thread;
    std::string socket_path;
    inline static const std::string token = "0123456789abcdef-test-token";

    explicit running_server(std::size_t body_limit = 64 * 1024, bool tcp = false,
                            std::chrono::milliseconds idle = std::chrono::milliseconds(5000)) {
        socket_path = (f.dir.path / "run" / "api.sock").string();
        control::api_server_options opt;
        opt.unix_socket = socket_path;
        opt.body_limit = body_limit;
        opt.idle_timeout = idle;
        if (tcp) {
            opt.tcp_port = 0;
            opt.bearer_token = token;
        }
        server = std::make_unique<control::api_server>(io, *f.router, opt);
        auto e = server->start();
        if (e) throw std::runtime_error(e->description);
        thread = std::thread([this] { io.run(); });
    }
    ~running_server() {
        boost::asio::post(io, [this] { server->stop(); });
        io.stop();
        thread.join();
    }
    control::api_client client() const {
        control::api_client_options o;
        o.unix_socket = socket_path;
        return control::api_client(o);
    }
    reply call(std::string_view method, std::string_view target, const json& body = nullptr) const {
        auto r = client().request(method, target, body.is_null() ? std::string() : body.dump());
        return {r.status, json::parse(r.body, nullptr, false), r.body};
    }
};

} // namespace

TEST_CASE("the unix socket is mode 0600 in a 0700 directory and serves the API") {
    running_server s;
    struct stat st {};
    REQUIRE(::stat(s.socket_path.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat((s.f.dir.path / "run").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);

    auto nets = s.call("GET", "/v1/networks");
    REQUIRE(nets.status == 200);
    CHECK(nets.body["inventories"].size() == 3);
    auto pub = s.f.network_uuid("public");
    auto vip = s.call("POST", "/v1/vips", {{"params", {{"name", "v"}, {"l3NetworkUuid", pub}}}});
    REQUIRE(vip.status == 201);
    auto t = s.call("POST", "/v1/ipsec", {{"params", s.f.tunnel_params(vip.body["inventory"]["uuid"])}});
    REQUIRE(t.status == 201);
    CHECK(t.body["inventory"]["authKey"] == "<redacted>");
    auto err = s.call("POST", "/v1/ipsec", {{"params", {{"name", "x"}}}});
    CHECK(err.status == 400);
    CHECK(err.body["error"]["code"] == "InvalidArgument");
    auto metrics = s.client().request("GET", "/metrics");
    CHECK(metrics.status == 200);
    CHECK(metrics.content_type.rfind("text/plain", 0) == 0);
}

TEST_CASE("an oversized body gets 413 and the server keeps serving") {
    running_server s(/*body_limit=*/4096);
    std::string big = "{\"params\": {\"name\": \"" + std::string(100000, 'a') + "\"}}";
    auto r = s.client().request("POST", "/v1/ipsec", big);
    CHECK(r.status == 413);
    CHECK(json::parse(r.body)["error"]["code"] == "BodyTooLarge");
    // A lying Content-Length is refused before any body is read.
    auto lie = s.client().raw("POST /v1/ipsec HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n{}");
    CHECK(lie.rfind("HTTP/1.1 413", 0) == 0);
    CHECK(s.call("GET", "/v1/networks").status == 200);
}

TEST_CASE("malformed HTTP never crashes the server") {
    running_server s;
    auto c = s.client();
    const std::vector<std::string> garbage = {
        "\r\n\r\n",
        "GET\r\n\r\n",
        "GET / HTTP/9.9\r\n\r\n",
        "BLAH /v1/ipsec HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /v1/ipsec HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        "POST /v1/ipsec HTTP/1.1\r\nContent-Length: 10\r\nContent-Length: 11\r\n\r\n0123456789",
        "POST /v1/ipsec HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "GET /v1/ipsec HTTP/1.1\r\nHost: x\r\nX: " + std::string(20000, 'h') + "\r\n\r\n",
        std::string("GET /v1/\0ipsec HTTP/1.1\r\n\r\n", 28),
        "POST /v1/ipsec HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{\"pa",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    };
    for (const auto& g : garbage) {
        auto out = c.raw(g);
        INFO(g.substr(0, 60));
        if (!out.empty()) CHECK(out.rfind("HTTP/1.1 4", 0) == 0);
    }
    // Pipelined keep-alive requests are answered in order on one connection.
    auto two = c.raw("GET /v1/networks HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(two.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(two.find("HTTP/1.1 404") != std::string::npos);
    CHECK(s.call("GET", "/v1/networks").status == 200);
}

TEST_CASE("an idle connection is closed after the timeout") {
    running_server s(64 * 1024, false, std::chrono::milliseconds(200));
    boost::asio::io_context io;
    boost::asio::local::stream_protocol::socket sock(io);
    sock.connect(boost::asio::local::stream_protocol::endpoint(s.socket_path));
    auto t0 = std::chrono::steady_clock::now();
    std::array<char, 16> buf{};
    boost::system::error_code ec;
    sock.read_some(boost::asio::buffer(buf), ec); // blocks until the server closes
    CHECK(ec);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
}

TEST_CASE("loopback TCP requires the bearer token") {
    running_server s(64 * 1024, /*tcp=*/true);
    REQUIRE(s.server->tcp_port() != 0);
    control::api_client_options o;
    o.tcp_port = s.server->tcp_port();
    auto anon = control::api_client(o).request("GET", "/v1/networks");
    CHECK(anon.status == 401);
    CHECK(json::parse(anon.body)["error"]["code"] == "Unauthorized");
    o.bearer_token = "0123456789abcdef-test-tokeX";
    CHECK(control::api_client(o).request("GET", "/v1/networks").status == 401);
    o.bearer_token = running_server::token;
    CHECK(control::api_client(o).request("GET", "/v1/networks").status == 200);
    // The unix socket needs no token (its mode is the access control).
    CHECK(s.call("GET", "/v1/networks").status == 200);
}

TEST_CASE("the server refuses unsafe listener options") {
    fixture f;
    boost::asio::io_context io;
    control::api_server_options opt;
    opt.unix_socket = "";
    opt.tcp_port = 0;
    opt.tcp_address = "0.0.0.0";
    opt.bearer_token = "0123456789abcdef-long-enough";
    CHECK(control::api_server(io, *f.router, opt).start().has_value());
    opt.tcp_address = "127.0.0.1";
    opt.bearer_token = "short";
    CHECK(control::api_server(io, *f.router, opt).start().has_value());
    // A regular file at the socket path is not clobbered.
    opt.tcp_port.reset();
    opt.unix_socket = (f.dir.path / "notasocket").string();
    { std::ofstream(opt.unix_socket) << "keep"; }
    CHECK(control::api_server(io, *f.router, opt).start().has_value());
    std::ifstream in(opt.unix_socket);
    std::string content;
    in >> content;
    CHECK(content == "keep");
}

TEST_CASE("a second server does not steal a live socket; a stale one is replaced") {
    running_server s;
    boost::asio::io_context io;
    control::api_server_options opt;
    opt.unix_socket = s.socket_path;
    {
        control::api_server second(io, *s.f.router, opt);
        auto e = second.start();
        REQUIRE(e.has_value());
        CHECK(e->code == "SocketInUse");
    }
    CHECK(s.call("GET", "/v1/networks").status == 200); // the first one still serves
    // A stale socket file (no listener) is replaced.
    auto stale = (s.f.dir.path / "stale.sock").string();
    {
        boost::asio::local::stream_protocol::acceptor a(io, boost::asio::local::stream_protocol::endpoint(stale));
    } // closed; the file stays
    opt.unix_socket = stale;
    control::api_server third(io, *s.f.router, opt);
    CHECK_FALSE(third.start().has_value());
}
