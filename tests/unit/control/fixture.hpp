#pragma once
// A router over a fake engine and a state store in a fresh temp dir, with a router of three
// networks: public 203.0.113.0/24 (port address 203.0.113.2 = system VIP, range .10-.20, pool
// .64/29), private 10.1.0.0/16 and 10.5.0.0/16 (second one only when two_private), management
// 192.168.100.0/24. Documentation/private addresses only.
#include <control/api.hpp>
#include <control/fake_engine.hpp>
#include <control/persist.hpp>
#include <control/service.hpp>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

namespace control_test {

using nlohmann::json;

struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "control-test-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

inline json networks_config(bool two_private = false) {
    json nets = json::array();
    nets.push_back({{"name", "public"},
                    {"category", "public"},
                    {"port", "port0"},
                    {"cidr", "203.0.113.0/24"},
                    {"gateway", "203.0.113.1"},
                    {"portIp", "203.0.113.2"},
                    {"ipRanges", json::array({{{"name", "r1"}, {"start", "203.0.113.10"}, {"end", "203.0.113.20"}}})},
                    {"addressPools", json::array({{{"name", "pool1"}, {"cidr", "203.0.113.64/29"}}})}});
    nets.push_back({{"name", "vpc"}, {"category", "private"}, {"port", "port1"}, {"cidr", "10.1.0.0/16"}, {"gateway", "10.1.0.1"}});
    if (two_private)
        nets.push_back({{"name", "vpc2"}, {"category", "private"}, {"port", "port2"}, {"cidr", "10.5.0.0/16"}});
    nets.push_back({{"name", "mgmt"}, {"category", "management"}, {"port", "mgmt0"}, {"cidr", "192.168.100.0/24"}});
    return {{"networks", nets}};
}

struct reply {
    int status;
    json body;
    std::string text;
};

struct fixture {
    temp_dir dir;
    control::fake_engine engine;
    std::unique_ptr<control::state_store> store;
    std::unique_ptr<control::service> svc;
    std::unique_ptr<control::api_router> router;
    std::vector<std::string> log_lines;

    explicit fixture(bool two_private = false, bool auto_ready = false) : engine(auto_ready) { start(two_private); }

    void start(bool two_private = false) {
        store = std::make_unique<control::state_store>(dir.path / "state");
        control::service_options opt;
        opt.log = [this](std::string_view l) { log_lines.emplace_back(l); };
        svc = std::make_unique<control::service>(engine, store.get(),
                                                 store->load(control::networks_from_config(networks_config(two_private))), opt);
        router = std::make_unique<control::api_router>(*svc);
    }

    reply call(std::string_view method, std::string_view target, const json& body = nullptr) {
        auto r = router->handle(method, target, body.is_null() ? std::string() : body.dump());
        json j = json::parse(r.body, nullptr, false);
        return {r.status, j, r.body};
    }
    reply raw(std::string_view method, std::string_view target, std::string_view body) {
        auto r = router->handle(method, target, body);
        return {r.status, json::parse(r.body, nullptr, false), r.body};
    }

    std::string network_uuid(const std::string& name) {
        auto nets = call("GET", "/v1/networks").body["inventories"];
        for (const auto& n : nets)
            if (n["name"] == name) return n["uuid"];
        return {};
    }
    std::string make_vip(const std::string& name = "vip1") {
        auto r = call("POST", "/v1/vips", {{"params", {{"name", name}, {"l3NetworkUuid", network_uuid("public")}}}});
        if (r.status != 201) throw std::runtime_error("make_vip: " + r.text);
        return r.body["inventory"]["uuid"];
    }
    // Minimal valid create params (product defaults for everything else).
    json tunnel_params(const std::string& vip, const std::string& peer = "198.51.100.7", const std::string& cidr = "10.2.0.0/16") {
        return {{"name", "t-" + peer}, {"vipUuid", vip}, {"peerAddress", peer}, {"peerCidrs", {cidr}},
                {"authKey", "Kx7-pQ2_zR9.mW4+vN8"}};
    }
    reply create_tunnel(const json& params) { return call("POST", "/v1/ipsec", {{"params", params}}); }
};

// Asserts a 400 whose description names `field`.
#define REQUIRE_FIELD_ERROR(r, field)                                                    \
    do {                                                                                 \
        INFO((r).text);                                                                  \
        REQUIRE((r).status == 400);                                                      \
        REQUIRE((r).body["error"]["description"].get<std::string>().rfind(field, 0) == 0); \
    } while (0)

} // namespace control_test
