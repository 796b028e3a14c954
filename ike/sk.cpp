// Encrypted payload protection (RFC 7296 3.14, RFC 5282) through OpenSSL 3 EVP_CIPHER/EVP_MAC.
//
// seal: 1. IV (random for CBC, counter for GCM)  2. inner | zero padding | Pad Length
//       3. encrypt  4. ICV (HMAC over aad | IV | ct, truncated; or the GCM tag over aad).
// open: 1. split IV | ct | ICV with the bounds-checked reader, check sizes  2. verify the ICV
//       (CRYPTO_memcmp / GCM tag) before releasing any plaintext  3. decrypt  4. Pad Length.
#include "ike/sk.hpp"

#include "crypto_internal.hpp"

#include <base/reader.hpp>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include <algorithm>
#include <array>
#include <climits>

namespace ike::crypto {
namespace {

constexpr std::size_t gcm_salt_size = 4;
constexpr std::size_t gcm_iv_size = 8;

const char* cipher_name(const encr_spec& e) {
    switch (e.id) {
    case encr_id::des3: return "DES-EDE3-CBC";
    case encr_id::aes_cbc:
        return e.key_bits == 128 ? "AES-128-CBC" : e.key_bits == 192 ? "AES-192-CBC" : "AES-256-CBC";
    case encr_id::aes_gcm_8: case encr_id::aes_gcm_12: case encr_id::aes_gcm_16:
        return e.key_bits == 128 ? "AES-128-GCM" : e.key_bits == 192 ? "AES-192-GCM" : "AES-256-GCM";
    default: return nullptr;
    }
}

bool fits_int(std::size_t n) { return n <= static_cast<std::size_t>(INT_MAX); }

// inner payloads | Padding (zeros) | Pad Length, padded to the block size (RFC 7296 3.14).
base::secret_bytes padded_plaintext(std::span<const std::uint8_t> plaintext, std::size_t padded) {
    base::secret_bytes buf(padded);
    std::copy(plaintext.begin(), plaintext.end(), buf.mut().begin());
    buf.mut()[padded - 1] = static_cast<std::uint8_t>(padded - plaintext.size() - 1);
    return buf;
}

} // namespace

result<sk_cipher> sk_cipher::create(const encr_spec& encr, integ_id integ, bytes encr_key, bytes integ_key,
                                    random_source& rng) {
    auto keymat = encr_keymat_size(encr);
    const char* name = cipher_name(encr);
    if (!keymat || name == nullptr) return crypto_errc::unsupported_algorithm;
    const bool aead = encr_is_aead(encr.id);
    if (aead != (integ == integ_id::none) || !integ_known(static_cast<std::uint16_t>(integ)))
        return crypto_errc::unsupported_algorithm;
    if (encr_key.size() != *keymat || integ_key.size() != integ_key_size(integ)) return crypto_errc::invalid_key_length;

    sk_cipher c;
    c._cipher.reset(EVP_CIPHER_fetch(nullptr, name, nullptr));
    if (!c._cipher) return last_openssl_error();
    c._encr = encr;
    c._integ = integ;
    c._aead = aead;
    c._rng = &rng;
    if (aead) {
        c._key = base::secret_bytes(encr_key.first(encr_key.size() - gcm_salt_size));
        c._salt = base::secret_bytes(encr_key.last(gcm_salt_size));
        c._iv_size = gcm_iv_size;
        c._icv_size = encr_icv_size(encr.id);
        c._block_size = 1;
    } else {
        c._key = base::secret_bytes(encr_key);
        c._integ_key = base::secret_bytes(integ_key);
        c._block_size = static_cast<std::size_t>(EVP_CIPHER_get_block_size(c._cipher.get()));
        c._iv_size = c._block_size; // CBC: IV of one block (RFC 3602 / RFC 2451)
        c._icv_size = integ_icv_size(integ);
    }
    if (static_cast<std::size_t>(EVP_CIPHER_get_key_length(c._cipher.get())) != c._key.size())
        return crypto_errc::invalid_key_length;
    return c;
}

std::size_t sk_cipher::sealed_size(std::size_t n) const {
    const std::size_t padded = (n + 1 + _block_size - 1) / _block_size * _block_size;
    return _iv_size + padded + _icv_size;
}

std::error_code sk_cipher::seal(bytes aad, bytes plaintext, std::span<std::uint8_t> out) {
    std::array<std::uint8_t, 16> iv{};
    if (_aead) {
        if (_next_iv == 0) return crypto_errc::invalid_argument; // counter exhausted: rekey long before
        for (std::size_t b = 0; b < gcm_iv_size; ++b)
            iv[b] = static_cast<std::uint8_t>(_next_iv >> (56 - 8 * b));
        ++_next_iv;
    } else if (auto ec = _rng->fill(std::span(iv).first(_iv_size))) {
        return ec;
    }
    return seal_with_iv(aad, plaintext, bytes(iv).first(_iv_size), out);
}

result<std::vector<std::uint8_t>> sk_cipher::seal(bytes aad, bytes plaintext) {
    std::vector<std::uint8_t> out(sealed_size(plaintext.size()));
    if (auto ec = seal(aad, plaintext, out)) return ec;
    return out;
}

std::error_code sk_cipher::seal_with_iv(bytes aad, bytes plaintext, bytes iv, std::span<std::uint8_t> out) const {
    if (iv.size() != _iv_size || out.size() != sealed_size(plaintext.size())) return crypto_errc::invalid_argument;
    if (!fits_int(out.size()) || !fits_int(aad.size())) return crypto_errc::invalid_argument;
    return _aead ? seal_gcm(aad, plaintext, iv, out) : seal_cbc(aad, plaintext, iv, out);
}

std::error_code sk_cipher::icv(bytes aad, bytes iv, bytes ct, std::span<std::uint8_t> out) const {
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> full{};
    const std::size_t md = integ_key_size(_integ); // HMAC output = key size for these transforms
    if (auto ec = detail::hmac(integ_digest_name(_integ), _integ_key.view(), {aad, iv, ct},
                               std::span(full).first(md)))
        return ec;
    std::copy_n(full.begin(), out.size(), out.begin());
    return {};
}

std::error_code sk_cipher::seal_cbc(bytes aad, bytes plaintext, bytes iv, std::span<std::uint8_t> out) const {
    const std::size_t ct_len = out.size() - _iv_size - _icv_size;
    base::secret_bytes buf = padded_plaintext(plaintext, ct_len);
    std::copy(iv.begin(), iv.end(), out.begin());
    auto ct = out.subspan(_iv_size, ct_len);
    evp_cipher_ctx_ptr ctx(EVP_CIPHER_CTX_new());
    int len = 0, fin = 0;
    if (!ctx || EVP_EncryptInit_ex2(ctx.get(), _cipher.get(), _key.data(), iv.data(), nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1 ||
        EVP_EncryptUpdate(ctx.get(), ct.data(), &len, buf.data(), static_cast<int>(buf.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), ct.data() + len, &fin) != 1)
        return last_openssl_error();
    if (static_cast<std::size_t>(len + fin) != ct_len) return crypto_errc::invalid_argument;
    return icv(aad, iv, ct, out.last(_icv_size));
}

std::error_code sk_cipher::seal_gcm(bytes aad, bytes plaintext, bytes iv, std::span<std::uint8_t> out) const {
    const std::size_t ct_len = out.size() - _iv_size - _icv_size;
    base::secret_bytes buf = padded_plaintext(plaintext, ct_len);
    std::array<std::uint8_t, gcm_salt_size + gcm_iv_size> nonce{};
    std::copy(_salt.view().begin(), _salt.view().end(), nonce.begin());
    std::copy(iv.begin(), iv.end(), nonce.begin() + gcm_salt_size);
    std::copy(iv.begin(), iv.end(), out.begin());
    auto ct = out.subspan(_iv_size, ct_len);
    evp_cipher_ctx_ptr ctx(EVP_CIPHER_CTX_new());
    int len = 0, fin = 0, alen = 0;
    if (!ctx || EVP_EncryptInit_ex2(ctx.get(), _cipher.get(), _key.data(), nonce.data(), nullptr) != 1 ||
        (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &alen, aad.data(), static_cast<int>(aad.size())) != 1) ||
        EVP_EncryptUpdate(ctx.get(), ct.data(), &len, buf.data(), static_cast<int>(buf.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), ct.data() + len, &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(_icv_size),
                            out.last(_icv_size).data()) != 1)
        return last_openssl_error();
    if (static_cast<std::size_t>(len + fin) != ct_len) return crypto_errc::invalid_argument;
    return {};
}

result<std::vector<std::uint8_t>> sk_cipher::open(bytes aad, bytes sealed) const {
    if (sealed.size() < min_sealed_size()) return crypto_errc::message_too_short;
    if (!fits_int(sealed.size()) || !fits_int(aad.size())) return crypto_errc::message_too_short;
    base::reader r(sealed);
    const bytes iv = r.bytes(_iv_size);
    const bytes tag = r.bytes_from_end(_icv_size);
    const bytes ct = r.rest();
    if (!r.ok() || ct.empty()) return crypto_errc::message_too_short;
    if (ct.size() % _block_size != 0) return crypto_errc::bad_ciphertext_length;

    base::secret_bytes pt(ct.size());
    evp_cipher_ctx_ptr ctx(EVP_CIPHER_CTX_new());
    if (!ctx) return last_openssl_error();
    int len = 0, fin = 0;
    if (_aead) {
        std::array<std::uint8_t, gcm_salt_size + gcm_iv_size> nonce{};
        std::copy(_salt.view().begin(), _salt.view().end(), nonce.begin());
        std::copy(iv.begin(), iv.end(), nonce.begin() + gcm_salt_size);
        int alen = 0;
        std::array<std::uint8_t, 16> expected{};
        std::copy(tag.begin(), tag.end(), expected.begin());
        if (EVP_DecryptInit_ex2(ctx.get(), _cipher.get(), _key.data(), nonce.data(), nullptr) != 1 ||
            (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &alen, aad.data(), static_cast<int>(aad.size())) != 1) ||
            EVP_DecryptUpdate(ctx.get(), pt.data(), &len, ct.data(), static_cast<int>(ct.size())) != 1 ||
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(_icv_size), expected.data()) != 1)
            return last_openssl_error();
        // The tag is checked here; pt is wiped (secret_bytes) and never returned on failure.
        if (EVP_DecryptFinal_ex(ctx.get(), pt.data() + len, &fin) != 1) {
            ERR_clear_error();
            return crypto_errc::integrity_check_failed;
        }
    } else {
        std::array<std::uint8_t, EVP_MAX_MD_SIZE> computed{};
        if (auto ec = icv(aad, iv, ct, std::span(computed).first(_icv_size))) return ec;
        if (CRYPTO_memcmp(computed.data(), tag.data(), _icv_size) != 0) return crypto_errc::integrity_check_failed;
        if (EVP_DecryptInit_ex2(ctx.get(), _cipher.get(), _key.data(), iv.data(), nullptr) != 1 ||
            EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1 ||
            EVP_DecryptUpdate(ctx.get(), pt.data(), &len, ct.data(), static_cast<int>(ct.size())) != 1 ||
            EVP_DecryptFinal_ex(ctx.get(), pt.data() + len, &fin) != 1)
            return last_openssl_error();
    }
    if (static_cast<std::size_t>(len + fin) != ct.size()) return crypto_errc::bad_ciphertext_length;
    const std::size_t pad_length = pt.view().back();
    if (pad_length + 1 > pt.size()) return crypto_errc::bad_padding;
    auto inner = pt.view().first(pt.size() - pad_length - 1);
    return std::vector<std::uint8_t>(inner.begin(), inner.end());
}

} // namespace ike::crypto
