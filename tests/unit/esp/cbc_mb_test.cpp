// AES-CBC + HMAC-SHA-256-128 through the intel-ipsec-mb backend, whose short ops (up to 280
// bytes of HMAC input) go to our multi-buffer code on AVX-512 CPUs with VAES
// (esp::ipsecmb_cbc_multibuffer()) and to the library otherwise: either way every op must come
// out as OpenSSL encrypts it, whatever mix of lengths (short and long in one batch), key sizes,
// contexts (lanes of one pass with different keys and HMAC keys) and burst sizes, and decrypt
// must refuse exactly the ops whose tag, ciphertext or ESP header was changed.
#include "esp_test_util.hpp"

#include <esp/crypto.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace {

struct cbc_pair {
    std::unique_ptr<esp::crypto_ctx> mb, ossl;
};

cbc_pair make_cbc_pair(esp::enc_alg enc, esp::integ_alg integ, std::uint8_t seed) {
    const auto ek = esp_test::key_bytes(esp::params(enc).key_len, seed);
    const auto ik = esp_test::key_bytes(esp::params(integ).key_len, std::uint8_t(seed + 0x40));
    std::string err;
    cbc_pair p{esp::crypto_ctx::create(esp::backend_kind::ipsecmb, enc, ek.view(), integ, ik.view(), &err),
               esp::crypto_ctx::create(esp::backend_kind::openssl, enc, ek.view(), integ, ik.view(), &err)};
    INFO(err);
    REQUIRE(p.mb);
    REQUIRE(p.ossl);
    return p;
}

// One ESP-like op: 8-byte header and 16-byte IV then the ciphertext, all under the HMAC; the op's
// IV is a separate one (the crypto takes it from wherever op.iv points).
struct region {
    std::vector<std::uint8_t> buf;
    std::array<std::uint8_t, 16> tag{};
    std::array<std::uint8_t, 16> iv{};
};

esp::crypto_op op_on(region& r) {
    esp::crypto_op op;
    op.auth = r.buf.data();
    op.auth_len = std::uint32_t(r.buf.size());
    op.data = r.buf.data() + 24;
    op.len = std::uint32_t(r.buf.size() - 24);
    op.tag = r.tag.data();
    op.iv = r.iv.data();
    return op;
}

} // namespace

TEST_CASE("crypto: AES-CBC + HMAC-SHA-256 of the multi-buffer backend equals OpenSSL across contexts, lengths and bursts") {
    INFO("intel-ipsec-mb multi-buffer CBC on this CPU: " << (esp::ipsecmb_cbc_multibuffer() ? "yes" : "no (library path)"));
    const auto enc = GENERATE(esp::enc_alg::aes128_cbc, esp::enc_alg::aes192_cbc, esp::enc_alg::aes256_cbc);
    CAPTURE(esp::to_string(enc));
    // Five contexts of one suite (one batch, lanes with different keys) and one of HMAC-SHA-1
    // (another batch: the hash changes where its ops come).
    std::vector<cbc_pair> ctx;
    for (std::uint8_t k = 0; k < 5; ++k) ctx.push_back(make_cbc_pair(enc, esp::integ_alg::sha256_128, std::uint8_t(0x10 * k + 1)));
    ctx.push_back(make_cbc_pair(enc, esp::integ_alg::sha1_96, 0x77));
    std::mt19937 rng(5);
    for (int round = 0; round < 40; ++round) {
        const std::size_t n = 1 + rng() % 70;  // past one batch of 64 now and then
        // Even rounds: one context and one length (the common burst); odd: anything.
        const bool uniform = round % 2 == 0;
        const std::size_t c0 = rng() % 5;
        const std::uint32_t blocks0 = 1 + rng() % 8;
        CAPTURE(round, n, uniform);
        std::vector<region> got(n);
        std::vector<std::size_t> of(n);
        std::vector<esp::crypto_op> ops(n);
        for (std::size_t i = 0; i < n; ++i) {
            // Cipher lengths of 1 to 16 blocks (HMAC input 40 to 280 bytes: every tail case of
            // the padding), one in eight long (past the multi-buffer limit, left to the library).
            std::uint32_t blocks = uniform ? blocks0 : 1 + rng() % 16;
            if (rng() % 8 == 0) blocks = 17 + rng() % 80;
            of[i] = uniform ? c0 : (rng() % 12 == 0 ? 5 : rng() % 5);
            got[i].buf.resize(24 + 16 * blocks);
            for (auto& b : got[i].buf) b = std::uint8_t(rng());
            for (auto& b : got[i].iv) b = std::uint8_t(rng());
            ops[i] = op_on(got[i]);
        }
        auto ref = got;
        const auto plain = got;
        std::vector<esp::crypto_op> rops(n);
        for (std::size_t i = 0; i < n; ++i) rops[i] = op_on(ref[i]);
        // Reference op by op; ours as the data plane does it: deferred across contexts.
        for (std::size_t i = 0; i < n; ++i) ctx[of[i]].ossl->encrypt(std::span(rops).subspan(i, 1));
        for (std::size_t i = 0; i < n;) {
            std::size_t j = i;
            while (j < n && of[j] == of[i]) ++j;
            ctx[of[i]].mb->encrypt_deferred(std::span(ops).subspan(i, j - i));
            i = j;
        }
        esp::crypto_ctx::complete_deferred();
        for (std::size_t i = 0; i < n; ++i) {
            CAPTURE(i, of[i], ops[i].len);
            REQUIRE(rops[i].ok);
            CHECK(ops[i].ok);
            CHECK(got[i].buf == ref[i].buf);
            const std::size_t icv = of[i] == 5 ? 12 : 16;
            CHECK(std::equal(got[i].tag.begin(), got[i].tag.begin() + long(icv), ref[i].tag.begin()));
        }
        // Decrypt all of them in one decrypt_many, one op altered: its tag, a ciphertext byte or
        // a header byte (covered by the HMAC only).
        const std::size_t bad = rng() % n;
        const int what = int(rng() % 3);
        auto& bb = got[bad].buf;
        if (what == 0) got[bad].tag[rng() % 12] ^= 0x01;
        else if (what == 1) bb[24 + rng() % (bb.size() - 24)] ^= std::uint8_t(1u << (rng() % 8));
        else bb[rng() % 8] ^= 0x80;
        std::vector<esp::crypto_ctx*> ctxs(n);
        for (std::size_t i = 0; i < n; ++i) {
            ctxs[i] = ctx[of[i]].mb.get();
            ops[i].ok = false;
        }
        esp::crypto_ctx::decrypt_many(ops, ctxs);
        for (std::size_t i = 0; i < n; ++i) {
            CAPTURE(i, of[i], bad, what, ops[i].len);
            CHECK(ops[i].ok == (i != bad));
            if (i != bad) CHECK(std::equal(got[i].buf.begin() + 24, got[i].buf.end(), plain[i].buf.begin() + 24));
        }
    }
}

TEST_CASE("crypto: HMAC-SHA-256-128 of the multi-buffer backend matches RFC 4868's known answer") {
    // RFC 4868 2.7.2.1, Test Case AUTH256-4: key 0x01 .. 0x20, data 50 bytes of 0xcd,
    // HMAC-SHA-256-128 = 372efcf9b40b35c2115b1346903d2ef4. Decrypt checks the HMAC over the
    // region as it is, before deciphering: sixteen ops (one full pass of lanes) whose HMAC region
    // is the RFC's data (its last 16 bytes standing for the ciphertext), one with a wrong tag.
    std::vector<std::uint8_t> k(32);
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = std::uint8_t(i + 1);
    const base::secret_bytes key(k);
    const auto ek = esp_test::key_bytes(32, 3);
    std::string err;
    auto mb = esp::crypto_ctx::create(esp::backend_kind::ipsecmb, esp::enc_alg::aes256_cbc, ek.view(),
                                      esp::integ_alg::sha256_128, key.view(), &err);
    INFO(err);
    REQUIRE(mb);
    const std::array<std::uint8_t, 16> want{0x37, 0x2e, 0xfc, 0xf9, 0xb4, 0x0b, 0x35, 0xc2,
                                            0x11, 0x5b, 0x13, 0x46, 0x90, 0x3d, 0x2e, 0xf4};
    std::vector<std::vector<std::uint8_t>> bufs(16, std::vector<std::uint8_t>(50, 0xcd));
    std::vector<std::array<std::uint8_t, 16>> tags(16, want);
    tags[7][15] ^= 1;
    std::vector<esp::crypto_op> ops(16);
    const std::array<std::uint8_t, 16> iv{};  // deciphering is not what is checked here
    for (std::size_t i = 0; i < ops.size(); ++i) {
        ops[i].iv = iv.data();
        ops[i].auth = bufs[i].data();
        ops[i].auth_len = 50;
        ops[i].data = bufs[i].data() + 34;
        ops[i].len = 16;
        ops[i].tag = tags[i].data();
    }
    mb->decrypt(ops);
    for (std::size_t i = 0; i < ops.size(); ++i) {
        CAPTURE(i);
        CHECK(ops[i].ok == (i != 7));
    }
}
