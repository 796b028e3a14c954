// RFC 6479 window and RFC 4303 Appendix A2 ESN inference, on the replay_window class alone.
#include <esp/replay.hpp>

#include <catch2/catch.hpp>

#include <random>
#include <set>

TEST_CASE("replay window: 0 refused, duplicates refused, left edge exact") {
    for (std::uint32_t w : {64u, 65u, 1000u, 4096u}) {
        INFO("w=" << w);
        esp::replay_window rw(w);
        CHECK_FALSE(rw.check(0));
        CHECK(rw.update(10000));
        CHECK_FALSE(rw.update(10000));
        CHECK(rw.check(10000 - w + 1));
        CHECK_FALSE(rw.check(10000 - w));
        CHECK(rw.update(10000 - w + 1));
        CHECK_FALSE(rw.check(10000 - w + 1));
        CHECK(rw.top() == 10000);
    }
}

TEST_CASE("replay window agrees with a set-based model over random traffic (ring wrap, big jumps)") {
    std::mt19937_64 rng(42);
    for (std::uint32_t w : {64u, 128u, 1024u, 4096u}) {
        esp::replay_window rw(w);
        std::set<std::uint64_t> seen;
        std::uint64_t top = 0;
        std::size_t accepted = 0, refused = 0;
        for (int i = 0; i < 200000; ++i) {
            std::uint64_t seq;
            const auto k = rng() % 10;
            if (k < 6) seq = top + 1 + rng() % 8;
            else if (k < 9) seq = top > 5000 ? top - rng() % 5000 : 1 + rng() % 5000;
            else seq = top + rng() % 20000;
            const bool model = seq != 0 && !seen.count(seq) && (seq > top || top - seq < w);
            if (rw.check(seq) != model) FAIL("w=" << w << " top=" << top << " seq=" << seq << " model=" << model);
            ++(model ? accepted : refused);
            if (model) {
                if (!rw.update(seq)) FAIL("update refused w=" << w << " seq=" << seq);
                seen.insert(seq);
                if (seq > top) top = seq;
            }
        }
        CHECK(accepted > 10000);  // the traffic mix exercises both outcomes
        CHECK(refused > 10000);
    }
}

TEST_CASE("window 0 disables replay checks but still refuses sequence 0") {
    esp::replay_window rw(0);
    CHECK(rw.update(5));
    CHECK(rw.update(5));
    CHECK(rw.update(1));
    CHECK_FALSE(rw.check(0));
    CHECK(rw.top() == 5);
}

TEST_CASE("ESN inference (RFC 4303 A2.2): case A and case B") {
    esp::replay_window rw(64, true);
    // window inside one subspace (case A)
    CHECK(rw.update((std::uint64_t(3) << 32) | 1000));
    CHECK(rw.infer(1001) == ((std::uint64_t(3) << 32) | 1001));
    CHECK(rw.infer(1000 - 63) == ((std::uint64_t(3) << 32) | (1000 - 63)));
    CHECK(rw.infer(1000 - 64) == ((std::uint64_t(4) << 32) | (1000 - 64)));  // below window: next subspace
    // window spans the boundary (case B)
    esp::replay_window rb(64, true);
    CHECK(rb.update((std::uint64_t(3) << 32) | 10));
    CHECK(rb.infer(5) == ((std::uint64_t(3) << 32) | 5));
    CHECK(rb.infer(0xfffffff0u) == ((std::uint64_t(2) << 32) | 0xfffffff0u));  // still in the window, previous subspace
    CHECK(rb.infer(0x80000000u) == ((std::uint64_t(3) << 32) | 0x80000000u));
    // subspace 0 has no predecessor
    esp::replay_window r0(64, true);
    CHECK(r0.infer(0xfffffffeu) == 0xfffffffeu);
    // without ESN, the identity
    esp::replay_window plain(64, false);
    CHECK(plain.infer(7) == 7);
}
