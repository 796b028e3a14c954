// Sizes and names of the IKEv2 transforms we implement (RFC 7296 3.3.2, RFC 4868, RFC 5282).
#include "ike/crypto_algorithms.hpp"

#include <fmt/format.h>

namespace ike::crypto {

bool prf_known(std::uint16_t v) {
    switch (static_cast<prf_id>(v)) {
    case prf_id::hmac_md5: case prf_id::hmac_sha1: case prf_id::hmac_sha2_256:
    case prf_id::hmac_sha2_384: case prf_id::hmac_sha2_512:
        return true;
    }
    return false;
}

bool encr_known(std::uint16_t v) {
    switch (static_cast<encr_id>(v)) {
    case encr_id::des3: case encr_id::null: case encr_id::aes_cbc:
    case encr_id::aes_gcm_8: case encr_id::aes_gcm_12: case encr_id::aes_gcm_16:
        return true;
    }
    return false;
}

bool integ_known(std::uint16_t v) {
    switch (static_cast<integ_id>(v)) {
    case integ_id::none: case integ_id::hmac_md5_96: case integ_id::hmac_sha1_96:
    case integ_id::hmac_sha1_160: case integ_id::hmac_sha2_256_128:
    case integ_id::hmac_sha2_384_192: case integ_id::hmac_sha2_512_256:
        return true;
    }
    return false;
}

std::size_t prf_output_size(prf_id id) {
    switch (id) {
    case prf_id::hmac_md5: return 16;
    case prf_id::hmac_sha1: return 20;
    case prf_id::hmac_sha2_256: return 32;
    case prf_id::hmac_sha2_384: return 48;
    case prf_id::hmac_sha2_512: return 64;
    }
    return 0;
}

const char* prf_digest_name(prf_id id) {
    switch (id) {
    case prf_id::hmac_md5: return "MD5";
    case prf_id::hmac_sha1: return "SHA1";
    case prf_id::hmac_sha2_256: return "SHA256";
    case prf_id::hmac_sha2_384: return "SHA384";
    case prf_id::hmac_sha2_512: return "SHA512";
    }
    return nullptr;
}

const char* integ_digest_name(integ_id id) {
    switch (id) {
    case integ_id::none: return nullptr;
    case integ_id::hmac_md5_96: return "MD5";
    case integ_id::hmac_sha1_96: case integ_id::hmac_sha1_160: return "SHA1";
    case integ_id::hmac_sha2_256_128: return "SHA256";
    case integ_id::hmac_sha2_384_192: return "SHA384";
    case integ_id::hmac_sha2_512_256: return "SHA512";
    }
    return nullptr;
}

std::size_t integ_key_size(integ_id id) {
    switch (id) {
    case integ_id::none: return 0;
    case integ_id::hmac_md5_96: return 16;
    case integ_id::hmac_sha1_96: case integ_id::hmac_sha1_160: return 20;
    case integ_id::hmac_sha2_256_128: return 32;
    case integ_id::hmac_sha2_384_192: return 48;
    case integ_id::hmac_sha2_512_256: return 64;
    }
    return 0;
}

std::size_t integ_icv_size(integ_id id) {
    switch (id) {
    case integ_id::none: return 0;
    case integ_id::hmac_md5_96: case integ_id::hmac_sha1_96: return 12;
    case integ_id::hmac_sha1_160: return 20;
    case integ_id::hmac_sha2_256_128: return 16;
    case integ_id::hmac_sha2_384_192: return 24;
    case integ_id::hmac_sha2_512_256: return 32;
    }
    return 0;
}

bool encr_is_aead(encr_id id) {
    return id == encr_id::aes_gcm_8 || id == encr_id::aes_gcm_12 || id == encr_id::aes_gcm_16;
}

std::optional<std::size_t> encr_keymat_size(const encr_spec& e) {
    const bool aes_bits = e.key_bits == 128 || e.key_bits == 192 || e.key_bits == 256;
    switch (e.id) {
    case encr_id::des3: return e.key_bits == 0 || e.key_bits == 192 ? std::optional<std::size_t>(24) : std::nullopt;
    case encr_id::null: return e.key_bits == 0 ? std::optional<std::size_t>(0) : std::nullopt;
    case encr_id::aes_cbc:
        if (!aes_bits) return std::nullopt;
        return e.key_bits / 8u;
    case encr_id::aes_gcm_8: case encr_id::aes_gcm_12: case encr_id::aes_gcm_16:
        if (!aes_bits) return std::nullopt;
        return e.key_bits / 8u + 4u; // salt, RFC 4106 8.1 / RFC 5282 7.1
    }
    return std::nullopt;
}

std::size_t encr_icv_size(encr_id id) {
    switch (id) {
    case encr_id::aes_gcm_8: return 8;
    case encr_id::aes_gcm_12: return 12;
    case encr_id::aes_gcm_16: return 16;
    default: return 0;
    }
}

std::string to_string(prf_id id) {
    switch (id) {
    case prf_id::hmac_md5: return "prfmd5";
    case prf_id::hmac_sha1: return "prfsha1";
    case prf_id::hmac_sha2_256: return "prfsha256";
    case prf_id::hmac_sha2_384: return "prfsha384";
    case prf_id::hmac_sha2_512: return "prfsha512";
    }
    return fmt::format("prf{}", static_cast<unsigned>(id));
}

std::string to_string(const encr_spec& e) {
    switch (e.id) {
    case encr_id::des3: return "3des";
    case encr_id::null: return "null";
    case encr_id::aes_cbc: return fmt::format("aes{}", e.key_bits);
    case encr_id::aes_gcm_8: return fmt::format("aes{}gcm8", e.key_bits);
    case encr_id::aes_gcm_12: return fmt::format("aes{}gcm12", e.key_bits);
    case encr_id::aes_gcm_16: return fmt::format("aes{}gcm16", e.key_bits);
    }
    return fmt::format("encr{}", static_cast<unsigned>(e.id));
}

std::string to_string(integ_id id) {
    switch (id) {
    case integ_id::none: return "none";
    case integ_id::hmac_md5_96: return "md5";
    case integ_id::hmac_sha1_96: return "sha1";
    case integ_id::hmac_sha1_160: return "sha1_160";
    case integ_id::hmac_sha2_256_128: return "sha256";
    case integ_id::hmac_sha2_384_192: return "sha384";
    case integ_id::hmac_sha2_512_256: return "sha512";
    }
    return fmt::format("integ{}", static_cast<unsigned>(id));
}

} // namespace ike::crypto
