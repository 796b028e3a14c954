#include <ike/config.hpp>

#include <catch2/catch.hpp>

TEST_CASE("cidr parses v4/v6 blocks and clears host bits", "[ike][config]") {
    auto c = ike::cidr::parse("10.1.2.3/16");
    REQUIRE(c);
    CHECK(c->to_string() == "10.1.0.0/16");
    CHECK(c->last().to_string() == "10.1.255.255");
    auto h = ike::cidr::parse("192.0.2.7");
    REQUIRE(h);
    CHECK(h->prefix == 32);
    auto v6 = ike::cidr::parse("2001:db8:1::5/48");
    REQUIRE(v6);
    CHECK(v6->first().to_string() == "2001:db8:1::");
    CHECK(v6->last().to_string() == "2001:db8:1:ffff:ffff:ffff:ffff:ffff");
    CHECK_FALSE(ike::cidr::parse("10.0.0.0/33"));
    CHECK_FALSE(ike::cidr::parse("10.0.0.0/"));
    CHECK_FALSE(ike::cidr::parse("10.0.0/8"));
    CHECK_FALSE(ike::cidr::parse("10.0.0.0/8x"));
}

TEST_CASE("identities parse the strongSwan way (RFC 7296 3.5 ID types)", "[ike][config]") {
    using id = ike::peer_identity;
    CHECK(id::parse("192.0.2.1")->type == id::ipv4);
    CHECK(id::parse("192.0.2.1")->data == std::vector<std::uint8_t>{192, 0, 2, 1});
    CHECK(id::parse("2001:db8::1")->type == id::ipv6);
    CHECK(id::parse("2001:db8::1")->data.size() == 16);
    CHECK(id::parse("@vpn.example.com")->type == id::fqdn);
    CHECK(id::parse("@vpn.example.com")->to_string() == "vpn.example.com");
    CHECK(id::parse("vpn.example.com")->type == id::fqdn);
    CHECK(id::parse("user@example.com")->type == id::rfc822);
    CHECK(id::parse("@#0a0bff")->type == id::key_id);
    CHECK(id::parse("@#0a0bff")->to_string() == "@#0a0bff");
    CHECK(id::parse("keyid:0102")->data == std::vector<std::uint8_t>{1, 2});
    CHECK(id::parse("%any")->type == id::any);
    CHECK_FALSE(id::parse("ipv4:2001:db8::1"));
    CHECK_FALSE(id::parse("@#zz"));
    CHECK_FALSE(id::parse(""));
    CHECK(id::parse("%any")->matches(*id::parse("@x")));
    CHECK_FALSE(id::parse("@y")->matches(*id::parse("@x")));
}

TEST_CASE("PSK lookup prefers exact identities over wildcards", "[ike][config]") {
    ike::peer_config c;
    c.psks.push_back({*ike::peer_identity::parse("%any"), *ike::peer_identity::parse("%any"), base::secret_bytes(std::string_view("wild"))});
    c.psks.push_back({*ike::peer_identity::parse("@a"), *ike::peer_identity::parse("@b"), base::secret_bytes(std::string_view("exact"))});
    auto* e = c.find_psk(*ike::peer_identity::parse("@a"), *ike::peer_identity::parse("@b"));
    REQUIRE(e);
    CHECK(*e == base::secret_bytes(std::string_view("exact")));
    auto* w = c.find_psk(*ike::peer_identity::parse("@a"), *ike::peer_identity::parse("@c"));
    REQUIRE(w);
    CHECK(*w == base::secret_bytes(std::string_view("wild")));
    c.psks.erase(c.psks.begin());
    CHECK(c.find_psk(*ike::peer_identity::parse("@a"), *ike::peer_identity::parse("@c")) == nullptr);
}

TEST_CASE("retransmission timeouts follow strongSwan's 4 s * 1.8^n", "[ike][config]") {
    ike::retransmit_config r;
    using namespace std::chrono;
    CHECK(duration_cast<milliseconds>(r.timeout_for(0)).count() == 4000);
    CHECK(duration_cast<milliseconds>(r.timeout_for(1)).count() == 7200);
    CHECK(duration_cast<milliseconds>(r.timeout_for(2)).count() == 12960);
}
