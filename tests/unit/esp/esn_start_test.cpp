// ESN SAs that start near or beyond 2^32 (sa_config::initial_seq): the receive window starts just
// below the configured first sequence number, so RFC 4303 A2.2 inference puts the first packets
// in the right 2^32 subspace and their ICVs (which cover seq_hi, 2.2.1) verify.
#include "esp_test_util.hpp"

#include <catch2/catch.hpp>

using namespace esp_test;
using esp::drop_reason;

namespace {

// Encap n inner packets one burst at a time; returns their outer bytes.
std::vector<std::vector<std::uint8_t>> esn_start_encap(esp::outbound_sa& out, int n) {
    std::vector<std::vector<std::uint8_t>> res;
    for (int i = 0; i < n; ++i) {
        buffer b(inner_v4(std::size_t(60 + i)));
        drop_reason r{};
        REQUIRE(out.encap({&b.p, 1}, {&r, 1}) == 1);
        res.push_back(b.bytes());
    }
    return res;
}

drop_reason esn_start_decap(esp::inbound_sa& in, std::span<const std::uint8_t> outer) {
    buffer b(outer);
    drop_reason r{};
    in.decap({&b.p, 1}, {&r, 1});
    return r;
}

} // namespace

TEST_CASE("replay window: first sequence number sets the starting top and ESN inference") {
    const esp::replay_window w(64, true, (std::uint64_t(1) << 32) + 5);
    CHECK(w.top() == (std::uint64_t(1) << 32) + 4);
    CHECK(w.infer(5) == (std::uint64_t(1) << 32) + 5);
    CHECK(w.infer(0xfffffffeU) == 0xfffffffeULL);  // just below, in the previous subspace
    const esp::replay_window fresh(64, true);
    CHECK(fresh.top() == 0);
    CHECK(fresh.infer(5) == 5);
}

TEST_CASE("ESN SA starting past 2^32: inbound honours initial_seq") {
    const std::uint64_t starts[] = {(std::uint64_t(1) << 32) + 5, (std::uint64_t(3) << 32) - 3,
                                    0xfffffffeULL};
    for (const std::uint64_t first : starts)
        for (auto [enc, integ] : {std::pair{esp::enc_alg::aes256_cbc, esp::integ_alg::sha256_128},
                                  std::pair{esp::enc_alg::aes256gcm16, esp::integ_alg::none}})
            for (auto backend : both_backends) {
                INFO(first << " " << to_string(enc) << " " << to_string(backend));
                auto c = make_config(enc, integ, false, backend);
                c.esn = true;
                c.initial_seq = first;
                auto o = esp::outbound_sa::create(c);
                REQUIRE(o);
                auto in = esp::inbound_sa::create(c);
                REQUIRE(in);
                CHECK(in.sa->window().top() == first - 1);
                const auto pk = esn_start_encap(*o.sa, 6);
                for (const auto& p : pk) CHECK(esn_start_decap(*in.sa, p) == drop_reason::ok);
                CHECK(in.sa->window().top() == first + 5);
                CHECK(in.sa->counters().packets == 6);
                CHECK(esn_start_decap(*in.sa, pk[2]) == drop_reason::replay);
            }
}

TEST_CASE("ESN SA with the default first sequence number: the window starts empty at 0") {
    auto c = make_config(esp::enc_alg::aes128_cbc, esp::integ_alg::sha1_96);
    c.esn = true;
    auto in = esp::inbound_sa::create(c);
    REQUIRE(in);
    CHECK(in.sa->window().top() == 0);
}
