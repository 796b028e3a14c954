// RFC 7383 reassembly: fragments produced by serialize_fragments(), each opened on its own, in
// any order, with duplicates, re-fragmentation (2.6.1) and limits.
#include "message_test_util.hpp"

#include <ike/message_fragments.hpp>
#include <ike/message_rules.hpp>

#include <algorithm>
#include <random>

using namespace ike;
using namespace ike_wire_test;

namespace {

struct opened_fragment {
    message m;
    bytes plain;
};

std::vector<opened_fragment> fragments(const message& m, fake_sk_codec& codec, std::size_t size) {
    auto f = serialize_fragments(m, codec, size);
    REQUIRE(f.ok());
    std::vector<opened_fragment> out;
    for (const auto& d : *f) {
        auto p = parse_message(d);
        REQUIRE(p.ok());
        REQUIRE_FALSE(validate_outer(*p));
        auto plain = open_skf(*p, d, codec);
        REQUIRE(plain.ok());
        out.push_back({std::move(p.value()), std::move(plain.value())});
    }
    return out;
}

using st = fragment_reassembler::status;

} // namespace

TEST_CASE("fragments: reassembly in any order yields the original inner payloads", "[ike][message][fragments]") {
    fake_sk_codec codec;
    auto original = sample_auth_request();
    auto parts = fragments(original, codec, 40);
    REQUIRE(parts.size() > 3);
    std::mt19937 rng(7);
    for (int round = 0; round < 5; ++round) {
        std::shuffle(parts.begin(), parts.end(), rng);
        fragment_reassembler r;
        for (std::size_t i = 0; i < parts.size(); ++i) {
            auto s = r.add(parts[i].m, parts[i].plain);
            CHECK(s == (i + 1 == parts.size() ? st::complete : st::incomplete));
            if (i == 0) CHECK(r.add(parts[i].m, parts[i].plain) == st::ignored);  // duplicate
        }
        auto m = r.take();
        REQUIRE(m.ok());
        CHECK(m->encrypted == original.encrypted);
        CHECK(m->header.message_id == original.header.message_id);
        CHECK_FALSE(validate_message(*m));
        CHECK(r.held() == 0);
    }
}

TEST_CASE("fragments: re-fragmentation, other messages, limits", "[ike][message][fragments]") {
    fake_sk_codec codec;
    auto original = sample_auth_request();
    auto big = fragments(original, codec, 120);
    auto small = fragments(original, codec, 50);
    REQUIRE(small.size() > big.size());

    SECTION("more Total Fragments replaces what is held; fewer is ignored (RFC 7383 2.6.1)") {
        fragment_reassembler r;
        CHECK(r.add(big[0].m, big[0].plain) == st::incomplete);
        CHECK(r.add(small[1].m, small[1].plain) == st::incomplete);
        CHECK(r.held() == 1);
        CHECK(r.add(big[1].m, big[1].plain) == st::ignored);
        for (std::size_t i = 0; i < small.size(); ++i)
            if (i != 1) r.add(small[i].m, small[i].plain);
        auto m = r.take();
        REQUIRE(m.ok());
        CHECK(m->encrypted == original.encrypted);
    }
    SECTION("a fragment of another Message ID starts over") {
        auto next = original;
        next.header.message_id = 2;
        auto other = fragments(next, codec, 120);
        fragment_reassembler r;
        r.add(big[0].m, big[0].plain);
        CHECK(r.add(other[0].m, other[0].plain) == st::incomplete);
        CHECK(r.message_id() == 2u);
        CHECK(r.held() == 1);
    }
    SECTION("limits") {
        fragment_reassembler few(2);
        CHECK(few.add(small[0].m, small[0].plain) == st::rejected);
        fragment_reassembler tight(128, 60);
        CHECK(tight.add(small[0].m, small[0].plain) == st::incomplete);
        CHECK(tight.add(small[1].m, small[1].plain) == st::rejected);
        CHECK(tight.held() == 0);
        fragment_reassembler r;
        CHECK_FALSE(r.take().ok());
        message not_fragment = original;
        CHECK(r.add(not_fragment, {}) == st::rejected);
    }
    SECTION("a joined chain that does not parse is INVALID_SYNTAX") {
        fragment_reassembler r;
        for (std::size_t i = 0; i < big.size(); ++i) {
            auto plain = big[i].plain;
            if (i == 0) plain[3] = 0xff;  // first inner payload length overruns
            r.add(big[i].m, plain);
        }
        auto m = r.take();
        REQUIRE_FALSE(m.ok());
        CHECK(m.error().notify == notify_type::invalid_syntax);
    }
}
