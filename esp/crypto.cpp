// Backend selection and the CBC IV generator.
#include "crypto_backends.hpp"
#include "ctr_mb.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace esp {

std::unique_ptr<crypto_ctx> crypto_ctx::create(backend_kind backend, enc_alg enc, std::span<const std::uint8_t> enc_key,
                                               integ_alg integ, std::span<const std::uint8_t> integ_key,
                                               std::string* error) {
    const auto ep = params(enc);
    if (enc_key.size() != ep.key_len) {
        if (error) *error = "bad encryption key length for " + std::string(to_string(enc));
        return nullptr;
    }
    if (ep.aead != (integ == integ_alg::none) || integ_key.size() != params(integ).key_len) {
        if (error) *error = "bad integrity algorithm or key length for " + std::string(to_string(integ));
        return nullptr;
    }
    if (backend == backend_kind::ipsecmb) return detail::make_ipsecmb_ctx(enc, enc_key, integ, integ_key, error);
    return detail::make_openssl_ctx(enc, enc_key, integ, integ_key, error);
}

bool ipsecmb_available() { return detail::ipsecmb_usable(); }
bool ipsecmb_gcm_multibuffer() { return detail::ipsecmb_gcm_mb_active(); }
bool ipsecmb_cbc_multibuffer() { return detail::ipsecmb_cbc_mb_active(); }

void crypto_ctx::complete_deferred() { detail::ipsecmb_complete_deferred(); }

void crypto_ctx::decrypt_many(std::span<crypto_op> ops, std::span<crypto_ctx* const> ctxs) {
    const std::size_t n = std::min(ops.size(), ctxs.size());
    for (std::size_t i = 0; i < n;) {
        std::size_t j = i + 1;
        if (ctxs[i]->backend() == backend_kind::ipsecmb) {
            while (j < n && (ctxs[j] == ctxs[j - 1] || ctxs[j]->backend() == backend_kind::ipsecmb)) ++j;
            detail::ipsecmb_decrypt_many(ops.subspan(i, j - i), ctxs.subspan(i, j - i));
        } else {
            while (j < n && ctxs[j] == ctxs[i]) ++j;
            ctxs[i]->decrypt(ops.subspan(i, j - i));
        }
        i = j;
    }
}

namespace {

// AES-256-CTR keystream as a CSPRNG (NIST SP 800-90A CTR_DRBG without derivation function, in
// spirit): key and initial counter from RAND_bytes, rekeyed well before the counter could wrap.
// CBC IVs must be unpredictable to an attacker (RFC 3602 3), not merely unique. On AVX-512 +
// VAES the keystream comes from ctr_mb, elsewhere from OpenSSL; either way a request takes
// whole blocks and drops what a last partial block leaves over, so both give the same bytes.
class ctr_iv_source final : public iv_source {
public:
    explicit ctr_iv_source(bool vector) : _vector(vector && detail::ctr_mb::cpu_supported()) { rekey(); }
    ctr_iv_source(std::span<const std::uint8_t, 32> key, std::span<const std::uint8_t, 16> counter, bool vector)
        : _vector(vector && detail::ctr_mb::cpu_supported()) {
        set_key(key.data(), counter.data());
    }
    ~ctr_iv_source() override { OPENSSL_cleanse(_ctr.data(), _ctr.size()); }

    void fill(std::span<std::uint8_t> out) override {
        if (_produced > (std::uint64_t(1) << 36)) rekey();  // 64 GiB of IVs per key
        _produced += out.size();
        if (_vector) return detail::ctr_mb::keystream(_key, _ctr.data(), out.data(), out.size());
        std::memset(out.data(), 0, out.size());
        const std::size_t whole = out.size() & ~std::size_t(15), part = out.size() - whole;
        std::array<std::uint8_t, 16> last{};
        int n = 0;
        if (!_ctx || EVP_EncryptUpdate(_ctx.get(), out.data(), &n, out.data(), int(whole)) != 1 ||
            (part != 0 && EVP_EncryptUpdate(_ctx.get(), last.data(), &n, last.data(), 16) != 1)) {
            // Never emit predictable IVs: fall back to the system DRBG directly.
            RAND_bytes(out.data(), int(out.size()));
            return;
        }
        std::memcpy(out.data() + whole, last.data(), part);
        OPENSSL_cleanse(last.data(), last.size());
    }

private:
    struct ctx_free { void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); } };
    void rekey() {
        std::array<std::uint8_t, 48> seed;
        if (RAND_bytes(seed.data(), int(seed.size())) != 1) {
            _ctx.reset();  // every fill then takes RAND_bytes
            _vector = false;
        } else {
            set_key(seed.data(), seed.data() + 32);
        }
        OPENSSL_cleanse(seed.data(), seed.size());
    }
    void set_key(const std::uint8_t* key, const std::uint8_t* counter) {
        _produced = 0;
        if (_vector) {
            _key.expand(key);
            std::memcpy(_ctr.data(), counter, 16);
            return;
        }
        _ctx.reset(EVP_CIPHER_CTX_new());
        if (_ctx && EVP_EncryptInit_ex(_ctx.get(), EVP_aes_256_ctr(), nullptr, key, counter) != 1) _ctx.reset();
    }
    bool _vector;
    detail::ctr_mb::key256 _key;
    std::array<std::uint8_t, 16> _ctr{};
    std::unique_ptr<EVP_CIPHER_CTX, ctx_free> _ctx;
    std::uint64_t _produced = 0;
};

} // namespace

std::shared_ptr<iv_source> make_random_iv_source() { return std::make_shared<ctr_iv_source>(true); }

std::shared_ptr<iv_source> make_ctr_iv_source(std::span<const std::uint8_t, 32> key,
                                              std::span<const std::uint8_t, 16> counter, bool vector) {
    return std::make_shared<ctr_iv_source>(key, counter, vector);
}

} // namespace esp
