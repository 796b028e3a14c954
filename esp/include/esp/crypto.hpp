#pragma once
// The crypto seam of the ESP engine: one interface, two backends (intel-ipsec-mb multi-buffer,
// OpenSSL EVP). The SA code prepares one crypto_op per packet and makes one virtual call per
// burst; backends never allocate, lock, log or throw per packet. Public so that tests can build
// packets with the same primitives (e.g. bad padding under a valid ICV) and the benchmark can
// measure bare crypto on the same bytes.
#include "esp/algorithms.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace esp {

// One packet's crypto work.
//  CBC + HMAC: encrypt = cipher [data, data+len) in place with iv, then HMAC over
//              [auth, auth+auth_len) (which contains the ciphertext) into tag;
//              decrypt = HMAC over [auth, auth+auth_len), compare with tag (CRYPTO_memcmp, sets
//              ok), and decipher [data, data+len) in place (the caller drops the packet when !ok).
//  GCM:        auth/auth_len is the AAD (SPI || [seq_hi ||] seq_lo, RFC 4106 5); iv points at
//              the 8-byte explicit IV (the backend prepends the salt); encrypt writes the
//              16-byte tag to tag, decrypt checks it (sets ok).
// The tag length is icv_len(enc, integ). Regions may not overlap tag. iv points at the IV where
// it already is (the packet's ESP header, where the SA code put or found it): iv_len bytes, read
// only, valid until the op completes, and outside [data, data+len).
struct crypto_op {
    std::uint8_t* data = nullptr;
    std::uint32_t len = 0;
    const std::uint8_t* auth = nullptr;
    std::uint32_t auth_len = 0;
    std::uint8_t* tag = nullptr;
    const std::uint8_t* iv = nullptr;
    bool ok = false;
};

class crypto_ctx {
public:
    virtual ~crypto_ctx() = default;
    crypto_ctx() = default;
    crypto_ctx(const crypto_ctx&) = delete;
    crypto_ctx& operator=(const crypto_ctx&) = delete;

    // Keys are expanded once here (AES key schedules, HMAC ipad/opad, GCM hash keys) and wiped
    // in the destructor. Returns null and sets *error for a bad algorithm/key combination.
    static std::unique_ptr<crypto_ctx> create(backend_kind backend, enc_alg enc,
                                              std::span<const std::uint8_t> enc_key, integ_alg integ,
                                              std::span<const std::uint8_t> integ_key,
                                              std::string* error);

    // Any number of ops; all of them are complete on return. ok is set by decrypt (and set to
    // true by encrypt unless the backend failed).
    virtual void encrypt(std::span<crypto_op> ops) = 0;
    virtual void decrypt(std::span<crypto_op> ops) = 0;

    // Encrypt across SAs (esp::encap_batch): ops of several contexts are queued on this
    // thread, then complete_deferred() finishes them all, so a multi-buffer backend fills its
    // lanes with packets of different SAs. Until then the ops, their buffers and their tags
    // must stay put, and the op's iv may be overwritten. A backend without queues (OpenSSL)
    // completes the ops at once; a queued op may also complete before complete_deferred() (a
    // full queue, or one of other algorithms, is run first). Other calls on this thread leave
    // the queue alone.
    virtual void encrypt_deferred(std::span<crypto_op> ops) { encrypt(ops); }
    static void complete_deferred();
    // Decrypt ops of several contexts in one call (esp::decap_batch): ops[i] belongs to
    // ctxs[i]. The multi-buffer backend runs the CBC+HMAC ops of all its contexts in one pass
    // over its lanes; other runs of one context are one decrypt() each. All complete on return.
    static void decrypt_many(std::span<crypto_op> ops, std::span<crypto_ctx* const> ctxs);
    [[nodiscard]] virtual backend_kind backend() const = 0;
    [[nodiscard]] enc_alg enc() const { return _enc; }
    [[nodiscard]] integ_alg integ() const { return _integ; }

protected:
    enc_alg _enc = enc_alg::aes256_cbc;
    integ_alg _integ = integ_alg::none;
};

// Source of CBC IVs, asked once per burst for n * iv_len bytes (n: the burst's packets, before
// any is dropped; a dropped packet's IV is never used).
class iv_source {
public:
    virtual ~iv_source() = default;
    virtual void fill(std::span<std::uint8_t> out) = 0;
};

// Fast CSPRNG: AES-256-CTR keystream, key and counter from RAND_bytes, rekeyed every 2^32 blocks.
// The keystream comes from AVX-512 + VAES code where the CPU has it, from OpenSSL otherwise. A
// fill() takes whole 16-byte blocks of it and drops what a last partial block leaves over.
std::shared_ptr<iv_source> make_random_iv_source();
// The same generator from a given key and initial counter (its first 64 GiB; then it rekeys at
// random), for tests against OpenSSL's AES-256-CTR. vector = false keeps it on OpenSSL where the
// AVX-512 code could run.
std::shared_ptr<iv_source> make_ctr_iv_source(std::span<const std::uint8_t, 32> key,
                                              std::span<const std::uint8_t, 16> counter, bool vector = true);

// Whether this CPU/library combination can run the intel-ipsec-mb backend (SSE4.2+AES-NI at
// least); when false, create(backend_kind::ipsecmb, ...) fails with a message.
[[nodiscard]] bool ipsecmb_available();

// Whether the intel-ipsec-mb backend runs short AES-GCM messages (up to 160 bytes) on its own
// multi-buffer code on this thread: AVX-512 with VAES and VPCLMULQDQ, and the library's AVX-512
// code path (not pinned to another by ESP_IPSECMB_ARCH). Otherwise the library's one-buffer
// AES-GCM runs them; the results are the same.
[[nodiscard]] bool ipsecmb_gcm_multibuffer();

// Whether the intel-ipsec-mb backend runs short AES-CBC + HMAC-SHA-256-128 ops (up to 280 bytes
// of HMAC input) on its own multi-buffer code on this thread: AVX-512 with VAES and the library's
// AVX-512 code path, as for GCM. Otherwise the library runs them; the results are the same.
[[nodiscard]] bool ipsecmb_cbc_multibuffer();

} // namespace esp
