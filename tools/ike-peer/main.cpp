// ike-peer: one IKEv2 endpoint (ike::endpoint over ike::udp_transport) configured from the command
// line and/or a JSON file. Events go to stdout as JSON lines, logs to stderr:
//   {"event":"ike_sa","id":1,"state":"established","spi_i":"..","spi_r":"..","proposal":"..",...}
//   {"event":"install","direction":"inbound","spi":"c1a2b3c4","encryption":"aes256-cbc",...}
//   {"event":"remove","direction":"outbound","spi":"..."}
//   {"event":"error","reason":"no PSK for 192.0.2.1 - 198.51.100.2"}
// Keys (hex) appear only with --print-keys, for tests that compare them with the peer's.
// Exit: 0 when --count CHILD SAs were installed (or on SIGINT/SIGTERM), 1 on failure or
// --timeout, 2 on bad arguments.
#include <ike/endpoint.hpp>
#include <ike/transport_udp.hpp>

#include <base/hex.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

namespace {

using json = nlohmann::json;

void emit(const json& j) {
    std::cout << j.dump() << "\n" << std::flush;
}

std::string hex(std::span<const std::uint8_t> b) { return base::to_hex(b); }

json selectors(const std::vector<ike::esp_selector>& v) {
    json a = json::array();
    for (const auto& s : v)
        a.push_back({{"start", s.start.to_string()}, {"end", s.end.to_string()}, {"protocol", s.protocol},
                     {"start_port", s.start_port}, {"end_port", s.end_port}});
    return a;
}

struct printing_installer final : ike::sa_installer {
    bool print_keys = false;
    std::size_t installs = 0;
    void install_sa(const ike::esp_sa_install& sa) override {
        json j{{"event", "install"},
               {"direction", sa.direction == ike::sa_direction::inbound ? "inbound" : "outbound"},
               {"spi", fmt::format("{:08x}", sa.spi)},
               {"reqid", sa.reqid},
               {"encryption", sa.encryption},
               {"integrity", sa.integrity},
               {"esn", sa.esn},
               {"src", sa.tunnel_src.to_string()},
               {"dst", sa.tunnel_dst.to_string()},
               {"src_selectors", selectors(sa.src_selectors)},
               {"dst_selectors", selectors(sa.dst_selectors)}};
        j["encap"] = sa.encap ? json{{"src_port", sa.encap->src_port}, {"dst_port", sa.encap->dst_port}} : json(nullptr);
        if (print_keys) {
            j["encryption_key"] = hex(sa.encryption_key.view());
            j["integrity_key"] = hex(sa.integrity_key.view());
        }
        emit(j);
        ++installs;
    }
    void remove_sa(ike::sa_direction d, std::uint32_t spi) override {
        emit({{"event", "remove"}, {"direction", d == ike::sa_direction::inbound ? "inbound" : "outbound"},
              {"spi", fmt::format("{:08x}", spi)}});
    }
};

struct options {
    std::string config_file;
    std::string name = "peer";
    std::string local = "0.0.0.0";
    std::string peer = "0.0.0.0";
    std::uint16_t local_port = 500, local_natt_port = 4500, peer_port = 500, peer_natt_port = 4500;
    std::string local_id, peer_id = "%any";
    std::string psk_file, psk_env;
    std::vector<std::string> ike, esp, local_ts, peer_ts;
    bool initiate = false;
    bool force_encap = false;
    bool print_keys = false;
    unsigned count = 0;
    unsigned create_children = 0;
    double timeout = 0;
    double run_for = 0;
    std::uint64_t child_lifetime = 0, ike_lifetime = 0;  // 0: the library defaults
    std::uint64_t reauth_time = 0;                       // 0: off (the IKE SA is rekeyed)
    double dpd_delay = -1;                               // <0: the library default, 0: off
    std::size_t fragment_size = 0;                       // 0: the library default (1280)
    bool no_fragmentation = false;
    std::string log_level = "info";
};

// JSON config: the same names as the long options, e.g.
// {"local": "192.0.2.1", "peer": "198.51.100.2", "local_id": "@moon", "psk_env": "PSK",
//  "ike": ["aes256-sha256-modp2048"], "esp": ["aes256-sha256"], "local_ts": ["10.1.0.0/16"], ...}
void load_json(const std::string& path, options& o) {
    std::ifstream f(path);
    if (!f) throw std::runtime_error("cannot read " + path);
    json j = json::parse(f);
    auto get = [&](const char* k, auto& v) {
        if (j.contains(k)) j.at(k).get_to(v);
    };
    get("name", o.name);
    get("local", o.local);
    get("peer", o.peer);
    get("local_port", o.local_port);
    get("local_natt_port", o.local_natt_port);
    get("peer_port", o.peer_port);
    get("peer_natt_port", o.peer_natt_port);
    get("local_id", o.local_id);
    get("peer_id", o.peer_id);
    get("psk_file", o.psk_file);
    get("psk_env", o.psk_env);
    get("ike", o.ike);
    get("esp", o.esp);
    get("local_ts", o.local_ts);
    get("peer_ts", o.peer_ts);
    get("initiate", o.initiate);
    get("force_encap", o.force_encap);
}

ike::ip_address parse_addr(const std::string& s) {
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address(s, ec);
    if (ec) throw std::runtime_error("bad address '" + s + "'");
    return a;
}

ike::peer_config make_config(const options& o) {
    ike::peer_config c;
    c.name = o.name;
    c.local_address = parse_addr(o.local);
    c.peer_address = parse_addr(o.peer);
    c.local_port = o.local_port;
    c.local_natt_port = o.local_natt_port;
    c.peer_port = o.peer_port;
    c.peer_natt_port = o.peer_natt_port;
    auto id = [](const std::string& s, const char* what) {
        auto v = ike::peer_identity::parse(s);
        if (!v) throw std::runtime_error(std::string("bad ") + what + " '" + s + "'");
        return *v;
    };
    c.local_id = o.local_id.empty() ? id(o.local, "local id") : id(o.local_id, "local id");
    c.peer_id = id(o.peer_id, "peer id");
    std::string secret;
    if (!o.psk_file.empty()) {
        std::ifstream f(o.psk_file);
        if (!f) throw std::runtime_error("cannot read PSK file " + o.psk_file);
        std::getline(f, secret);
    } else if (!o.psk_env.empty()) {
        const char* v = std::getenv(o.psk_env.c_str());
        if (!v) throw std::runtime_error("environment variable " + o.psk_env + " is not set");
        secret = v;
    } else {
        throw std::runtime_error("a PSK is required (--psk-file or --psk-env)");
    }
    c.psks.push_back({c.local_id, c.peer_id, base::secret_bytes(std::string_view(secret))});
    std::fill(secret.begin(), secret.end(), '\0');
    if (!o.ike.empty()) c.ike_proposals = o.ike;
    if (!o.esp.empty()) c.esp_proposals = o.esp;
    for (const auto& s : o.local_ts) {
        auto v = ike::cidr::parse(s);
        if (!v) throw std::runtime_error("bad local CIDR '" + s + "'");
        c.local_ts.push_back(*v);
    }
    for (const auto& s : o.peer_ts) {
        auto v = ike::cidr::parse(s);
        if (!v) throw std::runtime_error("bad peer CIDR '" + s + "'");
        c.peer_ts.push_back(*v);
    }
    c.force_encap = o.force_encap;
    if (o.child_lifetime) c.child_lifetime_seconds = o.child_lifetime;
    if (o.ike_lifetime) c.ike_lifetime_seconds = o.ike_lifetime;
    c.reauth_seconds = o.reauth_time;
    if (o.fragment_size) c.fragment_size = o.fragment_size;
    if (o.no_fragmentation) c.fragmentation = false;
    if (o.dpd_delay >= 0)
        c.dpd_delay = std::chrono::duration_cast<ike::duration>(std::chrono::duration<double>(o.dpd_delay));
    return c;
}

} // namespace

int main(int argc, char** argv) {
    options o;
    CLI::App app{"ike-peer: a standalone IKEv2 endpoint (PSK) that prints the ESP SAs it installs"};
    app.add_option("--config", o.config_file, "JSON config (same keys as the long options)");
    app.add_option("--name", o.name, "peer name");
    app.add_option("--local", o.local, "local address");
    app.add_option("--peer", o.peer, "peer address (0.0.0.0 = any, responder only)");
    app.add_option("--local-port", o.local_port);
    app.add_option("--local-natt-port", o.local_natt_port);
    app.add_option("--peer-port", o.peer_port);
    app.add_option("--peer-natt-port", o.peer_natt_port);
    app.add_option("--local-id", o.local_id, "our identity (default: local address)");
    app.add_option("--peer-id", o.peer_id, "peer identity (default %any)");
    app.add_option("--psk-file", o.psk_file, "file whose first line is the PSK");
    app.add_option("--psk-env", o.psk_env, "environment variable holding the PSK");
    app.add_option("--ike", o.ike, "IKE proposal, strongSwan syntax (repeatable)");
    app.add_option("--esp", o.esp, "ESP proposal, strongSwan syntax (repeatable)");
    app.add_option("--local-ts", o.local_ts, "local CIDR (repeatable)");
    app.add_option("--peer-ts", o.peer_ts, "peer CIDR (repeatable)");
    app.add_flag("--initiate", o.initiate, "initiate instead of only responding");
    app.add_flag("--force-encap", o.force_encap, "force UDP encapsulation (fake NAT detection)");
    app.add_flag("--print-keys", o.print_keys, "print IKE and ESP keys in hex (tests only)");
    app.add_option("--count", o.count, "exit 0 after this many CHILD SAs were installed");
    app.add_option("--create-children", o.create_children, "after IKE_AUTH, create this many more CHILD SAs");
    app.add_option("--timeout", o.timeout, "exit 1 after this many seconds");
    app.add_option("--run-for", o.run_for, "exit 0 after this many seconds (rekey tests)");
    app.add_option("--child-lifetime", o.child_lifetime, "CHILD SA lifetime in seconds (rekey at ~80-90 %)");
    app.add_option("--ike-lifetime", o.ike_lifetime, "IKE SA lifetime in seconds (rekey at ~80-90 %)");
    app.add_option("--reauth-time", o.reauth_time,
                   "reauthenticate the IKE SA (make-before-break) at ~80-90 % of this many seconds instead of rekeying");
    app.add_option("--dpd-delay", o.dpd_delay, "seconds without a message before a liveness check (0 = off)");
    app.add_option("--fragment-size", o.fragment_size,
                   "largest IP datagram of an IKE fragment (RFC 7383), bytes (default 1280)");
    app.add_flag("--no-fragmentation", o.no_fragmentation, "do not offer IKE fragmentation (RFC 7383)");
    app.add_option("--log-level", o.log_level, "debug|info|warning|error");
    // A later occurrence of a single-valued option overrides an earlier one (handy in scripts).
    for (auto* opt : app.get_options())
        if (opt->get_expected_max() == 1) opt->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    try {
        app.parse(argc, argv);
        if (!o.config_file.empty()) {
            options cli = o;
            load_json(o.config_file, o);
            // Flags given on the command line win over the file.
            o.print_keys = cli.print_keys;
            o.count = cli.count;
            o.timeout = cli.timeout;
            o.create_children = cli.create_children;
            o.run_for = cli.run_for;
            o.child_lifetime = cli.child_lifetime;
            o.ike_lifetime = cli.ike_lifetime;
            o.reauth_time = cli.reauth_time;
            o.dpd_delay = cli.dpd_delay;
            o.fragment_size = cli.fragment_size;
            if (cli.no_fragmentation) o.no_fragmentation = true;
            if (cli.initiate) o.initiate = true;
        }
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ike-peer: %s\n", e.what());
        return 2;
    }

    ike::log_level min_level = o.log_level == "debug"     ? ike::log_level::debug
                               : o.log_level == "warning" ? ike::log_level::warning
                               : o.log_level == "error"   ? ike::log_level::error
                                                          : ike::log_level::info;
    try {
        auto cfg = make_config(o);
        boost::asio::io_context io;
        ike::udp_transport net(io, {ike::udp_endpoint(cfg.local_address, cfg.local_port),
                                    ike::udp_endpoint(cfg.local_address, cfg.local_natt_port)});
        ike::steady_clock_source clock;
        printing_installer installer;
        installer.print_keys = o.print_keys;
        ike::endpoint_options eo;
        eo.log = [min_level](ike::log_level l, std::string_view s) {
            if (l >= min_level) std::fprintf(stderr, "%.*s\n", int(s.size()), s.data());
        };
        ike::endpoint ep(net, clock, installer, std::move(eo));
        ep.add_peer(cfg);
        int exit_code = -1;
        boost::asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](const boost::system::error_code& ec, int) {
            if (!ec) exit_code = 0;
        });
        if (o.initiate && !ep.initiate(cfg.name)) throw std::runtime_error("cannot initiate");
        std::set<std::uint32_t> reported;
        std::set<std::uint32_t> children_requested;
        std::string last_error;
        json last_sas = json::array();
        bool had_sa = o.initiate;
        auto start = clock.now();
        while (exit_code < 0) {
            auto now = clock.now();
            auto next = ep.next_deadline().value_or(now + std::chrono::milliseconds(200));
            auto wait = std::clamp(next - now, ike::duration::zero(), ike::duration(std::chrono::milliseconds(200)));
            io.run_for(std::chrono::duration_cast<std::chrono::milliseconds>(wait) + std::chrono::milliseconds(1));
            ep.on_timer();
            auto sas = ep.sas();
            for (auto* sa : sas) {
                had_sa = true;
                if (sa->state() == ike::ike_sa_state::established && !reported.count(sa->unique_id)) {
                    reported.insert(sa->unique_id);
                    json j{{"event", "ike_sa"},
                           {"id", sa->unique_id},
                           {"state", std::string(ike::to_string(sa->state()))},
                           {"initiator", sa->original_initiator},
                           {"spi_i", hex(sa->spi_i)},
                           {"spi_r", hex(sa->spi_r)},
                           {"proposal", sa->ike_proposal_text},
                           {"local_id", sa->local_id.to_string()},
                           {"peer_id", sa->peer_id ? sa->peer_id->to_string() : ""},
                           {"local", fmt::format("{}:{}", sa->local.address().to_string(), sa->local.port())},
                           {"remote", fmt::format("{}:{}", sa->remote.address().to_string(), sa->remote.port())},
                           {"nat_here", sa->nat_here},
                           {"nat_there", sa->nat_there},
                           {"fragmentation", sa->fragmentation},
                           {"fragments", {{"messages_fragmented", sa->fragment_stats.messages_fragmented},
                                          {"sent", sa->fragment_stats.fragments_sent},
                                          {"received", sa->fragment_stats.fragments_received},
                                          {"reassembled", sa->fragment_stats.messages_reassembled},
                                          {"dropped_icv", sa->fragment_stats.dropped_icv}}}};
                    if (o.print_keys) {
                        const auto& k = sa->keys;
                        j["sk_d"] = hex(k.sk_d.view());
                        j["sk_ai"] = hex(k.sk_ai.view());
                        j["sk_ar"] = hex(k.sk_ar.view());
                        j["sk_ei"] = hex(k.sk_ei.view());
                        j["sk_er"] = hex(k.sk_er.view());
                        j["sk_pi"] = hex(k.sk_pi.view());
                        j["sk_pr"] = hex(k.sk_pr.view());
                    }
                    emit(j);
                }
                if (sa->state() == ike::ike_sa_state::established && o.create_children &&
                    !children_requested.count(sa->unique_id)) {
                    children_requested.insert(sa->unique_id);
                    for (unsigned i = 0; i < o.create_children; ++i) ep.create_child(sa->unique_id);
                }
            }
            // The current SA set, whenever it changes: established IKE SAs and their installed
            // CHILD SAs (rekey tests compare it with the peer's view).
            json cur = json::array();
            for (auto* sa : sas) {
                if (sa->state() != ike::ike_sa_state::established) continue;
                json ch = json::array();
                for (const auto& c : sa->children)
                    if (c->sm.state() == ike::child_sa_state::installed)
                        ch.push_back({{"reqid", c->reqid}, {"in", fmt::format("{:08x}", c->spi_in)},
                                      {"out", fmt::format("{:08x}", c->spi_out)}});
                cur.push_back({{"spi_i", hex(sa->spi_i)}, {"spi_r", hex(sa->spi_r)}, {"children", ch}});
            }
            if (cur != last_sas) {
                last_sas = cur;
                emit({{"event", "sas"}, {"t", std::chrono::duration<double>(clock.now() - start).count()}, {"ike", cur}});
            }
            if (o.run_for > 0 && std::chrono::duration<double>(clock.now() - start).count() > o.run_for) exit_code = 0;
            if (ep.last_error() != last_error) {
                last_error = ep.last_error();
                emit({{"event", "error"}, {"reason", last_error}});
            }
            if (o.count && installer.installs >= 2 * o.count) exit_code = 0;
            if (o.initiate && had_sa && ep.sas().empty() && exit_code < 0) exit_code = 1;
            if (o.timeout > 0 && std::chrono::duration<double>(clock.now() - start).count() > o.timeout && exit_code < 0) {
                emit({{"event", "error"}, {"reason", "timeout"}});
                exit_code = 1;
            }
        }
        net.close();
        return exit_code;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ike-peer: %s\n", e.what());
        return 2;
    }
}
