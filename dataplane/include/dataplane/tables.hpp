#pragma once
// The immutable snapshot the workers read (published with RCU, see snapshot.hpp): routes,
// the compiled SPD for both directions, the SAs with their data-plane attributes, and the SAD.
// SA objects are shared between successive snapshots (shared_ptr) so that publishing new
// policies never resets sequence numbers or replay windows; the last snapshot to drop an SA
// frees it on the control thread, after every worker has passed a quiescent state.
#include "dataplane/addr.hpp"
#include "dataplane/config.hpp"
#include "dataplane/route.hpp"

#include <esp/sa.hpp>
#include <spd/classifier.hpp>
#include <spd/types.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace dataplane {

struct out_sa_entry {
    std::string name;
    std::shared_ptr<esp::outbound_sa> sa;
    ipv4 local = 0;               // outer source
    ipv4 peer = 0;                // outer destination: routed like any packet
    std::uint32_t overhead = 0;   // worst-case bytes added by encap
    std::uint16_t block = 4;      // cipher block (padding alignment)
    std::uint16_t icv = 0;
    std::uint16_t headroom = 0;
    // Largest inner packet whose ESP packet fits the MTU of the port towards the peer.
    [[nodiscard]] std::uint32_t inner_mtu(std::uint32_t port_mtu) const {
        if (port_mtu < std::uint32_t(headroom) + icv + block + 2u) return 0;
        return (port_mtu - headroom - icv) / block * block - 2u;
    }
};

struct in_sa_entry {
    std::string name;
    std::shared_ptr<esp::inbound_sa> sa;
    std::uint32_t spi = 0;
    ipv4 local = 0;  // outer destination the peer sends to
};

struct tables {
    route_table routes;
    std::vector<spd::policy> policies;  // as configured; verdict.policy indexes this
    std::unique_ptr<spd::classifier> spd_out;
    std::unique_ptr<spd::classifier> spd_in;
    std::vector<out_sa_entry> out_sas;  // spd::policy::sa_handle of out policies indexes this
    std::vector<in_sa_entry> in_sas;    // ... of in policies indexes this
    std::unordered_map<std::uint32_t, std::uint32_t> sad;  // SPI -> in_sas index

    [[nodiscard]] const in_sa_entry* find_inbound(std::uint32_t spi, std::uint32_t& index) const {
        auto it = sad.find(spi);
        if (it == sad.end()) return nullptr;
        index = it->second;
        return &in_sas[it->second];
    }
};

// The `ipsec-vector spd-classify` policy object: {"default": ..., "policies": [...]}.
// Throws config_error naming "static.policies...." keys.
std::vector<spd::policy> parse_policy_object(const nlohmann::json& obj, spd::action& default_action);

// Builds the first snapshot from the static config: SPECs parsed and SAs created, policies
// resolved against SA names (direction must agree), classifiers compiled. config_error on
// any inconsistency.
std::unique_ptr<tables> build_tables(const config& c);

} // namespace dataplane
