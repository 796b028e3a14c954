#pragma once
// product_engine: the real control::engine of ipsecd. It owns the IKE endpoint (over the ring
// transport) and the SA table (the endpoint's installer, which publishes data-plane snapshots),
// and maps tunnels onto them:
//   apply_tunnel     plan -> ike::peer_config (name = tunnel uuid) + SPD policies; a changed IKE
//                    config replaces the endpoint's peer (old IKE SAs deleted) and initiates when
//                    enabled, except when only CIDRs were added: then the established IKE SAs
//                    negotiate CHILD SAs for the new pairs and the existing ones carry on; a disabled tunnel keeps its policies (traffic dropped, not sent in
//                    clear) and negotiates nothing, not even as responder
//   remove_tunnel    IKE SAs deleted (DELETE sent), then policies and SAs
//   reconnect        the same tear-down, then initiate
//   on_timer         IKE timers, and acquires: a tunnel held after a dead peer (dpd action
//                    hold) is initiated again when its traffic arrives (strongSwan's trap)
//   query_status     Ready (a CHILD SA installed) / Connecting / Disconnected with the last
//                    IKE failure of that tunnel as the reason
//   query_sas/...    from the endpoint's SAs and the SA table's ESP counters
//   tunnel_log       a ring of the endpoint's log lines for the tunnel's IKE SAs (the endpoint
//                    never logs keys) and the installer's events
// Single-threaded: every call comes from the IKE thread's io_context (API and IKE alike).
#include "sa_table.hpp"

#include <control/engine.hpp>
#include <ike/endpoint.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace ipsecd {

struct product_engine_options {
    // Runs in sa_table's publish path: build and publish a data-plane snapshot.
    sa_table::publish_fn publish;
    // The data-plane port of a local (VIP) address; nullopt: no public port holds it.
    std::function<std::optional<std::uint16_t>(control::ipv4)> port_of;
    // Acquires: the tunnels (uuids) whose outbound traffic met a PROTECT policy without an SA
    // since the last call (dataplane::tables::take_no_sa_hits). A held tunnel (dpd action hold,
    // no IKE SA) is initiated on such traffic.
    std::function<std::vector<std::string>()> acquires;
    // Engine-wide drops by reason (the data plane's counters).
    std::function<std::map<std::string, std::uint64_t>()> drops;
    // Daemon log (stderr in ipsecd); every line also lands in its tunnel's ring when it has one.
    std::function<void(std::string_view)> log;
    std::size_t log_lines_per_tunnel = 1000;
    ike::endpoint_options ike;  // rng / ke_factory for tests, DoS thresholds; `log` is replaced
    // Daemon-wide settings applied to every tunnel's IKE configuration.
    ike::retransmit_config retransmit;
    std::size_t fragment_size = 1280;
};

class product_engine final : public control::engine {
public:
    product_engine(ike::transport& net, ike::clock& time, product_engine_options opt);
    ~product_engine() override;

    control::status apply_tunnel(const control::tunnel_plan& plan) override;
    void remove_tunnel(const std::string& uuid) override;
    control::status reconnect_tunnel(const std::string& uuid) override;
    control::tunnel_status query_status(const std::string& uuid) override;
    std::vector<control::ike_sa_info> query_sas(const std::string& uuid) override;
    control::tunnel_counters query_counters(const std::string& uuid) override;
    std::map<std::string, std::uint64_t> global_drops() override;
    std::vector<std::string> tunnel_log(const std::string& uuid, std::size_t lines) override;
    std::optional<std::string> udp_port_user(control::ipv4 address, std::uint16_t port) override;
    [[nodiscard]] std::string kind() const override { return "ipsecd"; }

    // VIPs of the model (ARP + local on their public port) beside the tunnels' own addresses.
    void set_model_vips(std::vector<control::ipv4> vips);
    // Drives IKE timers; returns when it wants to be called next.
    ike::time_point on_timer();
    // Deletes every IKE SA (DELETE sent) and forgets all tunnels: daemon shutdown.
    void shutdown();

    [[nodiscard]] ike::endpoint& endpoint() { return *_ep; }
    [[nodiscard]] sa_table& sas() { return _sas; }

private:
    struct tunnel_rec {
        control::tunnel_plan plan;
        std::deque<std::string> log;
        bool configured = false;  // the endpoint has its peer config
    };
    void tunnel_log_line(const std::string& uuid, std::string_view line);
    void ike_log(ike::log_level level, std::string_view line);
    control::status configure_ike(tunnel_rec& t, const std::string& uuid, bool initiate);
    // Modify that only added CIDRs: keeps the IKE and CHILD SAs and negotiates CHILD SAs for
    // the new pairs; false (nothing changed) when an IKE SA of the tunnel is not established.
    bool add_children(tunnel_rec& t, const std::string& uuid, const control::tunnel_plan& plan);
    void refresh_vips();
    void handle_acquires();

    product_engine_options _opt;
    ike::clock& _time;
    sa_table _sas;
    std::unique_ptr<ike::endpoint> _ep;
    std::map<std::string, tunnel_rec> _tunnels;
    std::vector<control::ipv4> _model_vips;
};

} // namespace ipsecd
