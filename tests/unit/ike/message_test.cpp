// Whole messages: IKE header layout (RFC 7296 3.1), SK sealing/opening through sk_codec with the
// AAD of RFC 5282 5.1 / 7296 3.14, RFC 7383 fragments, the per-exchange payload rules, and
// malformed datagrams (every truncation, every bit flip under the ICV) -> clean errors.
#include "message_test_util.hpp"

#include <ike/message.hpp>
#include <ike/message_rules.hpp>
#include <ike/sk.hpp>

using namespace ike;
using namespace ike_wire_test;

namespace {

bytes serialize_ok(const message& m, sk_codec* codec = nullptr) {
    auto r = serialize_message(m, codec);
    INFO((r ? std::string() : r.error().reason));
    REQUIRE(r.ok());
    return r.value();
}

message parse_ok(const bytes& b) {
    auto r = parse_message(b);
    INFO((r ? std::string() : r.error().reason));
    REQUIRE(r.ok());
    return r.value();
}

std::string validation_error(const message& m, notify_type expected = notify_type::invalid_syntax) {
    auto e = validate_message(m);
    REQUIRE(e.has_value());
    CHECK(e->notify == expected);
    return e->reason;
}

// Through the wire and back, opened with the same fake key.
message received(const message& m, fake_sk_codec& codec) {
    auto b = serialize_ok(m, &codec);
    auto back = parse_ok(b);
    REQUIRE_FALSE(validate_outer(back));
    REQUIRE_FALSE(open_sk(back, b, codec));
    return back;
}

} // namespace

TEST_CASE("message: IKE header layout per RFC 7296 3.1", "[ike][message]") {
    auto m = sample_init_request();
    m.header.version = false;
    auto b = serialize_ok(m);
    CHECK(base::to_hex(std::span(b).first(28)) ==
          "1112131415161718"   // SPIi
          "0000000000000000"   // SPIr
          "21"                 // Next Payload SA (33)
          "20"                 // MjVer 2, MnVer 0
          "22"                 // IKE_SA_INIT (34)
          "08"                 // Initiator
          "00000000" +         // Message ID
              base::to_hex(std::vector<std::uint8_t>{0, 0, std::uint8_t(b.size() >> 8), std::uint8_t(b.size())}));
    auto back = parse_ok(b);
    CHECK(back.header.spi_i == m.header.spi_i);
    CHECK(back.header.initiator);
    CHECK_FALSE(back.header.response);
    CHECK(back.header.length == b.size());
    CHECK(back.payloads == m.payloads);
    CHECK_FALSE(validate_message(back));
    CHECK(serialize_ok(back) == b);

    m.header.response = true;
    m.header.initiator = false;
    m.header.version = true;
    m.header.message_id = 0x01020304;
    auto r = serialize_ok(m);
    CHECK(r[19] == 0x30);  // R | V
    CHECK(parse_ok(r).header.message_id == 0x01020304u);
}

TEST_CASE("message: header errors (short, Length mismatch, major version)", "[ike][message]") {
    auto b = serialize_ok(sample_init_request());
    for (std::size_t n = 0; n < b.size(); ++n) {
        auto r = parse_message(std::span(b).first(n));
        INFO("truncated to " << n);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().notify == notify_type::invalid_syntax);
    }
    auto longer = b;
    longer.push_back(0);
    CHECK_FALSE(parse_message(longer).ok());

    auto v3 = b;
    v3[17] = 0x30;
    auto r = parse_message(v3);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().notify == notify_type::invalid_major_version);
    auto h = parse_header(v3);  // the SPIs needed to answer INVALID_MAJOR_VERSION
    REQUIRE(h.ok());
    CHECK(h->major_version == 3);
    CHECK(h->spi_i == spi(0x11));
    auto minor = b;
    minor[17] = 0x21;  // higher minor version: accepted (RFC 7296 2.5)
    CHECK(parse_message(minor).ok());
}

TEST_CASE("message: SK round trip through sk_codec with the RFC 5282 AAD", "[ike][message][sk]") {
    fake_sk_codec codec;
    auto m = sample_auth_request();
    auto b = serialize_ok(m, &codec);
    auto back = parse_ok(b);
    REQUIRE(back.payloads.size() == 1);
    const sk_payload* sk = back.sk();
    REQUIRE(sk);
    CHECK(sk->inner_first == payload_type::idi);
    CHECK(b[16] == 46);  // header Next Payload = SK
    // AAD = header .. SK generic header, lengths final
    std::size_t body_at = b.size() - sk->data.size();
    CHECK(body_at == 28 + 4);
    CHECK(codec.last_aad == bytes(b.begin(), b.begin() + static_cast<long>(body_at)));
    CHECK_FALSE(validate_outer(back));
    CHECK(validate_message(back).has_value());  // not opened yet
    REQUIRE_FALSE(open_sk(back, b, codec));
    CHECK(back.opened);
    CHECK(back.encrypted == m.encrypted);
    CHECK_FALSE(validate_message(back));
    CHECK(back.find(payload_type::auth) != nullptr);
    CHECK(back.find_notify(notify_type::initial_contact) != nullptr);
    CHECK(back.count(payload_type::tsi) == 1);

    SECTION("a different key does not open it") {
        fake_sk_codec other(0x33);
        auto again = parse_ok(b);
        auto e = open_sk(again, b, other);
        REQUIRE(e);
        CHECK(e->reason == icv_failed_reason);
    }
    SECTION("cleartext payloads before SK are covered by the AAD") {
        auto with_clear = m;
        with_clear.payloads.push_back(make_payload(vendor_payload{hex("0102")}));
        auto c = serialize_ok(with_clear, &codec);
        auto p = parse_ok(c);
        REQUIRE(p.payloads.size() == 2);
        REQUIRE_FALSE(open_sk(p, c, codec));
        CHECK(p.encrypted == m.encrypted);
        CHECK(validate_outer(p).has_value());  // but V outside SK is not allowed in IKE_AUTH
    }
}

TEST_CASE("message: every single-bit flip of a protected message is rejected", "[ike][message][sk]") {
    fake_sk_codec codec;
    auto b = serialize_ok(sample_auth_request(), &codec);
    for (std::size_t i = 0; i < b.size(); ++i) {
        for (std::uint8_t bit : {0x01, 0x80}) {
            auto t = b;
            t[i] ^= bit;
            auto m = parse_message(t);
            if (!m) continue;  // header/length damage caught by the parser
            INFO("byte " << i << " bit " << int(bit));
            CHECK(open_sk(m.value(), t, codec).has_value());
        }
    }
}

TEST_CASE("message: empty INFORMATIONAL (liveness) has an SK with no inner payloads", "[ike][message][sk]") {
    fake_sk_codec codec;
    message m;
    m.header.spi_i = spi(1);
    m.header.spi_r = spi(2);
    m.header.exchange = exchange_type::informational;
    m.header.message_id = 7;
    auto back = received(m, codec);
    CHECK(back.sk()->inner_first == payload_type::none);
    CHECK(back.encrypted.empty());
    CHECK_FALSE(validate_message(back));
}

TEST_CASE("message: serialize refuses inconsistent input", "[ike][message]") {
    fake_sk_codec codec;
    auto m = sample_auth_request();
    CHECK_FALSE(serialize_message(m, nullptr).ok());  // encrypted payloads but no codec
    auto two = m;
    two.payloads.push_back(payload{payload_type::sk, false, sk_payload{payload_type::none, filled(16)}});
    CHECK_FALSE(serialize_message(two, &codec).ok());
}

TEST_CASE("message: RFC 7383 fragments reassemble to the inner payloads", "[ike][message][sk]") {
    fake_sk_codec codec;
    auto m = sample_auth_request();
    auto frags = serialize_fragments(m, codec, 64);
    REQUIRE(frags.ok());
    base::writer inner;
    REQUIRE_FALSE(serialize_payload_chain(m.encrypted, inner));
    std::size_t expected = (inner.size() + 63) / 64;
    REQUIRE(frags->size() == expected);
    REQUIRE(expected > 1);
    bytes joined;
    payload_type first = payload_type::none;
    for (std::size_t i = 0; i < frags->size(); ++i) {
        const auto& f = (*frags)[i];
        auto p = parse_ok(f);
        CHECK(p.header.message_id == m.header.message_id);
        const skf_payload* skf = p.skf();
        REQUIRE(skf);
        CHECK(skf->fragment_number == i + 1);
        CHECK(skf->total_fragments == expected);
        CHECK(skf->inner_first == (i == 0 ? payload_type::idi : payload_type::none));
        CHECK_FALSE(validate_outer(p));
        // the AAD covers Fragment Number / Total Fragments
        CHECK(codec.last_aad.size() == 28 + 8);
        auto plain = open_skf(p, f, codec);
        REQUIRE(plain.ok());
        joined.insert(joined.end(), plain->begin(), plain->end());
        if (i == 0) first = skf->inner_first;
        auto tampered = f;
        tampered[28 + 5] ^= 1;  // Fragment Number
        auto tp = parse_ok(tampered);
        CHECK_FALSE(open_skf(tp, tampered, codec).ok());
    }
    auto inner_back = parse_payload_chain(first, joined, true);
    REQUIRE(inner_back.ok());
    CHECK(inner_back.value() == m.encrypted);
}

TEST_CASE("message: a malformed inner chain after a good ICV is INVALID_SYNTAX", "[ike][message][sk]") {
    fake_sk_codec codec;
    // Hand-build SK whose plaintext claims a Nonce of length 200 in 20 bytes.
    message m;
    m.header.spi_i = spi(1);
    m.header.exchange = exchange_type::informational;
    m.encrypted.push_back(make_payload(nonce_payload{filled(16)}));
    auto b = serialize_ok(m, &codec);
    // re-seal a corrupted plaintext with the same AAD
    auto p = parse_ok(b);
    std::size_t body_at = b.size() - p.sk()->data.size();
    base::writer inner;
    REQUIRE_FALSE(serialize_payload_chain(m.encrypted, inner));
    auto plain = inner.take();
    plain[3] = 200;
    std::span<std::uint8_t> all(b);
    REQUIRE(codec.seal(all.first(body_at), plain, all.subspan(body_at)));
    auto e = open_sk(p, b, codec);
    REQUIRE(e);
    CHECK(e->notify == notify_type::invalid_syntax);
    CHECK_THAT(e->reason, Catch::Contains("exceeds"));
}

TEST_CASE("message: per-exchange payload rules", "[ike][message][rules]") {
    fake_sk_codec codec;
    SECTION("IKE_SA_INIT request needs SA, KE, Ni exactly once") {
        auto m = sample_init_request();
        CHECK_FALSE(validate_message(m));
        auto no_ke = m;
        no_ke.payloads.erase(no_ke.payloads.begin() + 1);
        CHECK_THAT(validation_error(no_ke), Catch::Contains("KE payload missing"));
        auto two_sa = m;
        two_sa.payloads.push_back(m.payloads[0]);
        CHECK_THAT(validation_error(two_sa), Catch::Contains("at most 1"));
        auto with_auth = m;
        with_auth.payloads.push_back(make_payload(auth_payload{auth_method::psk, filled(20)}));
        CHECK_THAT(validation_error(with_auth), Catch::Contains("AUTH payload not allowed"));
        auto with_sk = m;
        with_sk.payloads.push_back(payload{payload_type::sk, false, sk_payload{payload_type::none, filled(16)}});
        CHECK_THAT(validation_error(with_sk), Catch::Contains("SK payload in"));
        auto short_nonce = m;
        short_nonce.payloads[2] = make_payload(nonce_payload{filled(8)});
        CHECK_THAT(validation_error(short_nonce), Catch::Contains("nonce of 8 bytes"));
    }
    SECTION("IKE_SA_INIT header rules") {
        auto m = sample_init_request();
        auto zero = m;
        zero.header.spi_i = {};
        validation_error(zero, notify_type::invalid_ike_spi);
        auto msgid = m;
        msgid.header.message_id = 1;
        CHECK_THAT(validation_error(msgid), Catch::Contains("Message ID 1"));
        auto spir = m;
        spir.header.spi_r = spi(5);
        CHECK_THAT(validation_error(spir), Catch::Contains("non-zero responder SPI"));
    }
    SECTION("IKE_SA_INIT responses: full, cookie-only, INVALID_KE-only") {
        auto m = sample_init_request();
        m.header.response = true;
        m.header.initiator = false;
        m.header.spi_r = spi(0x77);
        m.payloads.push_back(make_certreq(cert_payload{cert_encoding::x509_signature, {}}));
        CHECK_FALSE(validate_message(m));
        message cookie;
        cookie.header = m.header;
        cookie.payloads.push_back(make_notify(notify_type::cookie, filled(16)));
        CHECK_FALSE(validate_message(cookie));
        message invalid_ke;
        invalid_ke.header = m.header;
        invalid_ke.payloads.push_back(make_notify(notify_type::invalid_ke_payload, hex("000e")));
        CHECK_FALSE(validate_message(invalid_ke));
        message nothing;
        nothing.header = m.header;
        nothing.payloads.push_back(make_notify(notify_type::nat_detection_source_ip, filled(20)));
        CHECK_THAT(validation_error(nothing), Catch::Contains("SA payload missing"));
    }
    SECTION("IKE_AUTH: everything inside SK, at most one of IDi/AUTH/SA/TS") {
        auto good = received(sample_auth_request(), codec);
        CHECK_FALSE(validate_message(good));
        auto with_ke = sample_auth_request();
        with_ke.encrypted.push_back(make_payload(ke_payload{dh_group::ecp256, filled(64)}));
        CHECK_THAT(validation_error(received(with_ke, codec)), Catch::Contains("KE payload not allowed in IKE_AUTH request"));
        auto two_auth = sample_auth_request();
        two_auth.encrypted.push_back(two_auth.encrypted[3]);
        CHECK_THAT(validation_error(received(two_auth, codec)), Catch::Contains("2 AUTH payloads"));
        auto clear_n = sample_auth_request();
        clear_n.payloads.push_back(make_notify(notify_type::initial_contact));
        auto b = serialize_ok(clear_n, &codec);
        auto p = parse_ok(b);
        auto outer = validate_outer(p);
        REQUIRE(outer);
        CHECK_THAT(outer->reason, Catch::Contains("N payload must be inside SK"));
        message no_sk;
        no_sk.header = clear_n.header;
        CHECK_THAT(validate_outer(no_sk)->reason, Catch::Contains("without an SK payload"));
    }
    SECTION("CREATE_CHILD_SA and INFORMATIONAL") {
        message child;
        child.header.spi_i = spi(1);
        child.header.spi_r = spi(2);
        child.header.exchange = exchange_type::create_child_sa;
        child.header.message_id = 2;
        child.encrypted.push_back(make_payload(sa_payload{{proposal{1, protocol_id::esp, hex("01020304"),
            {transform{transform_type::encr, 20, 256, {}}, transform{transform_type::esn, 0, {}, {}}}}}}));
        auto no_nonce = received(child, codec);
        CHECK_THAT(validation_error(no_nonce), Catch::Contains("Nonce payload missing"));
        child.encrypted.push_back(make_payload(nonce_payload{filled(32)}));
        CHECK_FALSE(validate_message(received(child, codec)));
        message err = child;
        err.header.response = true;
        err.encrypted = {make_notify(notify_type::no_additional_sas)};
        CHECK_FALSE(validate_message(received(err, codec)));

        message info = child;
        info.header.exchange = exchange_type::informational;
        info.encrypted = {make_payload(delete_payload{protocol_id::esp, 4, {hex("01020304")}}),
                          make_payload(delete_payload{protocol_id::ike, 0, {}})};
        CHECK_FALSE(validate_message(received(info, codec)));
        info.encrypted.push_back(make_payload(cp_payload{cfg_type::request, {}}));
        info.encrypted.push_back(make_payload(cp_payload{cfg_type::request, {}}));
        CHECK_THAT(validation_error(received(info, codec)), Catch::Contains("2 CP payloads"));
    }
    SECTION("unknown payloads: skipped when non-critical, UNSUPPORTED_CRITICAL_PAYLOAD when critical") {
        auto m = sample_auth_request();
        m.encrypted.insert(m.encrypted.begin() + 1, payload{payload_type(60), false, unknown_payload{60, filled(5)}});
        CHECK_FALSE(validate_message(received(m, codec)));
        m.encrypted[1].critical = true;
        auto e = validate_message(received(m, codec));
        REQUIRE(e);
        CHECK(e->notify == notify_type::unsupported_critical_payload);
        CHECK(e->data == bytes{60});

        auto init = sample_init_request();
        init.payloads.push_back(payload{payload_type(1), true, unknown_payload{1, {}}});
        auto back = parse_ok(serialize_ok(init));
        auto oe = validate_outer(back);
        REQUIRE(oe);
        CHECK(oe->notify == notify_type::unsupported_critical_payload);
        CHECK(oe->data == bytes{1});
    }
    SECTION("exchanges without a table") {
        auto m = sample_init_request();
        m.header.exchange = exchange_type(99);
        CHECK_THAT(validation_error(m), Catch::Contains("unsupported exchange"));
    }
}

TEST_CASE("message: sk_codec contract matches ike::crypto::sk_cipher", "[ike][message][sk]") {
    // The crypto side's SK cipher behind the codec's interface: the codec lays out, the cipher
    // seals with AES-256-CBC + HMAC-SHA-256-128 and the peer's instance opens.
    struct cipher_codec final : sk_codec {
        explicit cipher_codec(crypto::sk_cipher c) : cipher(std::move(c)) {}
        std::size_t sealed_size(std::size_t n) const override { return cipher.sealed_size(n); }
        bool seal(std::span<const std::uint8_t> aad, std::span<const std::uint8_t> p, std::span<std::uint8_t> out) override {
            return !cipher.seal(aad, p, out);
        }
        std::optional<std::vector<std::uint8_t>> open(std::span<const std::uint8_t> aad,
                                                      std::span<const std::uint8_t> sealed) override {
            auto r = cipher.open(aad, sealed);
            if (!r) return std::nullopt;
            return std::move(*r);
        }
        crypto::sk_cipher cipher;
    };
    auto ek = filled(32, 1), ak = filled(32, 2);
    auto make = [&] {
        auto c = crypto::sk_cipher::create(crypto::encr_spec{crypto::encr_id::aes_cbc, 256},
                                           crypto::integ_id::hmac_sha2_256_128, ek, ak);
        REQUIRE(c);
        return cipher_codec(std::move(*c));
    };
    auto sender = make();
    auto receiver = make();
    auto m = sample_auth_request();
    auto b = serialize_ok(m, &sender);
    auto p = parse_ok(b);
    REQUIRE_FALSE(open_sk(p, b, receiver));
    CHECK(p.encrypted == m.encrypted);
    CHECK_FALSE(validate_message(p));
    b[20] ^= 1;  // Message ID, covered by the ICV
    auto t = parse_ok(b);
    CHECK(open_sk(t, b, receiver).has_value());
}

TEST_CASE("message: one-line RFC notation for logs", "[ike][message]") {
    CHECK(to_string(sample_init_request()) ==
          "IKE_SA_INIT request 0 [ SA KE Nonce N(NAT_DETECTION_SOURCE_IP) N(NAT_DETECTION_DESTINATION_IP) V ]");
    fake_sk_codec codec;
    auto b = serialize_ok(sample_auth_request(), &codec);
    auto m = parse_ok(b);
    CHECK(to_string(m) == "IKE_AUTH request 1 [ SK { } ]");
    REQUIRE_FALSE(open_sk(m, b, codec));
    CHECK(to_string(m) == "IKE_AUTH request 1 [ SK { IDi N(INITIAL_CONTACT) IDr AUTH SA TSi TSr } ]");
    message info;
    info.header.exchange = exchange_type::informational;
    info.header.response = true;
    info.header.message_id = 5;
    info.encrypted = {make_payload(delete_payload{protocol_id::esp, 4, {hex("01020304")}}),
                      payload{payload_type(99), true, unknown_payload{99, {}}}};
    CHECK(to_string(info) == "INFORMATIONAL response 5 [ SK { D(ESP:1) UNKNOWN_99! } ]");
}
