#pragma once
// The management API server: HTTP/1.1 + JSON (Boost.Beast) on a unix socket (mode 0600) and,
// optionally, on a loopback TCP port that requires "Authorization: Bearer <token>".
// It runs on the caller's Asio io_context (ipsecd embeds it next to the IKE thread's work) and
// hands every request to api_router. Bodies over body_limit get 413, unparsable requests 400,
// idle connections are closed after idle_timeout; nothing a client sends can crash it.
#include "control/api.hpp"
#include "control/result.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace boost::asio {
class io_context;
}

namespace control {

struct api_server_options {
    std::string unix_socket = "/run/ipsecd/api.sock"; // "" = no unix socket
    std::optional<std::uint16_t> tcp_port;            // 0 = any free port (tests)
    std::string tcp_address = "127.0.0.1";            // must be a loopback address
    std::string bearer_token;                         // required when tcp_port is set
    std::size_t body_limit = 1 << 20;
    std::size_t max_connections = 64;
    std::chrono::milliseconds idle_timeout{30000};
    std::function<void(std::string_view)> log;       // connection-level errors (default: none)
};

class api_server {
public:
    api_server(boost::asio::io_context& io, api_router& router, api_server_options opt);
    ~api_server();
    api_server(const api_server&) = delete;
    api_server& operator=(const api_server&) = delete;

    // Binds and starts accepting. Errors: bad options, address in use, socket path problems.
    status start();
    // Stops accepting and closes open connections (call on the io_context's thread or after it stopped).
    void stop();
    // The bound TCP port (after start), 0 if none.
    [[nodiscard]] std::uint16_t tcp_port() const;

    struct impl;

private:
    std::shared_ptr<impl> _impl;
};

} // namespace control
