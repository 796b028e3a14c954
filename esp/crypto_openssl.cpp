// OpenSSL EVP backend: the portable fallback and the reference the tests compare against.
// Contexts are keyed once at SA creation; per packet only the IV changes (EVP_CipherInit_ex with
// NULL cipher/key) and HMAC restarts from the cached key (EVP_MAC_init with a NULL key).
// Caveat (seen with perf): OpenSSL 3 restarts HMAC by copying its digest contexts
// (EVP_MD_CTX_copy_ex), which allocates inside libcrypto. This backend is therefore not
// allocation-free per packet; the fast path is the ipsecmb backend, which is.
#include "crypto_backends.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <cstring>

namespace esp::detail {
namespace {

struct cipher_ctx_free { void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); } };
struct mac_ctx_free { void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); } };
struct mac_free { void operator()(EVP_MAC* m) const { EVP_MAC_free(m); } };
using cipher_ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, cipher_ctx_free>;
using mac_ctx_ptr = std::unique_ptr<EVP_MAC_CTX, mac_ctx_free>;
using mac_ptr = std::unique_ptr<EVP_MAC, mac_free>;

const EVP_CIPHER* evp_cipher(enc_alg a) {
    switch (a) {
    case enc_alg::aes128_cbc: return EVP_aes_128_cbc();
    case enc_alg::aes192_cbc: return EVP_aes_192_cbc();
    case enc_alg::aes256_cbc: return EVP_aes_256_cbc();
    case enc_alg::aes128gcm16: return EVP_aes_128_gcm();
    case enc_alg::aes256gcm16: return EVP_aes_256_gcm();
    case enc_alg::des3_cbc: return EVP_des_ede3_cbc();
    }
    return nullptr;
}

const char* digest_name(integ_alg a) {
    switch (a) {
    case integ_alg::sha1_96: return "SHA1";
    case integ_alg::sha256_128: return "SHA256";
    case integ_alg::sha384_192: return "SHA384";
    case integ_alg::sha512_256: return "SHA512";
    case integ_alg::none: break;
    }
    return nullptr;
}

class openssl_ctx final : public crypto_ctx {
public:
    bool init(enc_alg enc, std::span<const std::uint8_t> enc_key, integ_alg integ,
              std::span<const std::uint8_t> integ_key, std::string* error) {
        _enc = enc;
        _integ = integ;
        const auto ep = params(enc);
        _aead = ep.aead;
        _icv = icv_len(enc, integ);
        const std::size_t cipher_key_len = ep.key_len - ep.salt_len;
        std::memcpy(_salt.data(), enc_key.data() + cipher_key_len, ep.salt_len);
        _enc_ctx.reset(EVP_CIPHER_CTX_new());
        _dec_ctx.reset(EVP_CIPHER_CTX_new());
        if (!_enc_ctx || !_dec_ctx) return fail(error, "EVP_CIPHER_CTX_new failed");
        const EVP_CIPHER* c = evp_cipher(enc);
        if (EVP_CipherInit_ex(_enc_ctx.get(), c, nullptr, nullptr, nullptr, 1) != 1 ||
            EVP_CipherInit_ex(_dec_ctx.get(), c, nullptr, nullptr, nullptr, 0) != 1)
            return fail(error, "EVP_CipherInit_ex failed");
        if (_aead) {
            if (EVP_CIPHER_CTX_ctrl(_enc_ctx.get(), EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) != 1 ||
                EVP_CIPHER_CTX_ctrl(_dec_ctx.get(), EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) != 1)
                return fail(error, "GCM IV length");
        }
        if (EVP_CipherInit_ex(_enc_ctx.get(), nullptr, nullptr, enc_key.data(), nullptr, 1) != 1 ||
            EVP_CipherInit_ex(_dec_ctx.get(), nullptr, nullptr, enc_key.data(), nullptr, 0) != 1)
            return fail(error, "cipher key setup failed");
        EVP_CIPHER_CTX_set_padding(_enc_ctx.get(), 0);
        EVP_CIPHER_CTX_set_padding(_dec_ctx.get(), 0);
        if (!_aead) {
            mac_ptr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
            if (!mac) return fail(error, "EVP_MAC_fetch(HMAC) failed");
            _mac.reset(EVP_MAC_CTX_new(mac.get()));
            if (!_mac) return fail(error, "EVP_MAC_CTX_new failed");
            char digest[16];
            std::strncpy(digest, digest_name(integ), sizeof digest - 1);
            digest[sizeof digest - 1] = 0;
            OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
            if (EVP_MAC_init(_mac.get(), integ_key.data(), integ_key.size(), p) != 1)
                return fail(error, "HMAC key setup failed");
        }
        return true;
    }

    ~openssl_ctx() override { OPENSSL_cleanse(_salt.data(), _salt.size()); }

    void encrypt(std::span<crypto_op> ops) override {
        for (auto& op : ops) op.ok = _aead ? gcm(op, true) : cbc_encrypt(op);
    }
    void decrypt(std::span<crypto_op> ops) override {
        for (auto& op : ops) op.ok = _aead ? gcm(op, false) : cbc_decrypt(op);
    }
    [[nodiscard]] backend_kind backend() const override { return backend_kind::openssl; }

private:
    static bool fail(std::string* error, const char* what) {
        if (error) *error = what;
        return false;
    }

    bool cipher(EVP_CIPHER_CTX* ctx, const std::uint8_t* iv, std::uint8_t* data, std::uint32_t len) {
        int out = 0;
        if (EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, iv, -1) != 1) return false;
        return EVP_CipherUpdate(ctx, data, &out, data, int(len)) == 1 && std::uint32_t(out) == len;
    }

    bool hmac(const crypto_op& op, std::uint8_t* out) {
        std::size_t n = 0;
        return EVP_MAC_init(_mac.get(), nullptr, 0, nullptr) == 1 &&
               EVP_MAC_update(_mac.get(), op.auth, op.auth_len) == 1 &&
               EVP_MAC_final(_mac.get(), out, &n, 64) == 1 && n >= _icv;
    }

    bool cbc_encrypt(crypto_op& op) {
        std::array<std::uint8_t, 64> full;
        if (!cipher(_enc_ctx.get(), op.iv, op.data, op.len)) return false;
        if (!hmac(op, full.data())) return false;
        std::memcpy(op.tag, full.data(), _icv);
        return true;
    }

    bool cbc_decrypt(crypto_op& op) {
        std::array<std::uint8_t, 64> full;
        if (!hmac(op, full.data())) return false;
        if (CRYPTO_memcmp(full.data(), op.tag, _icv) != 0) return false;
        return cipher(_dec_ctx.get(), op.iv, op.data, op.len);
    }

    bool gcm(crypto_op& op, bool enc) {
        EVP_CIPHER_CTX* ctx = enc ? _enc_ctx.get() : _dec_ctx.get();
        std::array<std::uint8_t, 12> nonce;  // RFC 4106 4: salt || explicit IV
        std::memcpy(nonce.data(), _salt.data(), 4);
        std::memcpy(nonce.data() + 4, op.iv, 8);
        int out = 0;
        if (EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data(), -1) != 1) return false;
        if (EVP_CipherUpdate(ctx, nullptr, &out, op.auth, int(op.auth_len)) != 1) return false;
        if (EVP_CipherUpdate(ctx, op.data, &out, op.data, int(op.len)) != 1) return false;
        if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, op.tag) != 1) return false;
        std::array<std::uint8_t, 16> last;
        if (EVP_CipherFinal_ex(ctx, last.data(), &out) != 1) return false;
        if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, op.tag) != 1) return false;
        return true;
    }

    cipher_ctx_ptr _enc_ctx, _dec_ctx;
    mac_ctx_ptr _mac;
    std::array<std::uint8_t, 4> _salt{};
    std::uint32_t _icv = 0;
    bool _aead = false;
};

} // namespace

std::unique_ptr<crypto_ctx> make_openssl_ctx(enc_alg enc, std::span<const std::uint8_t> enc_key, integ_alg integ,
                                             std::span<const std::uint8_t> integ_key, std::string* error) {
    auto c = std::make_unique<openssl_ctx>();
    if (!c->init(enc, enc_key, integ, integ_key, error)) return nullptr;
    return c;
}

} // namespace esp::detail
