// ipsecd product mode: the IKE/API thread (see product.hpp).
#include "product.hpp"

#include "product_engine.hpp"
#include "ring_transport.hpp"

#include <control/api.hpp>
#include <control/api_server.hpp>
#include <control/persist.hpp>
#include <control/service.hpp>
#include <dataplane/engine.hpp>
#include <dataplane/tables.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>

namespace ipsecd {

namespace {

void log_line(std::string_view l) {
    std::fprintf(stderr, "ipsecd: %.*s\n", int(l.size()), l.data());
}

// A self-rescheduling timer on the io_context.
class periodic {
public:
    periodic(boost::asio::io_context& io, std::function<std::chrono::steady_clock::time_point()> fn)
        : _timer(io), _fn(std::move(fn)) {}
    void start(std::chrono::steady_clock::time_point at) {
        _timer.expires_at(at);
        _timer.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) start(_fn());
        });
    }
    void cancel() { _timer.cancel(); }

private:
    boost::asio::steady_timer _timer;
    std::function<std::chrono::steady_clock::time_point()> _fn;
};

// "ike": {...}: each key checked for type and range, unknown keys refused.
void take_ike_settings(const nlohmann::json& a, product_config& p) {
    if (!a.is_object()) throw dataplane::config_error("ike", "must be an object");
    auto number = [](const std::string& k, const nlohmann::json& v, double lo, double hi) {
        if (!v.is_number() || v.get<double>() < lo || v.get<double>() > hi)
            throw dataplane::config_error("ike." + k, fmt::format("must be a number in {}..{}", lo, hi));
        return v.get<double>();
    };
    auto whole = [&](const std::string& k, const nlohmann::json& v, double lo, double hi) {
        if (!v.is_number_unsigned()) throw dataplane::config_error("ike." + k, "must be a whole number");
        return unsigned(number(k, v, lo, hi));
    };
    auto seconds = [&](const std::string& k, const nlohmann::json& v, double lo, double hi) {
        return std::chrono::duration_cast<ike::duration>(std::chrono::duration<double>(number(k, v, lo, hi)));
    };
    for (const auto& [k, v] : a.items()) {
        if (k == "retransmit_timeout") p.retransmit.timeout = seconds(k, v, 0.1, 600);
        else if (k == "retransmit_base") p.retransmit.base = number(k, v, 1, 10);
        else if (k == "retransmit_tries") p.retransmit.tries = whole(k, v, 1, 20);
        else if (k == "fragment_size") p.fragment_size = whole(k, v, 576, 65535);
        else if (k == "cookie_threshold") p.dos.cookie_threshold = whole(k, v, 0, 1e6);
        else if (k == "cookie_threshold_ip") p.dos.cookie_threshold_ip = whole(k, v, 0, 1e6);
        else if (k == "block_threshold") p.dos.block_threshold = whole(k, v, 0, 1e6);
        else if (k == "init_limit_half_open") p.dos.init_limit_half_open = whole(k, v, 0, 1e7);
        else if (k == "half_open_timeout") p.dos.half_open_timeout = seconds(k, v, 1, 3600);
        else
            throw dataplane::config_error("ike." + k, "unknown key (retransmit_timeout, retransmit_base, "
                                                      "retransmit_tries, fragment_size, cookie_threshold, "
                                                      "cookie_threshold_ip, block_threshold, init_limit_half_open, "
                                                      "half_open_timeout)");
    }
}

} // namespace

std::optional<product_config> take_product_config(nlohmann::json& j) {
    if (!j.is_object() || !j.contains("networks")) {
        for (const char* k : {"api", "state_dir", "ike"})
            if (j.is_object() && j.contains(k)) throw dataplane::config_error(k, "only meaningful with \"networks\"");
        return std::nullopt;
    }
    product_config p;
    p.networks = j["networks"];
    if (!p.networks.is_array()) throw dataplane::config_error("networks", "must be a list");
    j.erase("networks");
    if (j.contains("state_dir")) {
        if (!j["state_dir"].is_string() || j["state_dir"].get<std::string>().empty())
            throw dataplane::config_error("state_dir", "must be a non-empty path");
        p.state_dir = j["state_dir"].get<std::string>();
        j.erase("state_dir");
    }
    if (j.contains("api")) {
        const auto& a = j["api"];
        if (!a.is_object()) throw dataplane::config_error("api", "must be an object");
        for (const auto& [k, v] : a.items()) {
            if (k == "socket") {
                if (!v.is_string()) throw dataplane::config_error("api.socket", "must be a path (\"\" = none)");
                p.api_socket = v.get<std::string>();
            } else if (k == "tcp_port") {
                if (!v.is_number_unsigned() || v.get<std::uint64_t>() > 65535)
                    throw dataplane::config_error("api.tcp_port", "must be 0..65535");
                p.tcp_port = std::uint16_t(v.get<std::uint64_t>());
            } else if (k == "token_file") {
                if (!v.is_string()) throw dataplane::config_error("api.token_file", "must be a path");
                p.token_file = v.get<std::string>();
            } else {
                throw dataplane::config_error("api." + k, "unknown key (socket, tcp_port, token_file)");
            }
        }
        if (p.tcp_port && p.token_file.empty())
            throw dataplane::config_error("api.token_file", "required with api.tcp_port (bearer token)");
        j.erase("api");
    }
    if (j.contains("ike")) {
        take_ike_settings(j["ike"], p);
        j.erase("ike");
    }
    return p;
}

void check_product_config(const product_config& p, const dataplane::config& dp) {
    try {
        (void)control::networks_from_config(p.networks);
    } catch (const std::exception& e) {
        throw dataplane::config_error("networks", e.what());
    }
    for (std::size_t i = 0; i < p.networks.size(); ++i) {
        const auto& n = p.networks[i];
        auto port = n.value("port", std::string());
        if (!dp.port_index(port))
            throw dataplane::config_error("networks[" + std::to_string(i) + "].port",
                                          "no port named '" + port + "' in \"ports\"");
    }
    if (!dp.sas.empty())
        throw dataplane::config_error("static.sas", "not allowed with \"networks\" (tunnel SAs come from IKE)");
}

product_runtime::product_runtime(dataplane::engine& eng, dataplane::config dp, product_config pc,
                                 const std::atomic<bool>& stop_requested)
    : _eng(eng), _dp(std::move(dp)), _pc(std::move(pc)), _stop(stop_requested) {}

product_runtime::~product_runtime() { join(); }

void product_runtime::start() {
    _thread = std::thread([this] {
        try {
            run();
        } catch (const std::exception& e) {
            log_line(fmt::format("IKE/API thread failed: {}", e.what()));
            _exit_code = 1;
        }
        _eng.stop();
    });
}

void product_runtime::join() {
    if (_thread.joinable()) _thread.join();
}

void product_runtime::run() {
    using namespace std::chrono_literals;
    boost::asio::io_context io;
    ring_transport net(io, _eng);
    ike::steady_clock_source clock;

    auto networks = control::networks_from_config(_pc.networks);
    std::uint64_t publish_errors = 0;
    product_engine_options o;
    o.publish = [&](const dataplane::dynamic_entries& d) {
        try {
            _eng.publish(dataplane::build_tables(_dp, d));
        } catch (const std::exception& e) {
            ++publish_errors;
            log_line(fmt::format("snapshot not published: {}", e.what()));
        }
    };
    // A VIP lives on the port of the public network whose CIDR holds it, else on the first
    // public port whose subnet holds it.
    o.port_of = [&](control::ipv4 a) -> std::optional<std::uint16_t> {
        for (const auto& n : networks)
            if (n.category == control::network_category::public_net && n.cidr.contains(a))
                if (auto i = _dp.port_index(n.port)) return std::uint16_t(*i);
        for (std::size_t i = 0; i < _dp.ports.size(); ++i)
            if (_dp.ports[i].role == dataplane::port_role::public_side && _dp.ports[i].ip.subnet().contains(a.value))
                return std::uint16_t(i);
        return std::nullopt;
    };
    o.drops = [&] { return _eng.drop_counters(); };
    // This thread publishes, so the current snapshot stays valid while it is read here.
    o.acquires = [&] {
        std::vector<std::string> uuids;
        const auto& t = _eng.current_tables();
        for (auto i : t.take_no_sa_hits()) uuids.push_back(t.policies[i].sa);
        return uuids;
    };
    o.log = log_line;
    o.retransmit = _pc.retransmit;
    o.fragment_size = _pc.fragment_size;
    o.ike.dos = _pc.dos;
    product_engine engine(net, clock, std::move(o));

    control::state_store store(_pc.state_dir);
    control::service svc(engine, &store, store.load(networks));
    net.start();
    svc.apply_all();
    control::api_router router(svc);
    control::api_server_options opt;
    opt.unix_socket = _pc.api_socket;
    opt.tcp_port = _pc.tcp_port;
    opt.log = log_line;
    if (!_pc.token_file.empty()) {
        std::ifstream t(_pc.token_file);
        if (!t) throw std::runtime_error("cannot read api.token_file " + _pc.token_file);
        std::getline(t, opt.bearer_token);
    }
    control::api_server server(io, router, opt);
    if (auto e = server.start()) throw std::runtime_error("API: " + e->description);
    log_line(fmt::format("product mode: API on {}{}, state in {}, {} tunnel(s) restored", _pc.api_socket,
                         _pc.tcp_port ? fmt::format(" and 127.0.0.1:{}", server.tcp_port()) : std::string(),
                         _pc.state_dir, svc.snapshot().tunnels.size()));

    periodic ike_timer(io, [&] { return engine.on_timer(); });
    ike_timer.start(std::chrono::steady_clock::now());
    periodic reconcile(io, [&] {
        if (auto n = svc.reconcile()) log_line(fmt::format("reconcile: re-initiated {} tunnel(s)", n));
        return std::chrono::steady_clock::now() + 60s;
    });
    reconcile.start(std::chrono::steady_clock::now() + 60s);
    auto sync_vips = [&] {
        std::vector<control::ipv4> v;
        for (const auto& x : svc.snapshot().vips) v.push_back(x.ip);
        engine.set_model_vips(std::move(v));
    };
    sync_vips();
    periodic vip_timer(io, [&] {
        sync_vips();
        return std::chrono::steady_clock::now() + 1s;
    });
    vip_timer.start(std::chrono::steady_clock::now() + 1s);

    // Stop: DELETEs go out through the inject ring while the workers still run, then the data
    // plane stops.
    bool stopping = false;
    boost::asio::steady_timer grace(io);
    periodic stop_poll(io, [&] {
        if (_stop.load() && !stopping) {
            stopping = true;
            log_line("stopping: deleting IKE SAs");
            engine.shutdown();
            server.stop();
            ike_timer.cancel();
            reconcile.cancel();
            vip_timer.cancel();
            grace.expires_after(300ms);
            grace.async_wait([&](const boost::system::error_code&) {
                net.stop();
                io.stop();
            });
        }
        return std::chrono::steady_clock::now() + 50ms;
    });
    stop_poll.start(std::chrono::steady_clock::now() + 50ms);
    io.run();
    net.stop();
}

} // namespace ipsecd
