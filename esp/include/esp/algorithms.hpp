#pragma once
// ESP algorithms, their wire parameters, and the one mapping from strongSwan-style names to
// enums (used by ipsec-vector, IKE proposals and control alike).
#include <cstdint>
#include <optional>
#include <string_view>

namespace esp {

enum class enc_alg : std::uint8_t {
    aes128_cbc,   // RFC 3602
    aes192_cbc,
    aes256_cbc,
    aes128gcm16,  // RFC 4106, 16-byte ICV; key = 16 bytes + 4-byte salt
    aes256gcm16,  //                         key = 32 bytes + 4-byte salt
    des3_cbc,     // RFC 2451 (legacy)
};

enum class integ_alg : std::uint8_t {
    none,        // only with an AEAD cipher (GCM)
    sha1_96,     // RFC 2404
    sha256_128,  // RFC 4868
    sha384_192,  // RFC 4868
    sha512_256,  // RFC 4868
};

enum class backend_kind : std::uint8_t {
    ipsecmb,  // intel-ipsec-mb multi-buffer job API (default, fast path)
    openssl,  // OpenSSL EVP (portable fallback, reference)
};

struct enc_params {
    std::uint8_t key_len;     // bytes the SA key must have, including the salt for GCM
    std::uint8_t salt_len;    // GCM: 4 (last bytes of the key, RFC 4106 8.1), else 0
    std::uint8_t iv_len;      // bytes of IV carried in each packet
    std::uint8_t block_size;  // padding alignment of the ciphertext (GCM: 4, RFC 4303 2.4)
    std::uint8_t icv_len;     // AEAD tag length (GCM: 16), 0 for non-AEAD
    bool aead;
};

struct integ_params {
    std::uint8_t key_len;  // RFC 4868 2.1.1: key length = hash output length; SHA1: 20
    std::uint8_t icv_len;  // truncated ICV length carried in the packet
};

[[nodiscard]] constexpr enc_params params(enc_alg a) {
    switch (a) {
    case enc_alg::aes128_cbc: return {16, 0, 16, 16, 0, false};
    case enc_alg::aes192_cbc: return {24, 0, 16, 16, 0, false};
    case enc_alg::aes256_cbc: return {32, 0, 16, 16, 0, false};
    case enc_alg::aes128gcm16: return {20, 4, 8, 4, 16, true};
    case enc_alg::aes256gcm16: return {36, 4, 8, 4, 16, true};
    case enc_alg::des3_cbc: return {24, 0, 8, 8, 0, false};
    }
    return {0, 0, 0, 0, 0, false};
}

[[nodiscard]] constexpr integ_params params(integ_alg a) {
    switch (a) {
    case integ_alg::none: return {0, 0};
    case integ_alg::sha1_96: return {20, 12};
    case integ_alg::sha256_128: return {32, 16};
    case integ_alg::sha384_192: return {48, 24};
    case integ_alg::sha512_256: return {64, 32};
    }
    return {0, 0};
}

// Canonical names: aes128-cbc aes192-cbc aes256-cbc aes128gcm16 aes256gcm16 3des-cbc;
// sha1-96 sha256-128 sha384-192 sha512-256 none; ipsecmb openssl.
[[nodiscard]] std::string_view to_string(enc_alg a);
[[nodiscard]] std::string_view to_string(integ_alg a);
[[nodiscard]] std::string_view to_string(backend_kind b);

// Parsing accepts the canonical names and strongSwan's proposal keywords, case-insensitive:
// enc: aes128/aes192/aes256 (= CBC), aes128-cbc.., aes128gcm16/aes128gcm128, aes256gcm16/
// aes256gcm128, 3des/3des-cbc/des3-cbc; integ: sha1/sha1-96/sha1_96, sha256/sha2_256/
// sha256-128, sha384/sha2_384/sha384-192, sha512/sha2_512/sha512-256, none.
[[nodiscard]] std::optional<enc_alg> parse_enc(std::string_view s);
[[nodiscard]] std::optional<integ_alg> parse_integ(std::string_view s);
[[nodiscard]] std::optional<backend_kind> parse_backend(std::string_view s);

// Total ICV bytes on the wire for a pair (AEAD tag or truncated HMAC).
[[nodiscard]] constexpr std::uint8_t icv_len(enc_alg e, integ_alg i) {
    return params(e).aead ? params(e).icv_len : params(i).icv_len;
}

} // namespace esp
