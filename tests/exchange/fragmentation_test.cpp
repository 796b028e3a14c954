// IKE fragmentation (RFC 7383) between two endpoints: negotiation in IKE_SA_INIT (2.3), SK
// messages above the fragment size sent as SKF fragments (2.5), reassembly with each fragment's
// ICV checked first, duplicates, reordering, loss (retransmission of the whole set), forged
// fragments, the retransmitted-request rule of 2.6.1, the reassembly timeout, and SKF dropped when
// fragmentation was not negotiated.
#include "harness.hpp"

#include <ike/message.hpp>

#include <algorithm>
#include <functional>

using namespace exchange_test;
using ike::exchange_type;
using ike::ike_sa_state;
using ike::notify_type;
using ike::payload_type;
using namespace std::chrono_literals;

namespace {

// Small enough that IKE_AUTH (PSK, IP identities, one ESP proposal) needs several fragments.
constexpr std::size_t small_fragment_size = 160;

bool is_skf(const wire_message& w) { return w.header && w.header->next_payload == payload_type::skf; }

std::size_t count_skf(const std::vector<wire_message>& v) {
    return static_cast<std::size_t>(std::count_if(v.begin(), v.end(), is_skf));
}

bool offers_fragmentation(const wire_message& w) {
    auto m = ike::parse_message(w.d.data);
    return m && m->find_notify(notify_type::ikev2_fragmentation_supported) != nullptr;
}

// Fragment Number of an SKF datagram (without non-ESP marker).
std::uint16_t fragment_number(const ike::memory_datagram& d) {
    auto m = ike::parse_message(d.data);
    return m && m->skf() ? m->skf()->fragment_number : 0;
}

struct fragmenting_peers : two_peers {
    explicit fragmenting_peers(const std::function<void(ike::peer_config& moon, ike::peer_config& sun)>& tweak = {}) {
        auto mc = config_for(moon, sun, "sun");
        auto sc = config_for(sun, moon, "moon");
        mc.fragment_size = sc.fragment_size = small_fragment_size;
        if (tweak) tweak(mc, sc);
        start(std::move(mc), std::move(sc));
    }
    // Holds back every IKE_AUTH request datagram (fragments) instead of sending it.
    std::vector<ike::memory_datagram> held;
    void hold_auth_requests() {
        net.set_drop_filter([this](const ike::memory_datagram& d) {
            auto h = ike::parse_header(d.data);
            if (!h || h->exchange != exchange_type::ike_auth || h->response) return false;
            held.push_back(d);
            return true;
        });
    }
};

} // namespace

TEST_CASE("fragmentation is negotiated in IKE_SA_INIT and IKE_AUTH goes out as SKF fragments both ways",
          "[exchange][fragmentation]") {
    fragmenting_peers t;
    t.moon.ep->initiate("sun");
    /* IKE_SA_INIT { HDR, SAi1, KEi, Ni, N(NAT_DETECTION_*), N(IKEV2_FRAGMENTATION_SUPPORTED) } --> */
    /* <-- IKE_SA_INIT { HDR, SAr1, KEr, Nr, N(NAT_DETECTION_*), N(IKEV2_FRAGMENTATION_SUPPORTED) } */
    /* IKE_AUTH { HDR, SKF(1/n) { IDi, N(INITIAL_CONTACT), IDr, AUTH ... } } -->  ... SKF(n/n) --> */
    /* <-- IKE_AUTH { HDR, SKF(1/m) { IDr, AUTH, SAr2, TSi, TSr } } ... SKF(m/m) */
    t.run();
    auto* m = t.moon.only_sa();
    auto* s = t.sun.only_sa();
    REQUIRE(m);
    REQUIRE(s);
    INFO(t.moon.dump_log() << t.sun.dump_log());
    CHECK(offers_fragmentation(t.messages(exchange_type::ike_sa_init, false).at(0)));
    CHECK(offers_fragmentation(t.messages(exchange_type::ike_sa_init, true).at(0)));
    CHECK(m->fragmentation);
    CHECK(s->fragmentation);
    REQUIRE(m->state() == ike_sa_state::established);
    REQUIRE(s->state() == ike_sa_state::established);
    check_crosswise(t.moon.installer, t.sun.installer);

    auto reqs = t.messages(exchange_type::ike_auth, false);
    auto resps = t.messages(exchange_type::ike_auth, true);
    CHECK(reqs.size() >= 2);
    CHECK(resps.size() >= 2);
    CHECK(count_skf(reqs) == reqs.size());
    CHECK(count_skf(resps) == resps.size());
    // Every fragment's IP datagram (20-byte IPv4 + 8-byte UDP header + IKE) fits the size.
    for (const auto* v : {&reqs, &resps})
        for (const auto& w : *v) CHECK(20 + 8 + w.d.data.size() <= small_fragment_size);
    CHECK(m->fragment_stats.messages_fragmented == 1);
    CHECK(m->fragment_stats.fragments_sent == reqs.size());
    CHECK(s->fragment_stats.fragments_received == reqs.size());
    CHECK(s->fragment_stats.messages_reassembled == 1);
    CHECK(s->fragment_stats.fragments_sent == resps.size());
    CHECK(m->fragment_stats.messages_reassembled == 1);
    CHECK(m->fragment_stats.dropped_icv + s->fragment_stats.dropped_icv == 0);
}

TEST_CASE("with the default fragment size (1280) nothing is fragmented", "[exchange][fragmentation]") {
    two_peers t;
    t.start_default();
    t.moon.ep->initiate("sun");
    t.run();
    REQUIRE(t.moon.only_sa());
    CHECK(t.moon.only_sa()->fragmentation);
    CHECK(t.moon.only_sa()->state() == ike_sa_state::established);
    CHECK(t.moon.only_sa()->fragment_plaintext_size() > 1100);
    for (const auto& w : t.wire) CHECK_FALSE(is_skf(w));
}

TEST_CASE("a lost fragment: the whole fragment set is retransmitted, the responder completes the message",
          "[exchange][fragmentation]") {
    fragmenting_peers t;
    bool lost = false;
    t.net.set_drop_filter([&](const ike::memory_datagram& d) {
        auto h = ike::parse_header(d.data);
        if (lost || !h || h->exchange != exchange_type::ike_auth || h->response || fragment_number(d) != 2) return false;
        return lost = true;
    });
    t.moon.ep->initiate("sun");
    /* IKE_AUTH SKF(1/n) --> , SKF(2/n) (lost), SKF(3/n) ... --> */
    t.run();
    REQUIRE(lost);
    auto* m = t.moon.only_sa();
    auto* s = t.sun.only_sa();
    REQUIRE(m);
    REQUIRE(s);
    CHECK(m->state() == ike_sa_state::auth_sent);
    CHECK(s->state() == ike_sa_state::init_done);  // waiting for fragment 2
    auto first = t.messages(exchange_type::ike_auth, false);
    auto n = first.size();
    REQUIRE(n >= 2);
    /* 4 s later: IKE_AUTH SKF(1/n) ... SKF(n/n) --> (the same datagrams again) */
    /* <-- IKE_AUTH SKF(1/m) ... SKF(m/m) */
    t.advance(4s);
    INFO(t.moon.dump_log() << t.sun.dump_log());
    auto reqs = t.messages(exchange_type::ike_auth, false);
    REQUIRE(reqs.size() == 2 * n);
    for (std::size_t i = 0; i < n; ++i) CHECK(reqs[i].d.data == reqs[n + i].d.data);
    CHECK(m->state() == ike_sa_state::established);
    CHECK(s->state() == ike_sa_state::established);
    // The fragments sun already held came again and were ignored.
    CHECK(s->fragment_stats.duplicates == n - 1);
    CHECK(s->fragment_stats.messages_reassembled == 1);
    CHECK(m->fragment_stats.fragments_sent == 2 * n);
    CHECK(t.moon.logged("(" + std::to_string(n) + " fragments)"));
    check_crosswise(t.moon.installer, t.sun.installer);
}

TEST_CASE("fragments arriving in reverse order and twice each are reassembled once", "[exchange][fragmentation]") {
    fragmenting_peers t;
    t.hold_auth_requests();
    t.moon.ep->initiate("sun");
    t.run();
    auto held = t.held;
    REQUIRE(held.size() >= 2);
    t.net.set_drop_filter({});
    /* IKE_AUTH SKF(n/n) --> SKF(n/n) --> ... SKF(1/1) --> SKF(1/n) --> */
    for (auto it = held.rbegin(); it != held.rend(); ++it) {
        t.net.inject(*it);
        t.net.inject(*it);
    }
    /* <-- IKE_AUTH SKF(1/m) ... SKF(m/m)   (once fragment 1 completed the request) */
    /* the second SKF(1/n) is a retransmission of an answered request (RFC 7383 2.6.1): */
    /* <-- IKE_AUTH SKF(1/m) ... SKF(m/m)   (the cached set again; moon ignores it) */
    t.run();
    INFO(t.moon.dump_log() << t.sun.dump_log());
    auto* m = t.moon.only_sa();
    auto* s = t.sun.only_sa();
    REQUIRE(m);
    REQUIRE(s);
    CHECK(m->state() == ike_sa_state::established);
    CHECK(s->state() == ike_sa_state::established);
    auto resps = t.messages(exchange_type::ike_auth, true);
    REQUIRE(s->tasks.response_datagrams() >= 2);
    CHECK(resps.size() == 2 * s->tasks.response_datagrams());
    CHECK(s->fragment_stats.messages_reassembled == 1);
    // n-1 duplicates while reassembling; the last duplicate (fragment 1) came after the request
    // was answered: RFC 7383 2.6.1 makes fragment 1 of an answered request re-send the response.
    CHECK(s->fragment_stats.duplicates == held.size() - 1);
    CHECK(t.sun.logged("peer retransmitted IKE_AUTH request 1, re-sending our response"));
    CHECK(t.sun.installer.installed.size() == 2);  // processed once
    check_crosswise(t.moon.installer, t.sun.installer);
}

TEST_CASE("a retransmitted fragmented request: only fragment 1 re-sends the cached (fragmented) response",
          "[exchange][fragmentation]") {
    fragmenting_peers t;
    t.moon.ep->initiate("sun");
    t.run();
    REQUIRE(t.sun.only_sa());
    REQUIRE(t.sun.only_sa()->state() == ike_sa_state::established);
    auto reqs = t.messages(exchange_type::ike_auth, false);
    auto first_resps = t.messages(exchange_type::ike_auth, true);
    REQUIRE(reqs.size() >= 2);
    /* IKE_AUTH SKF(2/n) ... SKF(n/n) --> (again): ignored */
    for (std::size_t i = 1; i < reqs.size(); ++i) t.net.inject(reqs[i].d);
    t.run();
    CHECK(t.messages(exchange_type::ike_auth, true).size() == first_resps.size());
    /* IKE_AUTH SKF(1/n) --> (again) */
    /* <-- IKE_AUTH SKF(1/m) ... SKF(m/m)   (the cached set, byte for byte) */
    t.net.inject(reqs[0].d);
    t.run();
    auto resps = t.messages(exchange_type::ike_auth, true);
    REQUIRE(resps.size() == 2 * first_resps.size());
    for (std::size_t i = 0; i < first_resps.size(); ++i)
        CHECK(resps[first_resps.size() + i].d.data == first_resps[i].d.data);
    CHECK(t.sun.installer.installed.size() == 2);
}

TEST_CASE("a forged fragment (bad ICV) is dropped before reassembly and does not disturb the genuine ones",
          "[exchange][fragmentation]") {
    fragmenting_peers t;
    t.hold_auth_requests();
    t.moon.ep->initiate("sun");
    t.run();
    auto held = t.held;
    REQUIRE(held.size() >= 2);
    t.net.set_drop_filter({});
    auto forged = held[1];
    forged.data.back() ^= 0x01;  // last byte of the ICV
    auto forged_total = held[0];
    forged_total.data[forged_total.data.size() - 20] ^= 0x80;  // inside the ciphertext
    /* IKE_AUTH SKF(2/n) (forged) --> , SKF(1/n) (forged) --> : dropped, counted */
    t.net.inject(forged);
    t.net.inject(forged_total);
    t.run();
    auto* s = t.sun.only_sa();
    REQUIRE(s);
    CHECK(s->fragment_stats.dropped_icv == 2);
    CHECK(s->fragment_stats.fragments_received == 0);
    CHECK(t.sun.logged("fragment 2/" + std::to_string(held.size()) + ": integrity check failed"));
    /* IKE_AUTH SKF(1/n) ... SKF(n/n) --> (genuine) */
    for (const auto& d : held) t.net.inject(d);
    t.run();
    INFO(t.moon.dump_log() << t.sun.dump_log());
    CHECK(s->state() == ike_sa_state::established);
    CHECK(t.moon.only_sa()->state() == ike_sa_state::established);
    CHECK(s->fragment_stats.fragments_received == held.size());
    check_crosswise(t.moon.installer, t.sun.installer);
}

TEST_CASE("fragmentation not negotiated: messages go whole, and SKF fragments are dropped and counted",
          "[exchange][fragmentation]") {
    fragmenting_peers t([](ike::peer_config&, ike::peer_config& sun) { sun.fragmentation = false; });
    t.moon.ep->initiate("sun");
    /* IKE_SA_INIT { ..., N(IKEV2_FRAGMENTATION_SUPPORTED) } --> */
    /* <-- IKE_SA_INIT { ... }   (no N(IKEV2_FRAGMENTATION_SUPPORTED)) */
    /* IKE_AUTH { HDR, SK { ... } } -->   (whole, larger than the fragment size) */
    t.run();
    auto* m = t.moon.only_sa();
    auto* s = t.sun.only_sa();
    REQUIRE(m);
    REQUIRE(s);
    CHECK(offers_fragmentation(t.messages(exchange_type::ike_sa_init, false).at(0)));
    CHECK_FALSE(offers_fragmentation(t.messages(exchange_type::ike_sa_init, true).at(0)));
    CHECK_FALSE(m->fragmentation);
    CHECK_FALSE(s->fragmentation);
    REQUIRE(m->state() == ike_sa_state::established);
    for (const auto& w : t.wire) CHECK_FALSE(is_skf(w));
    auto reqs = t.messages(exchange_type::ike_auth, false);
    REQUIRE(reqs.size() == 1);
    CHECK(20 + 8 + reqs[0].d.data.size() > small_fragment_size);

    // An authentic INFORMATIONAL from moon, but as SKF fragments sun never agreed to.
    ike::message info;
    info.header.spi_i = m->spi_i;
    info.header.spi_r = m->spi_r;
    info.header.exchange = exchange_type::informational;
    info.header.initiator = true;
    info.header.message_id = s->tasks.expected_request_id();
    info.encrypted.push_back(ike::make_notify(notify_type::initial_contact));
    auto frags = ike::serialize_fragments(info, *m->sk_out, 4);
    REQUIRE(frags);
    REQUIRE(frags->size() >= 2);
    /* INFORMATIONAL { HDR, SKF(1/2) } --> , SKF(2/2) --> : dropped */
    std::size_t before = t.wire.size();
    for (auto& f : *frags) t.net.inject({m->local, m->remote, f});
    t.run();
    CHECK(t.wire.size() == before);  // no answer
    CHECK(s->fragment_stats.dropped_not_negotiated == frags->size());
    CHECK(s->fragment_stats.fragments_received == 0);
    CHECK(t.sun.logged("fragmentation not negotiated"));
    CHECK(s->state() == ike_sa_state::established);
}

TEST_CASE("an incomplete fragmented message is abandoned after the reassembly timeout", "[exchange][fragmentation]") {
    fragmenting_peers t(
        [](ike::peer_config&, ike::peer_config& sun) { sun.fragment_reassembly_timeout = std::chrono::seconds(10); });
    bool drop_last = true;
    std::size_t total = 0;
    t.net.set_drop_filter([&](const ike::memory_datagram& d) {
        auto m = ike::parse_message(d.data);
        if (!drop_last || !m || m->header.exchange != exchange_type::ike_auth || m->header.response || !m->skf())
            return false;
        total = m->skf()->total_fragments;
        return m->skf()->fragment_number == total;
    });
    t.moon.ep->initiate("sun");
    /* IKE_AUTH SKF(1/n) ... SKF(n-1/n) -->   (SKF(n/n) lost at 0 and 4 s) */
    t.run_for(9s);
    auto* s = t.sun.only_sa();
    REQUIRE(s);
    CHECK(s->fragment_stats.reassembly_timeouts == 0);
    CHECK(s->fragment_stats.duplicates == total - 1);  // the retransmission at 4 s
    t.run_for(2s);  // 10 s after the first fragment
    INFO(t.moon.dump_log() << t.sun.dump_log());
    CHECK(s->fragment_stats.reassembly_timeouts == 1);
    CHECK(t.sun.logged("abandoned the reassembly of request 1"));
    /* the retransmission at 11.2 s arrives whole: a new reassembly, completed */
    drop_last = false;
    t.run_for(5s);
    CHECK(s->state() == ike_sa_state::established);
    CHECK(t.moon.only_sa()->state() == ike_sa_state::established);
    CHECK(s->fragment_stats.messages_reassembled == 1);
}

TEST_CASE("CREATE_CHILD_SA with PFS is fragmented both ways and creates the CHILD SA", "[exchange][fragmentation]") {
    two_peers t;
    auto mc = t.config_for(t.moon, t.sun, "sun");
    auto sc = t.config_for(t.sun, t.moon, "moon");
    mc.esp_proposals = sc.esp_proposals = {"aes256-sha256-modp2048"};
    // IKE_AUTH (about 300 bytes) fits, CREATE_CHILD_SA with a 256-byte KE does not.
    mc.fragment_size = sc.fragment_size = 480;
    t.start(std::move(mc), std::move(sc));
    t.moon.ep->initiate("sun");
    t.run();
    auto* m = t.moon.only_sa();
    auto* s = t.sun.only_sa();
    REQUIRE(m);
    REQUIRE(s);
    REQUIRE(m->state() == ike_sa_state::established);
    CHECK(count_skf(t.messages(exchange_type::ike_auth, false)) == 0);
    CHECK(m->fragment_stats.messages_fragmented == 0);
    REQUIRE(t.moon.ep->create_child(m->unique_id));
    /* CREATE_CHILD_SA { HDR, SKF(1/n) { SA, Ni, KEi, TSi, TSr } } ... SKF(n/n) --> */
    /* <-- CREATE_CHILD_SA { HDR, SKF(1/m) { SA, Nr, KEr, TSi, TSr } } ... SKF(m/m) */
    t.run();
    INFO(t.moon.dump_log() << t.sun.dump_log());
    auto reqs = t.messages(exchange_type::create_child_sa, false);
    auto resps = t.messages(exchange_type::create_child_sa, true);
    CHECK(reqs.size() >= 2);
    CHECK(resps.size() >= 2);
    CHECK(count_skf(reqs) == reqs.size());
    CHECK(count_skf(resps) == resps.size());
    for (const auto* v : {&reqs, &resps})
        for (const auto& w : *v) CHECK(20 + 8 + w.d.data.size() <= 480);
    CHECK(t.moon.installer.sas.size() == 4);
    check_crosswise(t.moon.installer, t.sun.installer);
    CHECK(s->fragment_stats.messages_reassembled == 1);
    CHECK(m->fragment_stats.messages_reassembled == 1);
}

TEST_CASE("fragmented IKE_AUTH over a lossy, reordering network: whenever both settle, their SAs agree",
          "[exchange][fragmentation]") {
    int established = 0;
    for (std::uint32_t seed = 1; seed <= 25; ++seed) {
        two_peers t(false, seed);
        auto mc = t.config_for(t.moon, t.sun, "sun");
        auto sc = t.config_for(t.sun, t.moon, "moon");
        mc.fragment_size = sc.fragment_size = small_fragment_size;
        t.start(std::move(mc), std::move(sc));
        t.net.set_tap({});
        t.net.set_loss(0.15);
        t.net.set_reorder(true);
        t.moon.ep->initiate("sun");
        t.run_for(200s);
        auto* m = t.moon.only_sa();
        auto* s = t.sun.only_sa();
        INFO("seed " << seed << "\n" << t.moon.dump_log() << t.sun.dump_log());
        if (m && s && m->state() == ike_sa_state::established && s->state() == ike_sa_state::established) {
            ++established;
            CHECK(m->fragment_stats.messages_reassembled == 1);
            CHECK(s->fragment_stats.messages_reassembled == 1);
            check_crosswise(t.moon.installer, t.sun.installer);
        } else if (!m) {
            CHECK(t.moon.installer.sas.empty());
        }
    }
    CHECK(established >= 20);
}

TEST_CASE("the fragment plaintext size is the largest that keeps each IP datagram within the fragment size",
          "[exchange][fragmentation]") {
    for (const char* suite : {"aes256-sha256-modp2048", "aes128-sha1-modp2048", "aes256gcm16-prfsha256-modp2048"}) {
        for (bool encap : {false, true}) {
            two_peers t;
            auto mc = t.config_for(t.moon, t.sun, "sun");
            auto sc = t.config_for(t.sun, t.moon, "moon");
            mc.ike_proposals = sc.ike_proposals = {suite};
            mc.force_encap = encap;
            mc.fragment_size = sc.fragment_size = small_fragment_size;
            t.start(std::move(mc), std::move(sc));
            t.moon.ep->initiate("sun");
            t.run();
            auto* m = t.moon.only_sa();
            REQUIRE(m);
            INFO(suite << (encap ? " UDP-encapsulated" : "") << "\n" << t.moon.dump_log());
            REQUIRE(m->state() == ike_sa_state::established);
            CHECK(m->natt_ports == encap);
            // IPv4 20 + UDP 8 [+ non-ESP marker 4] + IKE header 28 + SKF header 8 + sealed part.
            const std::size_t overhead = 20 + 8 + (encap ? 4 : 0) + 28 + 8;
            auto p = m->fragment_plaintext_size();
            REQUIRE(p > 0);
            CHECK(overhead + m->sk_out->sealed_size(p) <= small_fragment_size);
            CHECK(overhead + m->sk_out->sealed_size(p + 1) > small_fragment_size);
            // On the wire (with the marker on port 4500), both directions.
            auto auth = t.messages(exchange_type::ike_auth, false);
            auto resp = t.messages(exchange_type::ike_auth, true);
            CHECK(auth.size() >= 2);
            for (const auto* v : {&auth, &resp})
                for (const auto& w : *v) {
                    CHECK(w.natt == encap);
                    CHECK(20 + 8 + w.d.data.size() <= small_fragment_size);
                }
            check_crosswise(t.moon.installer, t.sun.installer);
        }
    }
}

TEST_CASE("small INFORMATIONAL messages (liveness, DELETE) on a fragmenting IKE SA go whole",
          "[exchange][fragmentation]") {
    // RFC 7383 2.5: only a message that would not fit is fragmented.
    fragmenting_peers t;
    t.moon.ep->initiate("sun");
    t.run();
    auto* m = t.moon.only_sa();
    REQUIRE(m);
    REQUIRE(m->state() == ike_sa_state::established);
    auto before = m->fragment_stats.messages_fragmented;
    /* INFORMATIONAL { HDR, SK { } } --> , <-- INFORMATIONAL { HDR, SK { } }   (small: unfragmented) */
    REQUIRE(t.moon.ep->send_liveness(m->unique_id));
    t.run();
    CHECK(m->fragment_stats.messages_fragmented == before);
    for (const auto& w : t.messages(exchange_type::informational, false)) CHECK_FALSE(is_skf(w));
    /* INFORMATIONAL { HDR, SK { D(IKE) } } -->   (small: unfragmented) */
    REQUIRE(t.moon.ep->delete_ike(m->unique_id));
    t.run();
    CHECK(t.moon.ep->sas().empty());
    CHECK(t.sun.ep->sas().empty());
}

TEST_CASE("an IKE SA rekey on a fragmenting IKE SA is fragmented, and the new IKE SA keeps fragmentation",
          "[exchange][fragmentation]") {
    fragmenting_peers t;
    t.moon.ep->initiate("sun");
    t.run();
    auto* m = t.moon.only_sa();
    REQUIRE(m);
    REQUIRE(m->state() == ike_sa_state::established);
    auto old_spi = m->spi_i;
    m->rekey_at = t.clock.now();  // soft lifetime reached
    /* CREATE_CHILD_SA { HDR, SKF(1/n) { SA(IKE), Ni, KEi } } ... SKF(n/n) --> */
    /* <-- CREATE_CHILD_SA { HDR, SKF(1/m) { SA(IKE), Nr, KEr } } ... SKF(m/m) */
    /* INFORMATIONAL { HDR, SK { D(IKE) } } --> , <-- INFORMATIONAL { HDR, SK { } } */
    t.advance(1ms);
    t.run_for(1s);
    INFO(t.moon.dump_log() << t.sun.dump_log());
    auto reqs = t.messages(exchange_type::create_child_sa, false);
    CHECK(reqs.size() >= 2);
    CHECK(count_skf(reqs) == reqs.size());
    auto* fresh = t.moon.only_sa();
    auto* theirs = t.sun.only_sa();
    REQUIRE(fresh);
    REQUIRE(theirs);
    CHECK(fresh->spi_i != old_spi);
    CHECK(fresh->state() == ike_sa_state::established);
    CHECK(fresh->fragmentation);
    CHECK(theirs->fragmentation);
    check_crosswise(t.moon.installer, t.sun.installer);
    // The new SA fragments too: a CHILD SA created on it goes out as fragments.
    auto before = t.messages(exchange_type::create_child_sa, false).size();
    REQUIRE(t.moon.ep->create_child(fresh->unique_id));
    t.run();
    auto after = t.messages(exchange_type::create_child_sa, false);
    CHECK(after.size() - before >= 2);
    CHECK(fresh->fragment_stats.messages_fragmented == 1);
    CHECK(t.moon.installer.sas.size() == 4);
}
