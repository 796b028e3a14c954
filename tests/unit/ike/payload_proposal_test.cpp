// strongSwan proposal strings (charon's proposal parser semantics: implied PRF, default noesn,
// AEAD without integrity), typed transform names, completeness checks, product field mapping.
#include "message_test_util.hpp"

#include <ike/payload_proposal.hpp>
#include <ike/wire_types.hpp>

using namespace ike;
using namespace ike_wire_test;

namespace {

proposal parse_ok(protocol_id p, std::string_view s) {
    auto r = proposal_from_string(p, s);
    INFO(s << ": " << (r ? std::string() : r.error().reason));
    REQUIRE(r.ok());
    return r.value();
}

std::vector<std::string> names(const proposal& p) {
    std::vector<std::string> out;
    for (const auto& t : p.transforms)
        out.push_back(to_string(t.type) + ":" + transform_id_name(t.type, t.id) +
                      (t.key_length ? "_" + std::to_string(*t.key_length) : ""));
    return out;
}

} // namespace

TEST_CASE("proposal strings: the product defaults parse to the right transforms", "[ike][proposal]") {
    auto ike1 = parse_ok(protocol_id::ike, "aes256-sha256-modp1024");
    CHECK(names(ike1) == std::vector<std::string>{"ENCR:AES_CBC_256", "PRF:PRF_HMAC_SHA2_256",
                                                  "INTEG:HMAC_SHA2_256_128", "DH:MODP_1024"});
    auto gcm = parse_ok(protocol_id::ike, "aes256gcm16-prfsha384-ecp384");
    CHECK(names(gcm) == std::vector<std::string>{"ENCR:AES_GCM_16_256", "PRF:PRF_HMAC_SHA2_384", "DH:ECP_384"});
    auto esp = parse_ok(protocol_id::esp, "aes256-sha256-modp2048");
    CHECK(names(esp) == std::vector<std::string>{"ENCR:AES_CBC_256", "INTEG:HMAC_SHA2_256_128", "DH:MODP_2048",
                                                 "ESN:NO_EXT_SEQ"});
    auto esn = parse_ok(protocol_id::esp, "aes128-sha1-esn");
    CHECK(names(esn) == std::vector<std::string>{"ENCR:AES_CBC_128", "INTEG:HMAC_SHA1_96", "ESN:EXT_SEQ"});
    auto espgcm = parse_ok(protocol_id::esp, "aes128gcm16-sha256");  // integrity dropped with AEAD
    CHECK(names(espgcm) == std::vector<std::string>{"ENCR:AES_GCM_16_128", "ESN:NO_EXT_SEQ"});
    auto multi = parse_ok(protocol_id::ike, "aes128-aes256-sha1-sha256-modp2048-ecp256");
    CHECK(names(multi) == std::vector<std::string>{"ENCR:AES_CBC_128", "ENCR:AES_CBC_256", "PRF:PRF_HMAC_SHA1",
                                                   "PRF:PRF_HMAC_SHA2_256", "INTEG:HMAC_SHA1_96",
                                                   "INTEG:HMAC_SHA2_256_128", "DH:MODP_2048", "DH:ECP_256"});
    CHECK_FALSE(check_complete(ike1));
    CHECK_FALSE(check_complete(gcm));
    CHECK_FALSE(check_complete(esp));
    CHECK_FALSE(check_complete(multi));
}

TEST_CASE("proposal strings: to_string is the inverse for canonical strings", "[ike][proposal]") {
    for (auto s : {"aes256-sha256-modp1024", "aes256gcm16-prfsha384-ecp384", "aes128-sha1-modp2048",
                   "3des-md5-modp1024", "aes192ctr-sha512-ecp521", "aes128-sha256-prfsha1-curve25519",
                   "chacha20poly1305-prfsha256-curve448", "aes256-aes128-sha384-sha1-modp4096-modp2048",
                   "aes128ccm12-prfaesxcbc-ecp256bp", "camellia256-aesxcbc-modp3072"})
        CHECK(to_string(parse_ok(protocol_id::ike, s)) == s);
    for (auto s : {"aes256-sha256-modp2048", "aes128-sha1-esn", "aes256gcm16", "aes128gcm8-esn-noesn", "null-sha256",
                   "aes128gmac", "aes256-sha1_160"})
        CHECK(to_string(parse_ok(protocol_id::esp, s)) == s);
    // aliases print canonically
    CHECK(to_string(parse_ok(protocol_id::ike, "aes256gcm128-prfsha256-x25519")) == "aes256gcm16-prfsha256-curve25519");
    CHECK(to_string(parse_ok(protocol_id::ike, "aes-sha-modp1024")) == "aes128-sha1-modp1024");
    CHECK(to_string(parse_ok(protocol_id::esp, "aes256-sha2_256-noesn")) == "aes256-sha256");
    // IKE never carries ESN, ESP never PRF
    CHECK(to_string(parse_ok(protocol_id::ike, "aes128-sha1-modp2048-esn")) == "aes128-sha1-modp2048");
    CHECK(to_string(parse_ok(protocol_id::esp, "aes128-sha1-prfsha256")) == "aes128-sha1");
}

TEST_CASE("proposal strings: lists and errors", "[ike][proposal]") {
    auto list = proposals_from_string(protocol_id::ike, "aes256-sha256-modp2048, aes128-sha1-modp1024");
    REQUIRE(list.ok());
    REQUIRE(list->size() == 2);
    CHECK((*list)[0].number == 1);
    CHECK((*list)[1].number == 2);
    CHECK(to_string(sa_payload{*list}) == "aes256-sha256-modp2048, aes128-sha1-modp1024");

    auto bad = [](protocol_id p, std::string_view s) {
        auto r = proposal_from_string(p, s);
        REQUIRE_FALSE(r.ok());
        return r.error().reason;
    };
    CHECK_THAT(bad(protocol_id::ike, "aes256-sha256-modp999"), Catch::Contains("'modp999' not recognized"));
    CHECK_THAT(bad(protocol_id::ike, "aes256-sha256"), Catch::Contains("DH group is mandatory"));
    CHECK_THAT(bad(protocol_id::ike, "aes256gcm16-modp2048"), Catch::Contains("PRF is mandatory"));
    CHECK_THAT(bad(protocol_id::ike, "aes256-prfsha256-modp2048"), Catch::Contains("integrity algorithm is mandatory"));
    CHECK_THAT(bad(protocol_id::ike, "sha256-modp2048"), Catch::Contains("encryption algorithm is mandatory"));
    CHECK_THAT(bad(protocol_id::esp, "aes256gcm16-aes256-sha1"), Catch::Contains("AEAD and classic"));
    CHECK_THAT(bad(protocol_id::esp, "aes256--sha1"), Catch::Contains("empty algorithm"));
    CHECK_THAT(bad(protocol_id::esp, ""), Catch::Contains("empty proposal"));
    CHECK_THAT(bad(protocol_id::esp, "aes512-sha1"), Catch::Contains("not recognized"));
    CHECK_FALSE(proposals_from_string(protocol_id::esp, "aes128-sha1,").ok());
}

TEST_CASE("proposal: completeness per RFC 7296 3.3.3", "[ike][proposal]") {
    auto p = parse_ok(protocol_id::ike, "aes256-sha256-modp2048");
    auto without = [&](transform_type t) {
        auto q = p;
        std::erase_if(q.transforms, [&](const transform& x) { return x.type == t; });
        return check_complete(q);
    };
    for (auto t : {transform_type::encr, transform_type::prf, transform_type::integ, transform_type::dh}) {
        auto e = without(t);
        REQUIRE(e);
        CHECK(e->notify == notify_type::no_proposal_chosen);
    }
    auto nokey = p;
    nokey.transforms[0].key_length.reset();
    CHECK_THAT(check_complete(nokey)->reason, Catch::Contains("without Key Length"));
    auto oddkey = p;
    oddkey.transforms[0].key_length = 100;
    CHECK(check_complete(oddkey));
    auto esp = parse_ok(protocol_id::esp, "aes128-sha1");
    std::erase_if(esp.transforms, [](const transform& x) { return x.type == transform_type::esn; });
    CHECK_THAT(check_complete(esp)->reason, Catch::Contains("without ESN"));
    auto chacha = parse_ok(protocol_id::esp, "chacha20poly1305");
    CHECK_FALSE(check_complete(chacha));
    chacha.transforms[0].key_length = 256;
    CHECK(check_complete(chacha));
}

TEST_CASE("proposal: product fields map to strongSwan syntax", "[ike][proposal]") {
    CHECK(product_proposal(protocol_id::ike, "aes-256", "sha256", "group2") == "aes256-sha256-modp1024");
    CHECK(product_proposal(protocol_id::esp, "aes-256", "sha256", "dh-group14") == "aes256-sha256-modp2048");
    CHECK(product_proposal(protocol_id::esp, "aes-128", "sha1", "disabled") == "aes128-sha1");
    CHECK(product_proposal(protocol_id::ike, "aes-256-gcm", "sha384", "20") == "aes256gcm16-prfsha384-ecp384");
    CHECK(product_proposal(protocol_id::esp, "aes-256-gcm", "sha256", "group19") == "aes256gcm16-ecp256");
    CHECK(product_proposal(protocol_id::ike, "3des", "md5", "group5") == "3des-md5-modp1536");
    CHECK_FALSE(product_proposal(protocol_id::ike, "aes-256", "sha256", "disabled"));
    CHECK_FALSE(product_proposal(protocol_id::ike, "aes-257", "sha256", "group2"));
    CHECK_FALSE(product_dh_token("group3"));
    CHECK(product_dh_token("group31") == "curve25519");
    // every product string parses back with the same meaning
    for (auto enc : {"aes-128", "aes-192", "aes-256", "3des", "aes-128-gcm", "aes-256-gcm"})
        for (auto integ : {"md5", "sha1", "sha256", "sha384", "sha512"})
            for (auto dh : {"group2", "group5", "group14", "group19", "group20", "group21", "group31"}) {
                auto s = product_proposal(protocol_id::ike, enc, integ, dh);
                REQUIRE(s);
                auto p = parse_ok(protocol_id::ike, *s);
                CHECK_FALSE(check_complete(p));
                CHECK(to_string(p) == *s);
            }
}

TEST_CASE("wire types: names of protocol numbers", "[ike][wire]") {
    CHECK(to_string(exchange_type::create_child_sa) == "CREATE_CHILD_SA");
    CHECK(to_string(exchange_type(99)) == "UNKNOWN_99");
    CHECK(to_string(payload_type::notify) == "N");
    CHECK(to_string(payload_type::skf) == "SKF");
    CHECK(to_string(notify_type::ikev2_fragmentation_supported) == "IKEV2_FRAGMENTATION_SUPPORTED");
    CHECK(to_string(notify_type::esp_tfc_padding_not_supported) == "ESP_TFC_PADDING_NOT_SUPPORTED");
    CHECK(to_string(notify_type(16388)) == "NAT_DETECTION_SOURCE_IP");
    CHECK(to_string(notify_type(14)) == "NO_PROPOSAL_CHOSEN");
    CHECK(to_string(notify_type(60000)) == "UNKNOWN_60000");
    CHECK(is_error(notify_type::ts_unacceptable));
    CHECK_FALSE(is_error(notify_type::cookie));
    CHECK(transform_id_name(transform_type::dh, 31) == "CURVE_25519");
    CHECK(transform_id_name(transform_type(9), 1) == "UNKNOWN_9_1");
    CHECK(to_string(auth_method::psk) == "PSK");
    CHECK(dh_public_length(dh_group::modp1024) == 128);
    CHECK(dh_public_length(dh_group::ecp521) == 132);
    CHECK(dh_public_length(dh_group(99)) == 0);
    CHECK(is_known_payload(33));
    CHECK(is_known_payload(53));
    CHECK_FALSE(is_known_payload(49));
    CHECK_FALSE(is_known_payload(0));
}
