// Static configuration: the issue's example parses; every kind of mistake names its key.
#include <dataplane/config.hpp>
#include <dataplane/route.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace dataplane;

namespace {

const char* example = R"({
 "eal": ["--no-huge", "-m", "1024", "--no-pci", "--vdev=net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap", "--vdev=net_null0"],
 "ports": [{"name": "private", "role": "private", "device": "net_pcap0", "ip": "10.1.0.1/24"},
           {"name": "public",  "role": "public",  "device": "net_null0", "ip": "172.16.1.1/24", "gateway": "172.16.1.254"}],
 "neighbors": [{"port": "public", "ip": "172.16.1.254", "mac": "02:00:00:00:00:02"}],
 "routes": [{"dst": "172.16.2.0/24", "via": "172.16.1.254", "port": "public"}],
 "static": {"sas": [{"name": "out5", "direction": "out", "spec": "spi=0x5"},
                    {"name": "in7",  "direction": "in",  "spec": "spi=0x7"}],
            "policies": {"default": "bypass", "policies": []}},
 "workers": 1, "exit_when_idle_ms": 0})";

// Replaces the first occurrence of `from` in the example.
std::string with(const std::string& from, const std::string& to) {
    std::string s = example;
    auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
}

std::string error_key(const std::string& text) {
    try {
        parse_config(text);
    } catch (const config_error& e) {
        return e.key;
    }
    return "(no error)";
}

} // namespace

TEST_CASE("config: the issue's example parses into ports, neighbours, routes, SAs") {
    auto c = parse_config(example);
    REQUIRE(c.eal.size() == 6);
    REQUIRE(c.ports.size() == 2);
    CHECK(c.ports[0].role == port_role::private_side);
    CHECK(c.ports[1].role == port_role::public_side);
    CHECK(c.ports[1].ip.addr == 0xac100101u);
    CHECK(c.ports[1].ip.len == 24);
    CHECK(c.ports[1].gateway == 0xac1001feu);
    REQUIRE(c.neighbors.size() == 1);
    CHECK(c.neighbors[0].port == 1);
    CHECK(c.neighbors[0].hw == mac{2, 0, 0, 0, 0, 2});
    REQUIRE(c.routes.size() == 1);
    CHECK(c.routes[0].dst == prefix4{0xac100200u, 24});
    REQUIRE(c.sas.size() == 2);
    CHECK(c.sas[1].direction == sa_direction::in);
    CHECK(c.policies.is_object());
    CHECK(c.exit_when_idle_ms == 0);
}

TEST_CASE("config: errors name the offending key") {
    CHECK(error_key(with(R"("workers": 1)", R"("workers": 1, "wokrers": 2)")) == "wokrers");
    CHECK(error_key(with(R"("workers": 1)", R"("workers": 0)")) == "workers");
    CHECK(error_key(with(R"("workers": 1)", R"("workers": 17)")) == "workers");
    CHECK(parse_config(with(R"("workers": 1)", R"("workers": 4)")).workers == 4);
    CHECK(error_key(with(R"("ip": "10.1.0.1/24")", R"("ip": "10.1.0.300/24")")) == "ports[0].ip");
    CHECK(error_key(with(R"("ip": "10.1.0.1/24")", R"("ip": "10.1.0.0/24")")) == "ports[0].ip");  // network address
    CHECK(error_key(with(R"("ip": "10.1.0.1/24")", R"("ip": "10.1.0.1/24", "speed": 10)")) == "ports[0].speed");
    CHECK(error_key(with(R"("role": "public")", R"("role": "outside")")) == "ports[1].role");
    CHECK(error_key(with(R"("gateway": "172.16.1.254")", R"("gateway": "172.16.9.254")")) == "ports[1].gateway");
    CHECK(error_key(with(R"("port": "public", "ip": "172.16.1.254")", R"("port": "pub", "ip": "172.16.1.254")")) ==
          "neighbors[0].port");
    CHECK(error_key(with(R"("mac": "02:00:00:00:00:02")", R"("mac": "01:00:00:00:00:02")")) == "neighbors[0].mac");
    CHECK(error_key(with(R"("mac": "02:00:00:00:00:02")", R"("mac": "02:00:00:00:00")")) == "neighbors[0].mac");
    CHECK(error_key(with(R"("dst": "172.16.2.0/24")", R"("dst": "172.16.2.1/24")")) == "routes[0].dst");
    CHECK(error_key(with(R"("via": "172.16.1.254", "port": "public")", R"("via": "172.16.1.254", "port": "dmz")")) ==
          "routes[0].port");
    CHECK(error_key(with(R"("via": "172.16.1.254")", R"("via": "10.1.0.9")")) == "routes[0].via");
    CHECK(error_key(with(R"("direction": "in")", R"("direction": "both")")) == "static.sas[1].direction");
    CHECK(error_key(with(R"("name": "in7")", R"("name": "out5")")) == "static.sas[1].name");
    CHECK(error_key(with(R"("name": "public")", R"("name": "private")")) == "ports[1].name");
    CHECK(error_key(with(R"("device": "net_null0")", R"("device": "net_pcap0")")) == "ports[1].device");
    CHECK(error_key(with(R"("exit_when_idle_ms": 0)", R"("exit_when_idle_ms": -5)")) == "exit_when_idle_ms");
    CHECK(error_key(with(R"("eal": [)", R"("eal": [7, )")) == "eal[0]");
    CHECK(error_key(R"({"eal": []})") == "ports");
    CHECK(error_key("{not json") == "config");
}

TEST_CASE("config: routes are connected subnets, static routes, then gateways; longest prefix wins") {
    auto c = parse_config(with(R"("routes": [)", R"("routes": [{"dst": "10.9.0.0/16", "via": "10.1.0.7", "port": "private"}, )"));
    auto t = build_routes(c);
    auto nh = t.lookup(0x0a010063u);  // 10.1.0.99: connected on private
    REQUIRE(nh);
    CHECK(nh->port == 0);
    CHECK(nh->ip == 0x0a010063u);
    nh = t.lookup(0x0a090101u);  // 10.9.1.1 via 10.1.0.7
    REQUIRE(nh);
    CHECK(nh->port == 0);
    CHECK(nh->ip == 0x0a010007u);
    nh = t.lookup(0xac100205u);  // 172.16.2.5 via the static route
    REQUIRE(nh);
    CHECK(nh->port == 1);
    CHECK(nh->ip == 0xac1001feu);
    nh = t.lookup(0x08080808u);  // default route through the public gateway
    REQUIRE(nh);
    CHECK(nh->ip == 0xac1001feu);

    auto no_gw = parse_config(with(R"(, "gateway": "172.16.1.254")", ""));
    CHECK_FALSE(build_routes(no_gw).lookup(0x08080808u));
}
