// esp::encap_batch: one crypto pass over the packets of many SAs must give byte for byte what
// one encap() per SA gives (here: the OpenSSL backend, one call per SA, as the reference),
// with the same results, sequence numbers and counters, whether the batch runs once or
// overflows max_burst and runs by itself in between.
#include "esp_test_util.hpp"

#include <esp/sa.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <memory>
#include <string>
#include <vector>

using namespace esp_test;

namespace {

const sa_kind kinds[] = {
    {esp::enc_alg::aes256_cbc, esp::integ_alg::sha256_128},
    {esp::enc_alg::aes256gcm16, esp::integ_alg::none},
    {esp::enc_alg::aes128_cbc, esp::integ_alg::sha1_96, false, true},
    {esp::enc_alg::aes128gcm16, esp::integ_alg::none, true, true},
    {esp::enc_alg::des3_cbc, esp::integ_alg::sha512_256},
    {esp::enc_alg::aes192_cbc, esp::integ_alg::sha384_192, true, false, true},
    {esp::enc_alg::aes256_cbc, esp::integ_alg::sha256_128, false, false, true},
};

// n CBC ops on buffers of their own: an 8-byte ESP header and a 16-byte IV (24 bytes) then
// 16 * (1 + i % blocks) bytes to encrypt; bytes j * mul + i, IV bytes iv_mul * i + j.
struct cbc_region {
    std::vector<std::uint8_t> buf;
    std::array<std::uint8_t, 16> tag{};
    std::array<std::uint8_t, 16> iv{};
};
void make_cbc_ops(std::size_t n, std::size_t blocks, unsigned mul, unsigned iv_mul, std::vector<cbc_region>& r,
                  std::vector<esp::crypto_op>& ops) {
    r.assign(n, {});
    ops.assign(n, {});
    for (std::size_t i = 0; i < n; ++i) {
        r[i].buf.resize(24 + 16 * (1 + i % blocks));
        for (std::size_t j = 0; j < r[i].buf.size(); ++j) r[i].buf[j] = std::uint8_t(j * mul + i);
        ops[i].auth = r[i].buf.data();
        ops[i].auth_len = std::uint32_t(r[i].buf.size());
        ops[i].data = r[i].buf.data() + 24;
        ops[i].len = std::uint32_t(r[i].buf.size() - 24);
        ops[i].tag = r[i].tag.data();
        for (std::size_t j = 0; j < 16; ++j) r[i].iv[j] = std::uint8_t(iv_mul * i + j);
        ops[i].iv = r[i].iv.data();
    }
}

std::unique_ptr<esp::outbound_sa> make(const sa_kind& k, std::size_t index, esp::backend_kind backend) {
    auto c = make_config(k.enc, k.integ, k.v6, backend);
    c.spi = 0x5000 + std::uint32_t(index);
    c.iv = std::make_shared<counting_iv>(std::uint8_t(index * 40));
    c.esn = k.esn;
    if (k.esn) c.initial_seq = 0xfffffffeULL;  // crosses into seq_hi 1 within the run
    if (k.natt) c.natt = esp::udp_encap{4500, 4500};
    auto r = esp::outbound_sa::create(c);
    REQUIRE(r);
    return std::move(r.sa);
}

// The calls of one run: (SA index, packets) in order; sizes vary, one packet per round
// has no headroom (no_room) so refusals mix with successes.
struct call {
    std::size_t sa;
    std::vector<buffer> pkts;
};

std::vector<call> make_calls(std::size_t rounds, std::size_t n_sas) {
    std::vector<call> calls;
    std::uint8_t seed = 1;
    for (std::size_t r = 0; r < rounds; ++r)
        for (std::size_t s = 0; s < n_sas; ++s) {
            call c{(s * 3 + r) % n_sas, {}};
            const std::size_t n = 1 + (r + s) % 4;
            for (std::size_t i = 0; i < n; ++i) {
                const std::size_t len = 28 + (r * 37 + s * 11 + i * 101) % 1300;
                const bool starved = i == 0 && s == r % n_sas;
                c.pkts.emplace_back(inner_v4(len, std::uint8_t(r), i % 2 == 0, seed++), starved ? 0 : headroom);
            }
            calls.push_back(std::move(c));
        }
    return calls;
}

} // namespace

TEST_CASE("encap_batch: many SAs in one crypto pass equal one encap() per SA") {
    const std::size_t n_sas = std::size(kinds);
    for (auto backend : both_backends) {
        for (std::size_t rounds : {1u, 3u, 12u}) {  // 12 rounds: more than max_burst packets per run
            CAPTURE(int(backend), rounds);
            std::vector<std::unique_ptr<esp::outbound_sa>> ref, bat;
            for (std::size_t i = 0; i < n_sas; ++i) {
                ref.push_back(make(kinds[i], i, esp::backend_kind::openssl));
                bat.push_back(make(kinds[i], i, backend));
            }
            auto ref_calls = make_calls(rounds, n_sas);
            auto bat_calls = make_calls(rounds, n_sas);

            std::vector<std::vector<esp::drop_reason>> ref_res, bat_res;
            for (auto& c : ref_calls) {
                auto v = views(c.pkts);
                ref_res.emplace_back(v.size());
                ref[c.sa]->encap(v, ref_res.back());
                for (std::size_t i = 0; i < v.size(); ++i) c.pkts[i].p = v[i];
            }
            esp::encap_batch batch;
            std::vector<std::vector<esp::pkt>> bat_views;
            bat_res.reserve(bat_calls.size());
            bat_views.reserve(bat_calls.size());
            for (auto& c : bat_calls) {
                bat_views.push_back(views(c.pkts));
                bat_res.emplace_back(c.pkts.size());
                batch.add(*bat[c.sa], bat_views.back(), bat_res.back());
            }
            CHECK(batch.pending() > 0);
            batch.run();
            CHECK(batch.pending() == 0);

            std::size_t ok = 0, refused = 0;
            for (std::size_t ci = 0; ci < ref_calls.size(); ++ci) {
                for (std::size_t i = 0; i < ref_calls[ci].pkts.size(); ++i) {
                    CAPTURE(ci, i);
                    REQUIRE(bat_res[ci][i] == ref_res[ci][i]);
                    bat_calls[ci].pkts[i].p = bat_views[ci][i];
                    if (ref_res[ci][i] != esp::drop_reason::ok) {
                        ++refused;
                        continue;
                    }
                    ++ok;
                    REQUIRE(bat_calls[ci].pkts[i].bytes() == ref_calls[ci].pkts[i].bytes());
                }
            }
            CHECK(ok > refused);
            CHECK(refused >= rounds);
            for (std::size_t s = 0; s < n_sas; ++s) {
                CHECK(bat[s]->next_seq() == ref[s]->next_seq());
                CHECK(bat[s]->counters().packets == ref[s]->counters().packets);
                CHECK(bat[s]->counters().bytes == ref[s]->counters().bytes);
                CHECK(bat[s]->counters().drops == ref[s]->counters().drops);
            }
        }
    }
}

TEST_CASE("crypto: an immediate call on the same thread between encrypt_deferred and complete_deferred leaves the queued ops intact") {
    // Deferred ops wait in the thread's queue; an encrypt() of another context in between, which
    // uses the same multi-buffer manager, must neither lose them nor take them as its own.
    using esp::crypto_op;
    const auto ek = key_bytes(32, 0x21), ik = key_bytes(32, 0x61);
    auto make_ctx = [&](esp::backend_kind b) {
        std::string err;
        auto c = esp::crypto_ctx::create(b, esp::enc_alg::aes256_cbc, ek.view(), esp::integ_alg::sha256_128, ik.view(), &err);
        REQUIRE(c);
        return c;
    };
    auto mb = make_ctx(esp::backend_kind::ipsecmb), mb2 = make_ctx(esp::backend_kind::ipsecmb);
    auto ossl = make_ctx(esp::backend_kind::openssl);
    struct region {
        std::vector<std::uint8_t> buf;
        std::array<std::uint8_t, 16> tag{};
        std::array<std::uint8_t, 16> iv{};
        crypto_op op;
    };
    auto make_ops = [](std::size_t n, std::uint8_t seed) {
        std::vector<region> r(n);
        for (std::size_t i = 0; i < n; ++i) {
            r[i].buf.resize(8 + 16 + 16 * (1 + i));
            for (std::size_t j = 0; j < r[i].buf.size(); ++j) r[i].buf[j] = std::uint8_t(j * 13 + i + seed);
        }
        for (std::size_t i = 0; i < n; ++i) {
            auto& x = r[i];
            x.op.auth = x.buf.data();
            x.op.auth_len = std::uint32_t(x.buf.size());
            x.op.data = x.buf.data() + 24;
            x.op.len = std::uint32_t(x.buf.size() - 24);
            x.op.tag = x.tag.data();
            for (std::size_t j = 0; j < 16; ++j) x.iv[j] = std::uint8_t(i + j + seed);
            x.op.iv = x.iv.data();
        }
        return r;
    };
    auto deferred = make_ops(7, 1), immediate = make_ops(5, 2), ref_d = make_ops(7, 1), ref_i = make_ops(5, 2);
    std::vector<crypto_op> dops, iops, rdops, riops;
    for (auto& x : deferred) dops.push_back(x.op);
    for (auto& x : immediate) iops.push_back(x.op);
    for (auto& x : ref_d) rdops.push_back(x.op);
    for (auto& x : ref_i) riops.push_back(x.op);
    mb->encrypt_deferred(dops);
    mb2->encrypt(iops);
    esp::crypto_ctx::complete_deferred();
    ossl->encrypt(rdops);
    ossl->encrypt(riops);
    for (std::size_t i = 0; i < deferred.size(); ++i) {
        CHECK(dops[i].ok);
        CHECK(deferred[i].buf == ref_d[i].buf);
        CHECK(deferred[i].tag == ref_d[i].tag);
    }
    for (std::size_t i = 0; i < immediate.size(); ++i) {
        CHECK(iops[i].ok);
        CHECK(immediate[i].buf == ref_i[i].buf);
        CHECK(immediate[i].tag == ref_i[i].tag);
    }
}

TEST_CASE("crypto: an op the multi-buffer library refuses fails alone, the rest of its burst completes") {
    // intel-ipsec-mb checks a whole burst before running any of it and refuses it for one bad
    // job; the backend then runs it job by job, so only the bad op fails. A CBC length that is no
    // multiple of the block is refused by the cipher burst (encrypt: the first, nothing ran yet;
    // decrypt: the second, after the ICVs were computed); an empty HMAC region by the hash burst
    // (encrypt: the second, after the cipher ran; decrypt: the first).
    const bool bad_cipher = GENERATE(true, false);
    CAPTURE(bad_cipher);
    using esp::crypto_op;
    const auto ek = key_bytes(32, 0x23), ik = key_bytes(32, 0x63);
    std::string err;
    auto mb = esp::crypto_ctx::create(esp::backend_kind::ipsecmb, esp::enc_alg::aes256_cbc, ek.view(),
                                      esp::integ_alg::sha256_128, ik.view(), &err);
    auto ossl = esp::crypto_ctx::create(esp::backend_kind::openssl, esp::enc_alg::aes256_cbc, ek.view(),
                                        esp::integ_alg::sha256_128, ik.view(), &err);
    REQUIRE(mb);
    REQUIRE(ossl);
    constexpr std::size_t n = 9, bad = 4;
    using region = cbc_region;
    auto make = [&](std::vector<region>& r, std::vector<crypto_op>& ops) {
        make_cbc_ops(n, 3, 7, 3, r, ops);
        if (bad_cipher) ops[bad].len -= 1;
        else ops[bad].auth_len = 0;
    };
    std::vector<region> ref, got;
    std::vector<crypto_op> rops, gops;
    make(ref, rops);
    std::vector<crypto_op> good_ref;
    for (std::size_t i = 0; i < n; ++i)
        if (i != bad) good_ref.push_back(rops[i]);
    ossl->encrypt(good_ref);
    const bool deferred = GENERATE(false, true);
    CAPTURE(deferred);
    make(got, gops);
    if (deferred) {
        mb->encrypt_deferred(gops);
        esp::crypto_ctx::complete_deferred();
    } else {
        mb->encrypt(gops);
    }
    for (std::size_t i = 0; i < n; ++i) {
        CAPTURE(i);
        CHECK(gops[i].ok == (i != bad));
        if (i == bad) continue;
        CHECK(got[i].buf == ref[i].buf);
        CHECK(got[i].tag == ref[i].tag);
    }
    // Decrypt the same burst: the good ops verify and come back to the plaintext.
    std::vector<region> plain;
    std::vector<crypto_op> pops;
    make(plain, pops);
    for (auto& op : gops) op.ok = false;
    mb->decrypt(gops);
    for (std::size_t i = 0; i < n; ++i) {
        CAPTURE(i);
        CHECK(gops[i].ok == (i != bad));
        if (i != bad) CHECK(got[i].buf == plain[i].buf);
    }
}

TEST_CASE("crypto: encrypt_deferred queues more ops than one batch, of interleaved algorithms, and completes them all") {
    // The multi-buffer backend's queue holds one key size and hash at a time and at most one
    // batch: a full queue, or ops of another algorithm, run what is queued first. Whatever the
    // order, every op must come out as OpenSSL encrypts it.
    using esp::crypto_op;
    struct suite {
        esp::enc_alg enc;
        esp::integ_alg integ;
        std::size_t ek, ik, icv;
    };
    const suite suites[] = {{esp::enc_alg::aes256_cbc, esp::integ_alg::sha256_128, 32, 32, 16},
                            {esp::enc_alg::aes128_cbc, esp::integ_alg::sha1_96, 16, 20, 12}};
    std::vector<std::unique_ptr<esp::crypto_ctx>> mb, ossl;
    for (std::size_t s = 0; s < 2; ++s) {
        const auto ek = key_bytes(suites[s].ek, std::uint8_t(0x31 + s)), ik = key_bytes(suites[s].ik, std::uint8_t(0x71 + s));
        std::string err;
        mb.push_back(esp::crypto_ctx::create(esp::backend_kind::ipsecmb, suites[s].enc, ek.view(), suites[s].integ, ik.view(), &err));
        ossl.push_back(esp::crypto_ctx::create(esp::backend_kind::openssl, suites[s].enc, ek.view(), suites[s].integ, ik.view(), &err));
        REQUIRE(mb.back());
        REQUIRE(ossl.back());
    }
    const std::size_t run = GENERATE(1, 7, 150);  // ops per call before the suite changes
    CAPTURE(run);
    constexpr std::size_t n = 150;
    auto suite_of = [&](std::size_t i) { return (i / run) % 2; };
    auto make = [&](std::vector<cbc_region>& r, std::vector<crypto_op>& ops) { make_cbc_ops(n, 5, 5, 7, r, ops); };
    std::vector<cbc_region> ref, got;
    std::vector<crypto_op> rops, gops;
    make(ref, rops);
    make(got, gops);
    for (std::size_t i = 0; i < n;) {
        std::size_t j = i;
        while (j < n && suite_of(j) == suite_of(i)) ++j;
        ossl[suite_of(i)]->encrypt(std::span(rops).subspan(i, j - i));
        mb[suite_of(i)]->encrypt_deferred(std::span(gops).subspan(i, j - i));
        i = j;
    }
    esp::crypto_ctx::complete_deferred();
    for (std::size_t i = 0; i < n; ++i) {
        CAPTURE(i);
        REQUIRE(rops[i].ok);
        CHECK(gops[i].ok);
        CHECK(got[i].buf == ref[i].buf);
        CHECK(std::equal(got[i].tag.begin(), got[i].tag.begin() + long(suites[suite_of(i)].icv), ref[i].tag.begin()));
    }
}
