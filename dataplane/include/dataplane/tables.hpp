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
#include <spd/sad.hpp>
#include <spd/types.hpp>

#include <atomic>
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
    // A decrypted packet must hit an in-direction PROTECT policy whose sa_handle equals this tag
    // (RFC 4301 5.2 step 4). Static SAs: their index in in_sas. Dynamic SAs: their tunnel's tag,
    // so every SA of a tunnel (old and new during a rekey) passes its policies.
    std::uint32_t policy_tag = 0;
};

// An extra local address (a VIP) on a port: answered by ARP and accepted as ours.
struct local_address {
    std::uint16_t port = 0;
    ipv4 addr = 0;
};

// What ipsecd's control side adds to the static configuration at run time (IKE-negotiated SAs,
// tunnel policies, VIPs). SA objects are created by the caller and shared with earlier
// snapshots. Out policies: sa_handle indexes out_sas, or spd::no_sa (PROTECT without an SA yet:
// dropped as policy_no_sa, never sent in clear). In policies: sa_handle is a tag matched against
// in_sa_entry::policy_tag of the dynamic in_sas (both below dynamic_tag_base).
struct dynamic_entries {
    std::vector<local_address> vips;
    std::vector<out_sa_entry> out_sas;
    std::vector<in_sa_entry> in_sas;
    std::vector<spd::policy> policies;
};
inline constexpr std::uint32_t dynamic_tag_base = 0x40000000u;

struct tables {
    // Stamped by engine::publish (1, 2, ...): an SA index handed from one worker to another
    // is used only under the snapshot it was taken from.
    std::uint64_t generation = 0;
    route_table routes;
    std::vector<spd::policy> policies;  // as configured; verdict.policy indexes this
    std::unique_ptr<spd::classifier> spd_out;
    std::unique_ptr<spd::classifier> spd_in;
    std::vector<out_sa_entry> out_sas;  // spd::policy::sa_handle of out policies indexes this
    std::vector<in_sa_entry> in_sas;    // ... of in policies indexes this
    std::unordered_map<std::uint32_t, std::uint32_t> sad;  // SPI -> in_sas index (building, duplicate checks)
    spd::sad spi_index;  // the same, for the per-packet lookup
    std::vector<local_address> vips;    // run-time VIPs (beside ports[].ip and ports[].vips)
    address_filter vip_filter;          // of vips (build_tables)
    // One flag per policy, set by the workers when an outbound packet met that PROTECT policy
    // without an SA (policy_no_sa): the control side's "acquire" (ipsecd initiates a held
    // tunnel on traffic). Workers only set it (a relaxed load first, so a flood of such packets
    // does not keep writing the line); the publishing thread reads and clears it.
    std::unique_ptr<std::atomic<std::uint8_t>[]> no_sa_hit;

    // Policies whose no_sa_hit flag was set since the last call, clearing the flags (the
    // publishing thread only).
    [[nodiscard]] std::vector<std::uint32_t> take_no_sa_hits() const {
        std::vector<std::uint32_t> out;
        for (std::uint32_t i = 0; i < policies.size(); ++i)
            if (no_sa_hit[i].load(std::memory_order_relaxed) && no_sa_hit[i].exchange(0, std::memory_order_relaxed))
                out.push_back(i);
        return out;
    }

    [[nodiscard]] bool owns_vip(std::size_t port, ipv4 a) const {
        for (const auto& v : vips)
            if (v.addr == a && v.port == port) return true;
        return false;
    }
    [[nodiscard]] bool is_vip(ipv4 a) const {
        if (!vip_filter.maybe(a)) return false;
        for (const auto& v : vips)
            if (v.addr == a) return true;
        return false;
    }

    [[nodiscard]] const in_sa_entry* find_inbound(std::uint32_t spi, std::uint32_t& index) const {
        const auto i = spi_index.lookup(spi);
        if (i >= in_sas.size()) return nullptr;
        index = i;
        return &in_sas[i];
    }
};

// The `ipsec-vector spd-classify` policy object: {"default": ..., "policies": [...]}.
// Throws config_error naming "static.policies...." keys.
std::vector<spd::policy> parse_policy_object(const nlohmann::json& obj, spd::action& default_action);

// Builds the first snapshot from the static config: SPECs parsed and SAs created, policies
// resolved against SA names (direction must agree), classifiers compiled. config_error on
// any inconsistency.
std::unique_ptr<tables> build_tables(const config& c);
// The same plus run-time entries (appended after the static ones; see dynamic_entries).
// config_error("dynamic...", ...) on an inconsistency (duplicate inbound SPI, bad handle).
std::unique_ptr<tables> build_tables(const config& c, const dynamic_entries& d);

// An outbound/inbound table entry for an SA config (the SA object is created here); nullopt
// with `error` set (no key material in it) when esp refuses the config.
std::optional<out_sa_entry> make_out_sa_entry(const std::string& name, const esp::sa_config& sc, std::string& error);
std::optional<in_sa_entry> make_in_sa_entry(const std::string& name, const esp::sa_config& sc, std::string& error);

} // namespace dataplane
