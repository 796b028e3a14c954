// NAT detection hashes (RFC 7296 2.23) against the Python oracle (hashlib).
#include "crypto_oracle.hpp"

#include <ike/crypto_nat.hpp>

using namespace ike::crypto;
using namespace ike_crypto_test;

TEST_CASE("nat: NAT detection hash SHA1(SPIi | SPIr | IP | port) for IPv4 and IPv6 (RFC 7296 2.23)") {
    const bytes v4 = {192, 0, 2, 10};
    const bytes v6 = hex("20010db8000000000000000000000001");
    auto out = oracle({"natd 0102030405060708 0000000000000000 " + arg(v4) + " 500",
                       "natd 0102030405060708 a1a2a3a4a5a6a7a8 " + arg(v6) + " 4500"});
    auto a = nat_detection_hash(0x0102030405060708ULL, 0, v4, 500);
    auto b = nat_detection_hash(0x0102030405060708ULL, 0xa1a2a3a4a5a6a7a8ULL, v6, 4500);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(to_hex(*a) == out[0]);
    CHECK(to_hex(*b) == out[1]);
    auto c = nat_detection_hash(0x0102030405060708ULL, 0, v4, 501);
    REQUIRE(c);
    CHECK(to_hex(*c) != to_hex(*a));
    CHECK(nat_detection_hash(1, 2, bytes(5, 1), 500).error() == crypto_errc::invalid_argument);
    CHECK(nat_detection_hash(1, 2, {}, 500).error() == crypto_errc::invalid_argument);
}
