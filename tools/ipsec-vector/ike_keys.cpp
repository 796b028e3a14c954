// ike-decode --keys parsing: field split, hex, algorithm names -> ike::crypto specs, and the two
// sk_cipher objects (the crypto suite checks the key sizes against the algorithms).
#include "ike_keys.hpp"

#include "command.hpp"

#include <base/hex.hpp>

#include <openssl/crypto.h>

#include <array>
#include <optional>
#include <utility>

namespace ipsec_vector {

using namespace ike::crypto;

std::optional<std::vector<std::uint8_t>> ike_sk_codec::open(std::span<const std::uint8_t> aad,
                                                            std::span<const std::uint8_t> sealed) {
    auto r = _c.open(aad, sealed);
    if (!r) return std::nullopt;
    return std::move(*r);
}

namespace {

std::optional<encr_spec> encr_from_name(std::string_view s) {
    struct entry { std::string_view name; encr_spec spec; };
    static constexpr std::array<entry, 13> table{{
        {"aes128-cbc", {encr_id::aes_cbc, 128}},
        {"aes192-cbc", {encr_id::aes_cbc, 192}},
        {"aes256-cbc", {encr_id::aes_cbc, 256}},
        {"aes128gcm8", {encr_id::aes_gcm_8, 128}},
        {"aes192gcm8", {encr_id::aes_gcm_8, 192}},
        {"aes256gcm8", {encr_id::aes_gcm_8, 256}},
        {"aes128gcm12", {encr_id::aes_gcm_12, 128}},
        {"aes192gcm12", {encr_id::aes_gcm_12, 192}},
        {"aes256gcm12", {encr_id::aes_gcm_12, 256}},
        {"aes128gcm16", {encr_id::aes_gcm_16, 128}},
        {"aes192gcm16", {encr_id::aes_gcm_16, 192}},
        {"aes256gcm16", {encr_id::aes_gcm_16, 256}},
        {"3des-cbc", {encr_id::des3, 0}},
    }};
    for (const auto& e : table)
        if (e.name == s) return e.spec;
    return std::nullopt;
}

std::optional<integ_id> integ_from_name(std::string_view s) {
    struct entry { std::string_view name; integ_id id; };
    static constexpr std::array<entry, 7> table{{
        {"none", integ_id::none},
        {"md5-96", integ_id::hmac_md5_96},
        {"sha1-96", integ_id::hmac_sha1_96},
        {"sha1-160", integ_id::hmac_sha1_160},
        {"sha256-128", integ_id::hmac_sha2_256_128},
        {"sha384-192", integ_id::hmac_sha2_384_192},
        {"sha512-256", integ_id::hmac_sha2_512_256},
    }};
    for (const auto& e : table)
        if (e.name == s) return e.id;
    return std::nullopt;
}

std::vector<std::string_view> split(std::string_view s) {
    std::vector<std::string_view> out;
    for (;;) {
        auto comma = s.find(',');
        out.push_back(s.substr(0, comma));
        if (comma == std::string_view::npos) return out;
        s.remove_prefix(comma + 1);
    }
}

[[noreturn]] void bad(std::string_view why) { throw usage_error("bad --keys: " + std::string(why)); }

// Key bytes on their way from the command line into the ciphers (which keep secret_bytes).
struct key_field {
    std::vector<std::uint8_t> b;
    key_field() = default;
    key_field(const key_field&) = delete;
    key_field& operator=(const key_field&) = delete;
    ~key_field() { OPENSSL_cleanse(b.data(), b.size()); }
};

std::vector<std::uint8_t> hex_field(std::string_view name, std::string_view v, bool allow_empty) {
    auto b = base::from_hex(v);
    if (!b) bad(std::string(name) + " is not hex");
    if (b->empty() && !allow_empty) bad(std::string(name) + " is empty");
    return std::move(*b);
}

void key_hex_field(key_field& out, std::string_view name, std::string_view v, bool allow_empty) {
    out.b = hex_field(name, v, allow_empty);
}

ike::ike_spi spi_field(std::string_view name, std::string_view v) {
    auto b = hex_field(name, v, false);
    if (b.size() != 8) bad(std::string(name) + " must be 8 bytes (16 hex digits)");
    ike::ike_spi s{};
    std::copy(b.begin(), b.end(), s.begin());
    return s;
}

std::unique_ptr<ike_sk_codec> make_codec(std::string_view which, const encr_spec& e, integ_id i,
                                         const std::vector<std::uint8_t>& ek, const std::vector<std::uint8_t>& ak) {
    auto c = sk_cipher::create(e, i, ek, ak);
    if (!c) {
        bad(std::string(which) + ": " + c.error().message() + " (SK_e " + std::to_string(ek.size()) +
            " bytes, SK_a " + std::to_string(ak.size()) + " bytes; expected " +
            std::to_string(encr_keymat_size(e).value_or(0)) + " and " + std::to_string(integ_key_size(i)) + ")");
    }
    return std::make_unique<ike_sk_codec>(std::move(*c));
}

} // namespace

ike_sa_keys parse_ike_keys(std::string_view spec) {
    auto f = split(spec);
    if (f.size() != 8) bad("expected 8 comma-separated fields SPIi,SPIr,SK_ei,SK_er,ENC,SK_ai,SK_ar,INTEG, got " +
                           std::to_string(f.size()));
    ike_sa_keys k;
    k.spi_i = spi_field("SPIi", f[0]);
    k.spi_r = spi_field("SPIr", f[1]);
    key_field ei, er, ai, ar;
    key_hex_field(ei, "SK_ei", f[2], false);
    key_hex_field(er, "SK_er", f[3], false);
    auto encr = encr_from_name(f[4]);
    if (!encr) bad("unknown ENC '" + std::string(f[4]) + "'");
    key_hex_field(ai, "SK_ai", f[5], true);
    key_hex_field(ar, "SK_ar", f[6], true);
    auto integ = integ_from_name(f[7]);
    if (!integ) bad("unknown INTEG '" + std::string(f[7]) + "'");
    if (encr_is_aead(encr->id) != (*integ == integ_id::none))
        bad(encr_is_aead(encr->id) ? "an AEAD ENC takes INTEG none" : "ENC needs an INTEG other than none");
    k.encr_name = std::string(f[4]);
    k.integ_name = std::string(f[7]);
    k.from_initiator = make_codec("SK_ei/SK_ai", *encr, *integ, ei.b, ai.b);
    k.from_responder = make_codec("SK_er/SK_ar", *encr, *integ, er.b, ar.b);
    return k;
}

} // namespace ipsec_vector
