// Key schedule (RFC 7296 2.14, 2.17, 2.18) against the independent Python oracle, for IKE
// suites of every PRF/cipher/integrity combination we offer, CHILD SA KEYMAT with and without
// PFS, and rekey SKEYSEED; plus the sizes taken per transform (GCM salt, no SK_a for AEAD).
#include "crypto_oracle.hpp"

#include <ike/dh.hpp>
#include <ike/keymat.hpp>

#include <base/reader.hpp>

using namespace ike::crypto;
using namespace ike_crypto_test;

namespace {

const char* digest(prf_id id) {
    switch (id) {
    case prf_id::hmac_md5: return "md5";
    case prf_id::hmac_sha1: return "sha1";
    case prf_id::hmac_sha2_256: return "sha256";
    case prf_id::hmac_sha2_384: return "sha384";
    case prf_id::hmac_sha2_512: return "sha512";
    }
    return "";
}

std::vector<ike_suite> ike_suites() {
    return {
        {prf_id::hmac_sha2_256, {encr_id::aes_cbc, 256}, integ_id::hmac_sha2_256_128},
        {prf_id::hmac_sha1, {encr_id::aes_cbc, 128}, integ_id::hmac_sha1_96},
        {prf_id::hmac_sha2_512, {encr_id::aes_cbc, 192}, integ_id::hmac_sha2_512_256},
        {prf_id::hmac_sha2_384, {encr_id::aes_gcm_16, 256}, integ_id::none},
        {prf_id::hmac_sha2_256, {encr_id::aes_gcm_8, 128}, integ_id::none},
        {prf_id::hmac_md5, {encr_id::des3, 0}, integ_id::hmac_md5_96},
        {prf_id::hmac_sha2_384, {encr_id::aes_cbc, 256}, integ_id::hmac_sha2_384_192},
        {prf_id::hmac_sha1, {encr_id::aes_cbc, 256}, integ_id::hmac_sha1_160},
    };
}

} // namespace

TEST_CASE("keymat: key sizes per negotiated transforms (RFC 7296 2.14, RFC 5282 7.1)") {
    auto s = key_sizes({prf_id::hmac_sha2_256, {encr_id::aes_cbc, 256}, integ_id::hmac_sha2_256_128});
    REQUIRE(s);
    CHECK(s->d == 32);
    CHECK(s->a == 32);
    CHECK(s->e == 32);
    CHECK(s->p == 32);
    auto g = key_sizes({prf_id::hmac_sha2_384, {encr_id::aes_gcm_16, 128}, integ_id::none});
    REQUIRE(g);
    CHECK(g->e == 20); // 16-byte key + 4-byte salt
    CHECK(g->a == 0);
    CHECK(g->d == 48);
    auto t = key_sizes({prf_id::hmac_sha1, {encr_id::des3, 0}, integ_id::hmac_sha1_96});
    REQUIRE(t);
    CHECK(t->e == 24);
    CHECK(t->a == 20);
    // Invalid combinations.
    CHECK(key_sizes({prf_id::hmac_sha1, {encr_id::aes_gcm_16, 256}, integ_id::hmac_sha1_96}).error() ==
          crypto_errc::unsupported_algorithm);
    CHECK(key_sizes({prf_id::hmac_sha1, {encr_id::aes_cbc, 256}, integ_id::none}).error() ==
          crypto_errc::unsupported_algorithm);
    CHECK(key_sizes({prf_id::hmac_sha1, {encr_id::aes_cbc, 100}, integ_id::hmac_sha1_96}).error() ==
          crypto_errc::unsupported_algorithm);
    CHECK(key_sizes({prf_id::hmac_sha1, {encr_id::null, 0}, integ_id::hmac_sha1_96}).error() ==
          crypto_errc::unsupported_algorithm);
    CHECK(key_sizes({static_cast<prf_id>(4), {encr_id::aes_cbc, 128}, integ_id::hmac_sha1_96}).error() ==
          crypto_errc::unsupported_algorithm);
}

TEST_CASE("keymat: SKEYSEED and SK_d..SK_pr match the Python oracle for every suite (RFC 7296 2.14)") {
    const auto suites = ike_suites();
    std::vector<std::string> cmds;
    struct input { bytes ni, nr, gir, spii, spir; };
    std::vector<input> in;
    for (std::size_t k = 0; k < suites.size(); ++k) {
        const auto u = static_cast<std::uint8_t>(k * 5);
        input i{pattern(16 + k * 8, u), pattern(32 + k * 4, u + 1), pattern(256, u + 2), pattern(8, u + 3),
                pattern(8, u + 4)};
        auto sz = key_sizes(suites[k]);
        REQUIRE(sz);
        cmds.push_back(std::string("ikekeys ") + digest(suites[k].prf) + " " + arg(i.ni) + " " + arg(i.nr) + " " +
                       arg(i.gir) + " " + arg(i.spii) + " " + arg(i.spir) + " " + std::to_string(sz->e) + " " +
                       std::to_string(sz->a));
        in.push_back(std::move(i));
    }
    auto out = oracle(cmds);
    for (std::size_t k = 0; k < suites.size(); ++k) {
        INFO(cmds[k]);
        const auto& i = in[k];
        auto seed = skeyseed(suites[k].prf, i.ni, i.nr, i.gir);
        REQUIRE(seed);
        auto keys = derive_ike_sa_keys(suites[k], seed->view(), i.ni, i.nr, i.spii, i.spir);
        REQUIRE(keys);
        auto e = split(out[k]);
        REQUIRE(e.size() == 8);
        CHECK(to_hex(*seed) == e[0]);
        CHECK(to_hex(keys->sk_d) == e[1]);
        CHECK(to_hex(keys->sk_ai) == unarg(e[2]));
        CHECK(to_hex(keys->sk_ar) == unarg(e[3]));
        CHECK(to_hex(keys->sk_ei) == e[4]);
        CHECK(to_hex(keys->sk_er) == e[5]);
        CHECK(to_hex(keys->sk_pi) == e[6]);
        CHECK(to_hex(keys->sk_pr) == e[7]);
        // The uint64 SPI overload writes the SPIs big-endian, as on the wire.
        base::reader ri(i.spii), rr(i.spir);
        auto keys64 = derive_ike_sa_keys(suites[k], seed->view(), i.ni, i.nr, ri.read_u64(), rr.read_u64());
        REQUIRE(keys64);
        CHECK(keys64->sk_pr == keys->sk_pr);
    }
}

TEST_CASE("keymat: SPIs must be 8 bytes") {
    const bytes n(16, 1), seed(32, 2), spi8(8, 3), spi4(4, 3);
    const ike_suite s{prf_id::hmac_sha2_256, {encr_id::aes_cbc, 128}, integ_id::hmac_sha2_256_128};
    CHECK(derive_ike_sa_keys(s, seed, n, n, spi4, spi8).error() == crypto_errc::invalid_argument);
    CHECK(derive_ike_sa_keys(s, seed, n, n, spi8, spi8).has_value());
}

TEST_CASE("keymat: CHILD SA KEYMAT with and without PFS, encr then integ, i->r first (RFC 7296 2.17)") {
    struct job { prf_id prf; child_suite s; bool pfs; };
    const std::vector<job> jobs{
        {prf_id::hmac_sha2_256, {{encr_id::aes_cbc, 256}, integ_id::hmac_sha2_256_128}, false},
        {prf_id::hmac_sha2_256, {{encr_id::aes_cbc, 256}, integ_id::hmac_sha2_256_128}, true},
        {prf_id::hmac_sha1, {{encr_id::aes_gcm_16, 256}, integ_id::none}, false},  // 36-byte keys with salt
        {prf_id::hmac_sha2_512, {{encr_id::aes_gcm_12, 128}, integ_id::none}, true},
        {prf_id::hmac_sha2_384, {{encr_id::null, 0}, integ_id::hmac_sha2_384_192}, false},
        {prf_id::hmac_md5, {{encr_id::des3, 0}, integ_id::hmac_sha1_96}, true},
    };
    std::vector<std::string> cmds;
    const bytes ni = pattern(32, 50), nr = pattern(24, 51), gir = pattern(128, 52);
    std::vector<bytes> skd;
    for (const auto& j : jobs) {
        skd.push_back(pattern(prf_output_size(j.prf), static_cast<std::uint8_t>(skd.size() + 60)));
        const std::size_t e = *encr_keymat_size(j.s.encr), a = integ_key_size(j.s.integ);
        cmds.push_back(std::string("childkeys ") + digest(j.prf) + " " + arg(skd.back()) + " " +
                       (j.pfs ? arg(gir) : "-") + " " + arg(ni) + " " + arg(nr) + " " + std::to_string(e) + " " +
                       std::to_string(a));
    }
    auto out = oracle(cmds);
    for (std::size_t k = 0; k < jobs.size(); ++k) {
        INFO(cmds[k]);
        auto keys = derive_child_sa_keys(jobs[k].prf, skd[k], jobs[k].s, jobs[k].pfs ? bytes(gir) : bytes{}, ni, nr);
        REQUIRE(keys);
        auto e = split(out[k]);
        REQUIRE(e.size() == 4);
        CHECK(to_hex(keys->encr_i) == unarg(e[0]));
        CHECK(to_hex(keys->integ_i) == unarg(e[1]));
        CHECK(to_hex(keys->encr_r) == unarg(e[2]));
        CHECK(to_hex(keys->integ_r) == unarg(e[3]));
    }
    CHECK(derive_child_sa_keys(prf_id::hmac_sha1, skd[0], {{encr_id::null, 0}, integ_id::none}, {}, ni, nr).error() ==
          crypto_errc::unsupported_algorithm);
    CHECK(derive_child_sa_keys(prf_id::hmac_sha1, skd[0], {{encr_id::aes_gcm_16, 256}, integ_id::hmac_sha1_96}, {}, ni,
                               nr).error() == crypto_errc::unsupported_algorithm);
}

TEST_CASE("keymat: rekey SKEYSEED = prf_old(SK_d, g^ir | Ni | Nr) (RFC 7296 2.18)") {
    const bytes skd = pattern(48, 70), gir = pattern(256, 71), ni = pattern(32, 72), nr = pattern(32, 73);
    auto out = oracle({"rekeyseed sha384 " + arg(skd) + " " + arg(gir) + " " + arg(ni) + " " + arg(nr),
                       "rekeyseed sha1 " + arg(skd) + " " + arg(gir) + " " + arg(ni) + " " + arg(nr)});
    auto a = rekey_skeyseed(prf_id::hmac_sha2_384, skd, gir, ni, nr);
    auto b = rekey_skeyseed(prf_id::hmac_sha1, skd, gir, ni, nr);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(to_hex(*a) == out[0]);
    CHECK(to_hex(*b) == out[1]);
}

TEST_CASE("keymat: both peers derive identical keys from a real ECDH exchange") {
    /* IKE_SA_INIT { SA, KEi, Ni } -->  <-- { SA, KEr, Nr } */
    auto i = generate_key_exchange(dh_group::ecp256);
    auto r = generate_key_exchange(dh_group::ecp256);
    REQUIRE(i);
    REQUIRE(r);
    const bytes ni = pattern(32, 80), nr = pattern(32, 81);
    auto gi = (*i)->shared_secret((*r)->public_value());
    auto gr = (*r)->shared_secret((*i)->public_value());
    REQUIRE(gi);
    REQUIRE(gr);
    const ike_suite s{prf_id::hmac_sha2_256, {encr_id::aes_gcm_16, 256}, integ_id::none};
    auto si = skeyseed(s.prf, ni, nr, gi->view());
    auto sr = skeyseed(s.prf, ni, nr, gr->view());
    REQUIRE(si);
    REQUIRE(sr);
    auto ki = derive_ike_sa_keys(s, si->view(), ni, nr, 0x1122334455667788ULL, 0x99aabbccddeeff00ULL);
    auto kr = derive_ike_sa_keys(s, sr->view(), ni, nr, 0x1122334455667788ULL, 0x99aabbccddeeff00ULL);
    REQUIRE(ki);
    REQUIRE(kr);
    CHECK(ki->sk_ei == kr->sk_ei);
    CHECK(ki->sk_d == kr->sk_d);
    CHECK_FALSE(ki->sk_ei == ki->sk_er);
    CHECK(ki->sk_ai.empty());
}

TEST_CASE("keymat: NIST CAVP IKEv2 KDF vector (HMAC-SHA1): SKEYSEED, DKM, rekey SKEYSEED") {
    const bytes ni = hex("32b50d5f4a3763f3"), nr = hex("9206a04b26564cb1");
    const bytes gir = hex("4b2c1f971981a8ad8d0abeafabf38cf75fc8349c148142465ed9c8b516b8be52");
    const bytes gir_new = hex("863f3c9d06efd39d2b907b97f8699e5dd5251ef64a2a176f36ee40c87d4f9330");
    const bytes spii = hex("34c9e7c188868785"), spir = hex("3ff77d760d2b2199");
    const std::string dkm = "a14293677cc80ff8f9cc0eee30d895da9d8f405666e30ef0dfcb63c634a46002"
                            "a2a63080e514a062768b76606f9fa5e992204fc5a670bde3f10d6b027113936a"
                            "5c55b648a194ae587b0088d52204b702c979fa280870d2ed41efa9c549fd1119"
                            "8af1670b143d384bd275c5f594cf266b05ebadca855e4249520a441a81157435a7a56cc4";
    auto seed = skeyseed(prf_id::hmac_sha1, ni, nr, gir);
    REQUIRE(seed);
    CHECK(to_hex(*seed) == "a9a7b222b59f8f48645f28a1db5b5f5d7479cba7");
    // aes128 + hmac-sha1-96 + prf-sha1 takes exactly the vector's 132 DKM bytes:
    // SK_d 20 | SK_ai 20 | SK_ar 20 | SK_ei 16 | SK_er 16 | SK_pi 20 | SK_pr 20.
    const ike_suite s{prf_id::hmac_sha1, {encr_id::aes_cbc, 128}, integ_id::hmac_sha1_96};
    auto k = derive_ike_sa_keys(s, seed->view(), ni, nr, spii, spir);
    REQUIRE(k);
    CHECK(to_hex(k->sk_d) + to_hex(k->sk_ai) + to_hex(k->sk_ar) + to_hex(k->sk_ei) + to_hex(k->sk_er) +
              to_hex(k->sk_pi) + to_hex(k->sk_pr) ==
          dkm);
    auto rekeyed = rekey_skeyseed(prf_id::hmac_sha1, k->sk_d.view(), gir_new, ni, nr);
    REQUIRE(rekeyed);
    CHECK(to_hex(*rekeyed) == "63e81194946ebd05df7df5ebf5d8750056bf1f1d");
}

TEST_CASE("keymat: NIST CAVP IKEv2 KDF vector (HMAC-SHA1): child SA DKM without and with PFS (RFC 7296 2.17)") {
    // Same CAVP case as above: SK_d is the first 20 bytes of its DKM. DKM(Child SA) =
    // prf+(SK_d, Ni | Nr) and DKM(Child SA D-H) = prf+(SK_d, g^ir (new) | Ni | Nr), 132 bytes each;
    // aes256-cbc + hmac-sha256-128 takes the first 128 of them: encr_i | integ_i | encr_r | integ_r.
    const bytes ni = hex("32b50d5f4a3763f3"), nr = hex("9206a04b26564cb1");
    const bytes gir_new = hex("863f3c9d06efd39d2b907b97f8699e5dd5251ef64a2a176f36ee40c87d4f9330");
    const bytes sk_d = hex("a14293677cc80ff8f9cc0eee30d895da9d8f4056");
    const std::string dkm_child = "8059e3ee8810e6c3a91bc8bcd2a7a41151b8d0e6ae239c7b38093ad85ef4c5811a8e7b5d1cdabd9560b2"
                                  "d5e092d1f24e2d4b85eccdf0ad0dc9abd94b51ee71814ca6dbc8bb51b6309f5b9545c7eb35cf5580b1e5"
                                  "21a8fe20754a2d883ba0c2cf285f524aea6545b33106bc03e614296d319d41d4b50b3f510b1c0a22f3e6"
                                  "64994d234cb4";
    const std::string dkm_child_dh = "bb43244c1860ad65ee1e211ffe8bb3661750c8f89cb9f547df7f4fa61d37301628190e38c66232eab4"
                                     "b3ab14c400a5197dd3730ed4820a8a10394d51e1c0400052f63ebd36b0e7ef53aaed31eba4a5080d7d"
                                     "4b5666023a8bbb5ffb7857240f9a05884d1b7d2f933708450b7b3288f1fc863ab49fa901227cffc06e"
                                     "27899c7054d56fd74c";
    REQUIRE(dkm_child.size() == 264);
    REQUIRE(dkm_child_dh.size() == 264);
    const child_suite s{{encr_id::aes_cbc, 256}, integ_id::hmac_sha2_256_128};
    auto plain = derive_child_sa_keys(prf_id::hmac_sha1, sk_d, s, {}, ni, nr);
    REQUIRE(plain);
    CHECK(to_hex(plain->encr_i) + to_hex(plain->integ_i) + to_hex(plain->encr_r) + to_hex(plain->integ_r) ==
          dkm_child.substr(0, 256));
    auto pfs = derive_child_sa_keys(prf_id::hmac_sha1, sk_d, s, gir_new, ni, nr);
    REQUIRE(pfs);
    CHECK(to_hex(pfs->encr_i) + to_hex(pfs->integ_i) + to_hex(pfs->encr_r) + to_hex(pfs->integ_r) ==
          dkm_child_dh.substr(0, 256));
}
