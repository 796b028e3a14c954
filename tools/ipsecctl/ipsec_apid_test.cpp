// ipsec-apid-test: the management API server on top of control::fake_engine.
//
// THIS IS NOT ipsecd. The fake engine negotiates nothing and carries no traffic; it records
// what the control plane asks for and reports the status a test chooses (--fake-auto-ready:
// "Ready" right after apply). It exists for the API/CLI tests in tests/control and for trying
// ipsecctl on a machine without a data plane. State persists in --state-dir like ipsecd's.
#include <control/api.hpp>
#include <control/api_server.hpp>
#include <control/fake_engine.hpp>
#include <control/persist.hpp>
#include <control/service.hpp>

#include <utility>

#include <boost/asio.hpp>
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

int main(int argc, char** argv) {
    CLI::App app{"ipsec-apid-test: the ipsecd management API over a FAKE engine (negotiates nothing; for tests)"};
    std::string socket = "/run/ipsecd/api.sock", state_dir, config, token_file;
    std::optional<std::uint16_t> tcp_port;
    std::vector<std::string> claims;
    bool auto_ready = false;
    std::size_t body_limit = 1 << 20;
    app.add_option("--socket", socket, "unix socket path")->capture_default_str();
    app.add_option("--state-dir", state_dir, "state directory (VIPs, tunnels, keys)")->required();
    app.add_option("--config", config, "JSON file with {\"networks\": [...]} as in ipsecd's config")->required();
    app.add_option("--tcp-port", tcp_port, "also listen on 127.0.0.1:PORT (0 = any) with a bearer token");
    app.add_option("--token-file", token_file, "bearer token for --tcp-port (first line)");
    app.add_option("--claim-port", claims, "IP:PORT:SERVICE, a UDP port the fake says another service holds");
    app.add_option("--body-limit", body_limit, "request body limit in bytes")->capture_default_str();
    app.add_flag("--fake-auto-ready", auto_ready, "report enabled tunnels Ready right after apply");
    CLI11_PARSE(app, argc, argv);

    try {
        std::ifstream f(config);
        if (!f) throw std::runtime_error("cannot read " + config);
        std::stringstream ss;
        ss << f.rdbuf();
        auto networks = control::networks_from_config(nlohmann::json::parse(ss.str()));

        control::fake_engine engine(auto_ready);
        for (const auto& c : claims) {
            auto a = c.find(':'), b = c.find(':', a == std::string::npos ? a : a + 1);
            auto ip = a == std::string::npos ? std::nullopt : control::ipv4::parse(c.substr(0, a));
            if (!ip || b == std::string::npos) throw std::runtime_error("--claim-port wants IP:PORT:SERVICE");
            engine.claim_udp_port(*ip, std::uint16_t(std::stoul(c.substr(a + 1, b - a - 1))), c.substr(b + 1));
        }
        control::state_store store(state_dir);
        control::service svc(engine, &store, store.load(networks));
        svc.apply_all();
        control::api_router router(svc);

        boost::asio::io_context io;
        control::api_server_options opt;
        opt.unix_socket = socket;
        opt.tcp_port = tcp_port;
        opt.body_limit = body_limit;
        opt.log = [](std::string_view l) { std::fprintf(stderr, "%.*s\n", int(l.size()), l.data()); };
        if (!token_file.empty()) {
            std::ifstream t(token_file);
            std::getline(t, opt.bearer_token);
        }
        control::api_server server(io, router, opt);
        if (auto e = server.start()) throw std::runtime_error(e->description);
        boost::asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](auto, int) {
            server.stop();
            io.stop();
        });
        std::printf("ipsec-apid-test: FAKE ENGINE (negotiates nothing) listening on %s", socket.c_str());
        if (tcp_port) std::printf(" and 127.0.0.1:%u", server.tcp_port());
        std::printf("\n");
        std::fflush(stdout);
        io.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ipsec-apid-test: %s\n", e.what());
        return 1;
    }
    return 0;
}
