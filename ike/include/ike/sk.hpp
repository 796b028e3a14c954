#pragma once
// The Encrypted payload's protection (RFC 7296 3.14; AES-GCM per RFC 5282), one object per
// direction of an IKE SA (keys SK_ei/SK_ai to send as initiator, SK_er/SK_ar to receive, ...).
//
//   aad    = the message from the first byte of the IKE header through the SK (or SKF) generic
//            header, with every length already final (see sealed_size);
//   sealed = IV || ciphertext(inner payloads | Padding | Pad Length) || ICV.
// Classic ciphers: ICV = truncated HMAC over aad | IV | ciphertext (encrypt-then-MAC), IV random.
// AES-GCM: AAD = aad, nonce = salt (last 4 bytes of the key material) | 8-byte explicit IV,
//          IV from a per-object counter (unique per key, RFC 5282 3.1), ICV = tag of 8/12/16.
// open() verifies the ICV (CRYPTO_memcmp) before it decrypts anything and checks Pad Length.
#include "ike/crypto_algorithms.hpp"
#include "ike/crypto_error.hpp"
#include "ike/crypto_handles.hpp"
#include "ike/crypto_random.hpp"

#include <base/secret_bytes.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace ike::crypto {

class sk_cipher {
public:
    using bytes = std::span<const std::uint8_t>;

    // encr_key: SK_e (with the salt for GCM), integ_key: SK_a (empty for GCM). CBC IVs are drawn
    // from rng, which must outlive the object. Errors: unsupported_algorithm, invalid_key_length.
    static result<sk_cipher> create(const encr_spec& encr, integ_id integ, bytes encr_key, bytes integ_key,
                                    random_source& rng = system_random());

    [[nodiscard]] std::size_t iv_size() const { return _iv_size; }
    [[nodiscard]] std::size_t icv_size() const { return _icv_size; }
    // Alignment of inner payloads | Padding | Pad Length (1 for GCM: no padding needed).
    [[nodiscard]] std::size_t block_size() const { return _block_size; }
    // Exact size of IV || ciphertext || ICV for a plaintext of n bytes (minimal padding).
    [[nodiscard]] std::size_t sealed_size(std::size_t plaintext_size) const;
    // Smallest sealed size open() can accept (an empty plaintext).
    [[nodiscard]] std::size_t min_sealed_size() const { return sealed_size(0); }

    // Encrypt and protect; out must be exactly sealed_size(plaintext.size()) bytes.
    std::error_code seal(bytes aad, bytes plaintext, std::span<std::uint8_t> out);
    result<std::vector<std::uint8_t>> seal(bytes aad, bytes plaintext);
    // As seal() with a caller-chosen IV (known-answer tests; never reuse an IV with a GCM key).
    std::error_code seal_with_iv(bytes aad, bytes plaintext, bytes iv, std::span<std::uint8_t> out) const;

    // Verify and decrypt; the inner payload bytes without Padding and Pad Length.
    // message_too_short, bad_ciphertext_length, integrity_check_failed, bad_padding.
    [[nodiscard]] result<std::vector<std::uint8_t>> open(bytes aad, bytes sealed) const;

private:
    sk_cipher() = default;
    std::error_code seal_cbc(bytes aad, bytes plaintext, bytes iv, std::span<std::uint8_t> out) const;
    std::error_code seal_gcm(bytes aad, bytes plaintext, bytes iv, std::span<std::uint8_t> out) const;
    std::error_code icv(bytes aad, bytes iv, bytes ciphertext, std::span<std::uint8_t> out) const;

    encr_spec _encr{};
    integ_id _integ = integ_id::none;
    bool _aead = false;
    evp_cipher_ptr _cipher;
    base::secret_bytes _key;   // cipher key (without salt)
    base::secret_bytes _salt;  // GCM only
    base::secret_bytes _integ_key;
    random_source* _rng = nullptr;
    std::uint64_t _next_iv = 1; // GCM explicit IV counter
    std::size_t _iv_size = 0, _icv_size = 0, _block_size = 1;
};

} // namespace ike::crypto
