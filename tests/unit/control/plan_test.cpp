// Mapping of a tunnel to engine configuration: strongSwan proposal strings (checked against the
// keyword table compiled into the installed libstrongswan), IANA transform IDs (RFC 7296
// section 3.3.2 / IKEv2 registry), peer config fields, and the SPD policy cross product.
#include "fixture.hpp"

#include <control/plan.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace control_test;
using control::esp_proposal;
using control::ike_proposal;

TEST_CASE("proposal strings for the product defaults and the issue's examples") {
    CHECK(ike_proposal("aes-256", "sha256", 2).text == "aes256-sha256-modp1024");
    CHECK(esp_proposal("aes-256", "sha256", "dh-group14").text == "aes256-sha256-modp2048");
    CHECK(esp_proposal("aes-256", "sha256", "none").text == "aes256-sha256");
    CHECK(ike_proposal("aes-256-gcm", "sha256", 2).text == "aes256gcm16-prfsha256-modp1024");
    CHECK(esp_proposal("aes-256-gcm", "sha256", "dh-group14").text == "aes256gcm16-modp2048");
    CHECK(esp_proposal("aes-128-gcm", "sha512", "none").text == "aes128gcm16");
    CHECK(ike_proposal("3des", "md5", 5).text == "3des-md5-modp1536");
    CHECK(ike_proposal("aes-192", "sha384", 20).text == "aes192-sha384-ecp384");
    CHECK(ike_proposal("aes-128", "sha1", 31).text == "aes128-sha1-curve25519");
    CHECK(esp_proposal("aes-128", "sha512", "dh-group24").text == "aes128-sha512-modp2048s256");
}

TEST_CASE("IANA transform IDs") {
    auto ike = ike_proposal("aes-256", "sha256", 2);
    CHECK(ike.encr_id == 12); // ENCR_AES_CBC
    CHECK(ike.encr_key_bits == 256);
    CHECK(ike.integ_id == 12); // AUTH_HMAC_SHA2_256_128
    CHECK(ike.prf_id == 5);    // PRF_HMAC_SHA2_256
    CHECK(ike.dh_group == 2);
    auto gcm = ike_proposal("aes-128-gcm", "sha384", 19);
    CHECK(gcm.encr_id == 20); // ENCR_AES_GCM_16
    CHECK(gcm.encr_key_bits == 128);
    CHECK(gcm.integ_id == 0); // AEAD: no integrity transform
    CHECK(gcm.prf_id == 6);   // PRF_HMAC_SHA2_384
    auto esp = esp_proposal("3des", "sha1", "none");
    CHECK(esp.encr_id == 3); // ENCR_3DES
    CHECK(esp.integ_id == 2); // AUTH_HMAC_SHA1_96
    CHECK(esp.dh_group == 0);
    CHECK(esp_proposal("aes-256", "md5", "dh-group31").integ_id == 1);
    CHECK(esp_proposal("aes-256", "sha512", "dh-group31").integ_id == 14);
    CHECK(esp_proposal("aes-256", "sha512", "dh-group31").dh_group == 31);
}

TEST_CASE("every proposal keyword we emit is one strongSwan knows") {
    // Oracle: strongSwan's proposal keyword table is compiled into libstrongswan as NUL-terminated
    // strings; each keyword we put into a proposal must appear there.
    std::string lib;
    for (const char* p : {"/usr/lib/ipsec/libstrongswan.so.0.0.0", "/usr/lib/ipsec/libstrongswan.so.0",
                          "/usr/lib/x86_64-linux-gnu/ipsec/libstrongswan.so.0.0.0"}) {
        std::ifstream in(p, std::ios::binary);
        if (!in) continue;
        std::stringstream ss;
        ss << in.rdbuf();
        lib = ss.str();
        break;
    }
    if (lib.empty()) {
        WARN("libstrongswan not found; skipping the keyword oracle");
        return;
    }
    // The linker merges string tails, so "sha256" may only exist as the tail of "prfsha256"
    // (strongSwan has both keywords).
    auto present = [&](const std::string& s) { return lib.find(std::string(1, '\0') + s + std::string(1, '\0')) != std::string::npos; };
    auto known = [&](const std::string& kw) { return present(kw) || present("prf" + kw); };
    std::vector<std::string> kws;
    for (const char* e : {"3des", "aes-128", "aes-192", "aes-256", "aes-128-gcm", "aes-256-gcm"})
        for (const char* a : {"md5", "sha1", "sha256", "sha384", "sha512"})
            for (int g : {2, 5, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 31}) {
                auto text = ike_proposal(e, a, g).text + "-" + esp_proposal(e, a, "dh-group" + std::to_string(g)).text;
                std::size_t pos = 0;
                while (pos <= text.size()) {
                    auto dash = text.find('-', pos);
                    kws.push_back(text.substr(pos, dash - pos));
                    if (dash == std::string::npos) break;
                    pos = dash + 1;
                }
            }
    std::sort(kws.begin(), kws.end());
    kws.erase(std::unique(kws.begin(), kws.end()), kws.end());
    REQUIRE(kws.size() > 20);
    for (const auto& kw : kws) {
        INFO(kw);
        CHECK(known(kw));
    }
    CHECK_FALSE(known("modp1024x")); // the oracle can say no
}

TEST_CASE("compile_tunnel: peer config and local x peer policies") {
    fixture f(/*two_private=*/true);
    auto vip = f.make_vip();
    auto p = f.tunnel_params(vip, "198.51.100.7", "10.2.0.0/16");
    p["peerCidrs"] = {"10.2.0.0/16", "172.16.5.0/24"};
    p["l3NetworkUuids"] = {f.network_uuid("vpc"), f.network_uuid("vpc2")};
    p["idType"] = "name";
    p["localId"] = "site-a";
    p["remoteId"] = "site-b";
    p["natTraversal"] = "force";
    p["replayWindow"] = 1024;
    p["lifeTime"] = 1200;
    p["ikeLifeTime"] = 7200;
    p["pfs"] = "none";
    auto r = f.create_tunnel(p);
    REQUIRE(r.status == 201);
    auto plan = f.engine.plan_of(r.body["inventory"]["uuid"]);
    REQUIRE(plan);
    const auto& pc = plan->peer;
    CHECK(pc.local_address.str() == "203.0.113.10");
    CHECK(pc.peer_address.str() == "198.51.100.7");
    CHECK(pc.local_id.type == control::id_type::key_id);
    CHECK(pc.local_id.value == "site-a");
    CHECK(pc.remote_id.value == "site-b");
    CHECK(pc.psk == base::secret_bytes(std::string_view("Kx7-pQ2_zR9.mW4+vN8")));
    CHECK(pc.ike.text == "aes256-sha256-modp1024");
    CHECK(pc.esp.text == "aes256-sha256");
    CHECK(pc.ike_lifetime_s == 7200);
    CHECK(pc.child_lifetime_s == 1200);
    CHECK(pc.nat_t == control::nat_t_mode::force);
    CHECK(pc.replay_window == 1024);
    CHECK(pc.local_cidrs.size() == 2);
    CHECK(pc.peer_cidrs.size() == 2);
    // 2 local x 2 peer pairs, each an outbound PROTECT and the matching inbound check.
    REQUIRE(plan->policies.size() == 8);
    int out = 0, in = 0;
    for (const auto& pol : plan->policies) {
        CHECK(pol.action == control::policy_action::protect);
        const auto& local = pol.direction == control::policy_direction::out ? pol.src : pol.dst;
        const auto& peer = pol.direction == control::policy_direction::out ? pol.dst : pol.src;
        CHECK((local.str() == "10.1.0.0/16" || local.str() == "10.5.0.0/16"));
        CHECK((peer.str() == "10.2.0.0/16" || peer.str() == "172.16.5.0/24"));
        CHECK(pol.priority == 64u - std::uint32_t(local.prefix + peer.prefix));
        (pol.direction == control::policy_direction::out ? out : in)++;
    }
    CHECK(out == 4);
    CHECK(in == 4);
    // Default IDs are the addresses, typed ID_IPV4_ADDR.
    auto p2 = f.tunnel_params(vip, "198.51.100.8", "10.3.0.0/16");
    p2["l3NetworkUuids"] = {f.network_uuid("vpc")};
    auto q = f.create_tunnel(p2);
    REQUIRE(q.status == 201);
    auto plan2 = f.engine.plan_of(q.body["inventory"]["uuid"]);
    CHECK(plan2->peer.local_id.type == control::id_type::ipv4_addr);
    CHECK(plan2->peer.local_id.value == "203.0.113.10");
    CHECK(plan2->peer.remote_id.value == "198.51.100.8");
}

TEST_CASE("ipv4 and CIDR parsing is strict") {
    using control::ipv4;
    using control::ipv4_cidr;
    CHECK(ipv4::parse("192.0.2.1")->str() == "192.0.2.1");
    CHECK(ipv4::parse("0.0.0.0")->value == 0);
    CHECK(ipv4::parse("255.255.255.255")->value == 0xffffffffu);
    for (const char* bad : {"", "1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1..2.3", "1.2.3.4 ", "a.b.c.d", "-1.2.3.4", "1.2.3.4/"})
        CHECK_FALSE(ipv4::parse(bad));
    CHECK(ipv4_cidr::parse("10.0.0.0/8")->str() == "10.0.0.0/8");
    CHECK(ipv4_cidr::parse("0.0.0.0/0")->mask() == 0);
    CHECK(ipv4_cidr::parse("192.0.2.7/32")->last().str() == "192.0.2.7");
    CHECK_FALSE(ipv4_cidr::parse("10.0.0.1/8"));
    CHECK_FALSE(ipv4_cidr::parse("10.0.0.0/33"));
    CHECK_FALSE(ipv4_cidr::parse("10.0.0.0/"));
    CHECK_FALSE(ipv4_cidr::parse("10.0.0.0/08"));
    auto a = *ipv4_cidr::parse("10.1.0.0/16"), b = *ipv4_cidr::parse("10.1.128.0/17"), c = *ipv4_cidr::parse("10.2.0.0/16");
    CHECK(a.overlaps(b));
    CHECK(b.overlaps(a));
    CHECK_FALSE(a.overlaps(c));
    CHECK(ipv4_cidr::parse("0.0.0.0/0")->overlaps(c));
}
