// IKE_SA_INIT + IKE_AUTH between two endpoints: the happy path in both roles and across
// algorithm suites, and the installed ESP SAs checked crosswise.
#include "harness.hpp"

using namespace exchange_test;
using ike::exchange_type;
using ike::ike_sa_state;
using ike::sa_direction;

TEST_CASE("IKE_SA_INIT and IKE_AUTH establish an IKE SA and the first CHILD SA", "[exchange][establish]") {
    two_peers t;
    t.start_default();
    auto id = t.moon.ep->initiate("sun");
    REQUIRE(id);
    /* IKE_SA_INIT { HDR, SAi1, KEi, Ni, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP) } --> */
    REQUIRE(t.net.deliver_one());
    /* <-- IKE_SA_INIT { HDR, SAr1, KEr, Nr, N(NAT_DETECTION_*) } */
    REQUIRE(t.net.deliver_one());
    /* IKE_AUTH { HDR, SK { IDi, N(INITIAL_CONTACT), IDr, AUTH, SAi2, TSi, TSr } } --> */
    REQUIRE(t.net.deliver_one());
    /* <-- IKE_AUTH { HDR, SK { IDr, AUTH, SAr2, TSi, TSr } } */
    REQUIRE(t.net.deliver_one());
    CHECK_FALSE(t.net.deliver_one());

    auto* m = t.moon.only_sa();
    auto* s = t.sun.only_sa();
    REQUIRE(m);
    REQUIRE(s);
    INFO(t.moon.dump_log() << t.sun.dump_log());
    CHECK(m->state() == ike_sa_state::established);
    CHECK(s->state() == ike_sa_state::established);
    CHECK(m->spi_i == s->spi_i);
    CHECK(m->spi_r == s->spi_r);
    CHECK(m->keys.sk_d == s->keys.sk_d);
    CHECK(m->keys.sk_ei == s->keys.sk_ei);
    CHECK(m->peer_id->to_string() == "198.51.100.2");
    CHECK(s->peer_id->to_string() == "192.0.2.1");
    CHECK(m->ike_proposal_text == "aes256-sha256-prfsha256-modp2048");
    CHECK(t.moon.logged("created -> init_sent"));
    CHECK(t.sun.logged("init_done -> established"));

    // One CHILD SA on each side: inbound + outbound, mirrored, ESP tunnel without encapsulation.
    REQUIRE(t.moon.installer.sas.size() == 2);
    check_crosswise(t.moon.installer, t.sun.installer);
    const auto& out = t.moon.installer.installed.back();
    CHECK(out.direction == sa_direction::outbound);
    CHECK(out.encryption == "aes256-cbc");
    CHECK(out.integrity == "sha256-128");
    CHECK(out.encryption_key.size() == 32);
    CHECK(out.integrity_key.size() == 32);
    CHECK_FALSE(out.encap);
    CHECK(out.tunnel_src == addr("192.0.2.1"));
    CHECK(out.tunnel_dst == addr("198.51.100.2"));
    REQUIRE(out.src_selectors.size() == 1);
    CHECK(out.src_selectors[0].start == addr("10.1.0.0"));
    CHECK(out.src_selectors[0].end == addr("10.1.255.255"));
    CHECK(out.dst_selectors[0].start == addr("10.2.0.0"));
    // Inbound installed before outbound on both sides (make-before-break order).
    CHECK(t.moon.installer.installed.front().direction == sa_direction::inbound);
    CHECK(t.sun.installer.installed.front().direction == sa_direction::inbound);
    // No key or PSK in any log line.
    for (auto* side : {&t.moon, &t.sun})
        for (const auto& l : side->log) {
            CHECK(l.find("s3cr3t") == std::string::npos);
            CHECK(l.find(base::to_hex(out.encryption_key.view())) == std::string::npos);
        }
    // Message IDs: IKE_SA_INIT 0, IKE_AUTH 1.
    CHECK(t.messages(exchange_type::ike_sa_init, false).at(0).header->message_id == 0);
    CHECK(t.messages(exchange_type::ike_auth, false).at(0).header->message_id == 1);
    CHECK(t.messages(exchange_type::ike_auth, true).at(0).header->initiator == false);
}

TEST_CASE("either side can initiate (both roles)", "[exchange][establish]") {
    two_peers t;
    t.start_default();
    /* sun is the initiator this time: IKE_SA_INIT --> , <-- , IKE_AUTH --> , <-- */
    auto id = t.sun.ep->initiate("moon");
    REQUIRE(id);
    t.run();
    INFO(t.moon.dump_log() << t.sun.dump_log());
    REQUIRE(t.sun.only_sa());
    REQUIRE(t.moon.only_sa());
    CHECK(t.sun.only_sa()->original_initiator);
    CHECK_FALSE(t.moon.only_sa()->original_initiator);
    CHECK(t.moon.only_sa()->state() == ike_sa_state::established);
    check_crosswise(t.moon.installer, t.sun.installer);
    CHECK(t.moon.installer.sas.size() == 2);
}

TEST_CASE("algorithm suites: CBC+HMAC, GCM and the DH groups agree on both sides", "[exchange][establish]") {
    struct suite {
        const char* ike;
        const char* esp;
        const char* esp_enc;
        const char* esp_integ;
        std::size_t enc_key;
    };
    const suite suites[] = {
        {"aes128-sha1-modp1024", "aes128-sha1", "aes128-cbc", "sha1-96", 16},
        {"aes256-sha512-modp2048", "aes256-sha512", "aes256-cbc", "sha512-256", 32},
        {"aes256gcm16-prfsha384-ecp256", "aes256gcm16", "aes256gcm16", "", 36},
        {"aes128gcm16-prfsha256-curve25519", "aes128gcm16-esn", "aes128gcm16", "", 20},
        {"aes192-sha384-ecp384", "aes192-sha384", "aes192-cbc", "sha384-192", 24},
        {"3des-sha256-modp1536", "3des-sha1", "3des-cbc", "sha1-96", 24},
    };
    for (const auto& s : suites) {
        DYNAMIC_SECTION(s.ike << " / " << s.esp) {
            two_peers t;
            auto mc = t.config_for(t.moon, t.sun, "sun");
            auto sc = t.config_for(t.sun, t.moon, "moon");
            mc.ike_proposals = sc.ike_proposals = {s.ike};
            mc.esp_proposals = sc.esp_proposals = {s.esp};
            t.start(mc, sc);
            t.moon.ep->initiate("sun");
            t.run();
            INFO(t.moon.dump_log() << t.sun.dump_log());
            REQUIRE(t.moon.only_sa());
            REQUIRE(t.moon.only_sa()->state() == ike_sa_state::established);
            REQUIRE(t.moon.installer.sas.size() == 2);
            check_crosswise(t.moon.installer, t.sun.installer);
            const auto& sa = t.moon.installer.installed.back();
            CHECK(sa.encryption == s.esp_enc);
            CHECK(sa.integrity == s.esp_integ);
            CHECK(sa.encryption_key.size() == s.enc_key);
            CHECK(sa.esn == (std::string_view(s.esp).find("esn") != std::string_view::npos));
        }
    }
}

TEST_CASE("IDs of every type authenticate with the PSK bound to them", "[exchange][establish]") {
    const char* ids[][2] = {
        {"192.0.2.1", "198.51.100.2"},
        {"@moon.example.org", "@sun.example.org"},
        {"moon@example.org", "sun@example.org"},
        {"@#0102030405", "@#a0b0c0"},
        {"2001:db8::1", "2001:db8::2"},
        {"@moon.example.org", "sun@example.org"},
    };
    for (const auto& pair : ids) {
        DYNAMIC_SECTION(pair[0] << " - " << pair[1]) {
            two_peers t;
            auto mc = t.config_for(t.moon, t.sun, "sun");
            auto sc = t.config_for(t.sun, t.moon, "moon");
            auto mid = *ike::peer_identity::parse(pair[0]);
            auto sid = *ike::peer_identity::parse(pair[1]);
            mc.local_id = sc.peer_id = mid;
            sc.local_id = mc.peer_id = sid;
            mc.psks = {{mid, sid, base::secret_bytes(std::string_view("id-psk"))}};
            sc.psks = {{sid, mid, base::secret_bytes(std::string_view("id-psk"))}};
            t.start(mc, sc);
            t.moon.ep->initiate("sun");
            t.run();
            INFO(t.moon.dump_log() << t.sun.dump_log());
            REQUIRE(t.sun.only_sa());
            CHECK(t.sun.only_sa()->state() == ike_sa_state::established);
            CHECK(*t.sun.only_sa()->peer_id == mid);
            CHECK(*t.moon.only_sa()->peer_id == sid);
        }
    }
}

TEST_CASE("a responder with peer %any accepts any ID it has a PSK for", "[exchange][establish]") {
    two_peers t;
    auto mc = t.config_for(t.moon, t.sun, "sun");
    auto sc = t.config_for(t.sun, t.moon, "moon");
    sc.peer_address = addr("0.0.0.0");
    sc.peer_id = *ike::peer_identity::parse("%any");
    sc.psks = {{sc.local_id, *ike::peer_identity::parse("%any"), base::secret_bytes(std::string_view("s3cr3t-psk"))}};
    t.start(mc, sc);
    t.moon.ep->initiate("sun");
    t.run();
    INFO(t.moon.dump_log() << t.sun.dump_log());
    REQUIRE(t.sun.only_sa());
    CHECK(t.sun.only_sa()->state() == ike_sa_state::established);
    CHECK(t.sun.only_sa()->peer_id->to_string() == "192.0.2.1");
}
