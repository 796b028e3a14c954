// Every REST endpoint of issue 7 through the router: replies, error codes, and what the engine
// was asked to do (the fake engine records plans, reconnects and removals).
#include "fixture.hpp"

#include <catch2/catch.hpp>

using namespace control_test;

TEST_CASE("GET /v1/networks lists the config networks; POST adds one at runtime") {
    fixture f;
    auto r = f.call("GET", "/v1/networks");
    REQUIRE(r.status == 200);
    REQUIRE(r.body["inventories"].size() == 3);
    auto pub = r.body["inventories"][0];
    CHECK(pub["name"] == "public");
    CHECK(pub["category"] == "public");
    CHECK(pub["cidr"] == "203.0.113.0/24");
    CHECK(pub["ipRanges"][0]["start"] == "203.0.113.10");
    CHECK(pub["addressPools"][0]["cidr"] == "203.0.113.64/29");
    CHECK(pub["source"] == "config");

    auto add = f.call("POST", "/v1/networks",
                      {{"params", {{"name", "vpc3"}, {"category", "private"}, {"port", "port3"}, {"cidr", "10.7.0.0/16"}}}});
    REQUIRE(add.status == 201);
    CHECK(add.body["inventory"]["source"] == "api");
    CHECK(f.call("GET", "/v1/networks").body["inventories"].size() == 4);
    // Overlapping, duplicate and malformed networks are refused.
    REQUIRE_FIELD_ERROR(f.call("POST", "/v1/networks", {{"params", {{"name", "x"}, {"category", "private"}, {"cidr", "10.1.128.0/17"}}}}), "cidr");
    CHECK(f.call("POST", "/v1/networks", {{"params", {{"name", "vpc3"}, {"category", "private"}, {"cidr", "10.8.0.0/16"}}}}).status == 409);
    REQUIRE_FIELD_ERROR(f.call("POST", "/v1/networks", {{"params", {{"name", "y"}, {"category", "dmz"}, {"cidr", "10.9.0.0/16"}}}}), "category");
    REQUIRE_FIELD_ERROR(f.call("POST", "/v1/networks", {{"params", {{"name", "y"}, {"category", "private"}, {"cidr", "10.9.0.1/16"}}}}), "cidr");
    REQUIRE_FIELD_ERROR(f.call("POST", "/v1/networks",
                               {{"params", {{"name", "y"}, {"category", "public"}, {"cidr", "198.18.0.0/24"},
                                            {"ipRanges", {{{"start", "198.18.1.1"}, {"end", "198.18.1.5"}}}}}}}),
                        "ipRanges");
    CHECK(f.call("GET", "/v1/networks").body["inventories"].size() == 4);
}

TEST_CASE("VIPs: auto-assigned from the normal ranges, requiredIp, ranges and pools") {
    fixture f;
    auto pub = f.network_uuid("public");
    auto nets = f.call("GET", "/v1/networks").body["inventories"];
    std::string range = nets[0]["ipRanges"][0]["uuid"], pool = nets[0]["addressPools"][0]["uuid"];
    auto create = [&](json params) { return f.call("POST", "/v1/vips", {{"params", params}}); };

    auto a = create({{"name", "a"}, {"l3NetworkUuid", pub}});
    REQUIRE(a.status == 201);
    CHECK(a.body["inventory"]["ip"] == "203.0.113.10");
    CHECK(a.body["inventory"]["system"] == false);
    auto b = create({{"name", "b"}, {"l3NetworkUuid", pub}, {"requiredIp", "203.0.113.15"}});
    REQUIRE(b.status == 201);
    CHECK(b.body["inventory"]["ip"] == "203.0.113.15");
    CHECK(create({{"name", "b2"}, {"l3NetworkUuid", pub}, {"requiredIp", "203.0.113.15"}}).status == 409);
    // Without a range, only from a normal range: a pool address or an address outside is refused.
    REQUIRE_FIELD_ERROR(create({{"name", "c"}, {"l3NetworkUuid", pub}, {"requiredIp", "203.0.113.66"}}), "requiredIp");
    REQUIRE_FIELD_ERROR(create({{"name", "c"}, {"l3NetworkUuid", pub}, {"requiredIp", "203.0.113.30"}}), "requiredIp");
    // From the pool: never its first (.64) or last (.71) address.
    REQUIRE_FIELD_ERROR(create({{"name", "c"}, {"l3NetworkUuid", pub}, {"ipRangeUuid", pool}, {"requiredIp", "203.0.113.64"}}), "requiredIp");
    REQUIRE_FIELD_ERROR(create({{"name", "c"}, {"l3NetworkUuid", pub}, {"ipRangeUuid", pool}, {"requiredIp", "203.0.113.71"}}), "requiredIp");
    std::vector<std::string> pool_ips;
    for (int i = 0; i < 6; ++i) {
        auto r = create({{"name", "p" + std::to_string(i)}, {"l3NetworkUuid", pub}, {"ipRangeUuid", pool}});
        REQUIRE(r.status == 201);
        pool_ips.push_back(r.body["inventory"]["ip"]);
    }
    CHECK(pool_ips == std::vector<std::string>{"203.0.113.65", "203.0.113.66", "203.0.113.67", "203.0.113.68", "203.0.113.69",
                                               "203.0.113.70"});
    auto full = create({{"name", "p6"}, {"l3NetworkUuid", pub}, {"ipRangeUuid", pool}});
    CHECK(full.status == 409); // .64 and .71 are never handed out
    // From the chosen range.
    auto r = create({{"name", "r"}, {"l3NetworkUuid", pub}, {"ipRangeUuid", range}});
    REQUIRE(r.status == 201);
    CHECK(r.body["inventory"]["ip"] == "203.0.113.11");
    REQUIRE_FIELD_ERROR(create({{"name", "r"}, {"l3NetworkUuid", pub}, {"ipRangeUuid", "nope"}}), "ipRangeUuid");
    // Only on public networks; the network must exist; name required.
    REQUIRE_FIELD_ERROR(create({{"name", "x"}, {"l3NetworkUuid", f.network_uuid("vpc")}}), "l3NetworkUuid");
    REQUIRE_FIELD_ERROR(create({{"name", "x"}, {"l3NetworkUuid", "0123456789abcdef0123456789abcdef"}}), "l3NetworkUuid");
    REQUIRE_FIELD_ERROR(create({{"l3NetworkUuid", pub}}), "name");
    REQUIRE_FIELD_ERROR(create({{"name", "x"}, {"l3NetworkUuid", pub}, {"bogus", 1}}), "bogus");
    // The gateway and the port's own address are never handed out.
    CHECK(create({{"name", "g"}, {"l3NetworkUuid", pub}, {"requiredIp", "203.0.113.1"}}).status == 400);
}

TEST_CASE("VIPs: the system VIP is listed and cannot be deleted; a VIP in use cannot be deleted") {
    fixture f;
    auto list = f.call("GET", "/v1/vips").body["inventories"];
    REQUIRE(list.size() == 1);
    CHECK(list[0]["system"] == true);
    CHECK(list[0]["ip"] == "203.0.113.2");
    std::string sys = list[0]["uuid"];
    CHECK(f.call("DELETE", "/v1/vips/" + sys).status == 409);

    auto vip = f.make_vip();
    REQUIRE(f.create_tunnel(f.tunnel_params(vip)).status == 201);
    auto shown = f.call("GET", "/v1/vips/" + vip);
    REQUIRE(shown.status == 200);
    CHECK(shown.body["inventory"]["useFor"] == json::array({"IPsec"}));
    auto busy = f.call("DELETE", "/v1/vips/" + vip);
    CHECK(busy.status == 409);
    CHECK(busy.body["error"]["code"] == "Conflict");
    CHECK(f.call("GET", "/v1/vips/0123456789abcdef0123456789abcdef").status == 404);
    CHECK(f.call("DELETE", "/v1/vips/0123456789abcdef0123456789abcdef").status == 404);
}

TEST_CASE("tunnel lifecycle: get, list, update, modify, actions, delete (VIP kept)") {
    fixture f;
    auto vip = f.make_vip();
    auto created = f.create_tunnel(f.tunnel_params(vip));
    REQUIRE(created.status == 201);
    std::string uuid = created.body["inventory"]["uuid"];
    REQUIRE(f.engine.apply_count() == 1);

    SECTION("GET one and the list") {
        auto g = f.call("GET", "/v1/ipsec/" + uuid);
        REQUIRE(g.status == 200);
        CHECK(g.body["inventory"]["uuid"] == uuid);
        auto l = f.call("GET", "/v1/ipsec");
        REQUIRE(l.body["inventories"].size() == 1);
        CHECK(f.call("GET", "/v1/ipsec/0123456789abcdef0123456789abcdef").status == 404);
    }
    SECTION("status follows the engine") {
        f.engine.set_status(uuid, {"Disconnected", "NO_PROPOSAL_CHOSEN: peer offered aes128-sha1-modp1024"});
        auto g = f.call("GET", "/v1/ipsec/" + uuid).body["inventory"];
        CHECK(g["status"] == "Disconnected");
        CHECK(g["statusReason"] == "NO_PROPOSAL_CHOSEN: peer offered aes128-sha1-modp1024");
        f.engine.set_status(uuid, {"Ready", ""});
        CHECK(f.call("GET", "/v1/ipsec/" + uuid).body["inventory"]["status"] == "Ready");
    }
    SECTION("update changes only name and description, without renegotiation") {
        auto u = f.call("PUT", "/v1/ipsec/" + uuid, {{"updateIPsecConnection", {{"name", "renamed"}, {"description", "d"}}}});
        REQUIRE(u.status == 200);
        CHECK(u.body["inventory"]["name"] == "renamed");
        CHECK(u.body["inventory"]["description"] == "d");
        CHECK(f.engine.apply_count() == 1);
        REQUIRE_FIELD_ERROR(f.call("PUT", "/v1/ipsec/" + uuid, {{"updateIPsecConnection", {{"peerAddress", "198.51.100.9"}}}}),
                            "peerAddress");
        REQUIRE_FIELD_ERROR(f.call("PUT", "/v1/ipsec/" + uuid, {{"updateIPsecConnection", {{"name", ""}}}}), "name");
        CHECK(f.call("PUT", "/v1/ipsec/" + uuid, {{"changeIPsecConnection", {{"name", "x"}}}}).status == 400);
    }
    SECTION("modify re-validates the whole tunnel and re-applies it") {
        auto m = f.call("PUT", "/v1/ipsec/config/" + uuid,
                        {{"changeIPsecConnection", {{"authKey", "N3w-K3y_2bothSides!"}, {"ikeDhGroup", 14}, {"peerCidrs", {"10.2.0.0/16", "10.3.0.0/16"}}}}});
        INFO(m.text);
        REQUIRE(m.status == 200);
        CHECK(m.body["inventory"]["ikeDhGroup"] == 14);
        CHECK(m.body["inventory"]["weak"] == false);
        CHECK(f.engine.apply_count() == 2);
        auto plan = f.engine.plan_of(uuid);
        REQUIRE(plan);
        CHECK(plan->peer.psk == base::secret_bytes(std::string_view("N3w-K3y_2bothSides!")));
        CHECK(plan->peer.ike.text == "aes256-sha256-modp2048");
        CHECK(plan->policies.size() == 4);
        // A refused modify leaves the tunnel and the engine as they were.
        REQUIRE_FIELD_ERROR(f.call("PUT", "/v1/ipsec/config/" + uuid, {{"changeIPsecConnection", {{"peerCidrs", {"10.1.0.0/24"}}}}}),
                            "peerCidrs");
        CHECK(f.engine.apply_count() == 2);
        CHECK(f.call("GET", "/v1/ipsec/" + uuid).body["inventory"]["peerCidrs"].size() == 2);
        CHECK(f.call("PUT", "/v1/ipsec/config/0123456789abcdef0123456789abcdef", {{"changeIPsecConnection", {{"lifeTime", 100}}}}).status == 404);
        REQUIRE_FIELD_ERROR(f.call("PUT", "/v1/ipsec/config/" + uuid, {{"changeIPsecConnection", {{"uuid", "x"}}}}), "uuid");
    }
    SECTION("reconnect asks the engine to re-initiate") {
        auto r = f.call("PUT", "/v1/ipsec/" + uuid + "/actions", {{"reconnectIPsecConnection", json::object()}});
        REQUIRE(r.status == 200);
        CHECK(f.engine.reconnect_count(uuid) == 1);
    }
    SECTION("disable keeps the config and negotiates nothing; enable brings it back") {
        auto d = f.call("PUT", "/v1/ipsec/" + uuid + "/actions", {{"changeIPsecConnectionState", {{"stateEvent", "disable"}}}});
        REQUIRE(d.status == 200);
        CHECK(d.body["inventory"]["state"] == "Disabled");
        CHECK(d.body["inventory"]["status"] == "Disconnected");
        REQUIRE(f.engine.plan_of(uuid));
        CHECK(f.engine.plan_of(uuid)->peer.enabled == false);
        CHECK(f.call("PUT", "/v1/ipsec/" + uuid + "/actions", {{"reconnectIPsecConnection", json::object()}}).status == 409);
        auto e = f.call("PUT", "/v1/ipsec/" + uuid + "/actions", {{"changeIPsecConnectionState", {{"stateEvent", "enable"}}}});
        REQUIRE(e.status == 200);
        CHECK(e.body["inventory"]["state"] == "Enabled");
        CHECK(f.engine.plan_of(uuid)->peer.enabled == true);
        REQUIRE_FIELD_ERROR(f.call("PUT", "/v1/ipsec/" + uuid + "/actions", {{"changeIPsecConnectionState", {{"stateEvent", "pause"}}}}),
                            "stateEvent");
        CHECK(f.call("PUT", "/v1/ipsec/" + uuid + "/actions", {{"explode", json::object()}}).status == 400);
    }
    SECTION("l3networks and peer-cidrs are added and removed") {
        auto add = f.call("POST", "/v1/ipsec/" + uuid + "/peer-cidrs", {{"peerCidrs", {"10.3.0.0/16"}}});
        REQUIRE(add.status == 200);
        CHECK(add.body["inventory"]["peerCidrs"] == json::array({"10.2.0.0/16", "10.3.0.0/16"}));
        CHECK(f.engine.plan_of(uuid)->peer.peer_cidrs.size() == 2);
        REQUIRE_FIELD_ERROR(f.call("POST", "/v1/ipsec/" + uuid + "/peer-cidrs", {{"peerCidrs", {"10.3.0.0/16"}}}), "peerCidrs");
        REQUIRE_FIELD_ERROR(f.call("POST", "/v1/ipsec/" + uuid + "/peer-cidrs", {{"peerCidrs", {"10.3.1.0/24"}}}), "peerCidrs");
        auto del = f.call("DELETE", "/v1/ipsec/" + uuid + "/peer-cidrs", {{"peerCidrs", {"10.2.0.0/16"}}});
        REQUIRE(del.status == 200);
        CHECK(del.body["inventory"]["peerCidrs"] == json::array({"10.3.0.0/16"}));
        REQUIRE_FIELD_ERROR(f.call("DELETE", "/v1/ipsec/" + uuid + "/peer-cidrs", {{"peerCidrs", {"10.3.0.0/16"}}}), "peerCidrs");

        auto net = f.call("POST", "/v1/networks", {{"params", {{"name", "vpc3"}, {"category", "private"}, {"cidr", "10.7.0.0/16"}}}});
        std::string n3 = net.body["inventory"]["uuid"];
        auto l3 = f.call("POST", "/v1/ipsec/" + uuid + "/l3networks", {{"l3NetworkUuids", {n3}}});
        REQUIRE(l3.status == 200);
        CHECK(l3.body["inventory"]["l3NetworkUuids"].size() == 2);
        CHECK(f.engine.plan_of(uuid)->policies.size() == 4); // 2 local x 1 peer, out + in
        REQUIRE_FIELD_ERROR(f.call("POST", "/v1/ipsec/" + uuid + "/l3networks", {{"l3NetworkUuids", {f.network_uuid("public")}}}),
                            "l3NetworkUuids");
        REQUIRE(f.call("DELETE", "/v1/ipsec/" + uuid + "/l3networks", {{"l3NetworkUuids", {n3}}}).status == 200);
        REQUIRE_FIELD_ERROR(f.call("DELETE", "/v1/ipsec/" + uuid + "/l3networks", {{"l3NetworkUuids", {f.network_uuid("vpc")}}}),
                            "l3NetworkUuids"); // would leave none
        REQUIRE_FIELD_ERROR(f.call("POST", "/v1/ipsec/" + uuid + "/l3networks", {{"wrong", {n3}}}), "l3NetworkUuids");
    }
    SECTION("sas and log come from the engine") {
        auto none = f.call("GET", "/v1/ipsec/" + uuid + "/sas");
        REQUIRE(none.status == 200);
        CHECK(none.body["ikeSas"].empty());
        CHECK(none.body["engine"] == "fake");
        f.engine.set_status(uuid, {"Ready", ""});
        auto sas = f.call("GET", "/v1/ipsec/" + uuid + "/sas");
        REQUIRE(sas.body["ikeSas"].size() == 1);
        CHECK(sas.body["ikeSas"][0]["algorithms"] == "aes256-sha256-modp1024");
        CHECK(sas.body["ikeSas"][0]["childSas"][0]["algorithms"] == "aes256-sha256-modp2048");
        CHECK(sas.body["ikeSas"][0]["childSas"][0]["remoteTs"] == json::array({"10.2.0.0/16"}));
        auto log = f.call("GET", "/v1/ipsec/" + uuid + "/log?lines=1");
        REQUIRE(log.status == 200);
        REQUIRE(log.body["lines"].size() == 1);
        CHECK(log.body["lines"][0].get<std::string>().find("apply tunnel") != std::string::npos);
        CHECK(f.call("GET", "/v1/ipsec/" + uuid + "/log").status == 200);
        for (const char* bad : {"0", "-1", "abc", "10001", "5x"})
            REQUIRE_FIELD_ERROR(f.call("GET", "/v1/ipsec/" + uuid + "/log?lines=" + bad), "lines");
        CHECK(f.call("GET", "/v1/ipsec/0123456789abcdef0123456789abcdef/sas").status == 404);
        CHECK(f.call("GET", "/v1/ipsec/0123456789abcdef0123456789abcdef/log").status == 404);
    }
    SECTION("delete removes the tunnel from the engine and keeps the VIP") {
        auto d = f.call("DELETE", "/v1/ipsec/" + uuid);
        REQUIRE(d.status == 200);
        CHECK(f.engine.removed() == std::vector<std::string>{uuid});
        CHECK(f.call("GET", "/v1/ipsec/" + uuid).status == 404);
        auto v = f.call("GET", "/v1/vips/" + vip);
        REQUIRE(v.status == 200);
        CHECK(v.body["inventory"]["useFor"].empty());
        CHECK(f.call("DELETE", "/v1/ipsec/" + uuid).status == 404);
        CHECK(f.call("DELETE", "/v1/vips/" + vip).status == 200);
    }
}

TEST_CASE("an engine that refuses a plan turns into an error and nothing is stored") {
    fixture f;
    auto vip = f.make_vip();
    f.engine.fail_next_apply({409, "Conflict", "engine: UDP 500 busy"});
    auto r = f.create_tunnel(f.tunnel_params(vip));
    CHECK(r.status == 409);
    CHECK(f.call("GET", "/v1/ipsec").body["inventories"].empty());
}

TEST_CASE("the authKey appears in no reply and no log line") {
    fixture f(false, /*auto_ready=*/true);
    const std::string key = "Zq8-uniqueKeyMaterial_77";
    auto vip = f.make_vip();
    auto p = f.tunnel_params(vip);
    p["authKey"] = key;
    auto c = f.create_tunnel(p);
    REQUIRE(c.status == 201);
    std::string uuid = c.body["inventory"]["uuid"];
    std::string all = c.text;
    all += f.call("GET", "/v1/ipsec").text + f.call("GET", "/v1/ipsec/" + uuid).text;
    all += f.call("PUT", "/v1/ipsec/config/" + uuid, {{"changeIPsecConnection", {{"lifeTime", 1800}}}}).text;
    all += f.call("GET", "/v1/ipsec/" + uuid + "/sas").text + f.call("GET", "/v1/ipsec/" + uuid + "/log?lines=100").text;
    all += f.call("GET", "/metrics").text;
    for (const auto& l : f.log_lines) all += l + "\n";
    CHECK(all.find(key) == std::string::npos);
    CHECK(all.find("<redacted>") != std::string::npos);
    REQUIRE(!f.log_lines.empty());
    // ... but the engine got the key.
    CHECK(f.engine.plan_of(uuid)->peer.psk == base::secret_bytes(std::string_view(key)));
}

TEST_CASE("malformed requests are 400/404/405 with the error shape") {
    fixture f;
    auto check_error = [](const reply& r, int status) {
        INFO(r.text);
        REQUIRE(r.status == status);
        REQUIRE(r.body.is_object());
        REQUIRE(r.body["error"]["code"].is_string());
        REQUIRE(r.body["error"]["description"].is_string());
    };
    for (std::string_view body : {"", "{", "not json", "[]", "42", "\"params\"", "{\"params\": 5}", "{\"params\": []}",
                                  "{\"param\": {}}", "{\"params\": {}, \"extra\": 1}", "{\"params\": {\"name\": \"\\ud800\"}}",
                                  "\xff\xfe{}", "{\"params\": {\"name\": 1e999}}"}) {
        check_error(f.raw("POST", "/v1/ipsec", body), 400);
        check_error(f.raw("POST", "/v1/vips", body), 400);
    }
    check_error(f.raw("PUT", "/v1/ipsec/abc/actions", "{}"), 400);
    check_error(f.raw("PUT", "/v1/ipsec/abc/actions", "{\"a\":1,\"b\":2}"), 400);
    check_error(f.raw("PUT", "/v1/ipsec/abc", "{\"changeIPsecConnection\": {}}"), 400);
    check_error(f.raw("GET", "/v2/ipsec", ""), 404);
    check_error(f.raw("GET", "/", ""), 404);
    check_error(f.raw("GET", "/v1/ipsec/a/b/c", ""), 404);
    check_error(f.raw("GET", "/v1/ipsec/a/unknown", ""), 404);
    check_error(f.raw("PATCH", "/v1/ipsec", ""), 405);
    check_error(f.raw("POST", "/metrics", ""), 405);
    check_error(f.raw("DELETE", "/v1/networks", ""), 405);
    check_error(f.raw("GET", "/v1/ipsec/config/x", ""), 405);
    // Deep nesting is rejected, not a stack overflow.
    std::string deep(100000, '[');
    check_error(f.raw("POST", "/v1/ipsec", deep), 400);
}

TEST_CASE("GET /metrics: Prometheus text with per-tunnel counters, drops by reason and status") {
    fixture f;
    auto vip = f.make_vip();
    auto c = f.create_tunnel(f.tunnel_params(vip));
    std::string uuid = c.body["inventory"]["uuid"];
    f.call("PUT", "/v1/ipsec/" + uuid, {{"updateIPsecConnection", {{"name", "quote\"back\\slash"}}}});
    control::tunnel_counters cnt;
    cnt.bytes_in = 1234;
    cnt.bytes_out = 5678;
    cnt.packets_in = 11;
    cnt.packets_out = 13;
    cnt.ike_sas = 1;
    cnt.child_sas = 2;
    cnt.rekeys = 3;
    cnt.drops = {{"replay", 7}, {"icv", 9}};
    f.engine.set_counters(uuid, cnt);
    f.engine.set_status(uuid, {"Ready", ""});
    f.engine.set_global_drops({{"no_policy", 4}});
    auto r = f.router->handle("GET", "/metrics", "");
    REQUIRE(r.status == 200);
    CHECK(r.content_type.rfind("text/plain; version=0.0.4", 0) == 0);
    std::string labels = "tunnel=\"" + uuid + "\",name=\"quote\\\"back\\\\slash\"";
    auto has = [&](const std::string& line) {
        INFO(line);
        CHECK(r.body.find(line + "\n") != std::string::npos);
    };
    has("ipsec_tunnel_bytes_total{" + labels + ",direction=\"in\"} 1234");
    has("ipsec_tunnel_bytes_total{" + labels + ",direction=\"out\"} 5678");
    has("ipsec_tunnel_packets_total{" + labels + ",direction=\"in\"} 11");
    has("ipsec_tunnel_packets_total{" + labels + ",direction=\"out\"} 13");
    has("ipsec_tunnel_drops_total{" + labels + ",reason=\"replay\"} 7");
    has("ipsec_tunnel_drops_total{" + labels + ",reason=\"icv\"} 9");
    has("ipsec_tunnel_ike_sas{" + labels + "} 1");
    has("ipsec_tunnel_child_sas{" + labels + "} 2");
    has("ipsec_tunnel_rekeys_total{" + labels + "} 3");
    has("ipsec_tunnel_status{" + labels + ",status=\"Ready\"} 1");
    has("ipsec_tunnel_status{" + labels + ",status=\"Connecting\"} 0");
    has("ipsec_drops_total{reason=\"no_policy\"} 4");
    has("# TYPE ipsec_tunnel_bytes_total counter");
    has("ipsec_engine_info{kind=\"fake\"} 1");
    // Every sample line is "name{labels} value" or "name value".
    std::size_t pos = 0, samples = 0;
    while (pos < r.body.size()) {
        auto nl = r.body.find('\n', pos);
        REQUIRE(nl != std::string::npos);
        auto line = r.body.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.rfind("# ", 0) == 0) continue;
        ++samples;
        auto sp = line.rfind(' ');
        REQUIRE(sp != std::string::npos);
        auto value = line.substr(sp + 1);
        CHECK(value.find_first_not_of("0123456789") == std::string::npos);
    }
    CHECK(samples == 15); // 2 info + 12 for the tunnel + 1 global drop
}

TEST_CASE("reconcile re-initiates enabled tunnels the engine reports Disconnected, and only those") {
    fixture f;
    auto vip = f.make_vip();
    std::string a = f.create_tunnel(f.tunnel_params(vip, "198.51.100.7", "10.2.0.0/16")).body["inventory"]["uuid"];
    std::string b = f.create_tunnel(f.tunnel_params(vip, "198.51.100.8", "10.3.0.0/16")).body["inventory"]["uuid"];
    std::string c = f.create_tunnel(f.tunnel_params(vip, "198.51.100.9", "10.4.0.0/16")).body["inventory"]["uuid"];
    REQUIRE(f.call("PUT", "/v1/ipsec/" + c + "/actions", {{"changeIPsecConnectionState", {{"stateEvent", "disable"}}}}).status == 200);
    f.engine.set_status(a, {"Disconnected", "no answer from 198.51.100.7"});
    f.engine.set_status(b, {"Ready", ""});
    CHECK(f.svc->reconcile() == 1);
    CHECK(f.engine.reconnect_count(a) == 1);
    CHECK(f.engine.reconnect_count(b) == 0);
    CHECK(f.engine.reconnect_count(c) == 0); // disabled: negotiates nothing
    CHECK(f.svc->reconcile() == 0);          // now Connecting

    // dpd action hold: on demand (the engine initiates on traffic), never by the reconcile.
    auto held = f.tunnel_params(vip, "198.51.100.10", "10.5.0.0/16");
    held["dpd"] = {{"delay", 10}, {"action", "hold"}};
    std::string d = f.create_tunnel(held).body["inventory"]["uuid"];
    f.engine.set_status(d, {"Disconnected", "peer dead"});
    CHECK(f.svc->reconcile() == 0);
    CHECK(f.engine.reconnect_count(d) == 0);
}
