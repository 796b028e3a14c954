#include <ike/proposal_select.hpp>

#include <catch2/catch.hpp>

using ike::protocol_id;
using ike::transform_type;

TEST_CASE("strongSwan proposal strings parse into RFC 7296 transforms", "[ike][proposal]") {
    auto p = ike::parse_proposal("aes256-sha256-modp2048", protocol_id::ike);
    REQUIRE(p);
    REQUIRE(p->transforms.size() == 4);
    CHECK(p->transforms[0].type == transform_type::encr);
    CHECK(p->transforms[0].id == 12);
    CHECK(p->transforms[0].key_length == 256);
    CHECK(p->transforms[1].type == transform_type::prf);  // derived from sha256
    CHECK(p->transforms[1].id == 5);
    CHECK(p->transforms[2].type == transform_type::integ);
    CHECK(p->transforms[2].id == 12);
    CHECK(p->transforms[3].id == 14);
    CHECK(ike::proposal_to_string(*p) == "aes256-sha256-prfsha256-modp2048");

    auto g = ike::parse_proposal("aes256gcm16-prfsha384-ecp384", protocol_id::ike);
    REQUIRE(g);
    CHECK(ike::proposal_to_string(*g) == "aes256gcm16-prfsha384-ecp384");
    auto esp = ike::parse_proposal("aes128-sha1-modp2048", protocol_id::esp);
    REQUIRE(esp);
    CHECK(ike::proposal_to_string(*esp) == "aes128-sha1-modp2048-noesn");
    auto multi = ike::parse_proposal("aes128-aes256-sha256-sha1-ecp256-curve25519", protocol_id::ike);
    REQUIRE(multi);
    CHECK(ike::proposal_to_string(*multi) == "aes128-aes256-sha256-sha1-prfsha256-prfsha1-ecp256-curve25519");

    std::string err;
    CHECK_FALSE(ike::parse_proposal("aes256-sha256", protocol_id::ike, &err));
    CHECK(err.find("DH group is mandatory") != std::string::npos);
    CHECK_FALSE(ike::parse_proposal("aes256gcm16-ecp256", protocol_id::ike, &err));
    CHECK(err.find("PRF is mandatory") != std::string::npos);
    CHECK_FALSE(ike::parse_proposal("aes256-blake-modp2048", protocol_id::ike, &err));
    CHECK(err.find("unknown algorithm 'blake'") != std::string::npos);
    CHECK_FALSE(ike::parse_proposal("aes256gcm16-sha256", protocol_id::esp, &err));
    CHECK_FALSE(ike::parse_proposal("aes256--sha256", protocol_id::esp, &err));
    CHECK_FALSE(ike::parse_proposal("aes256-prfsha256", protocol_id::esp, &err));
}

TEST_CASE("responder selection: our order first, one transform per type, peer's number and SPI",
          "[ike][proposal]") {
    auto ours = *ike::parse_proposals({"aes256-sha256-ecp256", "aes128-sha1-modp2048"}, protocol_id::ike);
    auto theirs = *ike::parse_proposals({"aes128-aes256-sha1-sha256-modp2048-ecp256"}, protocol_id::ike);
    theirs[0].number = 7;
    auto s = ike::select_proposal(ours, theirs);
    REQUIRE(s);
    CHECK(s->number == 7);
    CHECK(ike::proposal_to_string(*s) == "aes256-sha256-prfsha256-ecp256");
    CHECK_FALSE(ike::check_selected_proposal(*s, theirs));
    // The initiator refuses a choice it did not offer.
    auto bogus = *s;
    bogus.transforms[0].key_length = 192;
    CHECK(ike::check_selected_proposal(bogus, theirs));
    auto two = *s;
    two.transforms.push_back(two.transforms[0]);
    CHECK(ike::check_selected_proposal(two, theirs));

    auto none = *ike::parse_proposals({"3des-md5-modp1024"}, protocol_id::ike);
    CHECK_FALSE(ike::select_proposal(ours, none));

    // ESP: PFS group on one side only does not match; ESN must match too.
    auto esp_ours = *ike::parse_proposals({"aes256-sha256-modp2048"}, protocol_id::esp);
    auto esp_theirs = *ike::parse_proposals({"aes256-sha256"}, protocol_id::esp);
    CHECK_FALSE(ike::select_proposal(esp_ours, esp_theirs));
    CHECK(ike::select_proposal(ike::proposals_with_group(esp_ours, std::nullopt), esp_theirs));
    auto esn = *ike::parse_proposals({"aes256-sha256-esn"}, protocol_id::esp);
    CHECK_FALSE(ike::select_proposal(esn, esp_theirs));
}

TEST_CASE("negotiated suites map to esp/ algorithm names", "[ike][proposal]") {
    auto s = ike::suite_of(*ike::parse_proposal("aes256gcm16-esn", protocol_id::esp));
    REQUIRE(s);
    CHECK(s->esn);
    CHECK(ike::esp_encryption_name(s->encr) == "aes256gcm16");
    CHECK(ike::esp_integrity_name(s->integ).empty());
    auto c = ike::suite_of(*ike::parse_proposal("aes128-sha512", protocol_id::esp));
    CHECK(ike::esp_encryption_name(c->encr) == "aes128-cbc");
    CHECK(ike::esp_integrity_name(c->integ) == "sha512-256");
    CHECK(ike::esp_integrity_name(ike::suite_of(*ike::parse_proposal("3des-sha1", protocol_id::esp))->integ) == "sha1-96");
}
