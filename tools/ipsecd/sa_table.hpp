#pragma once
// sa_table: ipsecd's ike::sa_installer. It keeps, per tunnel, the tunnel's SPD policies and the
// ESP SAs the IKE endpoint installed for it (esp_sa_install::peer = peer_config name = tunnel
// uuid), plus the run-time VIPs, and describes all of it as dataplane::dynamic_entries; every
// change calls `publish` with a fresh description (ipsecd builds and RCU-publishes a snapshot).
//
// Make-before-break (sa_installer.hpp): an inbound SA joins the SAD and stays until its
// remove_sa (all inbound SAs of a tunnel pass its inbound policies, via the tunnel's policy tag).
// Each outbound PROTECT policy is carried by the newest outbound SA whose traffic selectors
// cover the policy's addresses (failing that, the newest whose selectors overlap them): a
// tunnel may have several CHILD SAs (a modify that added CIDRs negotiates one for the new pairs
// and leaves the others alone), and a rekeyed SA takes over from the one it replaces; removing
// an older one changes nothing, removing the newest falls back to the newest one left. Outbound
// PROTECT policies without such an SA stay in the SPD with no SA: their traffic is dropped
// (policy_no_sa), never sent in clear.
//
// Single-threaded (the IKE thread). SA objects are shared with published snapshots, so a
// republish never resets sequence numbers or replay windows.
#include <dataplane/tables.hpp>
#include <ike/sa_installer.hpp>
#include <spd/types.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ipsecd {

class sa_table final : public ike::sa_installer {
public:
    using publish_fn = std::function<void(const dataplane::dynamic_entries&)>;
    using log_fn = std::function<void(const std::string& tunnel, std::string_view line)>;
    sa_table(publish_fn publish, log_fn log);

    // Creates or replaces a tunnel's policies (sa/sa_handle are filled in here). Its SAs stay.
    void set_tunnel(const std::string& uuid, std::vector<spd::policy> policies, std::uint32_t replay_window);
    // Drops the tunnel's policies and any SA still attributed to it.
    void remove_tunnel(const std::string& uuid);
    void set_vips(std::vector<dataplane::local_address> vips);
    [[nodiscard]] const std::vector<dataplane::local_address>& vips() const { return _vips; }

    void install_sa(const ike::esp_sa_install& sa) override;
    void remove_sa(ike::sa_direction direction, std::uint32_t spi) override;
    // The esp SA's counters (packets, inner bytes; outbound: next_seq()) for the IKE side's
    // usage limits (issue 5); nullopt for an SA not installed here. Read from the IKE thread
    // while a worker updates them, like sas_of: a value at most one burst stale. A hash lookup
    // (the index is rebuilt with every republish), since ike asks for every CHILD SA each second.
    [[nodiscard]] std::optional<ike::sa_usage> usage(ike::sa_direction direction, std::uint32_t spi) const override;

    struct sa_view {
        std::string tunnel;
        ike::sa_direction direction;
        std::uint32_t spi;
        std::uint32_t reqid;
        std::uint64_t packets, bytes, drops;
    };
    [[nodiscard]] std::vector<sa_view> sas_of(const std::string& uuid) const;
    [[nodiscard]] std::optional<sa_view> find(ike::sa_direction direction, std::uint32_t spi) const;
    [[nodiscard]] bool has_tunnel(const std::string& uuid) const { return _tunnels.contains(uuid); }
    // The tunnel's outbound PROTECT policies that no outbound SA carries (their traffic is
    // dropped as policy_no_sa), by name.
    [[nodiscard]] std::vector<std::string> policies_without_sa(const std::string& uuid) const;
    [[nodiscard]] std::size_t install_failures() const { return _install_failures; }

    // The current description (what the last publish got).
    [[nodiscard]] dataplane::dynamic_entries describe() const;

private:
    struct out_rec {
        std::uint32_t reqid;
        dataplane::out_sa_entry entry;
        std::vector<ike::esp_selector> src, dst;  // the CHILD SA's traffic selectors
    };
    struct in_rec {
        std::uint32_t reqid;
        dataplane::in_sa_entry entry;
    };
    struct tunnel_rec {
        std::uint32_t tag = 0;
        std::uint32_t replay_window = 64;
        std::vector<spd::policy> policies;
        std::vector<out_rec> out;  // install order: back() is the newest
        std::vector<in_rec> in;
    };
    void republish();
    // The data-plane handle (index into the described out_sas, this tunnel's starting at
    // first_out) of the outbound SA that carries policy `p`, or spd::no_sa.
    static std::uint32_t outbound_handle(const tunnel_rec& t, const spd::policy& p, std::uint32_t first_out);

    publish_fn _publish;
    log_fn _log;
    std::map<std::string, tunnel_rec> _tunnels;
    // SPI -> esp SA, for usage(). An outbound SPI is the peer's choice and two peers may pick
    // the same one: then the newest of them answers.
    std::unordered_map<std::uint32_t, std::shared_ptr<const esp::outbound_sa>> _out_by_spi;
    std::unordered_map<std::uint32_t, std::shared_ptr<const esp::inbound_sa>> _in_by_spi;
    std::vector<dataplane::local_address> _vips;
    std::uint32_t _next_tag = 0;
    std::size_t _install_failures = 0;
};

// esp_sa_install -> esp::sa_config (keys copied); nullopt with `error` (no key material in it).
std::optional<esp::sa_config> to_esp_config(const ike::esp_sa_install& sa, std::uint32_t replay_window,
                                            std::string& error);

} // namespace ipsecd
