// Every tunnel validation rule of issue 7, through the REST router: each failure is a 400 whose
// description starts with the field's name and says what is allowed; nothing is stored.
#include "fixture.hpp"

#include <catch2/catch.hpp>

using namespace control_test;

namespace {
// Creates with one field changed and returns the reply.
reply create_with(fixture& f, const std::string& field, const json& value) {
    std::string vip;
    auto vips = f.call("GET", "/v1/vips").body["inventories"];
    for (const auto& v : vips)
        if (v["name"] == "shared") vip = v["uuid"];
    if (vip.empty()) vip = f.make_vip("shared");
    auto p = f.tunnel_params(vip);
    p[field] = value;
    return f.create_tunnel(p);
}
std::size_t tunnel_count(fixture& f) { return f.call("GET", "/v1/ipsec").body["inventories"].size(); }
} // namespace

TEST_CASE("tunnel create with only the required fields gets the product defaults") {
    fixture f;
    auto r = f.create_tunnel(f.tunnel_params(f.make_vip()));
    INFO(r.text);
    REQUIRE(r.status == 201);
    auto t = r.body["inventory"];
    CHECK(t["ikeVersion"] == "ikev2");
    CHECK(t["ikeAuthAlgorithm"] == "sha256");
    CHECK(t["ikeEncryptionAlgorithm"] == "aes-256");
    CHECK(t["ikeDhGroup"] == 2);
    CHECK(t["ikeLifeTime"] == 86400);
    CHECK(t["policyAuthAlgorithm"] == "sha256");
    CHECK(t["policyEncryptionAlgorithm"] == "aes-256");
    CHECK(t["pfs"] == "dh-group14");
    CHECK(t["policyMode"] == "tunnel");
    CHECK(t["transformProtocol"] == "esp");
    CHECK(t["lifeTime"] == 3600);
    CHECK(t["idType"] == "ip");
    CHECK(t["authMode"] == "psk");
    CHECK(t["localId"] == "203.0.113.10"); // the VIP (first address of range r1)
    CHECK(t["remoteId"] == "198.51.100.7");
    CHECK(t["l3NetworkUuids"] == json::array({f.network_uuid("vpc")})); // the only private network
    CHECK(t["state"] == "Enabled");
    CHECK(t["status"] == "Connecting");
    CHECK(t["natTraversal"] == "auto");
    CHECK(t["dpd"]["action"] == "restart");
    CHECK(t["authKey"] == "<redacted>");
    CHECK(t["uuid"].get<std::string>().size() == 32);
    CHECK(!t["createDate"].get<std::string>().empty());
    // Group 2 is the product default and still flagged.
    CHECK(t["weak"] == true);
    REQUIRE(t["warnings"].size() == 1);
    CHECK(t["warnings"][0].get<std::string>().find("ikeDhGroup 2") != std::string::npos);
}

TEST_CASE("name and description lengths") {
    fixture f;
    REQUIRE_FIELD_ERROR(create_with(f, "name", std::string(256, 'n')), "name");
    REQUIRE_FIELD_ERROR(create_with(f, "name", ""), "name");
    REQUIRE_FIELD_ERROR(create_with(f, "name", 5), "name");
    REQUIRE_FIELD_ERROR(create_with(f, "name", "bad\nname"), "name");
    REQUIRE_FIELD_ERROR(create_with(f, "description", std::string(2049, 'd')), "description");
    CHECK(create_with(f, "name", std::string(255, 'n')).status == 201);
    CHECK(create_with(f, "description", std::string(2048, 'd')).status == 400); // same peer as before: one tunnel per peer
    auto p = f.tunnel_params(f.make_vip("vx"), "198.51.100.99", "10.9.0.0/16");
    p["description"] = std::string(2048, 'd');
    CHECK(f.create_tunnel(p).status == 201);
    REQUIRE(tunnel_count(f) == 2);
}

TEST_CASE("required fields are named when missing") {
    fixture f;
    auto vip = f.make_vip();
    for (const char* field : {"name", "vipUuid", "peerAddress", "peerCidrs", "authKey"}) {
        auto p = f.tunnel_params(vip);
        p.erase(field);
        REQUIRE_FIELD_ERROR(f.create_tunnel(p), field);
    }
    REQUIRE(tunnel_count(f) == 0);
}

TEST_CASE("peerAddress is a unicast IPv4 address and not the VIP") {
    fixture f;
    for (const char* bad : {"198.51.100", "198.51.100.300", "2001:db8::1", "198.51.100.07", " 198.51.100.7", "224.0.0.5",
                            "0.0.0.0", "127.0.0.1", "255.255.255.255"})
        REQUIRE_FIELD_ERROR(create_with(f, "peerAddress", bad), "peerAddress");
    // The VIP's own address.
    auto vip = f.make_vip("own");
    std::string vip_ip = f.call("GET", "/v1/vips/" + vip).body["inventory"]["ip"];
    auto p = f.tunnel_params(vip, vip_ip);
    auto r = f.create_tunnel(p);
    REQUIRE_FIELD_ERROR(r, "peerAddress");
    CHECK(r.text.find("VIP") != std::string::npos);
    REQUIRE(tunnel_count(f) == 0);
}

TEST_CASE("one tunnel per peer address") {
    fixture f;
    auto vip = f.make_vip();
    REQUIRE(f.create_tunnel(f.tunnel_params(vip, "198.51.100.7", "10.2.0.0/16")).status == 201);
    auto r = f.create_tunnel(f.tunnel_params(vip, "198.51.100.7", "10.3.0.0/16"));
    REQUIRE_FIELD_ERROR(r, "peerAddress");
    CHECK(r.text.find("one tunnel per peer address") != std::string::npos);
    // Another peer on the same VIP is fine (IPsec shares UDP 500/4500).
    REQUIRE(f.create_tunnel(f.tunnel_params(vip, "198.51.100.8", "10.3.0.0/16")).status == 201);
}

TEST_CASE("peer CIDRs: syntax, unique, not overlapping each other") {
    fixture f;
    REQUIRE_FIELD_ERROR(create_with(f, "peerCidrs", json::array()), "peerCidrs");
    REQUIRE_FIELD_ERROR(create_with(f, "peerCidrs", "10.2.0.0/16"), "peerCidrs");
    REQUIRE_FIELD_ERROR(create_with(f, "peerCidrs", {"10.2.0.0/33"}), "peerCidrs");
    REQUIRE_FIELD_ERROR(create_with(f, "peerCidrs", {"10.2.0.0"}), "peerCidrs");
    auto host_bits = create_with(f, "peerCidrs", {"10.2.0.1/16"});
    REQUIRE_FIELD_ERROR(host_bits, "peerCidrs");
    CHECK(host_bits.text.find("10.2.0.0/16") != std::string::npos); // suggests the network
    auto dup = create_with(f, "peerCidrs", {"10.2.0.0/16", "10.2.0.0/16"});
    REQUIRE_FIELD_ERROR(dup, "peerCidrs");
    CHECK(dup.text.find("unique") != std::string::npos);
    auto overlap = create_with(f, "peerCidrs", {"10.2.0.0/16", "10.2.128.0/24"});
    REQUIRE_FIELD_ERROR(overlap, "peerCidrs");
    CHECK(overlap.text.find("overlap") != std::string::npos);
    CHECK(create_with(f, "peerCidrs", {"10.2.0.0/16", "10.3.0.0/16", "172.16.0.0/12"}).status == 201);
}

TEST_CASE("peer CIDRs must not overlap the router's private, public or management networks") {
    fixture f;
    for (const char* cidr : {"10.1.2.0/24", "10.0.0.0/8", "203.0.113.128/25", "192.168.100.0/24", "192.168.0.0/16"}) {
        auto r = create_with(f, "peerCidrs", {cidr});
        REQUIRE_FIELD_ERROR(r, "peerCidrs");
        CHECK(r.text.find("router's") != std::string::npos);
    }
    REQUIRE(tunnel_count(f) == 0);
}

TEST_CASE("peer CIDRs of two tunnels must not overlap") {
    fixture f;
    auto vip = f.make_vip();
    REQUIRE(f.create_tunnel(f.tunnel_params(vip, "198.51.100.7", "10.2.0.0/16")).status == 201);
    REQUIRE_FIELD_ERROR(f.create_tunnel(f.tunnel_params(vip, "198.51.100.8", "10.2.3.0/24")), "peerCidrs");
}

TEST_CASE("l3NetworkUuids: private networks only; required when the router has several") {
    fixture f(/*two_private=*/true);
    auto vip = f.make_vip();
    auto p = f.tunnel_params(vip);
    auto r = f.create_tunnel(p);
    REQUIRE_FIELD_ERROR(r, "l3NetworkUuids");
    CHECK(r.text.find("2 private networks") != std::string::npos);
    p["l3NetworkUuids"] = {f.network_uuid("public")};
    REQUIRE_FIELD_ERROR(f.create_tunnel(p), "l3NetworkUuids");
    p["l3NetworkUuids"] = {f.network_uuid("mgmt")};
    REQUIRE_FIELD_ERROR(f.create_tunnel(p), "l3NetworkUuids");
    p["l3NetworkUuids"] = {"0123456789abcdef0123456789abcdef"};
    REQUIRE_FIELD_ERROR(f.create_tunnel(p), "l3NetworkUuids");
    p["l3NetworkUuids"] = {f.network_uuid("vpc"), f.network_uuid("vpc")};
    REQUIRE_FIELD_ERROR(f.create_tunnel(p), "l3NetworkUuids");
    p["l3NetworkUuids"] = {f.network_uuid("vpc"), f.network_uuid("vpc2")};
    REQUIRE(f.create_tunnel(p).status == 201);
}

TEST_CASE("vipUuid: an existing VIP on a public network, whose UDP 500/4500 are free") {
    fixture f;
    REQUIRE_FIELD_ERROR(create_with(f, "vipUuid", "0123456789abcdef0123456789abcdef"), "vipUuid");
    auto vip = f.make_vip("claimed");
    std::string vip_ip = f.call("GET", "/v1/vips/" + vip).body["inventory"]["ip"];
    f.engine.claim_udp_port(*control::ipv4::parse(vip_ip), 4500, "dns-forwarder");
    auto r = f.create_tunnel(f.tunnel_params(vip));
    REQUIRE_FIELD_ERROR(r, "vipUuid");
    CHECK(r.text.find("UDP 4500") != std::string::npos);
    CHECK(r.text.find("dns-forwarder") != std::string::npos);
    // The system VIP ("use existing") works.
    std::string sys;
    auto vips = f.call("GET", "/v1/vips").body["inventories"];
    for (const auto& v : vips)
        if (v["system"] == true) sys = v["uuid"];
    REQUIRE(!sys.empty());
    auto ok = f.create_tunnel(f.tunnel_params(sys));
    INFO(ok.text);
    REQUIRE(ok.status == 201);
    CHECK(ok.body["inventory"]["localId"] == "203.0.113.2");
}

TEST_CASE("authKey characters, length and weak-key warning") {
    fixture f;
    for (std::string bad : {"has space", "quote\"d", "back`tick", "back\\slash", "single'q", "", "tab\tkey", "caf\xc3\xa9"}) {
        auto r = create_with(f, "authKey", bad);
        REQUIRE_FIELD_ERROR(r, "authKey");
        CHECK(r.text.find(bad.empty() ? "length" : "authKey") != std::string::npos);
    }
    REQUIRE_FIELD_ERROR(create_with(f, "authKey", std::string(256, 'k')), "authKey");
    REQUIRE_FIELD_ERROR(create_with(f, "authKey", 12345678), "authKey");
    // A short key is accepted with a warning; the key itself never appears in the reply.
    auto weak = create_with(f, "authKey", "secret1");
    REQUIRE(weak.status == 201);
    CHECK(weak.text.find("secret1") == std::string::npos);
    bool warned = false;
    for (const auto& w : weak.body["inventory"]["warnings"]) warned |= w.get<std::string>().find("authKey") != std::string::npos;
    CHECK(warned);
}

TEST_CASE("idType, localId and remoteId") {
    fixture f;
    REQUIRE_FIELD_ERROR(create_with(f, "idType", "email"), "idType");
    REQUIRE_FIELD_ERROR(create_with(f, "localId", std::string(256, 'a')), "localId");
    REQUIRE_FIELD_ERROR(create_with(f, "localId", ""), "localId");
    REQUIRE_FIELD_ERROR(create_with(f, "remoteId", "has space"), "remoteId");
    REQUIRE_FIELD_ERROR(create_with(f, "localId", "site-a.example"), "localId"); // idType ip wants an address
    auto vip = f.make_vip("named");
    auto p = f.tunnel_params(vip, "198.51.100.50", "10.50.0.0/16");
    p["idType"] = "fqdn";
    REQUIRE_FIELD_ERROR(f.create_tunnel(p), "localId"); // no default for names
    p["localId"] = "site-a.example";
    p["remoteId"] = "bad_host!";
    REQUIRE_FIELD_ERROR(f.create_tunnel(p), "remoteId");
    p["remoteId"] = "site-b.example";
    auto r = f.create_tunnel(p);
    REQUIRE(r.status == 201);
    CHECK(r.body["inventory"]["localId"] == "site-a.example");
}

TEST_CASE("ikeVersion: ikev2 only, IKEv1 answered as not supported yet") {
    fixture f;
    for (const char* v : {"ike", "ikev1"}) {
        auto r = create_with(f, "ikeVersion", v);
        REQUIRE(r.status == 400);
        CHECK(r.body["error"]["code"] == "NotSupported");
        CHECK(r.text.find("not supported yet") != std::string::npos);
        CHECK(r.text.find("ikeVersion") != std::string::npos);
    }
    REQUIRE_FIELD_ERROR(create_with(f, "ikeVersion", "ikev3"), "ikeVersion");
    CHECK(create_with(f, "ikeVersion", "ikev2").status == 201);
}

TEST_CASE("algorithm lists, with DES and group 1 refused and weak ones flagged") {
    fixture f;
    int peer = 10;
    auto vip = f.make_vip();
    auto try_create = [&](const std::string& field, const json& value) {
        auto p = f.tunnel_params(vip, "198.51.100." + std::to_string(peer), "10." + std::to_string(100 + peer) + ".0.0/16");
        ++peer;
        p[field] = value;
        return f.create_tunnel(p);
    };
    for (const char* field : {"ikeAuthAlgorithm", "policyAuthAlgorithm"}) {
        for (const char* a : {"md5", "sha1", "sha256", "sha384", "sha512"}) CHECK(try_create(field, a).status == 201);
        REQUIRE_FIELD_ERROR(try_create(field, "sha3"), field);
        REQUIRE_FIELD_ERROR(try_create(field, "SHA256"), field);
    }
    for (const char* field : {"ikeEncryptionAlgorithm", "policyEncryptionAlgorithm"}) {
        for (const char* e : {"3des", "aes-128", "aes-192", "aes-256", "aes-128-gcm", "aes-256-gcm"})
            CHECK(try_create(field, e).status == 201);
        auto des = try_create(field, "des");
        REQUIRE_FIELD_ERROR(des, field);
        CHECK(des.text.find("DES is refused") != std::string::npos);
        REQUIRE_FIELD_ERROR(try_create(field, "aes-512"), field);
    }
    for (int g : {2, 5, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 31}) CHECK(try_create("ikeDhGroup", g).status == 201);
    auto g1 = try_create("ikeDhGroup", 1);
    REQUIRE_FIELD_ERROR(g1, "ikeDhGroup");
    CHECK(g1.text.find("refused") != std::string::npos);
    for (json g : {json(3), json(13), json(27), json(30), json(32), json("14"), json(14.5), json(-2)})
        REQUIRE_FIELD_ERROR(try_create("ikeDhGroup", g), "ikeDhGroup");
    for (const char* pfs : {"none", "dh-group2", "dh-group5", "dh-group14", "dh-group20", "dh-group26", "dh-group31"})
        CHECK(try_create("pfs", pfs).status == 201);
    for (const char* pfs : {"dh-group1", "dh-group3", "dh-group27", "group14", "dh-group014", "dh-group", ""})
        REQUIRE_FIELD_ERROR(try_create("pfs", pfs), "pfs");

    // Weak: group 2/5, md5, 3des, dh-group2/5 PFS are accepted with a "weak" warning each.
    auto p = f.tunnel_params(vip, "198.51.100.250", "10.250.0.0/16");
    p["ikeDhGroup"] = 5;
    p["ikeAuthAlgorithm"] = "md5";
    p["ikeEncryptionAlgorithm"] = "3des";
    p["pfs"] = "dh-group2";
    p["policyAuthAlgorithm"] = "md5";
    p["policyEncryptionAlgorithm"] = "3des";
    auto r = f.create_tunnel(p);
    REQUIRE(r.status == 201);
    CHECK(r.body["inventory"]["weak"] == true);
    CHECK(r.body["inventory"]["warnings"].size() == 6);
    for (const auto& w : r.body["inventory"]["warnings"]) CHECK(w.get<std::string>().rfind("weak: ", 0) == 0);
    // And a strong one has none.
    auto s = f.tunnel_params(vip, "198.51.100.251", "10.251.0.0/16");
    s["ikeDhGroup"] = 19;
    auto strong = f.create_tunnel(s);
    REQUIRE(strong.status == 201);
    CHECK(strong.body["inventory"]["weak"] == false);
    CHECK(strong.body["inventory"]["warnings"].empty());
}

TEST_CASE("lifetimes, modes and extensions are range-checked") {
    fixture f;
    REQUIRE_FIELD_ERROR(create_with(f, "ikeLifeTime", 59), "ikeLifeTime");
    REQUIRE_FIELD_ERROR(create_with(f, "ikeLifeTime", 604801), "ikeLifeTime");
    REQUIRE_FIELD_ERROR(create_with(f, "ikeLifeTime", "86400"), "ikeLifeTime");
    REQUIRE_FIELD_ERROR(create_with(f, "lifeTime", 29), "lifeTime");
    REQUIRE_FIELD_ERROR(create_with(f, "lifeTime", 604801), "lifeTime");
    REQUIRE_FIELD_ERROR(create_with(f, "lifeTime", 1e12), "lifeTime");
    REQUIRE_FIELD_ERROR(create_with(f, "policyMode", "transport"), "policyMode");
    REQUIRE_FIELD_ERROR(create_with(f, "transformProtocol", "ah"), "transformProtocol");
    REQUIRE_FIELD_ERROR(create_with(f, "authMode", "cert"), "authMode");
    REQUIRE_FIELD_ERROR(create_with(f, "natTraversal", "off"), "natTraversal");
    REQUIRE_FIELD_ERROR(create_with(f, "replayWindow", 4097), "replayWindow");
    REQUIRE_FIELD_ERROR(create_with(f, "replayWindow", -1), "replayWindow");
    REQUIRE_FIELD_ERROR(create_with(f, "dpd", {{"delay", 3601}}), "dpd.delay");
    REQUIRE_FIELD_ERROR(create_with(f, "dpd", {{"action", "explode"}}), "dpd.action");
    REQUIRE_FIELD_ERROR(create_with(f, "dpd", {{"interval", 5}}), "dpd.interval");
    REQUIRE_FIELD_ERROR(create_with(f, "dpd", 30), "dpd");
    REQUIRE(tunnel_count(f) == 0);
    // The bounds themselves are allowed.
    auto vip = f.make_vip("bounds");
    auto p = f.tunnel_params(vip, "198.51.100.60", "10.60.0.0/16");
    p["ikeLifeTime"] = 60;
    p["lifeTime"] = 604800;
    p["replayWindow"] = 0;
    p["dpd"] = {{"delay", 0}, {"action", "clear"}};
    p["natTraversal"] = "force";
    auto r = f.create_tunnel(p);
    INFO(r.text);
    REQUIRE(r.status == 201);
    CHECK(r.body["inventory"]["dpd"] == json({{"delay", 0}, {"action", "clear"}}));
}

TEST_CASE("unknown and read-only fields are refused by name") {
    fixture f;
    REQUIRE_FIELD_ERROR(create_with(f, "peerCidr", {"10.2.0.0/16"}), "peerCidr");
    for (const char* ro : {"uuid", "state", "status", "statusReason", "createDate", "lastOpDate"}) {
        auto r = create_with(f, ro, "x");
        REQUIRE_FIELD_ERROR(r, ro);
        CHECK(r.text.find("read-only") != std::string::npos);
    }
    // ZStack's envelope fields are ignored, resourceUuid chooses the uuid.
    auto vip = f.make_vip("env");
    auto p = f.tunnel_params(vip);
    p["systemTags"] = json::array();
    p["resourceUuid"] = "00112233445566778899aabbccddeeff";
    auto r = f.create_tunnel(p);
    REQUIRE(r.status == 201);
    CHECK(r.body["inventory"]["uuid"] == "00112233445566778899aabbccddeeff");
    p["peerAddress"] = "198.51.100.99";
    p["peerCidrs"] = {"10.99.0.0/16"};
    CHECK(f.create_tunnel(p).status == 409); // same resourceUuid again
}

TEST_CASE("a refused create stores nothing and tells the engine nothing") {
    fixture f;
    auto vip = f.make_vip();
    auto p = f.tunnel_params(vip);
    p["ikeDhGroup"] = 1;
    REQUIRE(f.create_tunnel(p).status == 400);
    CHECK(f.engine.apply_count() == 0);
    CHECK(tunnel_count(f) == 0);
    CHECK(f.svc->snapshot().tunnels.empty());
}
