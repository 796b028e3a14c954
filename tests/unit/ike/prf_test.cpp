// PRFs (RFC 7296 3.3.2) against RFC 2202 / RFC 4231 (= RFC 4868 PRF) vectors, and prf+ (2.13)
// against the independent Python oracle.
#include "crypto_oracle.hpp"

#include <ike/prf.hpp>

using namespace ike::crypto;
using namespace ike_crypto_test;

namespace {

std::string prf_hex(prf_id id, const bytes& key, const bytes& data) {
    auto f = prf::create(id);
    REQUIRE(f);
    auto out = (*f)(key, {data});
    REQUIRE(out);
    return to_hex(*out);
}

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

constexpr prf_id all_prfs[] = {prf_id::hmac_md5, prf_id::hmac_sha1, prf_id::hmac_sha2_256, prf_id::hmac_sha2_384,
                               prf_id::hmac_sha2_512};

} // namespace

TEST_CASE("prf: RFC 2202 HMAC-MD5 and HMAC-SHA1 test cases 1-3") {
    CHECK(prf_hex(prf_id::hmac_md5, bytes(16, 0x0b), ascii("Hi There")) == "9294727a3638bb1c13f48ef8158bfc9d");
    CHECK(prf_hex(prf_id::hmac_md5, ascii("Jefe"), ascii("what do ya want for nothing?")) ==
          "750c783e6ab0b503eaa86e310a5db738");
    CHECK(prf_hex(prf_id::hmac_md5, bytes(16, 0xaa), bytes(50, 0xdd)) == "56be34521d144c88dbb8c733f0e8b3f6");
    CHECK(prf_hex(prf_id::hmac_sha1, bytes(20, 0x0b), ascii("Hi There")) == "b617318655057264e28bc0b6fb378c8ef146be00");
    CHECK(prf_hex(prf_id::hmac_sha1, ascii("Jefe"), ascii("what do ya want for nothing?")) ==
          "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    CHECK(prf_hex(prf_id::hmac_sha1, bytes(20, 0xaa), bytes(50, 0xdd)) == "125d7342b9ac11cd91a39af48aa17b4f63f175d3");
}

TEST_CASE("prf: RFC 4231 HMAC-SHA-256/384/512 test cases 1, 2 and 6 (key longer than the block)") {
    const bytes k1(20, 0x0b), d1 = ascii("Hi There");
    CHECK(prf_hex(prf_id::hmac_sha2_256, k1, d1) == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    CHECK(prf_hex(prf_id::hmac_sha2_384, k1, d1) ==
          "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6");
    CHECK(prf_hex(prf_id::hmac_sha2_512, k1, d1) ==
          "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4"
          "be9d914eeb61f1702e696c203a126854");
    const bytes k2 = ascii("Jefe"), d2 = ascii("what do ya want for nothing?");
    CHECK(prf_hex(prf_id::hmac_sha2_256, k2, d2) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    CHECK(prf_hex(prf_id::hmac_sha2_384, k2, d2) ==
          "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649");
    CHECK(prf_hex(prf_id::hmac_sha2_512, k2, d2) ==
          "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fd"
          "caeab1a34d4a6b4b636e070a38bce737");
    const bytes k6(131, 0xaa), d6 = ascii("Test Using Larger Than Block-Size Key - Hash Key First");
    CHECK(prf_hex(prf_id::hmac_sha2_256, k6, d6) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    CHECK(prf_hex(prf_id::hmac_sha2_384, k6, d6) ==
          "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952");
    CHECK(prf_hex(prf_id::hmac_sha2_512, k6, d6) ==
          "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e52"
          "95e64f73f63f0aec8b915a985d786598");
}

TEST_CASE("prf: data given in several parts equals the concatenation") {
    auto f = prf::create(prf_id::hmac_sha2_256);
    REQUIRE(f);
    const bytes key = pattern(32, 1), a = pattern(7, 2), b = pattern(0, 3), c = pattern(100, 4);
    bytes all = a;
    all.insert(all.end(), c.begin(), c.end());
    auto split = (*f)(key, {a, b, c});
    auto whole = (*f)(key, {all});
    REQUIRE(split);
    REQUIRE(whole);
    CHECK(*split == *whole);
    CHECK(f->output_size() == 32);
    CHECK(f->key_size() == 32);
}

TEST_CASE("prf: unknown PRF transform IDs are refused") {
    CHECK(prf::create(static_cast<prf_id>(4)).error() == crypto_errc::unsupported_algorithm); // AES128-XCBC
    CHECK(prf::create(static_cast<prf_id>(3)).error() == crypto_errc::unsupported_algorithm); // TIGER
}

TEST_CASE("prf+: matches the Python oracle for every PRF and block boundary (RFC 7296 2.13)") {
    std::vector<std::string> cmds;
    struct job { prf_id id; bytes key, seed; std::size_t len; };
    std::vector<job> jobs;
    std::uint8_t s = 10;
    for (prf_id id : all_prfs) {
        const std::size_t b = prf_output_size(id);
        for (std::size_t len : {std::size_t{1}, b - 1, b, b + 1, 3 * b + 5, 255 * b}) {
            job j{id, pattern(1 + s % 70, s), pattern(8 + s % 90, static_cast<std::uint8_t>(s + 1)), len};
            ++s;
            cmds.push_back(std::string("prfplus ") + digest(id) + " " + arg(j.key) + " " + arg(j.seed) + " " +
                           std::to_string(len));
            jobs.push_back(std::move(j));
        }
    }
    auto expect = oracle(cmds);
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        auto f = prf::create(jobs[i].id);
        REQUIRE(f);
        auto out = f->plus(jobs[i].key, {jobs[i].seed}, jobs[i].len);
        REQUIRE(out);
        INFO(cmds[i]);
        CHECK(to_hex(*out) == expect[i]);
    }
}

TEST_CASE("prf+: more than 255 blocks is refused (RFC 7296 2.13)") {
    for (prf_id id : all_prfs) {
        auto f = prf::create(id);
        REQUIRE(f);
        const bytes key(16, 1), seed(16, 2);
        CHECK(f->plus(key, {seed}, 255 * f->output_size()).has_value());
        CHECK(f->plus(key, {seed}, 255 * f->output_size() + 1).error() == crypto_errc::output_too_long);
    }
}

TEST_CASE("prf+: hand-derived first blocks T1 = prf(K, S|0x01), T2 = prf(K, T1|S|0x02)") {
    auto f = prf::create(prf_id::hmac_sha1);
    REQUIRE(f);
    const bytes key = ascii("key"), seed = ascii("seed");
    bytes s1 = seed;
    s1.push_back(1);
    auto t1 = (*f)(key, {s1});
    REQUIRE(t1);
    bytes s2(t1->view().begin(), t1->view().end());
    s2.insert(s2.end(), seed.begin(), seed.end());
    s2.push_back(2);
    auto t2 = (*f)(key, {s2});
    REQUIRE(t2);
    auto plus = f->plus(key, {seed}, 30);
    REQUIRE(plus);
    CHECK(to_hex(plus->view().first(20)) == to_hex(*t1));
    CHECK(to_hex(plus->view().subspan(20)) == to_hex(t2->view().first(10)));
}
