#pragma once
// REST routing of the management API (issue 7, "API"): a pure function from (method, target,
// body) to a reply, so it is tested and fuzzed without sockets; api_server (api_server.hpp)
// only moves bytes. Paths:
//   GET|POST /v1/networks
//   GET|POST /v1/vips                 GET|DELETE /v1/vips/{uuid}
//   GET|POST /v1/ipsec                GET|PUT|DELETE /v1/ipsec/{uuid}
//   PUT /v1/ipsec/config/{uuid}       PUT /v1/ipsec/{uuid}/actions
//   POST|DELETE /v1/ipsec/{uuid}/l3networks   POST|DELETE /v1/ipsec/{uuid}/peer-cidrs
//   GET /v1/ipsec/{uuid}/sas          GET /v1/ipsec/{uuid}/log?lines=N
//   GET /metrics
// Errors: {"error": {"code", "description"}} with 400 / 404 / 405 / 409 (413 from the server).
#include "control/result.hpp"
#include "control/service.hpp"

#include <string>
#include <string_view>

namespace control {

struct http_reply {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
};

http_reply error_reply(const api_error& e);

class api_router {
public:
    explicit api_router(service& svc) : _svc(svc) {}
    http_reply handle(std::string_view method, std::string_view target, std::string_view body);

private:
    service& _svc;
};

} // namespace control
