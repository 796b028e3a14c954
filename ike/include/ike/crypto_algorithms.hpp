#pragma once
// IKEv2 transform IDs we implement (IANA "IKEv2 Transform Type 1..4" registries, RFC 7296 3.3.2)
// and their sizes. Enum values are the wire values, so the codec converts with a static_cast
// after checking with the *_known() helpers.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace ike::crypto {

// Transform Type 2.
enum class prf_id : std::uint16_t {
    hmac_md5 = 1,      // legacy (RFC 8247: MUST NOT), accepted for old peers
    hmac_sha1 = 2,
    hmac_sha2_256 = 5, // RFC 4868
    hmac_sha2_384 = 6,
    hmac_sha2_512 = 7,
};

// Transform Type 1. NULL is for ESP only (never for the SK payload).
enum class encr_id : std::uint16_t {
    des3 = 3,    // legacy
    null = 11,       // ESP only
    aes_cbc = 12,    // RFC 3602, Key Length attribute 128/192/256
    aes_gcm_8 = 18,  // RFC 4106 (ESP) / RFC 5282 (IKE)
    aes_gcm_12 = 19,
    aes_gcm_16 = 20,
};

// Transform Type 3.
enum class integ_id : std::uint16_t {
    none = 0,               // with AEAD ciphers
    hmac_md5_96 = 1,        // legacy
    hmac_sha1_96 = 2,
    hmac_sha1_160 = 7,      // RFC 4595 (seen with some peers; ipsec-vector "sha1-160")
    hmac_sha2_256_128 = 12, // RFC 4868
    hmac_sha2_384_192 = 13,
    hmac_sha2_512_256 = 14,
};

// An encryption transform with its Key Length attribute (bits; 0 where the cipher has none).
struct encr_spec {
    encr_id id = encr_id::aes_cbc;
    std::uint16_t key_bits = 0;
    friend bool operator==(const encr_spec&, const encr_spec&) = default;
};

bool prf_known(std::uint16_t wire_id);
bool encr_known(std::uint16_t wire_id);
bool integ_known(std::uint16_t wire_id);

// PRF output size; also the "preferred key length" used for SK_d, SK_pi, SK_pr (RFC 7296 2.14).
std::size_t prf_output_size(prf_id id);
// OpenSSL digest name behind an HMAC PRF or integrity transform ("SHA256", ...); nullptr for none.
const char* prf_digest_name(prf_id id);
const char* integ_digest_name(integ_id id);
// Integrity key size (the digest's output size, RFC 2104 keys as used by IKE) and ICV size.
std::size_t integ_key_size(integ_id id);
std::size_t integ_icv_size(integ_id id);

bool encr_is_aead(encr_id id);
// Key material to take from prf+ for this cipher: AES key (+ 4-byte salt for GCM, RFC 4106/5282),
// 24 for 3DES, 0 for NULL. nullopt when the key length attribute is not valid for the cipher.
std::optional<std::size_t> encr_keymat_size(const encr_spec& e);
// AEAD ICV size (8/12/16 for GCM), 0 otherwise.
std::size_t encr_icv_size(encr_id id);

// strongSwan-style names for diagnostics: "prfsha256", "aes256", "aes256gcm16", "3des",
// "sha256", "sha1_160".
std::string to_string(prf_id id);
std::string to_string(const encr_spec& e);
std::string to_string(integ_id id);

} // namespace ike::crypto
