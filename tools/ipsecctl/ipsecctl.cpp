// ipsecctl: the management API of ipsecd on the command line (issue 7).
//
//   ipsecctl [--socket PATH | --tcp HOST:PORT --token-file F] [--json] COMMAND
//   network list
//   vip create|list|show|delete
//   tunnel create|list|show|update|modify|reconnect|enable|disable|delete|sas|log
//
// Tables for people, --json for scripts (the API's reply as it is). Names are accepted
// wherever a uuid is (resolved with a list call; an ambiguous name is an error).
// Exit codes: 0 done, 1 the API refused (its error is printed), 2 bad usage, 3 no connection.
#include "table.hpp"

#include <control/api_client.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>

using nlohmann::json;

namespace {

struct api_failure : std::runtime_error {
    int exit_code;
    api_failure(std::string what, int code) : std::runtime_error(std::move(what)), exit_code(code) {}
};

struct globals {
    std::string socket = "/run/ipsecd/api.sock";
    std::string tcp;
    std::string token_file;
    bool json_out = false;
};

class cli {
public:
    explicit cli(const globals& g) : _g(g) {}

    control::api_client_options options() const {
        control::api_client_options o;
        o.unix_socket = _g.socket;
        if (!_g.tcp.empty()) {
            auto colon = _g.tcp.rfind(':');
            if (colon == std::string::npos) throw api_failure("--tcp wants HOST:PORT", 2);
            o.tcp_host = _g.tcp.substr(0, colon);
            try {
                o.tcp_port = std::uint16_t(std::stoul(_g.tcp.substr(colon + 1)));
            } catch (const std::exception&) {
                throw api_failure("--tcp wants HOST:PORT", 2);
            }
            if (!_g.token_file.empty()) o.bearer_token = read_first_line(_g.token_file);
        }
        return o;
    }

    control::api_response send(std::string_view method, const std::string& target, const std::string& body) const {
        auto o = options();
        try {
            return control::api_client(o).request(method, target, body);
        } catch (const std::exception& e) {
            throw api_failure(fmt::format("cannot reach ipsecd at {}: {}", _g.tcp.empty() ? _g.socket : _g.tcp, e.what()), 3);
        }
    }

    json call(std::string_view method, const std::string& target, const json& body = nullptr) const {
        auto r = send(method, target, body.is_null() ? std::string() : body.dump());
        json j = json::parse(r.body, nullptr, false);
        if (r.status >= 300) {
            if (_g.json_out && !j.is_discarded()) std::cout << j.dump(2) << '\n';
            std::string code = "Error", desc = r.body;
            if (!j.is_discarded() && j.contains("error")) {
                code = j["error"].value("code", "Error");
                desc = j["error"].value("description", "");
            }
            throw api_failure(fmt::format("{} {}: {}", r.status, code, desc), 1);
        }
        if (j.is_discarded()) throw api_failure("ipsecd sent a reply that is not JSON", 1);
        return j;
    }

    std::string text(const std::string& target) const {
        auto r = send("GET", target, "");
        if (r.status != 200) throw api_failure(fmt::format("{}: {}", r.status, r.body), 1);
        return r.body;
    }

    // uuid or name -> uuid, by listing `collection` (an inventories reply).
    std::string resolve(const std::string& collection, const std::string& what, const std::string& ref) const {
        auto list = call("GET", collection)["inventories"];
        for (const auto& e : list)
            if (e.value("uuid", "") == ref) return ref;
        std::vector<std::string> hits;
        for (const auto& e : list)
            if (e.value("name", "") == ref) hits.push_back(e.value("uuid", ""));
        if (hits.empty()) throw api_failure(fmt::format("no {} with uuid or name \"{}\"", what, ref), 1);
        if (hits.size() > 1)
            throw api_failure(fmt::format("{} {} are named \"{}\"; give the uuid", hits.size(), what + "s", ref), 1);
        return hits.front();
    }

    static std::string read_first_line(const std::string& path) {
        std::string line;
        if (path == "-") {
            std::getline(std::cin, line);
        } else {
            std::ifstream f(path);
            if (!f) throw api_failure("cannot read " + path, 2);
            std::getline(f, line);
        }
        while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
        return line;
    }

    const globals& g() const { return _g; }

private:
    const globals& _g;
};

std::string join(const json& list, std::string_view sep = ",") {
    std::string s;
    for (const auto& e : list) {
        if (!s.empty()) s += sep;
        s += e.is_string() ? e.get<std::string>() : e.dump();
    }
    return s;
}

std::string str(const json& j, const char* key) {
    if (!j.contains(key)) return "";
    const auto& v = j[key];
    return v.is_string() ? v.get<std::string>() : v.dump();
}

void print(const cli& c, const json& j, const std::function<void()>& human) {
    if (c.g().json_out) std::cout << j.dump(2) << '\n';
    else human();
}

// ---- tunnel options shared by create and modify ------------------------------------------

struct tunnel_options {
    std::optional<std::string> name, description, vip, peer_address, auth_key, auth_key_file, id_type, local_id, remote_id,
        ike_version, ike_auth, ike_encryption, policy_auth, policy_encryption, pfs, dpd_action, nat_traversal;
    std::optional<int> ike_dh_group, ike_lifetime, lifetime, dpd_delay, replay_window;
    std::vector<std::string> peer_cidrs, l3_networks;

    void add_to(CLI::App* app, bool create) {
        if (create) app->add_option("--name", name, "tunnel name (1..255)")->required();
        app->add_option("--description", description, "free text (<= 2048)");
        app->add_option("--vip", vip, "VIP uuid or name (the local public address)");
        app->add_option("--peer-address", peer_address, "peer's public IPv4 address");
        app->add_option("--peer-cidr", peer_cidrs, "peer CIDR behind the peer (repeat)");
        app->add_option("--l3-network", l3_networks, "local private network uuid or name (repeat; default: the only one)");
        app->add_option("--auth-key", auth_key, "pre-shared key (visible in ps; prefer --auth-key-file)");
        app->add_option("--auth-key-file", auth_key_file, "file whose first line is the pre-shared key, - for stdin");
        app->add_option("--id-type", id_type, "ip | name | fqdn");
        app->add_option("--local-id", local_id, "our IKE identity (default: the VIP)");
        app->add_option("--remote-id", remote_id, "the peer's IKE identity (default: peer address)");
        app->add_option("--ike-version", ike_version, "ikev2");
        app->add_option("--ike-auth", ike_auth, "md5 | sha1 | sha256 | sha384 | sha512");
        app->add_option("--ike-encryption", ike_encryption, "3des | aes-128 | aes-192 | aes-256 | aes-128-gcm | aes-256-gcm");
        app->add_option("--ike-dh-group", ike_dh_group, "2, 5, 14..26, 31");
        app->add_option("--ike-lifetime", ike_lifetime, "seconds, 60..604800");
        app->add_option("--policy-auth", policy_auth, "ESP integrity (same list as --ike-auth)");
        app->add_option("--policy-encryption", policy_encryption, "ESP cipher (same list as --ike-encryption)");
        app->add_option("--pfs", pfs, "none | dh-group2 | dh-group5 | dh-group14..26 | dh-group31");
        app->add_option("--lifetime", lifetime, "CHILD SA lifetime in seconds, 30..604800");
        app->add_option("--dpd-delay", dpd_delay, "seconds, 0 = off");
        app->add_option("--dpd-action", dpd_action, "restart | clear | hold");
        app->add_option("--nat-traversal", nat_traversal, "auto | force");
        app->add_option("--replay-window", replay_window, "packets, 0..4096");
    }

    json params(const cli& c) const {
        json p = json::object();
        auto set = [&](const char* k, const auto& v) {
            if (v) p[k] = *v;
        };
        set("name", name);
        set("description", description);
        if (vip) p["vipUuid"] = c.resolve("/v1/vips", "VIP", *vip);
        set("peerAddress", peer_address);
        if (!peer_cidrs.empty()) p["peerCidrs"] = peer_cidrs;
        if (!l3_networks.empty()) {
            json l = json::array();
            for (const auto& n : l3_networks) l.push_back(c.resolve("/v1/networks", "network", n));
            p["l3NetworkUuids"] = l;
        }
        if (auth_key_file) p["authKey"] = cli::read_first_line(*auth_key_file);
        else set("authKey", auth_key);
        set("idType", id_type);
        set("localId", local_id);
        set("remoteId", remote_id);
        set("ikeVersion", ike_version);
        set("ikeAuthAlgorithm", ike_auth);
        set("ikeEncryptionAlgorithm", ike_encryption);
        set("ikeDhGroup", ike_dh_group);
        set("ikeLifeTime", ike_lifetime);
        set("policyAuthAlgorithm", policy_auth);
        set("policyEncryptionAlgorithm", policy_encryption);
        set("pfs", pfs);
        set("lifeTime", lifetime);
        if (dpd_delay || dpd_action) {
            p["dpd"] = json::object();
            if (dpd_delay) p["dpd"]["delay"] = *dpd_delay;
            if (dpd_action) p["dpd"]["action"] = *dpd_action;
        }
        set("natTraversal", nat_traversal);
        set("replayWindow", replay_window);
        return p;
    }
};

void show_tunnel(const json& t) {
    std::vector<std::pair<std::string, std::string>> kv{
        {"uuid", str(t, "uuid")},
        {"name", str(t, "name")},
        {"description", str(t, "description")},
        {"state", str(t, "state")},
        {"status", str(t, "status")},
        {"statusReason", str(t, "statusReason")},
        {"vipUuid", str(t, "vipUuid")},
        {"peerAddress", str(t, "peerAddress")},
        {"l3NetworkUuids", join(t.value("l3NetworkUuids", json::array()))},
        {"peerCidrs", join(t.value("peerCidrs", json::array()))},
        {"authMode", str(t, "authMode")},
        {"authKey", str(t, "authKey")},
        {"idType", str(t, "idType")},
        {"localId", str(t, "localId")},
        {"remoteId", str(t, "remoteId")},
        {"ikeVersion", str(t, "ikeVersion")},
        {"ike", fmt::format("{} {} group {} lifetime {}s", str(t, "ikeEncryptionAlgorithm"), str(t, "ikeAuthAlgorithm"),
                            str(t, "ikeDhGroup"), str(t, "ikeLifeTime"))},
        {"esp", fmt::format("{} {} pfs {} lifetime {}s", str(t, "policyEncryptionAlgorithm"), str(t, "policyAuthAlgorithm"),
                            str(t, "pfs"), str(t, "lifeTime"))},
        {"policyMode", str(t, "policyMode") + "/" + str(t, "transformProtocol")},
        {"dpd", t.contains("dpd") ? fmt::format("delay {}s action {}", str(t["dpd"], "delay"), str(t["dpd"], "action")) : ""},
        {"natTraversal", str(t, "natTraversal")},
        {"replayWindow", str(t, "replayWindow")},
        {"createDate", str(t, "createDate")},
        {"lastOpDate", str(t, "lastOpDate")},
    };
    for (const auto& w : t.value("warnings", json::array())) kv.emplace_back("warning", w.get<std::string>());
    std::cout << ipsecctl::key_values(kv);
}

void show_vip(const json& v) {
    std::cout << ipsecctl::key_values({{"uuid", str(v, "uuid")},
                                       {"name", str(v, "name")},
                                       {"description", str(v, "description")},
                                       {"ip", str(v, "ip")},
                                       {"l3NetworkUuid", str(v, "l3NetworkUuid")},
                                       {"ipRangeUuid", str(v, "ipRangeUuid")},
                                       {"system", str(v, "system")},
                                       {"useFor", join(v.value("useFor", json::array()))},
                                       {"createDate", str(v, "createDate")}});
}

// Like `swanctl --list-sas`: one block per IKE SA with its CHILD SAs.
void show_sas(const json& r) {
    const auto& ikes = r.value("ikeSas", json::array());
    if (ikes.empty()) {
        std::cout << fmt::format("{}: no SAs\n", str(r, "name"));
        return;
    }
    for (const auto& s : ikes) {
        std::cout << fmt::format("{}: IKEv2 {}, {}, SPIs {}_i{} {}_r{}\n", str(r, "name"), str(s, "state"),
                                 s.value("initiator", false) ? "initiator" : "responder", str(s, "spiI"),
                                 s.value("initiator", false) ? "*" : "", str(s, "spiR"), s.value("initiator", false) ? "" : "*");
        std::cout << fmt::format("  local  '{}' @ {}\n", str(s, "localId"), str(s, "local"));
        std::cout << fmt::format("  remote '{}' @ {}{}\n", str(s, "remoteId"), str(s, "remote"),
                                 s.value("natDetected", false) ? " (NAT detected)" : "");
        std::cout << fmt::format("  {}\n", str(s, "algorithms"));
        std::cout << fmt::format("  established {}s ago, rekeying in {}s\n", str(s, "establishedFor"), str(s, "rekeyIn"));
        for (const auto& c : s.value("childSas", json::array())) {
            std::cout << fmt::format("  child: {}, {}{}, SPIs: {}_i {}_o\n", str(c, "state"), str(c, "protocol"),
                                     c.value("udpEncap", false) ? " in UDP" : "", str(c, "spiIn"), str(c, "spiOut"));
            std::cout << fmt::format("    {}\n", str(c, "algorithms"));
            std::cout << fmt::format("    in  {} bytes, {} packets\n", str(c, "bytesIn"), str(c, "packetsIn"));
            std::cout << fmt::format("    out {} bytes, {} packets, rekeying in {}s, expires in {}s\n", str(c, "bytesOut"),
                                     str(c, "packetsOut"), str(c, "rekeyIn"), str(c, "expiresIn"));
            std::cout << fmt::format("    local  {}\n", join(c.value("localTs", json::array()), " "));
            std::cout << fmt::format("    remote {}\n", join(c.value("remoteTs", json::array()), " "));
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"ipsecctl: manage ipsecd's networks, VIPs and IPsec tunnels through its API"};
    app.require_subcommand(1);
    globals g;
    app.add_option("--socket", g.socket, "API unix socket")->capture_default_str();
    app.add_option("--tcp", g.tcp, "API over loopback TCP, HOST:PORT (needs --token-file)");
    app.add_option("--token-file", g.token_file, "file holding the bearer token for --tcp");
    app.add_flag("--json", g.json_out, "print the API's JSON replies");
    cli c(g);
    std::function<void()> run;

    // network
    auto* network = app.add_subcommand("network", "networks from ipsecd's config")->require_subcommand(1);
    network->add_subcommand("list", "list networks")->callback([&] {
        run = [&] {
            auto r = c.call("GET", "/v1/networks");
            print(c, r, [&] {
                ipsecctl::table t({"UUID", "NAME", "CATEGORY", "PORT", "CIDR", "GATEWAY", "PORT IP"});
                for (const auto& n : r["inventories"])
                    t.add({str(n, "uuid"), str(n, "name"), str(n, "category"), str(n, "port"), str(n, "cidr"), str(n, "gateway"),
                           str(n, "portIp")});
                std::cout << t.render();
            });
        };
    });

    // vip
    auto* vipc = app.add_subcommand("vip", "virtual IPs on public networks")->require_subcommand(1);
    std::string vip_ref, vip_net, vip_name, vip_desc, vip_range, vip_ip;
    auto* vip_create = vipc->add_subcommand("create", "create a VIP (auto-assigned unless --required-ip)");
    vip_create->add_option("--name", vip_name, "VIP name")->required();
    vip_create->add_option("--network", vip_net, "public network uuid or name")->required();
    vip_create->add_option("--ip-range", vip_range, "ip range or address pool uuid or name");
    vip_create->add_option("--required-ip", vip_ip, "the address to take");
    vip_create->add_option("--description", vip_desc, "free text");
    vip_create->callback([&] {
        run = [&] {
            json p{{"name", vip_name}};
            p["l3NetworkUuid"] = c.resolve("/v1/networks", "network", vip_net);
            if (!vip_desc.empty()) p["description"] = vip_desc;
            if (!vip_range.empty()) {
                // ranges and pools are named inside the network object
                auto nets = c.call("GET", "/v1/networks")["inventories"];
                std::string found;
                for (const auto& n : nets)
                    if (n["uuid"] == p["l3NetworkUuid"])
                        for (const char* key : {"ipRanges", "addressPools"})
                            for (const auto& r : n.value(key, json::array()))
                                if (r["uuid"] == vip_range || r["name"] == vip_range) found = r["uuid"];
                p["ipRangeUuid"] = found.empty() ? vip_range : found;
            }
            if (!vip_ip.empty()) p["requiredIp"] = vip_ip;
            auto r = c.call("POST", "/v1/vips", json{{"params", p}});
            print(c, r, [&] { show_vip(r["inventory"]); });
        };
    });
    vipc->add_subcommand("list", "list VIPs")->callback([&] {
        run = [&] {
            auto r = c.call("GET", "/v1/vips");
            print(c, r, [&] {
                ipsecctl::table t({"UUID", "NAME", "IP", "NETWORK", "SYSTEM", "USE FOR"});
                for (const auto& v : r["inventories"])
                    t.add({str(v, "uuid"), str(v, "name"), str(v, "ip"), str(v, "l3NetworkUuid"),
                           v.value("system", false) ? "yes" : "no", join(v.value("useFor", json::array()))});
                std::cout << t.render();
            });
        };
    });
    auto* vip_show = vipc->add_subcommand("show", "show a VIP");
    vip_show->add_option("vip", vip_ref, "uuid or name")->required();
    vip_show->callback([&] {
        run = [&] {
            auto r = c.call("GET", "/v1/vips/" + c.resolve("/v1/vips", "VIP", vip_ref));
            print(c, r, [&] { show_vip(r["inventory"]); });
        };
    });
    auto* vip_delete = vipc->add_subcommand("delete", "delete a VIP (not while a tunnel uses it)");
    vip_delete->add_option("vip", vip_ref, "uuid or name")->required();
    vip_delete->callback([&] {
        run = [&] {
            auto uuid = c.resolve("/v1/vips", "VIP", vip_ref);
            auto r = c.call("DELETE", "/v1/vips/" + uuid);
            print(c, r, [&] { std::cout << "deleted VIP " << uuid << '\n'; });
        };
    });

    // tunnel
    auto* tun = app.add_subcommand("tunnel", "IPsec tunnels (connections)")->require_subcommand(1);
    std::string tref;
    auto tunnel_uuid = [&] { return c.resolve("/v1/ipsec", "tunnel", tref); };
    auto show_reply = [&](const json& r) { print(c, r, [&] { show_tunnel(r["inventory"]); }); };

    tunnel_options create_opts;
    auto* t_create = tun->add_subcommand("create", "create a tunnel (product defaults for every algorithm)");
    create_opts.add_to(t_create, true);
    t_create->callback([&] {
        run = [&] { show_reply(c.call("POST", "/v1/ipsec", json{{"params", create_opts.params(c)}})); };
    });
    tun->add_subcommand("list", "list tunnels")->callback([&] {
        run = [&] {
            auto r = c.call("GET", "/v1/ipsec");
            print(c, r, [&] {
                ipsecctl::table t({"UUID", "NAME", "STATE", "STATUS", "PEER", "PEER CIDRS", "WEAK"});
                for (const auto& x : r["inventories"])
                    t.add({str(x, "uuid"), str(x, "name"), str(x, "state"), str(x, "status"), str(x, "peerAddress"),
                           join(x.value("peerCidrs", json::array())), x.value("weak", false) ? "weak" : ""});
                std::cout << t.render();
            });
        };
    });
    auto* t_show = tun->add_subcommand("show", "show a tunnel");
    t_show->add_option("tunnel", tref, "uuid or name")->required();
    t_show->callback([&] { run = [&] { show_reply(c.call("GET", "/v1/ipsec/" + tunnel_uuid())); }; });

    std::optional<std::string> upd_name, upd_desc;
    auto* t_update = tun->add_subcommand("update", "change name and/or description (no renegotiation)");
    t_update->add_option("tunnel", tref, "uuid or name")->required();
    t_update->add_option("--name", upd_name, "new name");
    t_update->add_option("--description", upd_desc, "new description");
    t_update->callback([&] {
        run = [&] {
            json b = json::object();
            if (upd_name) b["name"] = *upd_name;
            if (upd_desc) b["description"] = *upd_desc;
            show_reply(c.call("PUT", "/v1/ipsec/" + tunnel_uuid(), json{{"updateIPsecConnection", b}}));
        };
    });

    tunnel_options mod_opts;
    std::vector<std::string> add_cidrs, del_cidrs, add_nets, del_nets;
    auto* t_modify = tun->add_subcommand("modify", "change the tunnel's configuration (brief interruption allowed)");
    t_modify->add_option("tunnel", tref, "uuid or name")->required();
    mod_opts.add_to(t_modify, false);
    t_modify->add_option("--add-peer-cidr", add_cidrs, "add peer CIDRs without touching existing pairs");
    t_modify->add_option("--remove-peer-cidr", del_cidrs, "remove peer CIDRs");
    t_modify->add_option("--add-l3-network", add_nets, "add local networks (uuid or name)");
    t_modify->add_option("--remove-l3-network", del_nets, "remove local networks (uuid or name)");
    t_modify->callback([&] {
        run = [&] {
            auto uuid = tunnel_uuid();
            auto p = mod_opts.params(c);
            json last;
            bool any = false;
            if (!p.empty()) {
                last = c.call("PUT", "/v1/ipsec/config/" + uuid, json{{"changeIPsecConnection", p}});
                any = true;
            }
            auto nets = [&](const std::vector<std::string>& refs) {
                json l = json::array();
                for (const auto& n : refs) l.push_back(c.resolve("/v1/networks", "network", n));
                return l;
            };
            if (!add_cidrs.empty()) last = c.call("POST", "/v1/ipsec/" + uuid + "/peer-cidrs", json{{"peerCidrs", add_cidrs}}), any = true;
            if (!del_cidrs.empty()) last = c.call("DELETE", "/v1/ipsec/" + uuid + "/peer-cidrs", json{{"peerCidrs", del_cidrs}}), any = true;
            if (!add_nets.empty()) last = c.call("POST", "/v1/ipsec/" + uuid + "/l3networks", json{{"l3NetworkUuids", nets(add_nets)}}), any = true;
            if (!del_nets.empty()) last = c.call("DELETE", "/v1/ipsec/" + uuid + "/l3networks", json{{"l3NetworkUuids", nets(del_nets)}}), any = true;
            if (!any) throw api_failure("nothing to modify: give at least one option", 2);
            show_reply(last);
        };
    });

    auto action = [&](const char* name, const char* help, json body) {
        auto* sc = tun->add_subcommand(name, help);
        sc->add_option("tunnel", tref, "uuid or name")->required();
        sc->callback([&, body] { run = [&, body] { show_reply(c.call("PUT", "/v1/ipsec/" + tunnel_uuid() + "/actions", body)); }; });
    };
    action("reconnect", "tear down and re-initiate", json{{"reconnectIPsecConnection", json::object()}});
    action("enable", "enable (negotiate again)", json{{"changeIPsecConnectionState", {{"stateEvent", "enable"}}}});
    action("disable", "disable (keep the config, negotiate nothing)", json{{"changeIPsecConnectionState", {{"stateEvent", "disable"}}}});

    auto* t_delete = tun->add_subcommand("delete", "delete a tunnel (SAs deleted, VIP kept)");
    t_delete->add_option("tunnel", tref, "uuid or name")->required();
    t_delete->callback([&] {
        run = [&] {
            auto uuid = tunnel_uuid();
            auto r = c.call("DELETE", "/v1/ipsec/" + uuid);
            print(c, r, [&] { std::cout << "deleted tunnel " << uuid << '\n'; });
        };
    });
    auto* t_sas = tun->add_subcommand("sas", "IKE and CHILD SAs (like swanctl --list-sas)");
    t_sas->add_option("tunnel", tref, "uuid or name")->required();
    t_sas->callback([&] {
        run = [&] {
            auto r = c.call("GET", "/v1/ipsec/" + tunnel_uuid() + "/sas");
            print(c, r, [&] { show_sas(r); });
        };
    });
    int log_lines = 30;
    auto* t_log = tun->add_subcommand("log", "the tunnel's recent log lines");
    t_log->add_option("tunnel", tref, "uuid or name")->required();
    t_log->add_option("--lines,-n", log_lines, "how many lines")->capture_default_str();
    t_log->callback([&] {
        run = [&] {
            auto r = c.call("GET", fmt::format("/v1/ipsec/{}/log?lines={}", tunnel_uuid(), log_lines));
            print(c, r, [&] {
                for (const auto& l : r["lines"]) std::cout << l.get<std::string>() << '\n';
            });
        };
    });
    app.add_subcommand("metrics", "Prometheus metrics as served on GET /metrics")->callback([&] {
        run = [&] { std::cout << c.text("/metrics"); };
    });

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }
    try {
        if (run) run();
    } catch (const api_failure& e) {
        std::fprintf(stderr, "ipsecctl: %s\n", e.what());
        return e.exit_code;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ipsecctl: %s\n", e.what());
        return 1;
    }
    return 0;
}
