// Fuzz target: the management API router (control::api_router) with a fake engine and no
// persistence. An input is a sequence of requests separated by "\n---\n", each
// "METHOD TARGET\nBODY"; "{net}", "{vip}", "{tunnel}" in a target or body are replaced by the
// uuids of the public network, a VIP and a tunnel that exist (so mutations reach deep states).
// Invariants: every reply has a known status, every JSON reply parses, and the pre-existing
// tunnel's key never appears in any reply.
#include <control/api.hpp>
#include <control/fake_engine.hpp>
#include <control/persist.hpp>
#include <control/service.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view secret = "FuzzSecretKey-0123456789";

void replace_all(std::string& s, std::string_view from, const std::string& to) {
    for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) s.replace(pos, from.size(), to);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using nlohmann::json;
    static const auto networks = control::networks_from_config(json::parse(R"({"networks": [
      {"name": "public", "category": "public", "port": "p0", "cidr": "203.0.113.0/24", "portIp": "203.0.113.2",
       "ipRanges": [{"name": "r", "start": "203.0.113.10", "end": "203.0.113.20"}],
       "addressPools": [{"name": "pool", "cidr": "203.0.113.64/29"}]},
      {"name": "vpc", "category": "private", "port": "p1", "cidr": "10.1.0.0/16"},
      {"name": "mgmt", "category": "management", "port": "m0", "cidr": "192.168.100.0/24"}]})"));
    control::fake_engine engine;
    control::model_state initial;
    initial.networks = networks;
    control::derive_system_vips(initial);
    control::service svc(engine, nullptr, initial, {[](std::string_view) {}});
    control::api_router router(svc);

    std::string net = networks[0].uuid;
    auto vip = router.handle("POST", "/v1/vips", R"({"params": {"name": "v", "l3NetworkUuid": ")" + net + "\"}}");
    std::string vip_uuid = json::parse(vip.body)["inventory"]["uuid"];
    auto t = router.handle("POST", "/v1/ipsec",
                           json{{"params", {{"name", "t"}, {"vipUuid", vip_uuid}, {"peerAddress", "198.51.100.7"},
                                            {"peerCidrs", {"10.2.0.0/16"}}, {"authKey", std::string(secret)}}}}.dump());
    std::string tunnel_uuid = json::parse(t.body)["inventory"]["uuid"];

    std::string_view in(reinterpret_cast<const char*>(data), size);
    int budget = 16;
    while (!in.empty() && budget-- > 0) {
        auto sep = in.find("\n---\n");
        std::string req(in.substr(0, sep));
        in = sep == std::string_view::npos ? std::string_view{} : in.substr(sep + 5);
        replace_all(req, "{net}", net);
        replace_all(req, "{vip}", vip_uuid);
        replace_all(req, "{tunnel}", tunnel_uuid);
        auto nl = req.find('\n');
        std::string head = req.substr(0, nl), body = nl == std::string::npos ? "" : req.substr(nl + 1);
        auto sp = head.find(' ');
        std::string method = head.substr(0, sp), target = sp == std::string::npos ? "" : head.substr(sp + 1);
        auto r = router.handle(method, target, body);
        switch (r.status) {
        case 200: case 201: case 400: case 404: case 405: case 409: break;
        default: std::abort();
        }
        if (r.content_type == "application/json" && json::parse(r.body, nullptr, false).is_discarded()) std::abort();
        if (r.body.find(secret) != std::string::npos) std::abort();
    }
    return 0;
}
