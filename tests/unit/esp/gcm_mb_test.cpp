// AES-GCM through the intel-ipsec-mb backend, whose short messages (up to 160 bytes, AAD up to
// 16) go to our multi-buffer code on AVX-512 CPUs with VAES (esp::ipsecmb_gcm_multibuffer())
// and to the library's one-buffer functions otherwise: either way, every message must come out
// as OpenSSL encrypts it, whatever mix of lengths, AAD sizes and burst sizes one call carries
// (runs of short messages split at 32 and at every long one), and decrypt must refuse exactly
// the messages whose tag, ciphertext or AAD was changed.
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

struct gcm_message {
    std::vector<std::uint8_t> data;
    std::vector<std::uint8_t> aad;
    std::array<std::uint8_t, 16> tag{};
    std::array<std::uint8_t, 16> iv{};  // the op's IV (its first 8 bytes)
};

struct gcm_pair {
    std::unique_ptr<esp::crypto_ctx> mb, ossl;
};

gcm_pair make_gcm_pair(esp::enc_alg enc, std::uint8_t seed) {
    const auto ek = esp_test::key_bytes(esp::params(enc).key_len, seed);
    const base::secret_bytes none;
    std::string err;
    gcm_pair p{esp::crypto_ctx::create(esp::backend_kind::ipsecmb, enc, ek.view(), esp::integ_alg::none, none.view(), &err),
               esp::crypto_ctx::create(esp::backend_kind::openssl, enc, ek.view(), esp::integ_alg::none, none.view(), &err)};
    INFO(err);
    REQUIRE(p.mb);
    REQUIRE(p.ossl);
    return p;
}

std::vector<esp::crypto_op> gcm_ops(std::vector<gcm_message>& msgs, std::mt19937& rng) {
    std::vector<esp::crypto_op> ops(msgs.size());
    for (std::size_t i = 0; i < msgs.size(); ++i) {
        ops[i].data = msgs[i].data.data();
        ops[i].len = std::uint32_t(msgs[i].data.size());
        ops[i].auth = msgs[i].aad.data();
        ops[i].auth_len = std::uint32_t(msgs[i].aad.size());
        ops[i].tag = msgs[i].tag.data();
        for (auto& b : msgs[i].iv) b = std::uint8_t(rng());
        ops[i].iv = msgs[i].iv.data();
    }
    return ops;
}

} // namespace

TEST_CASE("crypto: AES-GCM of the multi-buffer backend equals OpenSSL for any mix of lengths, AAD and burst sizes") {
    INFO("intel-ipsec-mb multi-buffer GCM on this CPU: " << (esp::ipsecmb_gcm_multibuffer() ? "yes" : "no (library path)"));
    const auto enc = GENERATE(esp::enc_alg::aes128gcm16, esp::enc_alg::aes256gcm16);
    CAPTURE(esp::to_string(enc));
    auto ctx = make_gcm_pair(enc, 0x42);
    std::mt19937 rng(7);
    // Lengths mostly short (every remainder mod 16 and 64), some past 160 (the library's);
    // AAD 8 and 12 as ESP has it, 0, 16 and 20 (past the multi-buffer limit) too.
    const std::uint32_t aad_sizes[] = {8, 12, 8, 0, 16, 20, 8, 12};
    for (int round = 0; round < 60; ++round) {
        const std::size_t n = 1 + rng() % 40;
        CAPTURE(round, n);
        // Every other round, messages of mostly one block count (lengths within the same 16
        // bytes, AAD of 1-16 bytes), which the multi-buffer code takes four at a time.
        const bool one_shape = round % 2 == 1;
        const std::uint32_t blocks = 1 + rng() % 10;
        std::vector<gcm_message> msgs(n);
        for (auto& m : msgs) {
            std::uint32_t len = rng() % 8 == 0 ? 161 + rng() % 400 : rng() % 161;
            std::uint32_t aad = aad_sizes[rng() % 8];
            if (one_shape) {
                // Now and then one of another shape (a block more or less, no AAD, too long),
                // which breaks a group of four where it lands.
                len = 16 * (blocks - 1) + 1 + rng() % 16;
                aad = 1 + rng() % 16;
                switch (rng() % 24) {
                case 0: len = len + 16 <= 160 ? len + 16 : len - 16; break;
                case 1: aad = 0; break;
                case 2: len = 300; break;
                default: break;
                }
            }
            m.data.resize(len);
            m.aad.resize(aad);
            for (auto& b : m.data) b = std::uint8_t(rng());
            for (auto& b : m.aad) b = std::uint8_t(rng());
        }
        auto ref = msgs;
        auto ops = gcm_ops(msgs, rng);
        auto rops = ops;
        for (std::size_t i = 0; i < n; ++i) {
            rops[i].data = ref[i].data.data();
            rops[i].auth = ref[i].aad.data();
            rops[i].tag = ref[i].tag.data();
        }
        const auto plain = msgs;
        ctx.mb->encrypt(ops);
        ctx.ossl->encrypt(rops);
        for (std::size_t i = 0; i < n; ++i) {
            CAPTURE(i, ops[i].len, ops[i].auth_len);
            REQUIRE(rops[i].ok);
            CHECK(ops[i].ok);
            CHECK(msgs[i].data == ref[i].data);
            CHECK(msgs[i].tag == ref[i].tag);
        }
        // Decrypt in place, with one message of the burst altered (tag, ciphertext or AAD).
        const std::size_t bad = rng() % n;
        const int what = int(rng() % 3);
        auto& bm = msgs[bad];
        if (what == 1 && !bm.data.empty()) bm.data[rng() % bm.data.size()] ^= std::uint8_t(1u << (rng() % 8));
        else if (what == 2 && !bm.aad.empty()) bm.aad[rng() % bm.aad.size()] ^= 0x80;
        else bm.tag[rng() % 16] ^= 0x01;
        for (auto& op : ops) op.ok = false;
        ctx.mb->decrypt(ops);
        for (std::size_t i = 0; i < n; ++i) {
            CAPTURE(i, bad, what, ops[i].len, ops[i].auth_len);
            CHECK(ops[i].ok == (i != bad));
            if (i != bad) CHECK(msgs[i].data == plain[i].data);
        }
    }
}

TEST_CASE("crypto: AES-GCM multi-buffer and library paths agree for the ESP sizes of one burst, deferred or not") {
    // 40 ESP-like messages (AAD = SPI || seq, 8 bytes) of 49 to 64 bytes, as 64 B frames give
    // (more than one 32-message pass, all four to a register), then a 1400 B one, encrypted
    // through encrypt_deferred (GCM runs at once) and decrypted by the OpenSSL backend.
    auto ctx = make_gcm_pair(esp::enc_alg::aes256gcm16, 0x17);
    std::mt19937 rng(11);
    std::vector<gcm_message> msgs(41);
    for (std::size_t i = 0; i < msgs.size(); ++i) {
        msgs[i].data.assign(i == 40 ? 1400 : 49 + rng() % 16, std::uint8_t(i));
        msgs[i].aad.assign(8, std::uint8_t(0xa0 + i));
    }
    const auto plain = msgs;
    auto ops = gcm_ops(msgs, rng);
    ctx.mb->encrypt_deferred(ops);
    esp::crypto_ctx::complete_deferred();
    for (std::size_t i = 0; i < msgs.size(); ++i) {
        CAPTURE(i);
        REQUIRE(ops[i].ok);
        CHECK(msgs[i].data != plain[i].data);
        ops[i].ok = false;
    }
    ctx.ossl->decrypt(ops);
    for (std::size_t i = 0; i < msgs.size(); ++i) {
        CAPTURE(i);
        CHECK(ops[i].ok);
        CHECK(msgs[i].data == plain[i].data);
    }
}
