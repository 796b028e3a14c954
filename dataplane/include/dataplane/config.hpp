#pragma once
// The static configuration of ipsecd (`ipsecd --config FILE.json`): EAL arguments, ports,
// neighbours, routes, manually keyed SAs and policies, and run-time knobs. Parsing validates
// everything it can without DPDK and throws config_error naming the offending key
// ("ports[1].ip: ..."), which ipsecd turns into exit code 2.
#include "dataplane/addr.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dataplane {

struct config_error : std::runtime_error {
    config_error(const std::string& key, const std::string& what)
        : std::runtime_error(key + ": " + what), key(key) {}
    std::string key;
};

enum class port_role : std::uint8_t { private_side, public_side };

struct port_config {
    std::string name;
    port_role role = port_role::private_side;
    std::string device;                  // DPDK device name, e.g. "net_pcap0"
    ifaddr4 ip;                          // our address and the connected subnet
    std::vector<ipv4> vips;              // extra local addresses answered by ARP (public side)
    std::optional<ipv4> gateway;         // default route through this port
    std::optional<mac> mac_override;     // else the PMD's MAC
    std::uint16_t mtu = 1500;            // IP MTU of the link
};

struct neighbor_config {
    std::size_t port = 0;  // index into ports
    ipv4 ip = 0;
    mac hw{};
};

struct route_config {
    prefix4 dst;
    std::optional<ipv4> via;  // none: directly connected
    std::size_t port = 0;
};

enum class sa_direction : std::uint8_t { in, out };

struct static_sa_config {
    std::string name;
    sa_direction direction = sa_direction::out;
    std::string spec;  // ipsec-vector SPEC string (esp parses it)
};

struct config {
    std::vector<std::string> eal;
    std::vector<port_config> ports;
    std::vector<neighbor_config> neighbors;
    std::vector<route_config> routes;
    std::vector<static_sa_config> sas;
    nlohmann::json policies;               // the `ipsec-vector spd-classify` policy object, or null
    unsigned workers = 1;
    std::uint32_t exit_when_idle_ms = 0;   // 0: run until signalled
    std::uint32_t idle_sleep_us = 50;      // adaptive polling: longest back-off sleep when idle
    std::uint32_t summary_interval_ms = 10000;  // periodic one-line summary, 0: off
    std::uint16_t mss_clamp = 0;           // clamp TCP MSS of tunnel traffic to this, 0: off
    std::uint32_t mbufs = 8191;            // mbuf pool size

    [[nodiscard]] std::optional<std::size_t> port_index(std::string_view name) const;
};

config parse_config(std::string_view json_text);
config load_config(const std::string& path);  // also config_error("config", ...) when unreadable

} // namespace dataplane
