#pragma once
// The engine as the management side sees it. ipsecd (dataplane + ike) implements this; tests
// and the standalone API test server use fake_engine (fake_engine.hpp), which negotiates
// nothing. All calls come from the API's io_context thread.
#include "control/model.hpp"
#include "control/plan.hpp"
#include "control/result.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace control {

struct child_sa_info {
    std::string state;                 // e.g. "INSTALLED", "REKEYING"
    std::string protocol = "ESP";
    std::string spi_in, spi_out;       // hex
    std::string algorithms;            // "aes256-sha256-modp2048"
    std::vector<std::string> local_ts, remote_ts;
    std::uint64_t bytes_in = 0, bytes_out = 0, packets_in = 0, packets_out = 0;
    std::int64_t rekey_in_s = -1, expire_in_s = -1;
    bool udp_encap = false;
};

struct ike_sa_info {
    std::string state;                 // e.g. "ESTABLISHED", "CONNECTING"
    bool initiator = false;
    std::string spi_i, spi_r;          // hex
    std::string local, remote;         // address[:port]
    std::string local_id, remote_id;
    std::string algorithms;            // "aes256-sha256-modp1024"
    std::int64_t established_s = -1, rekey_in_s = -1, reauth_in_s = -1;
    bool nat_detected = false;
    std::vector<child_sa_info> children;
};

struct tunnel_counters {
    std::uint64_t bytes_in = 0, bytes_out = 0, packets_in = 0, packets_out = 0;
    std::uint64_t ike_sas = 0, child_sas = 0, rekeys = 0;
    std::map<std::string, std::uint64_t> drops; // reason -> count (the engine's drop-reason table)
};

class engine {
public:
    virtual ~engine() = default;
    // Create or replace a tunnel's configuration (plan.peer.enabled false: keep, negotiate nothing).
    // Modify is another apply: pairs of selectors present before and after must keep their SAs.
    virtual status apply_tunnel(const tunnel_plan& plan) = 0;
    // Delete the SAs (with a DELETE to the peer) and the tunnel's policies.
    virtual void remove_tunnel(const std::string& uuid) = 0;
    // Tear down and re-initiate.
    virtual status reconnect_tunnel(const std::string& uuid) = 0;
    virtual tunnel_status query_status(const std::string& uuid) = 0;
    virtual std::vector<ike_sa_info> query_sas(const std::string& uuid) = 0;
    virtual tunnel_counters query_counters(const std::string& uuid) = 0;
    // Engine-wide drops not attributable to a tunnel (reason -> count).
    virtual std::map<std::string, std::uint64_t> global_drops() = 0;
    // Last `lines` log lines about this tunnel, oldest first.
    virtual std::vector<std::string> tunnel_log(const std::string& uuid, std::size_t lines) = 0;
    // Which other service (not IPsec) holds UDP `port` on `address`, if any.
    virtual std::optional<std::string> udp_port_user(ipv4 address, std::uint16_t port) = 0;
    // Name shown by the API ("ipsecd", or "fake" for the test double).
    [[nodiscard]] virtual std::string kind() const = 0;
};

} // namespace control
