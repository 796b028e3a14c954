// Algorithm names (the one mapping shared by ipsec-vector, IKE and control), parameters and
// SA config validation.
#include "esp_test_util.hpp"

#include <esp/crypto.hpp>

#include <catch2/catch.hpp>
#include <openssl/evp.h>

#include <array>
#include <memory>
#include <random>
#include <set>
#include <vector>

using namespace esp_test;

TEST_CASE("algorithm names: canonical round trip and strongSwan keywords") {
    for (auto e : all_enc) CHECK(esp::parse_enc(esp::to_string(e)) == e);
    for (auto i : all_integ) CHECK(esp::parse_integ(esp::to_string(i)) == i);
    CHECK(esp::parse_integ("none") == esp::integ_alg::none);
    CHECK(esp::parse_enc("aes256") == esp::enc_alg::aes256_cbc);
    CHECK(esp::parse_enc("AES128") == esp::enc_alg::aes128_cbc);
    CHECK(esp::parse_enc("3des") == esp::enc_alg::des3_cbc);
    CHECK(esp::parse_enc("aes256gcm128") == esp::enc_alg::aes256gcm16);
    CHECK(esp::parse_integ("sha256") == esp::integ_alg::sha256_128);
    CHECK(esp::parse_integ("sha1") == esp::integ_alg::sha1_96);
    CHECK(esp::parse_integ("sha2_512") == esp::integ_alg::sha512_256);
    CHECK(esp::parse_backend("openssl") == esp::backend_kind::openssl);
    CHECK(esp::parse_backend("ipsecmb") == esp::backend_kind::ipsecmb);
    CHECK_FALSE(esp::parse_enc("aes512"));
    CHECK_FALSE(esp::parse_enc(""));
    CHECK_FALSE(esp::parse_integ("md5"));
    CHECK_FALSE(esp::parse_backend("qat"));
}

TEST_CASE("wire parameters (RFC 3602, RFC 4106, RFC 2451, RFC 2404, RFC 4868)") {
    CHECK(esp::params(esp::enc_alg::aes128gcm16).key_len == 20);
    CHECK(esp::params(esp::enc_alg::aes256gcm16).key_len == 36);
    CHECK(esp::params(esp::enc_alg::aes192_cbc).iv_len == 16);
    CHECK(esp::params(esp::enc_alg::des3_cbc).block_size == 8);
    CHECK(esp::icv_len(esp::enc_alg::aes256_cbc, esp::integ_alg::sha384_192) == 24);
    CHECK(esp::icv_len(esp::enc_alg::aes256_cbc, esp::integ_alg::sha1_96) == 12);
    CHECK(esp::icv_len(esp::enc_alg::aes128gcm16, esp::integ_alg::none) == 16);
}

TEST_CASE("sa_config validation refuses inconsistent configurations with a reason") {
    auto good = make_config(esp::enc_alg::aes256_cbc, esp::integ_alg::sha256_128);
    CHECK(esp::validate(good).empty());
    auto c = good;
    c.integ = esp::integ_alg::none;
    c.integ_key = {};
    CHECK_FALSE(esp::validate(c).empty());  // none only with GCM
    c = good;
    c.enc_key = key_bytes(16, 1);
    CHECK_FALSE(esp::validate(c).empty());  // wrong key length
    c = make_config(esp::enc_alg::aes128gcm16, esp::integ_alg::sha1_96);
    CHECK_FALSE(esp::validate(c).empty());  // integrity with AEAD
    c = good;
    c.dst = *esp::ip_address::parse("2001:db8::1");
    CHECK_FALSE(esp::validate(c).empty());  // mixed families
    for (std::uint32_t w : {1u, 63u, 4097u}) {
        c = good;
        c.replay_window = w;
        CHECK_FALSE(esp::validate(c).empty());
    }
    c = good;
    c.initial_seq = 0;
    CHECK_FALSE(esp::validate(c).empty());
    c.initial_seq = 0x100000000ULL;
    CHECK_FALSE(esp::validate(c).empty());  // needs ESN
    c.esn = true;
    CHECK(esp::validate(c).empty());
    // the reason never carries key material
    c = good;
    c.enc_key = key_bytes(31, 0x41);
    const auto why = esp::validate(c);
    CHECK(why.find(base::to_hex(c.enc_key.view())) == std::string::npos);
    CHECK(why.find("32 bytes") != std::string::npos);
}

TEST_CASE("ip_address parse/format") {
    CHECK(esp::ip_address::parse("192.0.2.1")->to_string() == "192.0.2.1");
    CHECK(esp::ip_address::parse("2001:db8::1")->is_v6());
    CHECK_FALSE(esp::ip_address::parse("192.0.2.256"));
    CHECK(esp::ip_address::v4(0xc0000201) == *esp::ip_address::parse("192.0.2.1"));
}

TEST_CASE("random IV source: every IV distinct across buffered, partial and oversized requests") {
    auto src = esp::make_random_iv_source();
    std::set<std::vector<std::uint8_t>> seen;
    std::size_t total = 0;
    // Burst-sized requests (the buffer serves several), odd sizes that leave a remainder, and
    // requests larger than the buffer (generated directly).
    const std::size_t sizes[] = {32 * 16, 16, 48, 7 * 16, 32 * 16, 4096, 31 * 8, 64 * 16};
    for (int round = 0; round < 40; ++round) {
        for (std::size_t n : sizes) {
            std::vector<std::uint8_t> out(n, 0);
            src->fill(out);
            for (std::size_t off = 0; off + 16 <= n; off += 16) {
                std::vector<std::uint8_t> iv(out.begin() + long(off), out.begin() + long(off + 16));
                INFO("round " << round << " request " << n << " offset " << off);
                REQUIRE(seen.insert(iv).second);
                ++total;
            }
        }
    }
    CHECK(total == seen.size());
    CHECK(total > 10000);
}

namespace {

// OpenSSL's AES-256-CTR keystream: len bytes from counter block ctr on (EVP increments the whole
// block as a big-endian integer, SP 800-38A B.1).
std::vector<std::uint8_t> evp_ctr_keystream(const std::array<std::uint8_t, 32>& key, const std::array<std::uint8_t, 16>& ctr,
                                            std::size_t len) {
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> c(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    REQUIRE(c);
    REQUIRE(EVP_EncryptInit_ex(c.get(), EVP_aes_256_ctr(), nullptr, key.data(), ctr.data()) == 1);
    std::vector<std::uint8_t> out(len, 0);
    int n = 0;
    REQUIRE(EVP_EncryptUpdate(c.get(), out.data(), &n, out.data(), int(len)) == 1);
    return out;
}

} // namespace

TEST_CASE("IV source: the AES-256-CTR keystream equals OpenSSL's, across request sizes and counter carries") {
    const bool vector = GENERATE(true, false);
    CAPTURE(vector, esp::ipsecmb_cbc_multibuffer());
    // FIPS 197 C.3: AES-256 of 00112233..ff under key 00..1f; as the first counter block, that is
    // the first keystream block.
    {
        std::array<std::uint8_t, 32> key;
        std::array<std::uint8_t, 16> ctr;
        for (std::size_t i = 0; i < key.size(); ++i) key[i] = std::uint8_t(i);
        for (std::size_t i = 0; i < ctr.size(); ++i) ctr[i] = std::uint8_t(0x11 * i);
        auto src = esp::make_ctr_iv_source(key, ctr, vector);
        std::vector<std::uint8_t> out(16);
        src->fill(out);
        const std::vector<std::uint8_t> want{0x8e, 0xa2, 0xb7, 0xca, 0x51, 0x67, 0x45, 0xbf,
                                             0xea, 0xfc, 0x49, 0x90, 0x4b, 0x49, 0x60, 0x89};
        CHECK(out == want);
    }
    // Random keys; counters whose low 64 bits, or all 128, wrap within the run; requests of whole
    // blocks (the IVs of a burst), of odd lengths (a partial last block is dropped: the next
    // request starts at the next block) and larger than one pass of the vector code.
    std::mt19937 rng(11);
    const std::size_t sizes[] = {512, 16, 8, 100, 4096, 31 * 8, 272, 0, 1, 255, 257, 64, 1008};
    for (int round = 0; round < 12; ++round) {
        std::array<std::uint8_t, 32> key;
        std::array<std::uint8_t, 16> ctr;
        for (auto& b : key) b = std::uint8_t(rng());
        for (auto& b : ctr) b = std::uint8_t(rng());
        if (round % 3 == 1) std::fill(ctr.begin() + 8, ctr.end() - 1, 0xff);  // low half wraps
        if (round % 3 == 2) std::fill(ctr.begin(), ctr.end() - 1, 0xff);      // the whole block wraps
        CAPTURE(round);
        auto src = esp::make_ctr_iv_source(key, ctr, vector);
        std::size_t total_blocks = 0;
        for (std::size_t n : sizes) total_blocks += (n + 15) / 16;
        const auto ref = evp_ctr_keystream(key, ctr, 16 * total_blocks);
        std::size_t at = 0;
        for (std::size_t n : sizes) {
            CAPTURE(n, at);
            std::vector<std::uint8_t> out(n + 16, 0xa5);
            src->fill(std::span(out.data(), n));
            CHECK(std::equal(out.begin(), out.begin() + long(n), ref.begin() + long(at)));
            CHECK(std::all_of(out.begin() + long(n), out.end(), [](std::uint8_t b) { return b == 0xa5; }));  // nothing past n
            at += 16 * ((n + 15) / 16);
        }
    }
}
