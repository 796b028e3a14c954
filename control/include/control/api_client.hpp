#pragma once
// A small synchronous HTTP/1.1 client for the management API (used by ipsecctl and tests):
// one connection per request, over the unix socket or loopback TCP with a bearer token.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace control {

struct api_client_options {
    std::string unix_socket = "/run/ipsecd/api.sock"; // used when tcp_port == 0
    std::string tcp_host = "127.0.0.1";
    std::uint16_t tcp_port = 0;
    std::string bearer_token;
    std::chrono::milliseconds timeout{30000};
};

struct api_response {
    int status = 0;
    std::string content_type;
    std::string body;
};

class api_client {
public:
    explicit api_client(api_client_options opt) : _opt(std::move(opt)) {}
    // Throws std::system_error when the server cannot be reached or the reply is unreadable.
    api_response request(std::string_view method, std::string_view target, std::string_view body = {}) const;
    // Sends bytes as they are and returns the raw reply (tests of malformed requests).
    std::string raw(std::string_view bytes) const;

private:
    api_client_options _opt;
};

} // namespace control
