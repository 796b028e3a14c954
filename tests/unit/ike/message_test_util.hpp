#pragma once
// Helpers for the wire codec tests: hex, a deterministic fake sk_codec, and sample messages.
#include <ike/message.hpp>
#include <ike/payload.hpp>

#include <base/hex.hpp>

#include <catch2/catch.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

namespace ike_wire_test {

using ike::bytes;

inline bytes hex(std::string_view s) {
    auto b = base::from_hex(s);
    REQUIRE(b.has_value());
    return *b;
}

inline bytes filled(std::size_t n, std::uint8_t start = 0) {
    bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(start + i);
    return b;
}

// A stand-in for the SK cipher with the same contract as ike::crypto::sk_cipher: 8-byte IV,
// plaintext | padding | pad length to a 16-byte block, "encrypted" by XOR with a key byte,
// ICV = first 12 bytes of SHA-256(key || aad || IV || ciphertext). Tampering with any covered
// byte changes the ICV, so open() must fail.
class fake_sk_codec final : public ike::sk_codec {
public:
    explicit fake_sk_codec(std::uint8_t key = 0x5a) : _key(key) {}
    static constexpr std::size_t iv_size = 8, block = 16, icv_size = 12;

    std::size_t sealed_size(std::size_t n) const override {
        return iv_size + (n + 1 + block - 1) / block * block + icv_size;
    }
    bool seal(std::span<const std::uint8_t> aad, std::span<const std::uint8_t> plain, std::span<std::uint8_t> out) override {
        if (out.size() != sealed_size(plain.size())) return false;
        last_aad.assign(aad.begin(), aad.end());
        std::size_t ct_len = out.size() - iv_size - icv_size;
        for (std::size_t i = 0; i < iv_size; ++i) out[i] = static_cast<std::uint8_t>(0xa0 + i + _counter);
        ++_counter;
        std::size_t pad = ct_len - plain.size() - 1;
        for (std::size_t i = 0; i < ct_len; ++i) {
            std::uint8_t p = i < plain.size() ? plain[i] : i + 1 < ct_len ? 0 : static_cast<std::uint8_t>(pad);
            out[iv_size + i] = p ^ _key;
        }
        auto icv = mac(aad, out.first(iv_size + ct_len));
        std::copy(icv.begin(), icv.begin() + icv_size, out.begin() + static_cast<long>(iv_size + ct_len));
        return true;
    }
    std::optional<std::vector<std::uint8_t>> open(std::span<const std::uint8_t> aad,
                                                  std::span<const std::uint8_t> sealed) override {
        if (sealed.size() < iv_size + block + icv_size) return std::nullopt;
        std::size_t ct_len = sealed.size() - iv_size - icv_size;
        if (ct_len % block) return std::nullopt;
        auto icv = mac(aad, sealed.first(iv_size + ct_len));
        if (!std::equal(icv.begin(), icv.begin() + icv_size, sealed.begin() + static_cast<long>(iv_size + ct_len)))
            return std::nullopt;
        std::vector<std::uint8_t> plain(ct_len);
        for (std::size_t i = 0; i < ct_len; ++i) plain[i] = sealed[iv_size + i] ^ _key;
        std::size_t pad = plain.back();
        if (pad + 1 > plain.size()) return std::nullopt;
        plain.resize(plain.size() - pad - 1);
        return plain;
    }
    bytes last_aad;

private:
    std::array<std::uint8_t, 32> mac(std::span<const std::uint8_t> aad, std::span<const std::uint8_t> body) const {
        std::array<std::uint8_t, 32> out{};
        EVP_MD_CTX* c = EVP_MD_CTX_new();
        EVP_DigestInit_ex(c, EVP_sha256(), nullptr);
        EVP_DigestUpdate(c, &_key, 1);
        EVP_DigestUpdate(c, aad.data(), aad.size());
        EVP_DigestUpdate(c, body.data(), body.size());
        unsigned len = 0;
        EVP_DigestFinal_ex(c, out.data(), &len);
        EVP_MD_CTX_free(c);
        return out;
    }
    std::uint8_t _key;
    std::uint8_t _counter = 0;
};

inline ike::ike_spi spi(std::uint8_t seed) {
    ike::ike_spi s{};
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::uint8_t>(seed + i);
    return s;
}

// HDR, SAi1, KEi, Ni, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP), V
inline ike::message sample_init_request() {
    using namespace ike;
    message m;
    m.header.spi_i = spi(0x11);
    m.header.exchange = exchange_type::ike_sa_init;
    m.header.initiator = true;
    proposal p;
    p.number = 1;
    p.protocol = protocol_id::ike;
    p.transforms = {
        transform{transform_type::encr, static_cast<std::uint16_t>(encr_id::aes_cbc), 256, {}},
        transform{transform_type::prf, static_cast<std::uint16_t>(prf_id::hmac_sha2_256), std::nullopt, {}},
        transform{transform_type::integ, static_cast<std::uint16_t>(integ_id::hmac_sha2_256_128), std::nullopt, {}},
        transform{transform_type::dh, static_cast<std::uint16_t>(dh_group::modp2048), std::nullopt, {}},
    };
    m.payloads.push_back(make_payload(sa_payload{{p}}));
    m.payloads.push_back(make_payload(ke_payload{dh_group::modp2048, filled(256, 3)}));
    m.payloads.push_back(make_payload(nonce_payload{filled(32, 0x40)}));
    m.payloads.push_back(make_notify(notify_type::nat_detection_source_ip, filled(20, 1)));
    m.payloads.push_back(make_notify(notify_type::nat_detection_destination_ip, filled(20, 2)));
    m.payloads.push_back(make_payload(vendor_payload{hex("882fe56d6fd20dbc2251613b2ebe5beb")}));
    return m;
}

// HDR, SK {IDi, N(INITIAL_CONTACT), IDr, AUTH, SAi2, TSi, TSr}
inline ike::message sample_auth_request() {
    using namespace ike;
    message m;
    m.header.spi_i = spi(0x11);
    m.header.spi_r = spi(0x77);
    m.header.exchange = exchange_type::ike_auth;
    m.header.initiator = true;
    m.header.message_id = 1;
    proposal p;
    p.number = 1;
    p.protocol = protocol_id::esp;
    p.spi = hex("c0ffee01");
    p.transforms = {
        transform{transform_type::encr, static_cast<std::uint16_t>(encr_id::aes_cbc), 256, {}},
        transform{transform_type::integ, static_cast<std::uint16_t>(integ_id::hmac_sha2_256_128), std::nullopt, {}},
        transform{transform_type::esn, static_cast<std::uint16_t>(esn_id::no), std::nullopt, {}},
    };
    m.encrypted.push_back(make_idi(*id_payload::from_string("192.0.2.1")));
    m.encrypted.push_back(make_notify(notify_type::initial_contact));
    m.encrypted.push_back(make_idr(*id_payload::from_string("vpn.example.com")));
    m.encrypted.push_back(make_payload(auth_payload{auth_method::psk, filled(32, 9)}));
    m.encrypted.push_back(make_payload(sa_payload{{p}}));
    m.encrypted.push_back(make_tsi(ts_payload{{*traffic_selector::from_cidr("10.1.0.0/16")}}));
    m.encrypted.push_back(make_tsr(ts_payload{{*traffic_selector::from_cidr("10.2.0.0/16")}}));
    return m;
}

} // namespace ike_wire_test
