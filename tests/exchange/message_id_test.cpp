// Message IDs (RFC 7296 2.1, 2.2): a retransmitted request is answered from the cache and not
// processed again, old IDs are ignored, IDs beyond the window (size 1) are dropped, a response we
// do not wait for is dropped, and the IKE SA is rekeyed before the 32-bit space runs out.
#include "harness.hpp"

#include <ike/message.hpp>
#include <ike/task_manager.hpp>

using namespace exchange_test;
using ike::exchange_type;
using ike::ike_sa_state;
using ike::notify_type;
using namespace std::chrono_literals;

namespace {

struct established_peers : two_peers {
    established_peers() {
        start_default();
        moon.ep->initiate("sun");
        run();
        m = moon.only_sa();
        s = sun.only_sa();
        REQUIRE(m);
        REQUIRE(s);
        REQUIRE(m->state() == ike_sa_state::established);
        REQUIRE(s->state() == ike_sa_state::established);
    }
    // An authentic (moon's keys) INFORMATIONAL from moon with any Message ID and flags.
    ike::memory_datagram forge_from_moon(std::uint32_t message_id, bool response) {
        ike::message info;
        info.header.spi_i = m->spi_i;
        info.header.spi_r = m->spi_r;
        info.header.exchange = exchange_type::informational;
        info.header.initiator = true;
        info.header.response = response;
        info.header.message_id = message_id;
        auto bytes = ike::serialize_message(info, m->sk_out.get());
        REQUIRE(bytes);
        return {m->local, m->remote, *bytes};
    }
    ike::ike_sa* m = nullptr;
    ike::ike_sa* s = nullptr;
};

} // namespace

TEST_CASE("a retransmitted CREATE_CHILD_SA request is answered from the cache, the CHILD SA created once",
          "[exchange][message_id]") {
    established_peers t;
    REQUIRE(t.moon.ep->create_child(t.m->unique_id));
    /* CREATE_CHILD_SA request 2 { HDR, SK { SA, Ni, TSi, TSr } } --> */
    /* <-- CREATE_CHILD_SA response 2 { HDR, SK { SA, Nr, TSi, TSr } } */
    t.run();
    CHECK(t.sun.installer.sas.size() == 4);
    auto req = t.messages(exchange_type::create_child_sa, false).at(0);
    auto resp = t.messages(exchange_type::create_child_sa, true).at(0);
    auto installs = t.sun.installer.installed.size();
    /* CREATE_CHILD_SA request 2 --> (duplicate) */
    /* <-- CREATE_CHILD_SA response 2 (the cached bytes) */
    t.net.inject(req.d);
    t.run();
    auto resps = t.messages(exchange_type::create_child_sa, true);
    REQUIRE(resps.size() == 2);
    CHECK(resps[1].d.data == resp.d.data);
    CHECK(t.sun.installer.installed.size() == installs);
    CHECK(t.s->tasks.expected_request_id() == 3);
    check_crosswise(t.moon.installer, t.sun.installer);
}

TEST_CASE("requests with an old Message ID are ignored", "[exchange][message_id]") {
    established_peers t;
    REQUIRE(t.moon.ep->create_child(t.m->unique_id));
    t.run();  // Message ID 2: sun now expects 3 and caches the response to 2
    REQUIRE(t.s->tasks.expected_request_id() == 3);
    auto auth = t.messages(exchange_type::ike_auth, false).at(0);
    auto before = t.wire.size();
    auto dropped = t.s->dropped_message_id;
    /* IKE_AUTH request 1 --> (replayed, two exchanges old): no answer, no state change */
    t.net.inject(auth.d);
    /* INFORMATIONAL request 0 --> (authentic, but old) */
    t.net.inject(t.forge_from_moon(0, false));
    t.run();
    INFO(t.sun.dump_log());
    CHECK(t.wire.size() == before);
    CHECK(t.s->dropped_message_id == dropped + 2);
    CHECK(t.sun.logged("dropped IKE_AUTH request with Message ID 1 (expected 3)"));
    CHECK(t.s->tasks.expected_request_id() == 3);
    CHECK(t.s->state() == ike_sa_state::established);
}

TEST_CASE("requests beyond the window and unexpected responses are dropped", "[exchange][message_id]") {
    established_peers t;
    REQUIRE(t.s->tasks.expected_request_id() == 2);
    auto before = t.wire.size();
    /* INFORMATIONAL request 3 --> (window size 1: only 2 is acceptable) */
    t.net.inject(t.forge_from_moon(3, false));
    /* INFORMATIONAL request 0x7fffffff --> */
    t.net.inject(t.forge_from_moon(0x7fffffff, false));
    /* INFORMATIONAL response 2 --> (sun has no request outstanding) */
    t.net.inject(t.forge_from_moon(2, true));
    t.run();
    INFO(t.sun.dump_log());
    CHECK(t.wire.size() == before);
    CHECK(t.s->dropped_message_id == 3);
    CHECK(t.sun.logged("dropped INFORMATIONAL request with Message ID 3 (expected 2)"));
    CHECK(t.sun.logged("dropped unexpected INFORMATIONAL response with Message ID 2"));
    CHECK(t.s->tasks.expected_request_id() == 2);
    // The window is still usable: the genuine request 2 is answered.
    /* INFORMATIONAL request 2 { HDR, SK { } } --> , <-- INFORMATIONAL response 2 */
    REQUIRE(t.moon.ep->send_liveness(t.m->unique_id));
    t.run();
    CHECK(t.s->tasks.expected_request_id() == 3);
    CHECK(t.m->tasks.next_request_id() == 3);
}

TEST_CASE("the IKE SA is rekeyed when our Message IDs near 2^32 (threshold 0xFFFF0000)", "[exchange][message_id]") {
    established_peers t;
    // Test hook: continue both peers' counters just below the threshold (crosswise).
    const std::uint32_t near = ike::message_id_rekey_threshold - 2;
    t.m->tasks.set_message_ids_for_test(near, 0);
    t.s->tasks.set_message_ids_for_test(0, near);
    auto old_spi = t.m->spi_i;
    /* INFORMATIONAL request 0xFFFEFFFE --> , <-- ; request 0xFFFEFFFF --> , <-- */
    REQUIRE(t.moon.ep->send_liveness(t.m->unique_id));
    t.run();
    REQUIRE(t.moon.ep->send_liveness(t.m->unique_id));
    t.run();
    CHECK(t.m->tasks.next_request_id() == ike::message_id_rekey_threshold);
    CHECK(t.moon.logged("Message IDs near the 32-bit limit (next request 0xffff0000"));
    /* CREATE_CHILD_SA request 0xFFFF0000 { SA(IKE), Ni, KEi } --> , <-- { SA, Nr, KEr } */
    /* INFORMATIONAL request 0xFFFF0001 { D(IKE) } --> , <-- */
    t.advance(1ms);
    t.run_for(1s);
    INFO(t.moon.dump_log() << t.sun.dump_log());
    auto* m = t.moon.only_sa();
    auto* s = t.sun.only_sa();
    REQUIRE(m);
    REQUIRE(s);
    CHECK(m->spi_i != old_spi);
    CHECK(m->state() == ike_sa_state::established);
    CHECK(s->state() == ike_sa_state::established);
    // The new IKE SA counts from 0, and the CHILD SA moved to it.
    CHECK(m->tasks.next_request_id() == 0);
    CHECK(s->tasks.expected_request_id() == 0);
    CHECK(m->children.size() == 1);
    CHECK(t.moon.installer.sas.size() == 2);
    check_crosswise(t.moon.installer, t.sun.installer);
    /* INFORMATIONAL request 0 --> , <-- on the new SA */
    REQUIRE(t.moon.ep->send_liveness(m->unique_id));
    t.run();
    CHECK(m->tasks.next_request_id() == 1);
}

TEST_CASE("the responder rekeys when the peer's Message IDs near 2^32 and the peer does not",
          "[exchange][message_id]") {
    established_peers t;
    // moon plays a peer that never rekeys for its Message IDs; sun's view of them crosses
    // 0xFFFF8000 with the next request.
    const std::uint32_t near = ike::peer_message_id_rekey_threshold - 1;
    t.m->tasks.set_message_ids_for_test(near, 0, /*no_exhaustion_rekey=*/true);
    t.s->tasks.set_message_ids_for_test(0, near);
    auto old_spi = t.s->spi_r;
    REQUIRE(t.moon.ep->send_liveness(t.m->unique_id));
    t.run();
    CHECK(t.sun.logged("Message IDs near the 32-bit limit"));
    t.advance(1ms);
    t.run_for(1s);
    INFO(t.moon.dump_log() << t.sun.dump_log());
    auto* m = t.moon.only_sa();
    auto* s = t.sun.only_sa();
    REQUIRE(m);
    REQUIRE(s);
    CHECK(s->spi_r != old_spi);
    CHECK(s->state() == ike_sa_state::established);
    CHECK(m->state() == ike_sa_state::established);
    CHECK(s->original_initiator);  // sun initiated the rekey
    CHECK(m->tasks.expected_request_id() < 5);
    check_crosswise(t.moon.installer, t.sun.installer);
}

TEST_CASE("with the last Message ID reached the IKE SA is closed, never wrapped", "[exchange][message_id]") {
    established_peers t;
    t.m->tasks.set_message_ids_for_test(ike::last_message_id, 0);
    auto before = t.wire.size();
    REQUIRE(t.moon.ep->send_liveness(t.m->unique_id));
    t.run();
    CHECK(t.wire.size() == before);  // nothing sent with 0xFFFFFFFF
    CHECK(t.moon.ep->sas().empty());
    CHECK(t.moon.ep->last_error() == "Message ID space exhausted");
    CHECK(t.moon.installer.sas.empty());
}
