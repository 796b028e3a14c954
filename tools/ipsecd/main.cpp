// ipsecd: load the configuration, start the DPDK engine, run until SIGINT/SIGTERM or, with
// exit_when_idle_ms, until the ports have been idle that long; then print the counters as one
// JSON object on stdout (also with --print-counters). With "networks" in the file ipsecd runs
// the product (product.hpp): the management API and the IKE endpoint on one thread beside the
// workers. Exit codes: 0 ran, 2 bad configuration (the message names the key), 1 DPDK/run-time
// failure.
#include "product.hpp"

#include <dataplane/config.hpp>
#include <dataplane/engine.hpp>

#include <CLI/CLI.hpp>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <array>
#include <atomic>
#include <fstream>
#include <optional>
#include <sstream>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>

namespace {
std::atomic<dataplane::engine*> g_engine{nullptr};
std::atomic<bool> g_stop_requested{false};
std::atomic<bool> g_product{false};
// Installed before the EAL starts, so a SIGTERM during start-up ends the run cleanly (ports
// closed, pcap files flushed, counters printed) instead of killing the process. In product mode
// the first signal lets the IKE thread send its DELETEs before it stops the workers; a second
// one stops them at once.
extern "C" void on_signal(int) {
    bool again = g_stop_requested.exchange(true);
    if (g_product.load() && !again) return;
    if (auto* e = g_engine.load()) e->stop();
}

// The config file: product keys ("networks", "api", "state_dir", "ike") split off, the rest is the
// data plane's.
dataplane::config load(const std::string& path, std::optional<ipsecd::product_config>& product) {
    std::ifstream f(path);
    if (!f) throw dataplane::config_error("config", "cannot read " + path);
    std::stringstream ss;
    ss << f.rdbuf();
    auto j = nlohmann::json::parse(ss.str(), nullptr, false);
    if (j.is_discarded()) return dataplane::parse_config(ss.str());  // its error message names the problem
    product = ipsecd::take_product_config(j);
    auto cfg = dataplane::parse_config(j.dump());
    if (product) ipsecd::check_product_config(*product, cfg);
    return cfg;
}
// --ike-echo: a stand-in for the IKE endpoint used by the vector tests. Every punted IKE
// datagram goes back to its sender through the inject ring (addresses and ports swapped),
// which exercises punt ring -> IKE side -> inject ring -> routing and L2 resolution.
void ike_echo(dataplane::engine& eng, const std::atomic<bool>& done) {
    std::array<rte_mbuf*, 32> pkts{};
    while (!done.load()) {
        unsigned n = rte_ring_dequeue_burst(eng.punt_ring(), reinterpret_cast<void**>(pkts.data()), pkts.size(), nullptr);
        if (n == 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            continue;
        }
        for (unsigned i = 0; i < n; ++i) {
            rte_mbuf* m = pkts[i];
            auto* ip = rte_pktmbuf_mtod(m, std::uint8_t*);
            std::size_t ihl = std::size_t(ip[0] & 15) * 4;  // validated by the pipeline before the punt
            if (m->data_len < ihl + 8) {
                rte_pktmbuf_free(m);
                continue;
            }
            for (int k = 0; k < 4; ++k) std::swap(ip[12 + k], ip[16 + k]);  // sum unchanged: checksum stays valid
            std::uint8_t* udp = ip + ihl;
            std::swap(udp[0], udp[2]);
            std::swap(udp[1], udp[3]);
            udp[6] = udp[7] = 0;  // RFC 768: zero = no checksum (IPv4)
            if (rte_ring_enqueue(eng.inject_ring(), m) != 0) rte_pktmbuf_free(m);
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"ipsecd: userspace IPsec VPN engine (DPDK data plane)\n\n"
                 "Product mode: when the config has \"networks\" (as ipsec-apid-test's --config), ipsecd\n"
                 "also runs the management API (\"api\": {\"socket\", \"tcp_port\", \"token_file\"}) and\n"
                 "the IKEv2 endpoint over the data plane; VIPs and tunnels persist in \"state_dir\"\n"
                 "(default /var/lib/ipsecd) and come back after a restart. \"ike\": {...} holds\n"
                 "daemon-wide IKE settings named like strongswan.conf's: retransmit_timeout,\n"
                 "retransmit_base, retransmit_tries, fragment_size, cookie_threshold,\n"
                 "cookie_threshold_ip, block_threshold, init_limit_half_open, half_open_timeout."};
    std::string config_path, state_dir, api_socket;
    bool check_only = false;
    bool print_counters_flag = false;
    bool ike_echo_flag = false;
    app.add_option("--config", config_path, "configuration file (JSON)")->required();
    app.add_flag("--check", check_only, "validate the configuration without starting DPDK");
    app.add_flag("--print-counters", print_counters_flag,
                 "print the counters as JSON on exit (implied by exit_when_idle_ms)");
    app.add_flag("--ike-echo", ike_echo_flag, "test hook: send punted IKE datagrams back through the inject ring");
    app.add_option("--state-dir", state_dir, "product mode: state directory (overrides \"state_dir\")");
    app.add_option("--api-socket", api_socket,
                   "product mode: API unix socket (overrides \"api.socket\"; default /run/ipsecd/api.sock)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }

    dataplane::config cfg;
    std::optional<ipsecd::product_config> product;
    try {
        cfg = load(config_path, product);
        if (!product && (!state_dir.empty() || !api_socket.empty()))
            throw dataplane::config_error("networks", "--state-dir/--api-socket need \"networks\" in the config");
        if (product && !state_dir.empty()) product->state_dir = state_dir;
        if (product && !api_socket.empty()) product->api_socket = api_socket;
        if (product && ike_echo_flag) throw dataplane::config_error("networks", "--ike-echo is a test hook without \"networks\"");
        if (check_only) {
            // Builds SAs and classifiers too (no DPDK needed for them).
            (void)dataplane::build_tables(cfg);
            std::printf("ipsecd: %s: OK\n", config_path.c_str());
            return 0;
        }
    } catch (const dataplane::config_error& e) {
        std::fprintf(stderr, "ipsecd: %s\n", e.what());
        return 2;
    }

    try {
        const bool print_counters = print_counters_flag || cfg.exit_when_idle_ms > 0;
        g_product.store(product.has_value());
        std::signal(SIGINT, on_signal);
        std::signal(SIGTERM, on_signal);
        std::optional<dataplane::config> dp_copy;
        if (product) dp_copy = cfg;
        dataplane::engine eng(std::move(cfg));
        g_engine.store(&eng);
        if (g_stop_requested.load()) eng.stop();
        std::atomic<bool> done{false};
        std::thread echo;
        if (ike_echo_flag) {
            eng.attach_ike(true);
            echo = std::thread([&] { ike_echo(eng, done); });
        }
        std::optional<ipsecd::product_runtime> rt;
        if (product) {
            rt.emplace(eng, std::move(*dp_copy), std::move(*product), g_stop_requested);
            rt->start();
        }
        eng.run();
        done = true;
        g_stop_requested.store(true);
        if (rt) rt->join();
        if (echo.joinable()) echo.join();
        g_engine.store(nullptr);
        std::fprintf(stderr, "ipsecd: %s\n", eng.summary_line().c_str());
        if (print_counters) std::printf("%s\n", eng.counters_json().dump().c_str());
        std::fflush(stdout);
        if (rt && rt->exit_code() != 0) return rt->exit_code();
    } catch (const dataplane::config_error& e) {
        std::fprintf(stderr, "ipsecd: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ipsecd: %s\n", e.what());
        return 1;
    }
    return 0;
}
