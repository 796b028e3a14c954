// Every failure notify of IKE_SA_INIT / IKE_AUTH / CREATE_CHILD_SA, and the diagnostics a
// network engineer reads: both proposal sets, "no PSK for" vs "PSK mismatch", both selector sets.
#include "harness.hpp"

#include <ike/message.hpp>

using namespace exchange_test;
using ike::exchange_type;
using ike::ike_sa_state;

namespace {
std::optional<ike::message> decode_init(const wire_message& w) {
    auto m = ike::parse_message(w.d.data);
    if (!m) return std::nullopt;
    return std::move(m).value();
}
}

TEST_CASE("IKE_SA_INIT NO_PROPOSAL_CHOSEN: both sides log both proposal sets", "[exchange][failure]") {
    two_peers t;
    auto mc = t.config_for(t.moon, t.sun, "sun");
    auto sc = t.config_for(t.sun, t.moon, "moon");
    mc.ike_proposals = {"aes128-sha1-modp1024"};
    sc.ike_proposals = {"aes256-sha256-modp2048", "aes256gcm16-prfsha384-ecp384"};
    t.start(mc, sc);
    t.moon.ep->initiate("sun");
    /* IKE_SA_INIT { HDR, SAi1, KEi, Ni, N(NAT_D*) } --> */
    /* <-- IKE_SA_INIT { HDR, N(NO_PROPOSAL_CHOSEN) } */
    t.run();
    INFO(t.moon.dump_log() << t.sun.dump_log());
    CHECK(t.moon.ep->sas().empty());
    CHECK(t.sun.ep->sas().empty());
    CHECK(t.sun.logged("NO_PROPOSAL_CHOSEN: peer offered aes128-sha1-prfsha1-modp1024, we accept "
                       "aes256-sha256-prfsha256-modp2048, aes256gcm16-prfsha384-ecp384"));
    CHECK(t.moon.ep->last_error() == "NO_PROPOSAL_CHOSEN: peer accepted none of our IKE proposals aes128-sha1-prfsha1-modp1024");
    auto resp = t.messages(exchange_type::ike_sa_init, true);
    REQUIRE(resp.size() == 1);
    auto m = decode_init(resp[0]);
    REQUIRE(m);
    REQUIRE(m->find_notify(ike::notify_type::no_proposal_chosen));
    // RFC 7296 1.2 / 2.6: the error answer carries no responder SPI, and no state is kept.
    CHECK(m->header.spi_r == ike::ike_spi{});
    CHECK(t.moon.installer.sas.empty());
}

TEST_CASE("INVALID_KE_PAYLOAD: the initiator retries once with the requested group", "[exchange][failure]") {
    two_peers t;
    auto mc = t.config_for(t.moon, t.sun, "sun");
    auto sc = t.config_for(t.sun, t.moon, "moon");
    mc.ike_proposals = {"aes256-sha256-modp2048-ecp256"};  // KEi is modp2048 (the first group)
    sc.ike_proposals = {"aes256-sha256-ecp256"};
    t.start(mc, sc);
    t.moon.ep->initiate("sun");
    /* IKE_SA_INIT { HDR, SAi1, KEi(MODP_2048), Ni } --> */
    /* <-- IKE_SA_INIT { HDR, N(INVALID_KE_PAYLOAD, ECP_256) } */
    /* IKE_SA_INIT { HDR, SAi1, KEi(ECP_256), Ni } --> */
    /* <-- IKE_SA_INIT { HDR, SAr1, KEr, Nr } ... IKE_AUTH as usual */
    t.run();
    INFO(t.moon.dump_log() << t.sun.dump_log());
    auto reqs = t.messages(exchange_type::ike_sa_init, false);
    REQUIRE(reqs.size() == 2);
    auto first = decode_init(reqs[0]);
    auto second = decode_init(reqs[1]);
    REQUIRE(first);
    REQUIRE(second);
    CHECK(first->find(ike::payload_type::ke)->as<ike::ke_payload>()->group == ike::dh_group::modp2048);
    CHECK(second->find(ike::payload_type::ke)->as<ike::ke_payload>()->group == ike::dh_group::ecp256);
    CHECK(second->header.message_id == 0);
    auto resps = t.messages(exchange_type::ike_sa_init, true);
    REQUIRE(resps.size() == 2);
    auto first_resp = decode_init(resps[0]);  // keep the message alive while n points into it
    REQUIRE(first_resp);
    auto n = first_resp->find_notify(ike::notify_type::invalid_ke_payload);
    REQUIRE(n);
    CHECK(n->data == std::vector<std::uint8_t>{0, 19});
    REQUIRE(t.moon.only_sa());
    CHECK(t.moon.only_sa()->state() == ike_sa_state::established);
    CHECK(t.moon.only_sa()->ike_suite.dh == ike::dh_group::ecp256);
    check_crosswise(t.moon.installer, t.sun.installer);
}

TEST_CASE("INVALID_KE_PAYLOAD for a group we did not propose fails the IKE SA", "[exchange][failure]") {
    two_peers t;
    t.start_default();
    // sun's endpoint is bypassed: moon's request is answered by a forged error response.
    t.net.set_drop_filter([](const ike::memory_datagram& d) { return d.to.address() == addr("198.51.100.2"); });
    t.moon.ep->initiate("sun");
    auto req = t.messages(exchange_type::ike_sa_init, false);
    REQUIRE(req.size() == 1);
    ike::message r;
    r.header = *req[0].header;
    r.header.response = true;
    r.header.initiator = false;
    r.payloads.push_back(ike::make_notify(ike::notify_type::invalid_ke_payload, {0, 31}));  // curve25519
    /* <-- IKE_SA_INIT { HDR(A,0), N(INVALID_KE_PAYLOAD, CURVE_25519) } */
    t.net.inject({{addr("198.51.100.2"), 500}, {addr("192.0.2.1"), 500}, *ike::serialize_message(r)});
    t.run();
    INFO(t.moon.dump_log());
    CHECK(t.moon.ep->sas().empty());
    CHECK(t.moon.ep->last_error().find("INVALID_KE_PAYLOAD: peer requests CURVE_25519") != std::string::npos);
    CHECK(t.messages(exchange_type::ike_sa_init, false).size() == 1);  // no retry
}

TEST_CASE("COOKIE: the initiator echoes the responder's cookie (RFC 7296 2.6)", "[exchange][failure]") {
    two_peers t;
    ike::endpoint_options sun_opts;
    sun_opts.require_cookie = true;
    t.start(t.config_for(t.moon, t.sun, "sun"), t.config_for(t.sun, t.moon, "moon"), std::move(sun_opts));
    t.moon.ep->initiate("sun");
    /* IKE_SA_INIT { HDR(A,0), SAi1, KEi, Ni } --> */
    /* <-- IKE_SA_INIT { HDR(A,0), N(COOKIE) } */
    /* IKE_SA_INIT { HDR(A,0), N(COOKIE), SAi1, KEi, Ni } --> */
    /* <-- IKE_SA_INIT { HDR(A,B), SAr1, KEr, Nr } */
    t.run();
    INFO(t.moon.dump_log() << t.sun.dump_log());
    auto reqs = t.messages(exchange_type::ike_sa_init, false);
    REQUIRE(reqs.size() == 2);
    auto first_resp = decode_init(t.messages(exchange_type::ike_sa_init, true).at(0));
    auto cookie = first_resp->find_notify(ike::notify_type::cookie);
    REQUIRE(cookie);
    auto second = decode_init(reqs[1]);
    REQUIRE(second->payloads.front().as<ike::notify_payload>());
    CHECK(second->payloads.front().as<ike::notify_payload>()->type == ike::notify_type::cookie);
    CHECK(second->payloads.front().as<ike::notify_payload>()->data == cookie->data);
    // Same SPIi, nonce and KE in the retry.
    CHECK(second->header.spi_i == decode_init(reqs[0])->header.spi_i);
    CHECK(second->find(ike::payload_type::nonce)->as<ike::nonce_payload>()->data ==
          decode_init(reqs[0])->find(ike::payload_type::nonce)->as<ike::nonce_payload>()->data);
    REQUIRE(t.moon.only_sa());
    CHECK(t.moon.only_sa()->state() == ike_sa_state::established);
    REQUIRE(t.sun.ep->sas().size() == 1);  // the cookie request left no state behind
}

TEST_CASE("PSK mismatch: AUTHENTICATION_FAILED, logged as a mismatch", "[exchange][failure]") {
    two_peers t;
    auto mc = t.config_for(t.moon, t.sun, "sun");
    auto sc = t.config_for(t.sun, t.moon, "moon");
    sc.psks[0].secret = base::secret_bytes(std::string_view("other-psk"));
    t.start(mc, sc);
    t.moon.ep->initiate("sun");
    /* ... IKE_AUTH { HDR, SK { IDi, N(INITIAL_CONTACT), IDr, AUTH, SAi2, TSi, TSr } } --> */
    /* <-- IKE_AUTH { HDR, SK { N(AUTHENTICATION_FAILED) } } */
    t.run();
    INFO(t.moon.dump_log() << t.sun.dump_log());
    CHECK(t.moon.ep->sas().empty());
    CHECK(t.sun.ep->sas().empty());
    CHECK(t.sun.logged("AUTHENTICATION_FAILED: PSK mismatch (AUTH of 192.0.2.1 does not verify)"));
    CHECK_FALSE(t.sun.logged("no PSK for"));
    CHECK(t.moon.logged("peer answered AUTHENTICATION_FAILED"));
    CHECK(t.moon.installer.installed.empty());
    CHECK(t.sun.installer.installed.empty());
    CHECK_FALSE(t.sun.logged("other-psk"));
}

TEST_CASE("responder without a PSK for the pair: 'no PSK for <local> - <peer>'", "[exchange][failure]") {
    two_peers t;
    auto mc = t.config_for(t.moon, t.sun, "sun");
    auto sc = t.config_for(t.sun, t.moon, "moon");
    sc.peer_id = *ike::peer_identity::parse("%any");
    sc.psks[0].remote = *ike::peer_identity::parse("@someone.else");
    t.start(mc, sc);
    t.moon.ep->initiate("sun");
    t.run();
    INFO(t.moon.dump_log() << t.sun.dump_log());
    CHECK(t.sun.logged("no PSK for 198.51.100.2 - 192.0.2.1"));
    CHECK_FALSE(t.sun.logged("PSK mismatch"));
    CHECK(t.moon.ep->sas().empty());
    CHECK(t.sun.ep->sas().empty());
}

TEST_CASE("initiator without a PSK fails before sending IKE_AUTH", "[exchange][failure]") {
    two_peers t;
    auto mc = t.config_for(t.moon, t.sun, "sun");
    mc.psks.clear();
    t.start(mc, t.config_for(t.sun, t.moon, "moon"));
    t.moon.ep->initiate("sun");
    t.run();
    CHECK(t.moon.ep->last_error() == "no PSK for 192.0.2.1 - 198.51.100.2");
    CHECK(t.messages(exchange_type::ike_auth, false).empty());
    CHECK(t.moon.ep->sas().empty());
}

TEST_CASE("initiator detects a responder whose AUTH does not verify", "[exchange][failure]") {
    two_peers t;
    auto mc = t.config_for(t.moon, t.sun, "sun");
    auto sc = t.config_for(t.sun, t.moon, "moon");
    // sun authenticates moon with one key but signs itself with another (two PSK entries).
    mc.psks = {{mc.local_id, mc.peer_id, base::secret_bytes(std::string_view("k1"))}};
    sc.psks = {{sc.local_id, sc.peer_id, base::secret_bytes(std::string_view("k1"))}};
    t.start(mc, sc);
    // Tamper: the responder's IDr claims another identity moon has a different PSK for.
    t.moon.ep->initiate("sun");
    t.run();
    REQUIRE(t.moon.only_sa());
    CHECK(t.moon.only_sa()->state() == ike_sa_state::established);

    two_peers u;
    auto mc2 = u.config_for(u.moon, u.sun, "sun");
    auto sc2 = u.config_for(u.sun, u.moon, "moon");
    mc2.peer_id = *ike::peer_identity::parse("%any");  // moon sends no IDr, accepts any responder ID...
    mc2.psks = {{mc2.local_id, *ike::peer_identity::parse("%any"), base::secret_bytes(std::string_view("k1"))},
                {mc2.local_id, *ike::peer_identity::parse("198.51.100.2"), base::secret_bytes(std::string_view("k2"))}};
    sc2.psks = {{sc2.local_id, sc2.peer_id, base::secret_bytes(std::string_view("k1"))}};
    u.start(mc2, sc2);
    /* IKE_AUTH { IDi, AUTH(k1) } -->  (sun verifies with k1) */
    /* <-- IKE_AUTH { IDr(198.51.100.2), AUTH(k1) }  (moon's PSK for that IDr is k2) */
    u.moon.ep->initiate("sun");
    u.run();
    INFO(u.moon.dump_log() << u.sun.dump_log());
    CHECK(u.moon.logged("AUTHENTICATION_FAILED: PSK mismatch (AUTH of 198.51.100.2 does not verify)"));
    CHECK(u.moon.ep->sas().empty());
    CHECK(u.moon.installer.sas.empty());
}

TEST_CASE("IDr mismatch: the initiator refuses a responder with another identity", "[exchange][failure]") {
    two_peers t;
    auto mc = t.config_for(t.moon, t.sun, "sun");
    auto sc = t.config_for(t.sun, t.moon, "moon");
    mc.peer_id = *ike::peer_identity::parse("@sun.example.org");  // sun says it is 198.51.100.2
    mc.psks = {{mc.local_id, mc.peer_id, base::secret_bytes(std::string_view("s3cr3t-psk"))}};
    t.start(mc, sc);
    t.moon.ep->initiate("sun");
    t.run();
    INFO(t.moon.dump_log() << t.sun.dump_log());
    // sun refuses because IDr (what moon wants it to be) is not its identity.
    CHECK(t.sun.logged("peer expects us to be sun.example.org, we are 198.51.100.2"));
    CHECK(t.moon.ep->sas().empty());
}

TEST_CASE("CHILD SA NO_PROPOSAL_CHOSEN in IKE_AUTH: IKE SA up, no CHILD SA, both ESP sets logged",
          "[exchange][failure]") {
    two_peers t;
    auto mc = t.config_for(t.moon, t.sun, "sun");
    auto sc = t.config_for(t.sun, t.moon, "moon");
    mc.esp_proposals = {"aes128-sha1"};
    sc.esp_proposals = {"aes256gcm16"};
    t.start(mc, sc);
    t.moon.ep->initiate("sun");
    /* <-- IKE_AUTH { HDR, SK { IDr, AUTH, N(NO_PROPOSAL_CHOSEN) } } */
    t.run();
    INFO(t.moon.dump_log() << t.sun.dump_log());
    REQUIRE(t.moon.only_sa());
    CHECK(t.moon.only_sa()->state() == ike_sa_state::established);
    CHECK(t.sun.only_sa()->state() == ike_sa_state::established);
    CHECK(t.moon.installer.sas.empty());
    CHECK(t.sun.installer.sas.empty());
    CHECK(t.sun.logged("NO_PROPOSAL_CHOSEN for CHILD SA: peer offered aes128-sha1-noesn, we accept aes256gcm16-noesn"));
    CHECK(t.moon.logged("CHILD SA not created: peer answered NO_PROPOSAL_CHOSEN"));
    CHECK(t.moon.only_sa()->children.empty() == false);  // the failed offer is kept as destroyed
    for (const auto& c : t.moon.only_sa()->children) CHECK(c->sm.state() == ike::child_sa_state::destroyed);
}

TEST_CASE("TS narrowing to the responder's CIDRs, and TS_UNACCEPTABLE with both selector sets",
          "[exchange][failure]") {
    SECTION("narrowed") {
        two_peers t;
        auto mc = t.config_for(t.moon, t.sun, "sun");
        auto sc = t.config_for(t.sun, t.moon, "moon");
        sc.peer_ts = {*ike::cidr::parse("10.1.7.0/24")};   // narrower than moon's 10.1.0.0/16
        sc.local_ts = {*ike::cidr::parse("10.2.0.0/24")};
        t.start(mc, sc);
        t.moon.ep->initiate("sun");
        /* IKE_AUTH { ..., TSi(10.1.0.0/16), TSr(10.2.0.0/16) } --> */
        /* <-- IKE_AUTH { ..., TSi(10.1.7.0/24), TSr(10.2.0.0/24) } */
        t.run();
        INFO(t.moon.dump_log() << t.sun.dump_log());
        REQUIRE(t.moon.installer.sas.size() == 2);
        check_crosswise(t.moon.installer, t.sun.installer);
        const auto& out = t.moon.installer.installed.back();
        CHECK(out.src_selectors.at(0).start == addr("10.1.7.0"));
        CHECK(out.src_selectors.at(0).end == addr("10.1.7.255"));
        CHECK(out.dst_selectors.at(0).end == addr("10.2.0.255"));
    }
    SECTION("unacceptable") {
        two_peers t;
        auto mc = t.config_for(t.moon, t.sun, "sun");
        auto sc = t.config_for(t.sun, t.moon, "moon");
        sc.peer_ts = {*ike::cidr::parse("172.16.0.0/12")};
        t.start(mc, sc);
        t.moon.ep->initiate("sun");
        /* <-- IKE_AUTH { HDR, SK { IDr, AUTH, N(TS_UNACCEPTABLE) } } */
        t.run();
        INFO(t.moon.dump_log() << t.sun.dump_log());
        CHECK(t.sun.logged("TS_UNACCEPTABLE: peer proposed 10.1.0.0/16 === 10.2.0.0/16, we allow 172.16.0.0/12 === 10.2.0.0/16"));
        CHECK(t.moon.logged("CHILD SA not created: peer answered TS_UNACCEPTABLE"));
        CHECK(t.moon.installer.sas.empty());
        REQUIRE(t.moon.only_sa());
        CHECK(t.moon.only_sa()->state() == ike_sa_state::established);
    }
}

TEST_CASE("requests that fail the payload rules are answered with the codec's notify", "[exchange][failure]") {
    two_peers t;
    t.start_default();
    // IKE_SA_INIT without KE: INVALID_SYNTAX from the exchange table, no SA created.
    ike::message m;
    m.header.exchange = exchange_type::ike_sa_init;
    m.header.initiator = true;
    m.header.spi_i = {1, 2, 3, 4, 5, 6, 7, 8};
    auto props = ike::parse_proposals({"aes256-sha256-modp2048"}, ike::protocol_id::ike);
    m.payloads.push_back(ike::make_payload(ike::sa_payload{*props}));
    m.payloads.push_back(ike::make_payload(ike::nonce_payload{std::vector<std::uint8_t>(32, 7)}));
    auto bytes = ike::serialize_message(m);
    REQUIRE(bytes);
    t.net.inject({{addr("192.0.2.1"), 500}, {addr("198.51.100.2"), 500}, *bytes});
    t.run();
    INFO(t.sun.dump_log());
    auto resp = t.messages(exchange_type::ike_sa_init, true);
    REQUIRE(resp.size() == 1);
    auto r = decode_init(resp[0]);
    REQUIRE(r);
    CHECK(r->payloads.size() == 1);
    CHECK(r->payloads.at(0).as<ike::notify_payload>()->type == ike::notify_type::invalid_syntax);
    CHECK(t.sun.ep->sas().empty());
}

TEST_CASE("a forged or corrupted protected message is dropped silently", "[exchange][failure]") {
    two_peers t;
    t.start_default();
    // Flip one bit in the first IKE_AUTH request; the genuine retransmission still works.
    bool flipped = false;
    t.net.set_drop_filter([&](const ike::memory_datagram& d) {
        auto h = ike::parse_header(d.data);
        if (!flipped && h && h->exchange == exchange_type::ike_auth && !h->response) {
            flipped = true;
            auto copy = d;
            copy.data[copy.data.size() - 20] ^= 0x01;
            t.net.inject(copy);
            return true;  // the original is lost
        }
        return false;
    });
    t.moon.ep->initiate("sun");
    t.run();
    INFO(t.moon.dump_log() << t.sun.dump_log());
    CHECK(t.sun.logged("integrity check failed"));
    CHECK(t.messages(exchange_type::ike_auth, true).empty());  // no answer to a bad ICV
    t.advance(std::chrono::seconds(4));  // moon retransmits the genuine request
    REQUIRE(t.moon.only_sa());
    CHECK(t.moon.only_sa()->state() == ike_sa_state::established);
    check_crosswise(t.moon.installer, t.sun.installer);
}

TEST_CASE("a higher major version is answered with INVALID_MAJOR_VERSION and no state (RFC 7296 2.5)",
          "[exchange][failure]") {
    two_peers t;
    t.start_default();
    ike::message m;
    m.header.exchange = exchange_type::ike_sa_init;
    m.header.initiator = true;
    m.header.spi_i = {9, 9, 9, 9, 9, 9, 9, 9};
    m.payloads.push_back(ike::make_payload(ike::nonce_payload{std::vector<std::uint8_t>(32, 7)}));
    auto bytes = *ike::serialize_message(m);
    bytes[17] = 0x30;  // IKE version 3.0
    t.net.inject({{addr("192.0.2.1"), 500}, {addr("198.51.100.2"), 500}, bytes});
    t.run();
    auto resp = t.messages(exchange_type::ike_sa_init, true);
    REQUIRE(resp.size() == 1);
    auto r = decode_init(resp[0]);
    REQUIRE(r);
    CHECK(r->header.major_version == 2);
    CHECK(r->header.spi_i == m.header.spi_i);
    REQUIRE(r->find_notify(ike::notify_type::invalid_major_version));
    CHECK(t.sun.ep->sas().empty());
    // IKEv1 (major 1) is not answered at all.
    bytes[17] = 0x10;
    t.net.inject({{addr("192.0.2.1"), 500}, {addr("198.51.100.2"), 500}, bytes});
    t.run();
    CHECK(t.messages(exchange_type::ike_sa_init, true).size() == 1);
}

TEST_CASE("INITIAL_CONTACT on a new IKE SA removes the peer's stale SAs (RFC 7296 2.4)", "[exchange][failure]") {
    recording_installer fresh_installer;  // outlives t, whose endpoint will use it
    two_peers t;
    t.start_default();
    t.moon.ep->initiate("sun");
    t.run();
    REQUIRE(t.sun.ep->sas().size() == 1);
    auto old_id = t.sun.only_sa()->unique_id;
    REQUIRE(t.sun.installer.sas.size() == 2);
    // moon "reboots": a fresh endpoint at the same address initiates again with INITIAL_CONTACT.
    t.moon.ep.reset();
    t.moon.ep = std::make_unique<ike::endpoint>(t.net.attach(t.moon.address), t.clock, fresh_installer);
    t.moon.ep->add_peer(t.config_for(t.moon, t.sun, "sun"));
    t.moon.ep->initiate("sun");
    t.run();
    INFO(t.sun.dump_log());
    REQUIRE(t.sun.ep->sas().size() == 1);
    CHECK(t.sun.only_sa()->unique_id != old_id);
    CHECK(t.sun.logged("replaced: peer sent INITIAL_CONTACT on a new IKE SA"));
    CHECK(t.sun.installer.sas.size() == 2);  // only the new CHILD SA's pair is left
    check_crosswise(fresh_installer, t.sun.installer);
}
