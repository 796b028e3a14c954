// ipsecd: load the static configuration, start the DPDK engine, run until SIGINT/SIGTERM or,
// with exit_when_idle_ms, until the ports have been idle that long; then print the counters
// as one JSON object on stdout (also with --print-counters). Exit codes: 0 ran, 2 bad
// configuration (the message names the key), 1 DPDK/run-time failure.
#include <dataplane/config.hpp>
#include <dataplane/engine.hpp>

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <exception>
#include <string>

namespace {
dataplane::engine* g_engine = nullptr;
extern "C" void on_signal(int) {
    if (g_engine) g_engine->stop();
}
} // namespace

int main(int argc, char** argv) {
    CLI::App app{"ipsecd: userspace IPsec VPN engine (DPDK data plane)"};
    std::string config_path;
    bool check_only = false;
    bool print_counters_flag = false;
    app.add_option("--config", config_path, "configuration file (JSON)")->required();
    app.add_flag("--check", check_only, "validate the configuration without starting DPDK");
    app.add_flag("--print-counters", print_counters_flag,
                 "print the counters as JSON on exit (implied by exit_when_idle_ms)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }

    dataplane::config cfg;
    try {
        cfg = dataplane::load_config(config_path);
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
        dataplane::engine eng(std::move(cfg));
        g_engine = &eng;
        std::signal(SIGINT, on_signal);
        std::signal(SIGTERM, on_signal);
        eng.run();
        g_engine = nullptr;
        std::fprintf(stderr, "ipsecd: %s\n", eng.summary_line().c_str());
        if (print_counters) std::printf("%s\n", eng.counters_json().dump().c_str());
        std::fflush(stdout);
    } catch (const dataplane::config_error& e) {
        std::fprintf(stderr, "ipsecd: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ipsecd: %s\n", e.what());
        return 1;
    }
    return 0;
}
