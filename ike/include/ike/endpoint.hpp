#pragma once
// An IKE endpoint: the peer configurations, the IKE SAs, and the glue to a transport, a clock and
// an SA installer. Single-threaded: everything runs on the caller's thread (the IKE thread's
// io_context in ipsecd, the test body in tests). The owner calls on_timer() at next_deadline().
//
// Receive path:
//  1. UDP payload on the NAT-T port: 0xFF keepalive -> ignored; non-ESP marker (4 zero bytes)
//     -> stripped; anything else is ESP and not ours -> dropped
//  2. IKE header parsed (bounds-checked); the SA is found by our SPI (responder: SPIr, else SPIi);
//     an IKE_SA_INIT request without SA passes the DoS guard (dos_guard.hpp: COOKIE, per-source
//     block, half-open cap) before a half-open responder SA is created for a matching config
//  3. ike_sa::receive does the rest (see ike_sa.hpp)
#include "ike/config.hpp"
#include "ike/crypto_random.hpp"
#include "ike/dh.hpp"
#include "ike/dos_guard.hpp"
#include "ike/endpoint_clock.hpp"
#include "ike/ike_sa.hpp"
#include "ike/sa_installer.hpp"
#include "ike/transport.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ike {

struct endpoint_options {
    crypto::random_source* rng = nullptr;               // default: system_random()
    crypto::key_exchange_factory* ke_factory = nullptr; // default: system factory
    log_sink log;                                       // default: discard
    bool require_cookie = false;                        // responder: always ask for a COOKIE
    dos_options dos;                                    // responder DoS thresholds (dos_guard.hpp)
};

class endpoint {
public:
    endpoint(transport& net, clock& time, sa_installer& installer, endpoint_options opts = {});
    ~endpoint();

    // Throws std::invalid_argument at start-up for unparsable proposals.
    void add_peer(peer_config cfg);
    [[nodiscard]] const std::vector<std::unique_ptr<peer_config>>& peers() const { return _peers; }
    // Forgets the named configuration (ipsecd: a tunnel removed or replaced). Its established IKE
    // SAs send INFORMATIONAL { D } once (no wait for the answer: the configuration goes now) and
    // every IKE SA of it is destroyed, removing its CHILD SAs from the installer. False when
    // no configuration has that name.
    bool remove_peer(const std::string& peer_name, bool send_delete = true);

    // Starts IKE_SA_INIT + IKE_AUTH (with the first CHILD SA) towards the named peer; returns
    // the IKE SA's unique id.
    std::optional<std::uint32_t> initiate(const std::string& peer_name);
    // Changes a configuration's traffic selectors in place: its IKE and CHILD SAs stay; new
    // CHILD SAs (and answers to the peer's) use the new ones. False when no configuration has
    // that name.
    bool update_selectors(const std::string& peer_name, std::vector<cidr> local_ts, std::vector<cidr> peer_ts);

    // Queues a CREATE_CHILD_SA for another CHILD SA on an established IKE SA, for the configured
    // traffic selectors or, where non-empty, for `local_ts` / `peer_ts`.
    bool create_child(std::uint32_t ike_id, std::vector<cidr> local_ts = {}, std::vector<cidr> peer_ts = {});
    bool delete_child(std::uint32_t ike_id, std::uint32_t reqid);
    bool delete_ike(std::uint32_t ike_id);
    bool send_liveness(std::uint32_t ike_id);

    void on_timer();
    [[nodiscard]] std::optional<time_point> next_deadline() const;

    [[nodiscard]] ike_sa* find(std::uint32_t ike_id);
    [[nodiscard]] std::vector<ike_sa*> sas();
    [[nodiscard]] std::size_t dropped() const { return _dropped; }
    // Half-open SAs, cookie state and counted DoS drops (dos_guard.hpp).
    [[nodiscard]] const dos_guard& dos() const { return _dos; }
    // The last failure reason of any IKE SA (destroyed ones included), for status and tests.
    [[nodiscard]] const std::string& last_error() const { return _last_error; }
    // The last failure reason of an IKE SA of this configuration ("" if none since add_peer).
    [[nodiscard]] std::string last_error(const std::string& peer_name) const;

private:
    void receive(const udp_endpoint& local, const udp_endpoint& remote, std::span<const std::uint8_t> data);
    const peer_config* match_config(const udp_endpoint& local, const udp_endpoint& remote) const;
    ike_sa* create_sa(const peer_config& cfg, bool initiator);
    void reap();

    endpoint_services _svc;
    dos_guard _dos;
    std::vector<std::unique_ptr<peer_config>> _peers;
    std::map<const peer_config*, std::pair<std::vector<proposal>, std::vector<proposal>>> _proposals;
    std::map<std::uint32_t, std::unique_ptr<ike_sa>> _sas;
    std::uint32_t _next_id = 1;
    std::size_t _dropped = 0;
    std::string _last_error;
    std::map<std::string, std::string> _peer_errors;  // peer_config::name -> last failure
};

} // namespace ike
