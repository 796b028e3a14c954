// esp::decap_batch: one crypto pass over the ESP packets of many SAs must give what one decap()
// per call gives (here: the OpenSSL backend, one call per SA, as the reference): the same
// results (forgeries, replays and duplicates inside the batch included), inner packets, windows
// and counters, whether an SA comes back while it is still waiting in the batch, the batch
// overflows max_burst, or an ESN burst crosses 2^32.
#include "esp_test_util.hpp"

#include <esp/sa.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace decap_batch_test {

using esp_test::buffer;
using esp_test::sa_kind;

const sa_kind kinds[] = {
    {esp::enc_alg::aes256_cbc, esp::integ_alg::sha256_128},
    {esp::enc_alg::aes256gcm16, esp::integ_alg::none},
    {esp::enc_alg::aes128_cbc, esp::integ_alg::sha1_96, false, true},
    {esp::enc_alg::aes128gcm16, esp::integ_alg::none, true, true, true},
    {esp::enc_alg::des3_cbc, esp::integ_alg::sha512_256},
    {esp::enc_alg::aes192_cbc, esp::integ_alg::sha384_192, true, false, true},
    {esp::enc_alg::aes256_cbc, esp::integ_alg::sha256_128, false, false, true},
    {esp::enc_alg::aes256_cbc, esp::integ_alg::sha256_128, false, true},
};

esp::sa_config config(const sa_kind& k, std::size_t index, esp::backend_kind backend) {
    auto c = esp_test::make_config(k.enc, k.integ, k.v6, backend);
    c.spi = 0x6000 + std::uint32_t(index);
    c.enc_key = esp_test::key_bytes(esp::params(k.enc).key_len, std::uint8_t(0x10 + index));
    c.esn = k.esn;
    if (k.esn) c.initial_seq = 0xfffffff0ULL;  // the run crosses into seq_hi 1
    if (k.natt) c.natt = esp::udp_encap{4500, 4500};
    c.replay_window = 64;
    return c;
}

// One decap call: an SA and its ESP packets.
struct call {
    std::size_t sa;
    std::vector<buffer> pkts;
};

// Per round and SA 1-5 packets of the SA's next sequence numbers; per round one forged ICV, one
// duplicate of a packet from an earlier call and one duplicate inside the same call. The SA
// order repeats an SA now and then right after itself (so it is still waiting in the batch).
std::vector<call> make_calls(std::size_t rounds, std::vector<std::unique_ptr<esp::outbound_sa>>& out) {
    const std::size_t n_sas = out.size();
    std::vector<call> calls;
    std::uint8_t seed = 1;
    for (std::size_t r = 0; r < rounds; ++r)
        for (std::size_t s = 0; s < n_sas + 1; ++s) {
            const std::size_t sa = s == n_sas ? (r * 5) % n_sas : (s * 3 + r) % n_sas;
            call c{sa, {}};
            const std::size_t n = 1 + (r + s) % 5;
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t len = 28 + (r * 37 + s * 11 + i * 101) % 1300;
                c.pkts.emplace_back(esp_test::inner_v4(len, std::uint8_t(r), i % 2 == 0, seed++));
            }
            std::vector<esp::pkt> v;
            for (auto& b : c.pkts) v.push_back(b.p);
            std::vector<esp::drop_reason> res(v.size());
            REQUIRE(out[sa]->encap(v, res) == v.size());
            for (std::size_t i = 0; i < v.size(); ++i) c.pkts[i].p = v[i];
            if (s == 1) c.pkts.back().p.data()[c.pkts.back().p.data_len - 1] ^= 0x40;  // forged ICV
            if (s == 2 && n > 1) c.pkts.push_back(c.pkts.front());  // duplicate inside the call
            if (s == 3 && !calls.empty()) {
                // A packet of an earlier call of the same SA again (a replay), if there is one.
                for (auto it = calls.rbegin(); it != calls.rend(); ++it)
                    if (it->sa == sa) {
                        c.pkts.insert(c.pkts.begin(), it->pkts.back());
                        break;
                    }
            }
            calls.push_back(std::move(c));
        }
    return calls;
}

} // namespace decap_batch_test

TEST_CASE("decap_batch: many SAs in one crypto pass equal one decap() per SA") {
    namespace t = decap_batch_test;
    const std::size_t n_sas = std::size(t::kinds);
    for (auto backend : esp_test::both_backends) {
        for (std::size_t rounds : {1u, 3u, 12u}) {  // 12 rounds: more than max_burst packets per run
            CAPTURE(int(backend), rounds);
            std::vector<std::unique_ptr<esp::outbound_sa>> out;
            std::vector<std::unique_ptr<esp::inbound_sa>> ref, bat;
            for (std::size_t i = 0; i < n_sas; ++i) {
                auto o = esp::outbound_sa::create(t::config(t::kinds[i], i, esp::backend_kind::openssl));
                auto r = esp::inbound_sa::create(t::config(t::kinds[i], i, esp::backend_kind::openssl));
                auto b = esp::inbound_sa::create(t::config(t::kinds[i], i, backend));
                REQUIRE(o);
                REQUIRE(r);
                REQUIRE(b);
                out.push_back(std::move(o.sa));
                ref.push_back(std::move(r.sa));
                bat.push_back(std::move(b.sa));
            }
            auto ref_calls = t::make_calls(rounds, out);
            auto bat_calls = ref_calls;  // the same ESP bytes (buffers are deep copies)

            std::vector<std::vector<esp::drop_reason>> ref_res, bat_res;
            for (auto& c : ref_calls) {
                auto v = esp_test::views(c.pkts);
                ref_res.emplace_back(v.size());
                ref[c.sa]->decap(v, ref_res.back());
                for (std::size_t i = 0; i < v.size(); ++i) c.pkts[i].p = v[i];
            }
            esp::decap_batch batch;
            std::vector<std::vector<esp::pkt>> bat_views;
            bat_res.reserve(bat_calls.size());
            bat_views.reserve(bat_calls.size());
            for (auto& c : bat_calls) {
                bat_views.push_back(esp_test::views(c.pkts));
                bat_res.emplace_back(c.pkts.size());
                batch.add(*bat[c.sa], bat_views.back(), bat_res.back());
            }
            CHECK(batch.pending() > 0);
            batch.run();
            CHECK(batch.pending() == 0);

            std::size_t ok = 0, icv = 0, replay = 0;
            for (std::size_t ci = 0; ci < ref_calls.size(); ++ci) {
                for (std::size_t i = 0; i < ref_calls[ci].pkts.size(); ++i) {
                    CAPTURE(ci, i);
                    REQUIRE(bat_res[ci][i] == ref_res[ci][i]);
                    bat_calls[ci].pkts[i].p = bat_views[ci][i];
                    if (ref_res[ci][i] == esp::drop_reason::icv) ++icv;
                    if (ref_res[ci][i] == esp::drop_reason::replay) ++replay;
                    if (ref_res[ci][i] != esp::drop_reason::ok) continue;
                    ++ok;
                    REQUIRE(bat_calls[ci].pkts[i].bytes() == ref_calls[ci].pkts[i].bytes());
                }
            }
            CHECK(ok > icv + replay);
            CHECK(icv >= rounds);
            CHECK(replay >= rounds);
            for (std::size_t s = 0; s < n_sas; ++s) {
                CAPTURE(s);
                CHECK(bat[s]->window().top() == ref[s]->window().top());
                CHECK(bat[s]->counters().packets == ref[s]->counters().packets);
                CHECK(bat[s]->counters().bytes == ref[s]->counters().bytes);
                CHECK(bat[s]->counters().drops == ref[s]->counters().drops);
            }
        }
    }
}

TEST_CASE("crypto: decrypt_many over contexts of both backends and several algorithms equals decrypt() per context") {
    using esp::crypto_op;
    struct alg {
        esp::enc_alg enc;
        esp::integ_alg integ;
    };
    const alg algs[] = {{esp::enc_alg::aes256_cbc, esp::integ_alg::sha256_128},
                        {esp::enc_alg::aes256gcm16, esp::integ_alg::none},
                        {esp::enc_alg::aes128_cbc, esp::integ_alg::sha1_96},
                        {esp::enc_alg::des3_cbc, esp::integ_alg::sha512_256}};
    std::vector<std::unique_ptr<esp::crypto_ctx>> ctxs;
    for (auto backend : esp_test::both_backends)
        for (const auto& a : algs) {
            std::string err;
            auto c = esp::crypto_ctx::create(backend, a.enc, esp_test::key_bytes(esp::params(a.enc).key_len, 0x31).view(),
                                             a.integ, esp_test::key_bytes(esp::params(a.integ).key_len, 0x71).view(), &err);
            REQUIRE(c);
            ctxs.push_back(std::move(c));
        }
    // 70 ops (more than one chunk of the multi-buffer backend), contexts interleaved, every fifth
    // tag forged; each op encrypted first by its own context.
    constexpr std::size_t n = 70;
    struct region {
        std::vector<std::uint8_t> buf;
        std::array<std::uint8_t, 32> tag{};
        std::array<std::uint8_t, 16> iv{};
    };
    std::vector<region> regions(n);
    std::vector<crypto_op> ops(n);
    std::vector<esp::crypto_ctx*> of(n);
    std::vector<std::vector<std::uint8_t>> plain(n);
    for (std::size_t i = 0; i < n; ++i) {
        of[i] = ctxs[(i * 7 + i / 9) % ctxs.size()].get();
        auto& r = regions[i];
        r.buf.resize(24 + 16 * (1 + i % 5));
        for (std::size_t j = 0; j < r.buf.size(); ++j) r.buf[j] = std::uint8_t(j * 5 + i);
        plain[i] = r.buf;
        auto& op = ops[i];
        const bool gcm = esp::params(of[i]->enc()).aead;
        op.auth = r.buf.data();
        op.auth_len = gcm ? 8 : std::uint32_t(r.buf.size());
        op.data = r.buf.data() + 24;
        op.len = std::uint32_t(r.buf.size() - 24);
        op.tag = r.tag.data();
        for (std::size_t j = 0; j < 16; ++j) r.iv[j] = std::uint8_t(i + 2 * j);
        op.iv = r.iv.data();
        of[i]->encrypt({&op, 1});
        REQUIRE(op.ok);
        if (i % 5 == 4) r.tag[0] ^= 1;
        op.ok = i % 5 == 4;  // the opposite of what decrypt must say
    }
    esp::crypto_ctx::decrypt_many(ops, of);
    for (std::size_t i = 0; i < n; ++i) {
        CAPTURE(i, to_string(of[i]->enc()), to_string(of[i]->backend()));
        CHECK(ops[i].ok == (i % 5 != 4));
        if (i % 5 != 4) CHECK(regions[i].buf == plain[i]);
    }
}
