// Shared-key AUTH (RFC 7296 2.15) against the Python oracle.
#include "crypto_oracle.hpp"

#include <ike/auth.hpp>

#include <algorithm>

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

} // namespace

TEST_CASE("auth: PSK AUTH for initiator and responder matches the Python oracle for every PRF") {
    const base::secret_bytes psk(std::string_view("correct horse battery staple"));
    const bytes msg1 = pattern(300, 1), msg2 = pattern(280, 2), ni = pattern(32, 3), nr = pattern(48, 4);
    // IDi' = ID Type (FQDN = 2) | RESERVED | "gw.example.com"; IDr' = ID_IPV4_ADDR 192.0.2.1.
    bytes idi = {2, 0, 0, 0};
    for (char c : std::string_view("gw.example.com")) idi.push_back(static_cast<std::uint8_t>(c));
    const bytes idr = {1, 0, 0, 0, 192, 0, 2, 1};
    const prf_id prfs[] = {prf_id::hmac_md5, prf_id::hmac_sha1, prf_id::hmac_sha2_256, prf_id::hmac_sha2_384,
                           prf_id::hmac_sha2_512};
    std::vector<std::string> cmds;
    for (prf_id p : prfs) {
        const base::secret_bytes sk_pi(pattern(prf_output_size(p), 5)), sk_pr(pattern(prf_output_size(p), 6));
        cmds.push_back(std::string("psk_auth ") + digest(p) + " " + arg(psk) + " " + arg(msg1) + " " + arg(nr) + " " +
                       arg(sk_pi) + " " + arg(idi));
        cmds.push_back(std::string("psk_auth ") + digest(p) + " " + arg(psk) + " " + arg(msg2) + " " + arg(ni) + " " +
                       arg(sk_pr) + " " + arg(idr));
    }
    auto out = oracle(cmds);
    for (std::size_t k = 0; k < std::size(prfs); ++k) {
        const prf_id p = prfs[k];
        INFO(to_string(p));
        const base::secret_bytes sk_pi(pattern(prf_output_size(p), 5)), sk_pr(pattern(prf_output_size(p), 6));
        /* IKE_AUTH { IDi, AUTH, SA, TSi, TSr } --> */
        auto ai = initiator_psk_auth(p, psk, msg1, nr, sk_pi, idi);
        /* <-- IKE_AUTH { IDr, AUTH, SA, TSi, TSr } */
        auto ar = responder_psk_auth(p, psk, msg2, ni, sk_pr, idr);
        REQUIRE(ai);
        REQUIRE(ar);
        CHECK(to_hex(*ai) == out[2 * k]);
        CHECK(to_hex(*ar) == out[2 * k + 1]);
        CHECK(ai->size() == prf_output_size(p));
        CHECK(auth_data_equal(*ai, hex(out[2 * k])));
        CHECK_FALSE(auth_data_equal(*ai, *ar));
    }
}

TEST_CASE("auth: a different PSK, ID or nonce gives a different AUTH; comparison checks length") {
    const base::secret_bytes psk(std::string_view("secret")), other(std::string_view("secreT"));
    const base::secret_bytes sk_pi(pattern(32, 9));
    const bytes msg = pattern(200, 1), nr = pattern(32, 2), idi = {1, 0, 0, 0, 198, 51, 100, 7};
    auto a = initiator_psk_auth(prf_id::hmac_sha2_256, psk, msg, nr, sk_pi, idi);
    auto b = initiator_psk_auth(prf_id::hmac_sha2_256, other, msg, nr, sk_pi, idi);
    bytes idi2 = idi;
    idi2.back() = 8;
    auto c = initiator_psk_auth(prf_id::hmac_sha2_256, psk, msg, nr, sk_pi, idi2);
    bytes nr2 = nr;
    nr2[0] ^= 1;
    auto d = initiator_psk_auth(prf_id::hmac_sha2_256, psk, msg, nr2, sk_pi, idi);
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(c);
    REQUIRE(d);
    CHECK_FALSE(auth_data_equal(*a, *b));
    CHECK_FALSE(auth_data_equal(*a, *c));
    CHECK_FALSE(auth_data_equal(*a, *d));
    CHECK(auth_data_equal(*a, *a));
    CHECK_FALSE(auth_data_equal(*a, std::span(*a).first(16)));
    CHECK_FALSE(auth_data_equal({}, {}));
    // <SignedOctets> = RealMessage | Nonce | prf(SK_p, ID'): its prefix is the message itself.
    auto octets = signed_octets(prf_id::hmac_sha2_256, msg, nr, sk_pi, idi);
    REQUIRE(octets);
    CHECK(octets->size() == msg.size() + nr.size() + 32);
    CHECK(std::equal(msg.begin(), msg.end(), octets->begin()));
    CHECK(initiator_psk_auth(static_cast<prf_id>(4), psk, msg, nr, sk_pi, idi).error() ==
          crypto_errc::unsupported_algorithm);
}
