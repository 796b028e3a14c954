#pragma once
// ipsecd's product mode: when the config file has "networks", one thread beside the workers runs
// a boost::asio io_context carrying the management API (control::service + api_server over
// product_engine) and the IKE endpoint (over ring_transport), so control::engine calls and IKE
// state share one thread and no lock. On that thread:
//   - apply_all() at start: every stored tunnel comes back after a restart
//   - the IKE timer (endpoint deadlines, at most 100 ms apart)
//   - service::reconcile() every 60 s (re-initiates Disconnected tunnels)
//   - the model's VIPs synced to the data plane every second (ARP + local on their port)
//   - stop: IKE SAs deleted (DELETE sent through the still-running workers), API closed, then
//     the data plane is stopped
#include <dataplane/config.hpp>
#include <ike/config.hpp>
#include <ike/dos_guard.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

namespace dataplane {
class engine;
}

namespace ipsecd {

struct product_config {
    nlohmann::json networks;  // the list, as ipsec-apid-test's --config has it
    std::string api_socket = "/run/ipsecd/api.sock";
    std::optional<std::uint16_t> tcp_port;
    std::string token_file;
    std::string state_dir = "/var/lib/ipsecd";
    // "ike": daemon-wide IKE settings, named like strongswan.conf's charon.* options.
    ike::retransmit_config retransmit;  // retransmit_timeout (s), retransmit_base, retransmit_tries
    std::size_t fragment_size = 1280;   // fragment_size (bytes of the IP datagram)
    ike::dos_options dos;               // cookie_threshold, cookie_threshold_ip, block_threshold,
                                        // init_limit_half_open, half_open_timeout (s)
};

// Removes "networks", "api", "state_dir" and "ike" from the config object and returns them (nullopt
// without "networks"); the rest is the data plane's. Throws dataplane::config_error naming the
// key. With `dp`, also checks each network's "port" names one of dp's ports and that no static
// SA is configured (product SAs come from IKE).
std::optional<product_config> take_product_config(nlohmann::json& j);
void check_product_config(const product_config& p, const dataplane::config& dp);

class product_runtime {
public:
    // `stop_requested` is the daemon's signal flag, polled every 50 ms.
    product_runtime(dataplane::engine& eng, dataplane::config dp, product_config pc,
                    const std::atomic<bool>& stop_requested);
    ~product_runtime();
    void start();  // spawns the IKE/API thread
    void join();
    [[nodiscard]] int exit_code() const { return _exit_code.load(); }  // 1 when the thread failed

private:
    void run();

    dataplane::engine& _eng;
    dataplane::config _dp;
    product_config _pc;
    const std::atomic<bool>& _stop;
    std::atomic<int> _exit_code{0};
    std::thread _thread;
};

} // namespace ipsecd
