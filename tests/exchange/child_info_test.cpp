// CREATE_CHILD_SA for additional CHILD SAs (with and without PFS) and INFORMATIONAL exchanges:
// DELETE of CHILD and IKE SAs in both directions, empty liveness requests.
#include "harness.hpp"

using namespace exchange_test;
using ike::exchange_type;
using ike::ike_sa_state;
using ike::sa_direction;

namespace {
std::uint32_t establish(two_peers& t) {
    auto id = t.moon.ep->initiate("sun");
    t.run();
    REQUIRE(t.moon.only_sa());
    REQUIRE(t.moon.only_sa()->state() == ike_sa_state::established);
    REQUIRE(t.sun.only_sa()->state() == ike_sa_state::established);
    return *id;
}
std::optional<ike::message> decrypt_none(const wire_message& w) {
    auto m = ike::parse_message(w.d.data);
    if (!m) return std::nullopt;
    return std::move(m).value();
}
} // namespace

TEST_CASE("CREATE_CHILD_SA adds a CHILD SA without PFS; keys differ from the first one", "[exchange][child]") {
    two_peers t;
    t.start_default();
    auto id = establish(t);
    /* CREATE_CHILD_SA { HDR, SK { SA, Ni, TSi, TSr } } --> */
    /* <-- CREATE_CHILD_SA { HDR, SK { SA, Nr, TSi, TSr } } */
    REQUIRE(t.moon.ep->create_child(id));
    t.run();
    INFO(t.moon.dump_log() << t.sun.dump_log());
    REQUIRE(t.moon.installer.sas.size() == 4);
    check_crosswise(t.moon.installer, t.sun.installer);
    CHECK(t.moon.installer.installed[1].encryption_key != t.moon.installer.installed[3].encryption_key);
    auto req = t.messages(exchange_type::create_child_sa, false);
    REQUIRE(req.size() == 1);
    CHECK(req[0].header->message_id == 2);
    CHECK(t.moon.only_sa()->children.size() == 2);
}

TEST_CASE("CREATE_CHILD_SA with PFS: KE in both messages, g^ir in the keys", "[exchange][child]") {
    for (const char* esp : {"aes256-sha256-modp2048", "aes128gcm16-ecp256", "aes256-sha1-curve25519"}) {
        DYNAMIC_SECTION(esp) {
            two_peers t;
            auto mc = t.config_for(t.moon, t.sun, "sun");
            auto sc = t.config_for(t.sun, t.moon, "moon");
            mc.esp_proposals = sc.esp_proposals = {esp};
            t.start(mc, sc);
            auto id = establish(t);  // IKE_AUTH's CHILD SA ignores the group (no KE there)
            REQUIRE(t.moon.installer.sas.size() == 2);
            /* CREATE_CHILD_SA { HDR, SK { SA, Ni, KEi, TSi, TSr } } --> */
            /* <-- CREATE_CHILD_SA { HDR, SK { SA, Nr, KEr, TSi, TSr } } */
            REQUIRE(t.moon.ep->create_child(id));
            t.run();
            INFO(t.moon.dump_log() << t.sun.dump_log());
            REQUIRE(t.moon.installer.sas.size() == 4);
            check_crosswise(t.moon.installer, t.sun.installer);
            auto* c = t.moon.only_sa()->children.back().get();
            CHECK(c->suite.dh != ike::dh_group::none);
        }
    }
}

TEST_CASE("CREATE_CHILD_SA: INVALID_KE_PAYLOAD for PFS, one retry with the responder's group", "[exchange][child]") {
    two_peers t;
    auto mc = t.config_for(t.moon, t.sun, "sun");
    auto sc = t.config_for(t.sun, t.moon, "moon");
    mc.esp_proposals = {"aes256-sha256-modp2048-ecp256"};
    sc.esp_proposals = {"aes256-sha256-ecp256"};
    t.start(mc, sc);
    auto id = establish(t);
    /* CREATE_CHILD_SA { SA, Ni, KEi(MODP_2048), TSi, TSr } --> */
    /* <-- CREATE_CHILD_SA { N(INVALID_KE_PAYLOAD, ECP_256) } */
    /* CREATE_CHILD_SA { SA, Ni, KEi(ECP_256), TSi, TSr } --> */
    /* <-- CREATE_CHILD_SA { SA, Nr, KEr, TSi, TSr } */
    REQUIRE(t.moon.ep->create_child(id));
    t.run();
    INFO(t.moon.dump_log() << t.sun.dump_log());
    auto reqs = t.messages(exchange_type::create_child_sa, false);
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[0].header->message_id == 2);
    CHECK(reqs[1].header->message_id == 3);  // a new exchange, new Message ID
    REQUIRE(t.moon.installer.sas.size() == 4);
    check_crosswise(t.moon.installer, t.sun.installer);
    CHECK(t.moon.only_sa()->children.back()->suite.dh == ike::dh_group::ecp256);
}

TEST_CASE("CREATE_CHILD_SA failures keep the IKE SA and the existing CHILD SAs", "[exchange][child]") {
    two_peers t;
    auto mc = t.config_for(t.moon, t.sun, "sun");
    auto sc = t.config_for(t.sun, t.moon, "moon");
    mc.esp_proposals = {"aes256-sha256-modp2048"};  // PFS required by moon
    sc.esp_proposals = {"aes256-sha256"};           // sun refuses PFS
    t.start(mc, sc);
    auto id = establish(t);
    REQUIRE(t.moon.ep->create_child(id));
    /* <-- CREATE_CHILD_SA { HDR, SK { N(NO_PROPOSAL_CHOSEN) } } */
    t.run();
    INFO(t.moon.dump_log() << t.sun.dump_log());
    CHECK(t.moon.logged("CHILD SA not created: peer answered NO_PROPOSAL_CHOSEN"));
    CHECK(t.sun.logged("peer offered aes256-sha256-modp2048-noesn, we accept aes256-sha256-noesn"));
    CHECK(t.moon.installer.sas.size() == 2);
    CHECK(t.sun.installer.sas.size() == 2);
    CHECK(t.moon.only_sa()->state() == ike_sa_state::established);
    // The SPI of the failed offer is free again.
    CHECK(t.moon.only_sa()->children.back()->sm.state() == ike::child_sa_state::destroyed);
}

TEST_CASE("INFORMATIONAL DELETE of a CHILD SA, initiated by either side", "[exchange][informational]") {
    for (bool by_moon : {true, false}) {
        DYNAMIC_SECTION((by_moon ? "moon deletes" : "sun deletes")) {
            two_peers t;
            t.start_default();
            auto id = establish(t);
            REQUIRE(t.moon.ep->create_child(id));
            t.run();
            REQUIRE(t.moon.installer.sas.size() == 4);
            side& del = by_moon ? t.moon : t.sun;
            side& other = by_moon ? t.sun : t.moon;
            auto* sa = del.only_sa();
            auto reqid = sa->children.front()->reqid;
            auto spi_in = sa->children.front()->spi_in;
            auto spi_out = sa->children.front()->spi_out;
            /* INFORMATIONAL { HDR, SK { D(ESP, SPI) } } --> */
            /* <-- INFORMATIONAL { HDR, SK { D(ESP, SPI') } } */
            REQUIRE(del.ep->delete_child(sa->unique_id, reqid));
            t.run();
            INFO(t.moon.dump_log() << t.sun.dump_log());
            CHECK(del.installer.sas.size() == 2);
            CHECK(other.installer.sas.size() == 2);
            check_crosswise(t.moon.installer, t.sun.installer);
            CHECK(std::count(del.installer.removed.begin(), del.installer.removed.end(),
                             std::make_pair(sa_direction::inbound, spi_in)) == 1);
            CHECK(std::count(other.installer.removed.begin(), other.installer.removed.end(),
                             std::make_pair(sa_direction::inbound, spi_out)) == 1);
            CHECK(del.only_sa()->state() == ike_sa_state::established);
        }
    }
}

TEST_CASE("INFORMATIONAL DELETE of the IKE SA removes every CHILD SA on both sides", "[exchange][informational]") {
    for (bool by_moon : {true, false}) {
        DYNAMIC_SECTION((by_moon ? "moon deletes" : "sun deletes")) {
            two_peers t;
            t.start_default();
            auto id = establish(t);
            REQUIRE(t.moon.ep->create_child(id));
            t.run();
            side& del = by_moon ? t.moon : t.sun;
            /* INFORMATIONAL { HDR, SK { D(IKE) } } --> */
            /* <-- INFORMATIONAL { HDR, SK { } } */
            REQUIRE(del.ep->delete_ike(del.only_sa()->unique_id));
            t.run();
            INFO(t.moon.dump_log() << t.sun.dump_log());
            CHECK(t.moon.ep->sas().empty());
            CHECK(t.sun.ep->sas().empty());
            CHECK(t.moon.installer.sas.empty());
            CHECK(t.sun.installer.sas.empty());
            CHECK(t.moon.installer.removed.size() == 4);
            auto resp = t.messages(exchange_type::informational, true);
            REQUIRE(resp.size() == 1);
            CHECK(resp[0].header->initiator == !by_moon);
        }
    }
}

TEST_CASE("IKE SA delete goes through even when the response is lost", "[exchange][informational]") {
    two_peers t;
    t.start_default();
    auto id = establish(t);
    t.net.set_drop_filter([](const ike::memory_datagram& d) {
        auto h = ike::parse_header(d.data);
        return h && h->exchange == exchange_type::informational && h->response;
    });
    REQUIRE(t.moon.ep->delete_ike(id));
    t.run();
    CHECK(t.sun.ep->sas().empty());
    CHECK(t.moon.ep->sas().size() == 1);
    CHECK(t.moon.only_sa()->state() == ike_sa_state::deleting);
    t.run_for(std::chrono::seconds(170));
    CHECK(t.moon.ep->sas().empty());
    CHECK(t.moon.installer.sas.empty());
}

TEST_CASE("empty INFORMATIONAL (liveness) requests are answered, in both directions", "[exchange][informational]") {
    two_peers t;
    t.start_default();
    auto id = establish(t);
    /* INFORMATIONAL { HDR, SK { } } --> */
    /* <-- INFORMATIONAL { HDR, SK { } } */
    REQUIRE(t.moon.ep->send_liveness(id));
    t.run();
    REQUIRE(t.sun.ep->send_liveness(t.sun.only_sa()->unique_id));
    t.run();
    auto reqs = t.messages(exchange_type::informational, false);
    auto resps = t.messages(exchange_type::informational, true);
    REQUIRE(reqs.size() == 2);
    REQUIRE(resps.size() == 2);
    CHECK(reqs[0].header->message_id == 2);  // moon's third request
    CHECK(reqs[1].header->message_id == 0);  // sun's first request
    CHECK(resps[1].header->message_id == 0);
    CHECK(t.moon.only_sa()->tasks.next_request_id() == 3);
    CHECK(t.sun.only_sa()->tasks.next_request_id() == 1);
    CHECK(t.moon.only_sa()->state() == ike_sa_state::established);
    (void)decrypt_none;
}

TEST_CASE("window size 1: queued exchanges wait for the outstanding one", "[exchange][informational]") {
    two_peers t;
    t.start_default();
    auto id = establish(t);
    REQUIRE(t.moon.ep->create_child(id));
    REQUIRE(t.moon.ep->send_liveness(id));
    REQUIRE(t.moon.ep->create_child(id));
    std::size_t before = t.wire.size();  // the first request is already on the wire
    // Only the first request is on the wire until its response arrives.
    CHECK(t.net.queued() == 1);
    t.run();
    CHECK(t.wire.size() == before + 5);
    auto reqs = t.messages(exchange_type::create_child_sa, false);
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[1].header->message_id == 4);
    CHECK(t.moon.installer.sas.size() == 6);
    check_crosswise(t.moon.installer, t.sun.installer);
}
