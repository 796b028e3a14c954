// Payload codec: byte layouts from the RFC 7296 section 3 diagrams (hand-encoded), round trips of
// every payload type, verify() limits, and malformed bodies -> INVALID_SYNTAX, never a crash.
#include "message_test_util.hpp"

#include <ike/payload.hpp>

using namespace ike;
using namespace ike_wire_test;

namespace {

bytes chain_bytes(const std::vector<payload>& ps) {
    base::writer w;
    REQUIRE_FALSE(serialize_payload_chain(ps, w));
    return w.take();
}

std::vector<payload> parse_chain_ok(payload_type first, const bytes& b, bool inside_sk = false) {
    auto r = parse_payload_chain(first, b, inside_sk);
    INFO((r ? std::string("ok") : r.error().reason));
    REQUIRE(r.ok());
    return r.value();
}

std::string parse_error(payload_type first, const bytes& b) {
    auto r = parse_payload_chain(first, b, false);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().notify == notify_type::invalid_syntax);
    return r.error().reason;
}

void round_trip(const payload& p) {
    std::vector<payload> one{p};
    auto b = chain_bytes(one);
    auto back = parse_chain_ok(p.type, b);
    REQUIRE(back.size() == 1);
    CHECK(back[0] == p);
    CHECK(chain_bytes(back) == b);
}

sa_payload two_proposals() {
    proposal a{1, protocol_id::esp, hex("01020304"),
               {transform{transform_type::encr, 12, 128, {}}, transform{transform_type::integ, 12, {}, {}},
                transform{transform_type::esn, 0, {}, {}}}};
    proposal b{2, protocol_id::esp, hex("01020304"),
               {transform{transform_type::encr, 20, 256, {}}, transform{transform_type::esn, 0, {}, {}}}};
    return sa_payload{{a, b}};
}

} // namespace

TEST_CASE("payload: KE layout per RFC 7296 3.4", "[ike][payload]") {
    // Next Payload 0, C 0, Length 8+4 | DH Group 14 | RESERVED | data
    auto b = chain_bytes({make_payload(ke_payload{dh_group::modp2048, hex("aabbccdd")})});
    CHECK(base::to_hex(b) == "0000000c000e0000aabbccdd");
}

TEST_CASE("payload: Notify layout per RFC 7296 3.10 with ESP SPI", "[ike][payload]") {
    // N(REKEY_SA): Protocol ESP(3), SPI Size 4, Type 16393 (0x4009), SPI
    auto b = chain_bytes({make_notify(notify_type::rekey_sa, {}, protocol_id::esp, hex("11223344"))});
    CHECK(base::to_hex(b) == "0000000c" "03044009" "11223344");
}

TEST_CASE("payload: SA layout per RFC 7296 3.3 (proposal, transforms, key length TV attribute)", "[ike][payload]") {
    proposal p{1, protocol_id::ike, {}, {transform{transform_type::encr, 12, 256, {}}, transform{transform_type::dh, 2, {}, {}}}};
    auto b = chain_bytes({make_payload(sa_payload{{p}})});
    CHECK(base::to_hex(b) ==
          "00000020"          // SA generic header, length 32
          "0000001c"          // last proposal, length 28
          "01010002"          // #1, IKE, SPI size 0, 2 transforms
          "0300000c01000" "00c" "800e0100"  // more, len 12, ENCR AES_CBC, Key Length 256
          "0000000804000002"); // last, len 8, DH 2
}

TEST_CASE("payload: TS layout per RFC 7296 3.13.1", "[ike][payload]") {
    auto ts = traffic_selector::from_cidr("10.0.0.0/24", 6, 80, 80);
    REQUIRE(ts);
    auto b = chain_bytes({make_tsi(ts_payload{{*ts}})});
    CHECK(base::to_hex(b) == "00000018" "01000000" "07060010" "00500050" "0a000000" "0a0000ff");
}

TEST_CASE("payload: every payload type round-trips", "[ike][payload]") {
    round_trip(make_payload(two_proposals()));
    proposal ike_rekey{1, protocol_id::ike, filled(8, 0x30), {transform{transform_type::encr, 20, 128, {}}}};
    ike_rekey.transforms[0].other_attributes.push_back(transform_attribute{17, false, 0, hex("0102")});
    ike_rekey.transforms[0].other_attributes.push_back(transform_attribute{18, true, 7, {}});
    round_trip(make_payload(sa_payload{{ike_rekey}}));
    round_trip(make_payload(ke_payload{dh_group::ecp256, filled(64)}));
    round_trip(make_payload(nonce_payload{filled(16)}));
    for (auto s : {"192.0.2.1", "2001:db8::1", "vpn.example.com", "user@example.com", "keyid:0102abcd"}) {
        auto id = id_payload::from_string(s);
        REQUIRE(id);
        round_trip(make_idi(*id));
        round_trip(make_idr(*id));
        CHECK(id->to_string() == s);
    }
    round_trip(make_idi(id_payload{id_type::der_asn1_dn, hex("3012311030")}));
    round_trip(make_payload(auth_payload{auth_method::psk, filled(32)}));
    round_trip(make_cert(cert_payload{cert_encoding::x509_signature, filled(100)}));
    round_trip(make_certreq(cert_payload{cert_encoding::x509_signature, filled(20)}));
    round_trip(make_notify(notify_type::cookie, filled(32)));
    round_trip(make_notify(notify_type::rekey_sa, {}, protocol_id::esp, hex("aabbccdd")));
    round_trip(make_payload(delete_payload{protocol_id::esp, 4, {hex("01020304"), hex("05060708")}}));
    round_trip(make_payload(delete_payload{protocol_id::ike, 0, {}}));
    round_trip(make_payload(vendor_payload{hex("4048b7d56ebce88525e7de7f00d6c2d3")}));
    ts_payload ts{{*traffic_selector::from_cidr("10.0.0.0/8"), *traffic_selector::from_cidr("2001:db8::/32", 17, 500, 4500)}};
    round_trip(make_tsi(ts));
    round_trip(make_tsr(ts));
    round_trip(payload{payload_type::sk, false, sk_payload{payload_type::idi, filled(48)}});
    round_trip(payload{payload_type::skf, false, skf_payload{payload_type::none, 2, 3, filled(40)}});
    round_trip(make_payload(cp_payload{cfg_type::request, {cp_attribute{1, {}}, cp_attribute{3, hex("0a000001")}}}));
    round_trip(make_payload(eap_payload{hex("0201000501")}));
}

TEST_CASE("payload: a chain keeps order, Next Payload links and the critical bit", "[ike][payload]") {
    std::vector<payload> ps{make_payload(nonce_payload{filled(16)}), make_notify(notify_type::initial_contact),
                            payload{payload_type(200), true, unknown_payload{200, hex("abcd")}},
                            make_payload(vendor_payload{hex("01")})};
    auto b = chain_bytes(ps);
    CHECK(b[0] == 41);  // Nonce -> N
    auto back = parse_chain_ok(payload_type::nonce, b);
    REQUIRE(back == ps);
    REQUIRE(back[2].critical);
}

TEST_CASE("payload: the SK payload ends the chain and its Next Payload is the inner first type", "[ike][payload]") {
    std::vector<payload> ps{make_notify(notify_type::initial_contact),
                            payload{payload_type::sk, false, sk_payload{payload_type::idi, filled(32)}}};
    auto b = chain_bytes(ps);
    auto back = parse_chain_ok(payload_type::notify, b);
    REQUIRE(back.size() == 2);
    CHECK(back[1].as<sk_payload>()->inner_first == payload_type::idi);
    // trailing bytes after SK
    auto extra = b;
    extra.push_back(0);
    CHECK_THAT(parse_error(payload_type::notify, extra), Catch::Contains("after the SK"));
    // SK inside SK
    auto r = parse_payload_chain(payload_type::notify, b, true);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().reason, Catch::Contains("inside an SK"));
    // serializing SK anywhere but last
    std::vector<payload> bad{ps[1], ps[0]};
    base::writer w;
    CHECK(serialize_payload_chain(bad, w).has_value());
}

TEST_CASE("payload: verify() enforces meaning-level limits", "[ike][payload]") {
    auto fails = [](const payload& p) { return verify(p).has_value(); };
    CHECK(fails(make_payload(nonce_payload{filled(15)})));
    CHECK_FALSE(fails(make_payload(nonce_payload{filled(16)})));
    CHECK_FALSE(fails(make_payload(nonce_payload{filled(256)})));
    CHECK(fails(make_payload(nonce_payload{filled(257)})));

    CHECK(fails(make_payload(ke_payload{dh_group::modp2048, filled(255)})));
    CHECK(fails(make_payload(ke_payload{dh_group::none, filled(8)})));
    CHECK(fails(make_payload(ke_payload{dh_group::ecp256, filled(65)})));
    CHECK_FALSE(fails(make_payload(ke_payload{dh_group::curve25519, filled(32)})));
    CHECK_FALSE(fails(make_payload(ke_payload{dh_group(1234), filled(7)})));  // unknown group: size unknown

    CHECK(fails(make_idi(id_payload{id_type::ipv4_addr, filled(5)})));
    CHECK(fails(make_idi(id_payload{id_type::ipv6_addr, filled(4)})));
    CHECK(fails(make_idi(id_payload{id_type::fqdn, {}})));
    CHECK(fails(make_idi(id_payload{id_type::fqdn, hex("61006263")})));
    CHECK(fails(make_idi(id_payload{id_type(99), hex("61")})));

    CHECK(fails(make_payload(auth_payload{auth_method::psk, {}})));

    // Notify SPI sizes by protocol, data sizes by type
    CHECK(fails(make_notify(notify_type::invalid_spi, {}, protocol_id::esp, filled(3))));
    CHECK(fails(make_notify(notify_type::initial_contact, {}, protocol_id(9), filled(4))));
    CHECK_FALSE(fails(make_notify(notify_type::initial_contact, {}, protocol_id(9), {})));
    CHECK(fails(make_notify(notify_type::nat_detection_source_ip, filled(19))));
    CHECK(fails(make_notify(notify_type::cookie, {})));
    CHECK(fails(make_notify(notify_type::cookie, filled(65))));
    CHECK(fails(make_notify(notify_type::invalid_ke_payload, filled(1))));
    CHECK(fails(make_notify(notify_type::rekey_sa, {}, protocol_id::esp, {})));
    CHECK(fails(make_notify(notify_type::signature_hash_algorithms, filled(3))));
    CHECK_FALSE(fails(make_notify(notify_type::signature_hash_algorithms, hex("000200030004"))));

    CHECK(fails(make_payload(delete_payload{protocol_id::ike, 8, {filled(8)}})));
    CHECK(fails(make_payload(delete_payload{protocol_id::esp, 4, {}})));
    CHECK(fails(make_payload(delete_payload{protocol_id::esp, 8, {filled(8)}})));

    ts_payload inverted{{*traffic_selector::from_cidr("10.0.0.0/24", 6, 90, 80)}};
    CHECK(fails(make_tsi(inverted)));
    ts_payload opaque{{*traffic_selector::from_cidr("10.0.0.0/24", 6, 65535, 0)}};
    CHECK_FALSE(fails(make_tsi(opaque)));
    auto backwards = *traffic_selector::from_cidr("10.0.0.0/24");
    std::swap(backwards.start_address, backwards.end_address);
    CHECK(fails(make_tsi(ts_payload{{backwards}})));
    CHECK(fails(make_tsi(ts_payload{})));

    CHECK(fails(payload{payload_type::skf, false, skf_payload{payload_type::none, 0, 3, filled(8)}}));
    CHECK(fails(payload{payload_type::skf, false, skf_payload{payload_type::none, 4, 3, filled(8)}}));
    CHECK(fails(payload{payload_type::skf, false, skf_payload{payload_type::idi, 2, 3, filled(8)}}));
    CHECK(fails(make_payload(cp_payload{cfg_type(5), {}})));
}

TEST_CASE("payload: SA verify checks proposal numbering, SPI sizes and transforms", "[ike][payload]") {
    auto sa = two_proposals();
    CHECK_FALSE(verify(sa));
    auto gap = sa;
    gap.proposals[1].number = 3;
    CHECK(verify(gap));
    auto zero = sa;
    zero.proposals[0].number = 0;
    CHECK(verify(zero));
    auto accepted = sa_payload{{sa.proposals[1]}};  // a response echoes proposal #2 alone
    CHECK_FALSE(verify(accepted));
    auto bad_spi = sa;
    bad_spi.proposals[0].spi = filled(8);
    CHECK(verify(bad_spi));
    auto ike_spi = sa_payload{{proposal{1, protocol_id::ike, filled(4), {transform{transform_type::encr, 12, 128, {}}}}}};
    CHECK(verify(ike_spi));
    auto no_transforms = sa;
    no_transforms.proposals[0].transforms.clear();
    CHECK(verify(no_transforms));
    auto keylen_on_prf = sa;
    keylen_on_prf.proposals[0].transforms[1].key_length = 128;
    CHECK(verify(keylen_on_prf));
    CHECK(verify(sa_payload{}));
}

TEST_CASE("payload: malformed SA bodies are INVALID_SYNTAX", "[ike][payload]") {
    auto good = chain_bytes({make_payload(two_proposals())});
    // offsets: SA hdr 0..3, proposal 1 hdr at 4, its transform count at 11
    SECTION("proposal length beyond the SA payload") {
        auto b = good;
        b[6] = 0x01;
        CHECK_THAT(parse_error(payload_type::sa, b), Catch::Contains("exceeds"));
    }
    SECTION("proposal length below its header") {
        auto b = good;
        b[6] = 0;
        b[7] = 7;
        parse_error(payload_type::sa, b);
    }
    SECTION("transform count mismatch") {
        auto b = good;
        b[11] = 2;
        CHECK_THAT(parse_error(payload_type::sa, b), Catch::Contains("announces 2 transforms"));
    }
    SECTION("bad Last Substruc") {
        auto b = good;
        b[4] = 3;
        parse_error(payload_type::sa, b);
    }
    SECTION("first proposal marked last but more follow") {
        auto b = good;
        b[4] = 0;
        CHECK_THAT(parse_error(payload_type::sa, b), Catch::Contains("after the last proposal"));
    }
    SECTION("key length as TLV") {
        proposal p{1, protocol_id::ike, {}, {transform{transform_type::encr, 12, {}, {transform_attribute{14, false, 0, hex("0100")}}}}};
        auto b = chain_bytes({make_payload(sa_payload{{p}})});
        CHECK_THAT(parse_error(payload_type::sa, b), Catch::Contains("TV format"));
    }
    SECTION("attribute overruns the transform") {
        proposal p{1, protocol_id::ike, {}, {transform{transform_type::encr, 12, {}, {transform_attribute{17, false, 0, hex("0102")}}}}};
        auto b = chain_bytes({make_payload(sa_payload{{p}})});
        b[b.size() - 3] = 9;  // TLV length 2 -> 9
        CHECK_THAT(parse_error(payload_type::sa, b), Catch::Contains("overruns"));
    }
}

TEST_CASE("payload: malformed TS, Delete, Notify, CP bodies are INVALID_SYNTAX", "[ike][payload]") {
    auto ts = chain_bytes({make_tsi(ts_payload{{*traffic_selector::from_cidr("10.0.0.0/24")}})});
    SECTION("TS count mismatch") {
        auto b = ts;
        b[4] = 2;
        CHECK_THAT(parse_error(payload_type::tsi, b), Catch::Contains("announces 2"));
    }
    SECTION("TS selector length wrong for IPv4") {
        auto b = ts;
        b[11] = 40;
        CHECK_THAT(parse_error(payload_type::tsi, b), Catch::Contains("selector length"));
    }
    SECTION("TS type unknown") {
        auto b = ts;
        b[8] = 9;
        CHECK_THAT(parse_error(payload_type::tsi, b), Catch::Contains("unsupported TS type"));
    }
    SECTION("Delete count does not match the bytes") {
        auto b = chain_bytes({make_payload(delete_payload{protocol_id::esp, 4, {hex("01020304")}})});
        b[7] = 2;
        CHECK_THAT(parse_error(payload_type::del, b), Catch::Contains("SPIs of 4 bytes"));
    }
    SECTION("Notify SPI size beyond the payload") {
        auto b = chain_bytes({make_notify(notify_type::initial_contact)});
        b[5] = 16;
        parse_error(payload_type::notify, b);
    }
    SECTION("CP attribute overruns") {
        auto b = chain_bytes({make_payload(cp_payload{cfg_type::request, {cp_attribute{1, hex("0a000001")}}})});
        b[11] = 5;
        CHECK_THAT(parse_error(payload_type::cp, b), Catch::Contains("overruns"));
    }
    SECTION("fixed headers shorter than required") {
        for (auto t : {payload_type::ke, payload_type::idi, payload_type::auth, payload_type::notify, payload_type::del,
                       payload_type::tsi, payload_type::cp, payload_type::skf}) {
            bytes b{0, 0, 0, 5, 1};
            parse_error(t, b);
        }
    }
}

TEST_CASE("payload: generic header length errors and every truncation fail cleanly", "[ike][payload]") {
    std::vector<payload> ps{make_payload(two_proposals()), make_payload(ke_payload{dh_group::ecp256, filled(64)}),
                            make_payload(nonce_payload{filled(32)}),
                            make_tsi(ts_payload{{*traffic_selector::from_cidr("2001:db8::/48")}}),
                            make_payload(cp_payload{cfg_type::reply, {cp_attribute{1, hex("0a000001")}}}),
                            make_payload(delete_payload{protocol_id::esp, 4, {hex("01020304")}})};
    auto good = chain_bytes(ps);
    REQUIRE(parse_chain_ok(payload_type::sa, good) == ps);
    for (std::size_t n = 0; n < good.size(); ++n) {
        bytes cut(good.begin(), good.begin() + static_cast<long>(n));
        auto r = parse_payload_chain(payload_type::sa, cut, false);
        INFO("truncated to " << n);
        CHECK_FALSE(r.ok());
    }
    // Payload Length 0..3 and beyond the buffer
    for (std::uint16_t len : {0, 1, 3, 0xffff}) {
        auto b = good;
        b[2] = std::uint8_t(len >> 8);
        b[3] = std::uint8_t(len);
        CHECK_FALSE(parse_payload_chain(payload_type::sa, b, false).ok());
    }
    // trailing garbage after the last payload
    auto extra = good;
    extra.push_back(0);
    CHECK_THAT(parse_error(payload_type::sa, extra), Catch::Contains("after the last payload"));
}

TEST_CASE("payload: textual selectors and identities", "[ike][payload]") {
    auto a = traffic_selector::from_cidr("10.1.2.3/16");
    REQUIRE(a);
    CHECK(a->to_string() == "10.1.0.0/16");
    CHECK(base::to_hex(a->end_address) == "0a01ffff");
    auto h = traffic_selector::from_cidr("192.0.2.7");
    REQUIRE(h);
    CHECK(h->to_string() == "192.0.2.7/32");
    auto v6 = traffic_selector::from_cidr("2001:db8:1::/48", 6, 443, 443);
    REQUIRE(v6);
    CHECK(v6->to_string() == "2001:db8:1::/48[tcp/443]");
    CHECK(traffic_selector::from_cidr("0.0.0.0/0", 17)->to_string() == "0.0.0.0/0[udp]");
    auto range = *traffic_selector::from_cidr("10.0.0.0/24");
    range.start_address = hex("0a000001");
    range.end_address = hex("0a000009");
    CHECK(range.to_string() == "10.0.0.1..10.0.0.9");
    CHECK_FALSE(traffic_selector::from_cidr("10.0.0.0/33"));
    CHECK_FALSE(traffic_selector::from_cidr("10.0.0/8"));
    CHECK_FALSE(traffic_selector::from_cidr("10.0.0.0/"));

    CHECK(id_payload::from_string("@vpn.example.com")->type == id_type::fqdn);
    CHECK(id_payload::from_string("@vpn.example.com")->to_string() == "vpn.example.com");
    CHECK(id_payload::from_string("peer")->type == id_type::fqdn);
    CHECK(id_payload::from_string("a@b")->type == id_type::rfc822_addr);
    CHECK(id_payload::from_string("2001:db8::5")->data.size() == 16);
    CHECK_FALSE(id_payload::from_string(""));
    // fuzz regression: a wrong-sized address ID from the wire prints as hex, no overflow
    CHECK(id_payload{id_type::ipv4_addr, filled(32)}.to_string() == "?" + base::to_hex(filled(32)));
    CHECK(id_payload{id_type::ipv6_addr, filled(3)}.to_string() == "?000102");
    CHECK_FALSE(id_payload::from_string("keyid:zz"));
}

TEST_CASE("payload: type confusion - a body under the wrong Next Payload never passes as valid", "[ike][payload]") {
    // The same bytes labelled as another payload type either fail to parse or fail verify():
    // a Notify body read as KE, TS, SA, Delete, ID.
    auto n = chain_bytes({make_notify(notify_type::nat_detection_source_ip, filled(20))});
    for (auto t : {payload_type::ke, payload_type::tsi, payload_type::sa, payload_type::del, payload_type::idi}) {
        INFO(to_string(t));
        auto r = parse_payload_chain(t, n, false);
        bool rejected = !r.ok() || verify(r.value()[0]).has_value();
        CHECK(rejected);
    }
    // A KE for MODP-2048 claimed to be ECP-256 (group field confusion) fails its length check.
    CHECK(verify(make_payload(ke_payload{dh_group::ecp256, filled(256)})));
}
