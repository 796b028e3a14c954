// Encrypted payload protection (RFC 7296 3.14, RFC 5282): GCM known answers (McGrew-Viega test
// cases with the RFC 4106 salt | IV split), RFC 3602 AES-CBC, every suite against the Python
// oracle (python-cryptography + hmac), round trips, and rejection of every truncation and every
// single-bit flip of the sealed body and of the AAD.
#include "crypto_oracle.hpp"

#include <ike/prf.hpp>
#include <ike/sk.hpp>

using namespace ike::crypto;
using namespace ike_crypto_test;

namespace {

struct suite {
    encr_spec encr;
    integ_id integ;
};

const std::vector<suite>& all_suites() {
    static const std::vector<suite> s{
        {{encr_id::aes_cbc, 128}, integ_id::hmac_sha1_96},
        {{encr_id::aes_cbc, 192}, integ_id::hmac_sha2_256_128},
        {{encr_id::aes_cbc, 256}, integ_id::hmac_sha2_256_128},
        {{encr_id::aes_cbc, 256}, integ_id::hmac_sha2_384_192},
        {{encr_id::aes_cbc, 256}, integ_id::hmac_sha2_512_256},
        {{encr_id::aes_cbc, 128}, integ_id::hmac_md5_96},
        {{encr_id::aes_cbc, 128}, integ_id::hmac_sha1_160},
        {{encr_id::des3, 0}, integ_id::hmac_sha1_96},
        {{encr_id::aes_gcm_8, 128}, integ_id::none},
        {{encr_id::aes_gcm_12, 192}, integ_id::none},
        {{encr_id::aes_gcm_16, 256}, integ_id::none},
        {{encr_id::aes_gcm_16, 128}, integ_id::none},
    };
    return s;
}

std::string name(const suite& s) { return to_string(s.encr) + "-" + to_string(s.integ); }

const char* digest(integ_id id) {
    switch (id) {
    case integ_id::hmac_md5_96: return "md5";
    case integ_id::hmac_sha1_96: case integ_id::hmac_sha1_160: return "sha1";
    case integ_id::hmac_sha2_256_128: return "sha256";
    case integ_id::hmac_sha2_384_192: return "sha384";
    case integ_id::hmac_sha2_512_256: return "sha512";
    default: return "-";
    }
}

struct keyed {
    bytes ek, ak;
    sk_cipher c;
};

keyed make(const suite& s, std::uint8_t seed, random_source& rng = system_random()) {
    bytes ek = pattern(*encr_keymat_size(s.encr), seed);
    bytes ak = pattern(integ_key_size(s.integ), static_cast<std::uint8_t>(seed + 1));
    auto c = sk_cipher::create(s.encr, s.integ, ek, ak, rng);
    REQUIRE(c);
    return {ek, ak, std::move(*c)};
}

// IKE header (28) + SK generic header (4), lengths as they would be on the wire.
bytes aad_for(std::size_t sealed) {
    bytes a = pattern(32, 99);
    const std::size_t total = 32 + sealed;
    a[24] = static_cast<std::uint8_t>(total >> 24);
    a[25] = static_cast<std::uint8_t>(total >> 16);
    a[26] = static_cast<std::uint8_t>(total >> 8);
    a[27] = static_cast<std::uint8_t>(total);
    a[30] = static_cast<std::uint8_t>((4 + sealed) >> 8);
    a[31] = static_cast<std::uint8_t>(4 + sealed);
    return a;
}

class fixed_random final : public random_source {
public:
    explicit fixed_random(std::uint8_t v) : _v(v) {}
    std::error_code fill(std::span<std::uint8_t> out) override {
        std::fill(out.begin(), out.end(), _v);
        return {};
    }

private:
    std::uint8_t _v;
};

class failing_random final : public random_source {
public:
    std::error_code fill(std::span<std::uint8_t>) override { return crypto_errc::random_failure; }
};

constexpr const char* gcm_aad_hex = "feedfacedeadbeeffeedfacedeadbeefabaddad2";

} // namespace

TEST_CASE("sk: AES-GCM known answers, salt from the key material, explicit 8-byte IV (RFC 5282)") {
    const bytes iv = hex("facedbaddecaf888");
    const bytes gcm_aad = hex(gcm_aad_hex);
    struct kat { encr_spec e; const char* key; bool aad; const char* ct_tag; };
    // McGrew-Viega test cases 2-4 (AES-128), 10 (AES-192), 13-16 (AES-256); key | salt cafebabe.
    const kat kats[] = {
        {{encr_id::aes_gcm_16, 128}, "feffe9928665731c6d6a8f9467308308cafebabe", true,
         "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa05"
         "1ba30b396a0aac973d58e0915bc94fbc3221a5db94fae95ae7121a47"},
        {{encr_id::aes_gcm_16, 256}, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308cafebabe", true,
         "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838"
         "c5f61e6393ba7a0abcc9f66276fc6ece0f4e1768cddf8853bb2d551b"},
    };
    for (const auto& k : kats) {
        INFO(to_string(k.e));
        auto c = sk_cipher::create(k.e, integ_id::none, hex(k.key), {});
        REQUIRE(c);
        bytes sealed = iv;
        const bytes ct = hex(k.ct_tag);
        sealed.insert(sealed.end(), ct.begin(), ct.end());
        // 60-byte plaintext whose last byte 0x39 reads as Pad Length 57: inner = first 2 bytes.
        auto inner = c->open(gcm_aad, sealed);
        REQUIRE(inner);
        CHECK(to_hex(*inner) == "d931");
        sealed[20] ^= 0x40;
        CHECK(c->open(gcm_aad, sealed).error() == crypto_errc::integrity_check_failed);
    }
    // 64-byte cases without AAD: the tag verifies (so the error is the padding, not the ICV):
    // the last plaintext byte 0x55 = 85 exceeds the 63 bytes before it.
    struct kat2 { encr_spec e; const char* key; const char* ct_tag; };
    const kat2 kats2[] = {
        {{encr_id::aes_gcm_8, 128}, "feffe9928665731c6d6a8f9467308308cafebabe",
         "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa05"
         "1ba30b396a0aac973d58e091473f59854d5c2af327cd64a6"},
        {{encr_id::aes_gcm_12, 128}, "feffe9928665731c6d6a8f9467308308cafebabe",
         "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa05"
         "1ba30b396a0aac973d58e091473f59854d5c2af327cd64a62cf35abd"},
        {{encr_id::aes_gcm_16, 128}, "feffe9928665731c6d6a8f9467308308cafebabe",
         "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa05"
         "1ba30b396a0aac973d58e091473f59854d5c2af327cd64a62cf35abd2ba6fab4"},
        {{encr_id::aes_gcm_16, 192}, "feffe9928665731c6d6a8f9467308308feffe9928665731ccafebabe",
         "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c7d773d00c144c525ac619d18c84a3f47"
         "18e2448b2fe324d9ccda2710acade2569924a7c8587336bfb118024db8674a14"},
        {{encr_id::aes_gcm_16, 256}, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308cafebabe",
         "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838"
         "c5f61e6393ba7a0abcc9f662898015adb094dac5d93471bdec1a502270e3cc6c"},
    };
    for (const auto& k : kats2) {
        INFO(to_string(k.e));
        auto c = sk_cipher::create(k.e, integ_id::none, hex(k.key), {});
        REQUIRE(c);
        bytes sealed = iv;
        const bytes ct = hex(k.ct_tag);
        sealed.insert(sealed.end(), ct.begin(), ct.end());
        CHECK(c->open({}, sealed).error() == crypto_errc::bad_padding);
        sealed.back() ^= 1;
        CHECK(c->open({}, sealed).error() == crypto_errc::integrity_check_failed);
    }
}

TEST_CASE("sk: RFC 3602 AES-CBC case 2 and 3 under an HMAC-SHA1-96 ICV over aad | IV | ct") {
    const bytes aad = aad_for(16 + 32 + 12);
    auto hmac96 = [&](const bytes& key, const bytes& iv, const bytes& ct) {
        auto f = prf::create(prf_id::hmac_sha1);
        REQUIRE(f);
        auto m = (*f)(key, {aad, iv, ct});
        REQUIRE(m);
        return bytes(m->view().begin(), m->view().begin() + 12);
    };
    const bytes ak = pattern(20, 5);
    {
        // Case 2: plaintext 00..1f ends in 0x1f: Pad Length 31 covers everything before it.
        const bytes key = hex("c286696d887c9aa0611bbb3e2025a45a"), iv = hex("562e17996d093d28ddb3ba695a2e6f58");
        const bytes ct = hex("d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1");
        auto c = sk_cipher::create({encr_id::aes_cbc, 128}, integ_id::hmac_sha1_96, key, ak);
        REQUIRE(c);
        bytes sealed = iv;
        sealed.insert(sealed.end(), ct.begin(), ct.end());
        const bytes icv = hmac96(ak, iv, ct);
        sealed.insert(sealed.end(), icv.begin(), icv.end());
        auto inner = c->open(aad, sealed);
        REQUIRE(inner);
        CHECK(inner->empty());
    }
    {
        // Case 3: 64 bytes a0..df decrypt correctly, and the last byte 0xdf = 223 > 63 is bad
        // padding, reported only after the ICV verified.
        const bytes key = hex("56e47a38c5598974bc46903dba290349"), iv = hex("8ce82eefbea0da3c44699ed7db51b7d9");
        const bytes ct = hex("c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e"
                             "35907aa632c3ffdf868bb7b29d3d46ad83ce9f9a102ee99d49a53e87f4c3da55");
        auto c = sk_cipher::create({encr_id::aes_cbc, 128}, integ_id::hmac_sha1_96, key, ak);
        REQUIRE(c);
        bytes sealed = iv;
        sealed.insert(sealed.end(), ct.begin(), ct.end());
        const bytes aad3 = aad;
        auto f = prf::create(prf_id::hmac_sha1);
        auto m = (*f)(ak, {aad3, iv, ct});
        sealed.insert(sealed.end(), m->view().begin(), m->view().begin() + 12);
        CHECK(c->open(aad3, sealed).error() == crypto_errc::bad_padding);
    }
}

TEST_CASE("sk: every suite seals exactly as the Python oracle with a fixed IV (RFC 7296 3.14)") {
    std::vector<std::string> cmds;
    struct job { std::size_t suite; bytes plain, iv, aad; };
    std::vector<job> jobs;
    for (std::size_t k = 0; k < all_suites().size(); ++k) {
        const auto& s = all_suites()[k];
        auto kc = make(s, static_cast<std::uint8_t>(k));
        for (std::size_t len : {0, 1, 7, 15, 16, 17, 100}) {
            job j{k, pattern(len, static_cast<std::uint8_t>(len + k)), pattern(kc.c.iv_size(), static_cast<std::uint8_t>(k + 3)),
                  aad_for(kc.c.sealed_size(len))};
            if (encr_is_aead(s.encr.id)) {
                cmds.push_back("sk_gcm " + arg(kc.ek) + " " + arg(j.iv) + " " + arg(j.plain) + " " + arg(j.aad) + " " +
                               std::to_string(kc.c.icv_size()));
            } else {
                cmds.push_back(std::string("sk_cbc ") + (s.encr.id == encr_id::des3 ? "3des " : "aes ") + arg(kc.ek) +
                               " " + arg(j.iv) + " " + arg(j.plain) + " " + digest(s.integ) + " " + arg(kc.ak) + " " +
                               std::to_string(kc.c.icv_size()) + " " + arg(j.aad));
            }
            jobs.push_back(std::move(j));
        }
    }
    auto out = oracle(cmds);
    for (std::size_t n = 0; n < jobs.size(); ++n) {
        const auto& j = jobs[n];
        INFO(name(all_suites()[j.suite]) << " plaintext " << j.plain.size());
        auto kc = make(all_suites()[j.suite], static_cast<std::uint8_t>(j.suite));
        bytes sealed(kc.c.sealed_size(j.plain.size()));
        REQUIRE_FALSE(kc.c.seal_with_iv(j.aad, j.plain, j.iv, sealed));
        CHECK(to_hex(sealed) == out[n]);
        auto inner = kc.c.open(j.aad, hex(out[n]));
        REQUIRE(inner);
        CHECK(*inner == j.plain);
    }
}

TEST_CASE("sk: round trip for every suite and plaintext length 0..48; sizes as announced") {
    for (std::size_t k = 0; k < all_suites().size(); ++k) {
        const auto& s = all_suites()[k];
        INFO(name(s));
        auto tx = make(s, static_cast<std::uint8_t>(k + 20));
        auto rx = make(s, static_cast<std::uint8_t>(k + 20));
        CHECK(tx.c.iv_size() == (encr_is_aead(s.encr.id) ? 8u : s.encr.id == encr_id::des3 ? 8u : 16u));
        CHECK(tx.c.icv_size() == (encr_is_aead(s.encr.id) ? encr_icv_size(s.encr.id) : integ_icv_size(s.integ)));
        for (std::size_t len = 0; len <= 48; ++len) {
            const bytes plain = pattern(len, static_cast<std::uint8_t>(len));
            const std::size_t size = tx.c.sealed_size(len);
            CHECK((size - tx.c.iv_size() - tx.c.icv_size()) % tx.c.block_size() == 0);
            CHECK(size - tx.c.iv_size() - tx.c.icv_size() < len + 1 + tx.c.block_size()); // minimal padding
            const bytes aad = aad_for(size);
            auto sealed = tx.c.seal(aad, plain);
            REQUIRE(sealed);
            CHECK(sealed->size() == size);
            auto inner = rx.c.open(aad, *sealed);
            REQUIRE(inner);
            CHECK(*inner == plain);
        }
        bytes wrong_out(tx.c.sealed_size(3) + 1);
        CHECK(tx.c.seal(aad_for(0), bytes(3, 1), wrong_out) == crypto_errc::invalid_argument);
    }
}

TEST_CASE("sk: every truncation, extension and single-bit flip of body or AAD is rejected without crash") {
    for (std::size_t k = 0; k < all_suites().size(); ++k) {
        const auto& s = all_suites()[k];
        INFO(name(s));
        auto kc = make(s, static_cast<std::uint8_t>(k + 40));
        const bytes plain = pattern(37, 1);
        const bytes aad = aad_for(kc.c.sealed_size(plain.size()));
        auto sealed = kc.c.seal(aad, plain);
        REQUIRE(sealed);
        REQUIRE(kc.c.open(aad, *sealed));
        for (std::size_t len = 0; len < sealed->size(); ++len) {
            auto r = kc.c.open(aad, std::span(*sealed).first(len));
            CHECK_FALSE(r.has_value());
        }
        bytes longer = *sealed;
        longer.push_back(0);
        CHECK_FALSE(kc.c.open(aad, longer).has_value());
        std::size_t flips = 0;
        for (std::size_t bit = 0; bit < sealed->size() * 8; ++bit) {
            bytes b = *sealed;
            b[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
            flips += kc.c.open(aad, b).error() == crypto_errc::integrity_check_failed;
        }
        CHECK(flips == sealed->size() * 8);
        std::size_t aad_flips = 0;
        for (std::size_t bit = 0; bit < aad.size() * 8; ++bit) {
            bytes a = aad;
            a[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
            aad_flips += kc.c.open(a, *sealed).error() == crypto_errc::integrity_check_failed;
        }
        CHECK(aad_flips == aad.size() * 8);
        // A body from another key is not accepted either.
        auto other = make(s, static_cast<std::uint8_t>(k + 41));
        CHECK(other.c.open(aad, *sealed).error() == crypto_errc::integrity_check_failed);
    }
}

TEST_CASE("sk: CBC IVs come from the injected random source; GCM IVs are a per-key counter") {
    fixed_random rng(0xa5);
    auto cbc = make({{encr_id::aes_cbc, 128}, integ_id::hmac_sha2_256_128}, 1, rng);
    auto sealed = cbc.c.seal(aad_for(0), bytes(5, 1));
    REQUIRE(sealed);
    CHECK(to_hex(std::span(*sealed).first(16)) == "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5");
    failing_random bad;
    auto broken = make({{encr_id::aes_cbc, 128}, integ_id::hmac_sha2_256_128}, 1, bad);
    bytes out(broken.c.sealed_size(5));
    CHECK(broken.c.seal(aad_for(0), bytes(5, 1), out) == crypto_errc::random_failure);

    auto gcm = make({{encr_id::aes_gcm_16, 256}, integ_id::none}, 2, bad); // GCM never asks the rng
    auto a = gcm.c.seal(aad_for(0), bytes(5, 1));
    auto b = gcm.c.seal(aad_for(0), bytes(5, 1));
    REQUIRE(a);
    REQUIRE(b);
    CHECK(to_hex(std::span(*a).first(8)) == "0000000000000001");
    CHECK(to_hex(std::span(*b).first(8)) == "0000000000000002");
    CHECK(*a != *b);
}

TEST_CASE("sk: invalid suites and key sizes are refused") {
    const bytes k16(16, 1), k20(20, 1), k32(32, 1), k36(36, 1);
    CHECK(sk_cipher::create({encr_id::aes_cbc, 128}, integ_id::hmac_sha2_256_128, k16, k32).has_value());
    CHECK(sk_cipher::create({encr_id::aes_cbc, 128}, integ_id::hmac_sha2_256_128, k20, k32).error() ==
          crypto_errc::invalid_key_length);
    CHECK(sk_cipher::create({encr_id::aes_cbc, 128}, integ_id::hmac_sha2_256_128, k16, k20).error() ==
          crypto_errc::invalid_key_length);
    CHECK(sk_cipher::create({encr_id::aes_gcm_16, 128}, integ_id::none, k16, {}).error() ==
          crypto_errc::invalid_key_length); // salt missing
    CHECK(sk_cipher::create({encr_id::aes_gcm_16, 256}, integ_id::none, k36, {}).has_value());
    CHECK(sk_cipher::create({encr_id::aes_gcm_16, 256}, integ_id::hmac_sha1_96, k36, k20).error() ==
          crypto_errc::unsupported_algorithm);
    CHECK(sk_cipher::create({encr_id::aes_cbc, 128}, integ_id::none, k16, {}).error() ==
          crypto_errc::unsupported_algorithm);
    CHECK(sk_cipher::create({encr_id::null, 0}, integ_id::hmac_sha1_96, {}, k20).error() ==
          crypto_errc::unsupported_algorithm);
    CHECK(sk_cipher::create({encr_id::aes_cbc, 64}, integ_id::hmac_sha1_96, bytes(8, 1), k20).error() ==
          crypto_errc::unsupported_algorithm);
    CHECK(sk_cipher::create({static_cast<encr_id>(13), 128}, integ_id::hmac_sha1_96, k16, k20).error() ==
          crypto_errc::unsupported_algorithm);
}
