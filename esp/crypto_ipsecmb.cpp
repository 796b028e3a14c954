// intel-ipsec-mb backend (the fast path): one multi-buffer manager per thread; each CBC/3DES
// burst goes to it as one burst of jobs (IMB_SUBMIT_BURST; CIPHER_HASH for encrypt+HMAC,
// HASH_CIPHER for verify+decrypt) so that the library interleaves up to 4/8/16 packets per SIMD
// lane set, then flushed so no job outlives the call (encrypt_deferred leaves them queued until
// complete_deferred; decrypt_many puts several contexts' ops in one burst). GCM, which the
// library runs one buffer at a time, goes straight to its AES-GCM functions (gcm_direct). Key
// schedules, HMAC ipad/opad states and GCM hash keys are computed once per SA and wiped in the
// destructor. init_mb_mgr_auto picks SSE/AVX/AVX2/AVX512 for the running CPU.
#include "crypto_backends.hpp"

#include <base/uninit_array.hpp>

#include <intel-ipsec-mb.h>
#include <openssl/crypto.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace esp::detail {
namespace {

// Two managers per thread at most. `main` runs the best code path for the CPU. `sha_ni` is
// an SSE manager kept for HMAC-SHA1/SHA-256 on CPUs with the SHA extensions but without
// AVX-512: the library uses SHA-NI only in its SSE code (intel-ipsec-mb.h: "currently SHANI is
// only available for SSE"), and on such CPUs (e.g. AMD EPYC) that beats the AVX2 multi-buffer
// SHA by 1.2-1.7x for CBC+HMAC (bench_dataplane_crypto, ESP_IPSECMB_ARCH=sse vs avx2).
enum class lane : std::uint8_t { main = 0, sha_ni = 1 };

struct mgr_holder {
    IMB_MGR* mgr = nullptr;
    IMB_ARCH arch = IMB_ARCH_NONE;
    explicit mgr_holder(lane l) {
        mgr = alloc_mb_mgr(0);
        if (!mgr) return;
        // ESP_IPSECMB_ARCH=sse|avx|avx2|avx512 pins the code path (tests run the SSE path on AVX
        // machines) and leaves out the sha_ni lane; unset = the best the CPU supports.
        const char* want = std::getenv("ESP_IPSECMB_ARCH");
        const std::string_view w = want ? want : "";
        if (l == lane::sha_ni) {
            if (w.empty() && (mgr->features & IMB_CPUFLAGS_SSE_T2) == IMB_CPUFLAGS_SSE_T2 &&
                (mgr->features & IMB_CPUFLAGS_AVX512) != IMB_CPUFLAGS_AVX512) {
                init_mb_mgr_sse(mgr);
                arch = IMB_ARCH_SSE;
            }
            if (arch == IMB_ARCH_NONE || imb_get_errno(mgr) != 0) {
                free_mb_mgr(mgr);
                mgr = nullptr;
            }
            return;
        }
        // A pinned path the CPU lacks is refused here (the library would run illegal instructions).
        const auto has = [&](std::uint64_t flags) { return (mgr->features & flags) == flags; };
        if (w == "sse") { if (has(IMB_CPUFLAGS_SSE)) { init_mb_mgr_sse(mgr); arch = IMB_ARCH_SSE; } }
        else if (w == "avx") { if (has(IMB_CPUFLAGS_AVX)) { init_mb_mgr_avx(mgr); arch = IMB_ARCH_AVX; } }
        else if (w == "avx2") { if (has(IMB_CPUFLAGS_AVX2)) { init_mb_mgr_avx2(mgr); arch = IMB_ARCH_AVX2; } }
        else if (w == "avx512") { if (has(IMB_CPUFLAGS_AVX512)) { init_mb_mgr_avx512(mgr); arch = IMB_ARCH_AVX512; } }
        else init_mb_mgr_auto(mgr, &arch);
        if (arch == IMB_ARCH_NONE || imb_get_errno(mgr) != 0) {
            free_mb_mgr(mgr);
            mgr = nullptr;
        }
    }
    ~mgr_holder() {
        if (mgr) free_mb_mgr(mgr);
    }
    mgr_holder(const mgr_holder&) = delete;
    mgr_holder& operator=(const mgr_holder&) = delete;
};

// Managers are per thread, allocated on first use (SA creation on the control thread, first
// burst on a worker), so the steady state never allocates. thread_mgr(sha_ni) is null when
// that lane does not apply to this CPU (or a path is pinned).
IMB_MGR* thread_mgr(lane l = lane::main) {
    if (l == lane::sha_ni) {
        static thread_local mgr_holder h(lane::sha_ni);
        return h.mgr;
    }
    static thread_local mgr_holder h(lane::main);
    return h.mgr;
}

// Jobs queued by encrypt_deferred on this thread, per lane, not yet returned by the manager.
// Their user_data is the crypto_op's address with the low bit set (an immediate call's jobs
// carry their index shifted left by one, so the low bit tells the two apart).
thread_local std::array<std::size_t, 2> deferred_pending{};

bool is_deferred(const IMB_JOB* job) { return (reinterpret_cast<std::uintptr_t>(job->user_data) & 1u) != 0; }

void complete_deferred_job(IMB_JOB* job, lane l) {
    auto* op = reinterpret_cast<crypto_op*>(reinterpret_cast<std::uintptr_t>(job->user_data) & ~std::uintptr_t(1));
    op->ok = job->status == IMB_STATUS_COMPLETED;
    --deferred_pending[std::size_t(l)];
}

void flush_deferred(IMB_MGR* m, lane l) {
    if (deferred_pending[std::size_t(l)] == 0) return;
    // Immediate calls always flush before returning, so only deferred jobs can be in flight here.
    std::array<IMB_JOB*, IMB_MAX_BURST_SIZE> jobs;
    while (const std::uint32_t n = IMB_FLUSH_BURST(m, IMB_MAX_BURST_SIZE, jobs.data()))
        for (std::uint32_t i = 0; i < n; ++i) complete_deferred_job(jobs[i], l);
    while (IMB_JOB* job = IMB_FLUSH_JOB(m)) complete_deferred_job(job, l);  // nothing left in practice
}

IMB_HASH_ALG hash_alg(integ_alg a) {
    switch (a) {
    case integ_alg::sha1_96: return IMB_AUTH_HMAC_SHA_1;
    case integ_alg::sha256_128: return IMB_AUTH_HMAC_SHA_256;
    case integ_alg::sha384_192: return IMB_AUTH_HMAC_SHA_384;
    case integ_alg::sha512_256: return IMB_AUTH_HMAC_SHA_512;
    case integ_alg::none: break;
    }
    return IMB_AUTH_NULL;
}

constexpr std::size_t chunk = 64;

// Constant-time ICV comparison: the 12- and 16-byte ICVs of the fast path as an OR of XORs with
// no call and no early exit (the asm barrier keeps the compiler from turning it into compares and
// branches over the words); other lengths through CRYPTO_memcmp.
inline bool tag_equal(const std::uint8_t* a, const std::uint8_t* b, std::uint32_t n) {
    if (n == 16 || n == 12) {
        std::uint64_t x0, y0, d;
        std::memcpy(&x0, a, 8);
        std::memcpy(&y0, b, 8);
        if (n == 16) {
            std::uint64_t x1, y1;
            std::memcpy(&x1, a + 8, 8);
            std::memcpy(&y1, b + 8, 8);
            d = (x0 ^ y0) | (x1 ^ y1);
        } else {
            std::uint32_t x1, y1;
            std::memcpy(&x1, a + 8, 4);
            std::memcpy(&y1, b + 8, 4);
            d = (x0 ^ y0) | (x1 ^ y1);
        }
        __asm__("" : "+r"(d));
        return d == 0;
    }
    return CRYPTO_memcmp(a, b, n) == 0;
}

// n (at most chunk) jobs as one burst (IMB_SUBMIT_BURST): the library checks every job before
// running any, then takes them all in one call, about 15% less time per 64 B CBC+HMAC op than
// job by job (a call into the manager per job and per completion). fill(job, i) sets up job i;
// done(job) gets each job as it completes; unless `defer`, the burst is flushed, so nothing of
// it stays queued. Returns false, with nothing submitted, when the library refused the burst
// (no queue space, or a job it finds invalid): the caller then goes job by job.
template <class Fill, class Done>
bool submit_burst(IMB_MGR* m, std::uint32_t n, Fill fill, Done done, bool defer) {
    base::uninit_array<IMB_JOB*, chunk> jobs;
    if (IMB_GET_NEXT_BURST(m, n, jobs.data()) != n) return false;
    for (std::uint32_t i = 0; i < n; ++i) fill(jobs[i], i);
    std::uint32_t got = IMB_SUBMIT_BURST(m, n, jobs.data());
    if (got == 0 && imb_get_errno(m) != 0) return false;
    for (std::uint32_t i = 0; i < got; ++i) done(jobs[i]);
    if (defer) return true;
    while (got < n) {
        const std::uint32_t f = IMB_FLUSH_BURST(m, n, jobs.data());
        if (f == 0) {
            // Never seen; should the library hold jobs back anyway, drain it job by job so that
            // no job of this burst (with an index into this call's ops) outlives the call.
            while (IMB_JOB* job = IMB_FLUSH_JOB(m)) done(job);
            break;
        }
        for (std::uint32_t i = 0; i < f; ++i) done(jobs[i]);
        got += f;
    }
    return true;
}

// The same n jobs one at a time (flushed at the end unless `defer`): the fallback for a refused
// burst, so that only the job the library finds invalid fails.
template <class Fill, class Done>
void submit_jobs(IMB_MGR* m, std::uint32_t n, Fill fill, Done done, bool defer) {
    for (std::uint32_t i = 0; i < n; ++i) {
        IMB_JOB* job = IMB_GET_NEXT_JOB(m);
        fill(job, i);
        job = IMB_SUBMIT_JOB(m);
        while (job) {
            done(job);
            job = IMB_GET_COMPLETED_JOB(m);
        }
    }
    if (!defer)
        while (IMB_JOB* job = IMB_FLUSH_JOB(m)) done(job);
}

class ipsecmb_ctx final : public crypto_ctx {
public:
    bool init(enc_alg enc, std::span<const std::uint8_t> enc_key, integ_alg integ,
              std::span<const std::uint8_t> integ_key, std::string* error) {
        if ((integ == integ_alg::sha1_96 || integ == integ_alg::sha256_128) && !params(enc).aead &&
            thread_mgr(lane::sha_ni) != nullptr)
            _lane = lane::sha_ni;
        IMB_MGR* m = thread_mgr();
        if (!m) return fail(error, "intel-ipsec-mb: no usable multi-buffer manager on this CPU");
        _enc = enc;
        _integ = integ;
        const auto ep = params(enc);
        _icv = icv_len(enc, integ);
        _key_len = ep.key_len - ep.salt_len;
        switch (enc) {
        case enc_alg::aes128_cbc: IMB_AES_KEYEXP_128(m, enc_key.data(), _k.aes.enc, _k.aes.dec); break;
        case enc_alg::aes192_cbc: IMB_AES_KEYEXP_192(m, enc_key.data(), _k.aes.enc, _k.aes.dec); break;
        case enc_alg::aes256_cbc: IMB_AES_KEYEXP_256(m, enc_key.data(), _k.aes.enc, _k.aes.dec); break;
        case enc_alg::aes128gcm16: IMB_AES128_GCM_PRE(m, enc_key.data(), &_k.gcm); break;
        case enc_alg::aes256gcm16: IMB_AES256_GCM_PRE(m, enc_key.data(), &_k.gcm); break;
        case enc_alg::des3_cbc:
            for (int i = 0; i < 3; ++i) {
                IMB_DES_KEYSCHED(m, _k.des.ks[i], enc_key.data() + 8 * i);
                _k.des.ptr[i] = _k.des.ks[i];
            }
            break;
        }
        if (ep.aead) {
            _mode = IMB_CIPHER_GCM;
            _hash = IMB_AUTH_AES_GMAC;
            std::memcpy(_salt.data(), enc_key.data() + _key_len, 4);
            _enc_keys = _dec_keys = &_k.gcm;
            _iv_len = 12;
        } else {
            _mode = enc == enc_alg::des3_cbc ? IMB_CIPHER_DES3 : IMB_CIPHER_CBC;
            _hash = hash_alg(integ);
            _iv_len = ep.iv_len;
            if (enc == enc_alg::des3_cbc) {
                _enc_keys = _dec_keys = _k.des.ptr;
            } else {
                _enc_keys = _k.aes.enc;
                _dec_keys = _k.aes.dec;
            }
            hmac_precompute(m, integ, integ_key);
        }
        return true;
    }

    ~ipsecmb_ctx() override {
        OPENSSL_cleanse(&_k, sizeof _k);
        OPENSSL_cleanse(_ipad, sizeof _ipad);
        OPENSSL_cleanse(_opad, sizeof _opad);
        OPENSSL_cleanse(_salt.data(), _salt.size());
    }

    void encrypt(std::span<crypto_op> ops) override { run(ops, IMB_DIR_ENCRYPT); }
    void decrypt(std::span<crypto_op> ops) override { run(ops, IMB_DIR_DECRYPT); }

    void encrypt_deferred(std::span<crypto_op> ops) override {
        const lane_mgr lm = mgr();  // not a structured binding: lambdas below capture the lane
        IMB_MGR* const m = lm.m;
        const lane l = lm.l;
        if (!m) {
            for (auto& op : ops) op.ok = false;
            return;
        }
        if (_mode == IMB_CIPHER_GCM) return gcm_direct(m, ops, IMB_DIR_ENCRYPT);  // nothing to defer
        for (std::size_t base = 0; base < ops.size(); base += chunk) {
            const auto part = ops.subspan(base, std::min(chunk, ops.size() - base));
            for (auto& op : part) op.ok = false;
            deferred_pending[std::size_t(l)] += part.size();
            auto fill = [&](IMB_JOB* job, std::size_t i) {
                fill_job(job, part[i], IMB_DIR_ENCRYPT, part[i].tag);
                job->user_data = reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(&part[i]) | 1u);
            };
            auto done = [l](IMB_JOB* job) { complete_deferred_job(job, l); };
            const auto n = std::uint32_t(part.size());
            if (!submit_burst(m, n, fill, done, true)) submit_jobs(m, n, fill, done, true);
        }
    }
    [[nodiscard]] backend_kind backend() const override { return backend_kind::ipsecmb; }

    // Decrypt of ops of several contexts of this backend (crypto_ctx::decrypt_many): per lane,
    // the CBC/3DES+HMAC ops of all of them go into one burst, so packets of many SAs share the
    // manager's SIMD lanes; GCM ops go to the AES-GCM functions, a run of one context at a time.
    static void decrypt_many(std::span<crypto_op> ops, std::span<crypto_ctx* const> ctxs) {
        alignas(16) base::uninit_array<std::array<std::uint8_t, 64>, chunk> tags;
        base::uninit_array<std::uint32_t, chunk> idx;
        const auto ctx_of = [&](std::size_t i) { return static_cast<ipsecmb_ctx*>(ctxs[i]); };
        for (std::size_t base = 0; base < ops.size(); base += chunk) {
            const std::size_t end = base + std::min(chunk, ops.size() - base);
            for (const lane l : {lane::main, lane::sha_ni}) {
                IMB_MGR* m = nullptr;
                std::uint32_t k = 0;
                for (std::size_t i = base; i < end;) {  // a run of one context at a time
                    ipsecmb_ctx* c = ctx_of(i);
                    std::size_t r = i + 1;
                    while (r < end && ctxs[r] == c) ++r;
                    const auto [cm, cl] = c->mgr();
                    if (cl == l) {
                        if (!cm) {
                            for (std::size_t j = i; j < r; ++j) ops[j].ok = false;
                        } else if (c->_mode == IMB_CIPHER_GCM) {
                            c->gcm_direct(cm, ops.subspan(i, r - i), IMB_DIR_DECRYPT);
                        } else {
                            m = cm;
                            for (std::size_t j = i; j < r; ++j) {
                                ops[j].ok = false;
                                idx[k++] = std::uint32_t(j);
                            }
                        }
                    }
                    i = r;
                }
                if (k == 0) continue;
                flush_deferred(m, l);
                auto fill = [&](IMB_JOB* job, std::size_t j) {
                    ctx_of(idx[j])->fill_job(job, ops[idx[j]], IMB_DIR_DECRYPT, tags[j].data());
                    job->user_data = reinterpret_cast<void*>(std::uintptr_t(j) << 1);
                };
                auto done = [&](IMB_JOB* job) {
                    if (is_deferred(job)) return complete_deferred_job(job, l);  // defensive: flushed before
                    const auto j = reinterpret_cast<std::uintptr_t>(job->user_data) >> 1;
                    crypto_op& op = ops[idx[j]];
                    op.ok = job->status == IMB_STATUS_COMPLETED && tag_equal(tags[j].data(), op.tag, ctx_of(idx[j])->_icv);
                };
                if (!submit_burst(m, k, fill, done, false)) submit_jobs(m, k, fill, done, false);
            }
        }
    }

private:
    static bool fail(std::string* error, const char* what) {
        if (error) *error = what;
        return false;
    }

    // HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)): the library takes the compression-function
    // states after the first block of each, so the key is processed once per SA, not per packet.
    void hmac_precompute(IMB_MGR* m, integ_alg integ, std::span<const std::uint8_t> key) {
        alignas(16) std::uint8_t ib[128];
        alignas(16) std::uint8_t ob[128];
        const std::size_t block = (integ == integ_alg::sha384_192 || integ == integ_alg::sha512_256) ? 128 : 64;
        std::memset(ib, 0x36, block);
        std::memset(ob, 0x5c, block);
        for (std::size_t i = 0; i < key.size() && i < block; ++i) {  // RFC 4868 keys never exceed a block
            ib[i] ^= key[i];
            ob[i] ^= key[i];
        }
        switch (integ) {
        case integ_alg::sha1_96: IMB_SHA1_ONE_BLOCK(m, ib, _ipad); IMB_SHA1_ONE_BLOCK(m, ob, _opad); break;
        case integ_alg::sha256_128: IMB_SHA256_ONE_BLOCK(m, ib, _ipad); IMB_SHA256_ONE_BLOCK(m, ob, _opad); break;
        case integ_alg::sha384_192: IMB_SHA384_ONE_BLOCK(m, ib, _ipad); IMB_SHA384_ONE_BLOCK(m, ob, _opad); break;
        case integ_alg::sha512_256: IMB_SHA512_ONE_BLOCK(m, ib, _ipad); IMB_SHA512_ONE_BLOCK(m, ob, _opad); break;
        case integ_alg::none: break;
        }
        OPENSSL_cleanse(ib, sizeof ib);
        OPENSSL_cleanse(ob, sizeof ob);
    }

    // This context's manager on the calling thread (a worker may lack the sha_ni lane only if
    // its CPU differs from the control thread's, which a VM migration could cause).
    struct lane_mgr {
        IMB_MGR* m;
        lane l;
    };
    [[nodiscard]] lane_mgr mgr() const {
        if (_lane == lane::sha_ni)
            if (IMB_MGR* m = thread_mgr(lane::sha_ni)) return {m, lane::sha_ni};
        return {thread_mgr(), lane::main};
    }

    void run(std::span<crypto_op> ops, IMB_CIPHER_DIRECTION dir) {
        auto [m, l] = mgr();
        if (!m) {
            for (auto& op : ops) op.ok = false;
            return;
        }
        for (std::size_t base = 0; base < ops.size(); base += chunk) {
            const std::size_t n = std::min(chunk, ops.size() - base);
            run_chunk(m, l, ops.subspan(base, n), dir);
        }
    }

    void complete(IMB_JOB* job, lane l, std::span<crypto_op> ops, IMB_CIPHER_DIRECTION dir) {
        if (is_deferred(job)) return complete_deferred_job(job, l);  // defensive: flushed before
        const auto i = reinterpret_cast<std::uintptr_t>(job->user_data) >> 1;
        crypto_op& op = ops[i];
        if (job->status != IMB_STATUS_COMPLETED) {
            op.ok = false;
            return;
        }
        op.ok = dir == IMB_DIR_ENCRYPT ? true : tag_equal(_tags[i].data(), op.tag, _icv);
    }

    // Everything of a CBC/3DES + HMAC job but the user data.
    void fill_job(IMB_JOB* job, crypto_op& op, IMB_CIPHER_DIRECTION dir, std::uint8_t* tag_out) const {
        job->cipher_direction = dir;
        job->chain_order = dir == IMB_DIR_ENCRYPT ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
        // An empty cipher region (pure HMAC) is not a valid CBC job; ESP never produces one,
        // but the primitive stays total.
        job->cipher_mode = op.len == 0 ? IMB_CIPHER_NULL : _mode;
        job->hash_alg = _hash;
        job->enc_keys = _enc_keys;
        job->dec_keys = _dec_keys;
        job->key_len_in_bytes = _key_len;
        job->auth_tag_output = tag_out;
        job->auth_tag_output_len_in_bytes = _icv;
        job->msg_len_to_cipher_in_bytes = op.len;
        job->iv = op.iv.data();
        job->iv_len_in_bytes = _iv_len;
        job->src = op.auth;
        job->dst = op.data;
        job->cipher_start_src_offset_in_bytes = std::uint64_t(op.data - op.auth);
        job->hash_start_src_offset_in_bytes = 0;
        job->msg_len_to_hash_in_bytes = op.auth_len;
        job->u.HMAC._hashed_auth_key_xor_ipad = _ipad;
        job->u.HMAC._hashed_auth_key_xor_opad = _opad;
    }

    // GCM is one buffer at a time in the library anyway (no SIMD lanes across packets), so it is
    // called directly (IMB_AES*_GCM_ENC/DEC) instead of through the job manager, whose job
    // checks and queue handling cost about as much as the cipher at 64 B. The context holds
    // per-message state derived from the key (the encrypted initial counter block): wiped after
    // the burst.
    void gcm_direct(IMB_MGR* m, std::span<crypto_op> ops, IMB_CIPHER_DIRECTION dir) {
        struct gcm_context_data gctx;
        alignas(16) std::uint8_t nonce[12];
        std::memcpy(nonce, _salt.data(), 4);  // RFC 4106 4: salt || explicit IV
        alignas(16) std::uint8_t tag[16];
        for (auto& op : ops) {
            std::memcpy(nonce + 4, op.iv.data(), 8);
            if (dir == IMB_DIR_ENCRYPT) {
                if (_key_len == 32)
                    IMB_AES256_GCM_ENC(m, &_k.gcm, &gctx, op.data, op.data, op.len, nonce, op.auth, op.auth_len, op.tag, _icv);
                else
                    IMB_AES128_GCM_ENC(m, &_k.gcm, &gctx, op.data, op.data, op.len, nonce, op.auth, op.auth_len, op.tag, _icv);
                op.ok = true;
            } else {
                if (_key_len == 32)
                    IMB_AES256_GCM_DEC(m, &_k.gcm, &gctx, op.data, op.data, op.len, nonce, op.auth, op.auth_len, tag, _icv);
                else
                    IMB_AES128_GCM_DEC(m, &_k.gcm, &gctx, op.data, op.data, op.len, nonce, op.auth, op.auth_len, tag, _icv);
                op.ok = tag_equal(tag, op.tag, _icv);
            }
        }
        OPENSSL_cleanse(&gctx, sizeof gctx);
        OPENSSL_cleanse(tag, sizeof tag);
    }

    void run_chunk(IMB_MGR* m, lane l, std::span<crypto_op> ops, IMB_CIPHER_DIRECTION dir) {
        if (_mode == IMB_CIPHER_GCM) return gcm_direct(m, ops, dir);
        flush_deferred(m, l);
        for (auto& op : ops) op.ok = false;
        auto fill = [&](IMB_JOB* job, std::size_t i) {
            fill_job(job, ops[i], dir, dir == IMB_DIR_ENCRYPT ? ops[i].tag : _tags[i].data());
            job->user_data = reinterpret_cast<void*>(std::uintptr_t(i) << 1);
        };
        auto done = [&](IMB_JOB* job) { complete(job, l, ops, dir); };
        const auto n = std::uint32_t(ops.size());
        if (!submit_burst(m, n, fill, done, false)) submit_jobs(m, n, fill, done, false);
    }

    union keys {
        struct {
            alignas(16) std::uint8_t enc[16 * 15];
            alignas(16) std::uint8_t dec[16 * 15];
        } aes;
        struct gcm_key_data gcm;
        struct {
            alignas(16) std::uint64_t ks[3][IMB_DES_KEY_SCHED_SIZE / 8];
            const void* ptr[3];
        } des;
    };
    alignas(64) keys _k;
    alignas(16) std::uint8_t _ipad[64] = {};
    alignas(16) std::uint8_t _opad[64] = {};
    alignas(16) std::array<std::array<std::uint8_t, 64>, chunk> _tags{};
    std::array<std::uint8_t, 4> _salt{};
    const void* _enc_keys = nullptr;
    const void* _dec_keys = nullptr;
    IMB_CIPHER_MODE _mode = IMB_CIPHER_CBC;
    IMB_HASH_ALG _hash = IMB_AUTH_NULL;
    std::uint32_t _icv = 0;
    std::uint32_t _key_len = 0;
    std::uint32_t _iv_len = 16;
    lane _lane = lane::main;
};

} // namespace

bool ipsecmb_usable() { return thread_mgr() != nullptr; }

void ipsecmb_decrypt_many(std::span<crypto_op> ops, std::span<crypto_ctx* const> ctxs) {
    ipsecmb_ctx::decrypt_many(ops, ctxs);
}

void ipsecmb_complete_deferred() {
    for (auto l : {lane::main, lane::sha_ni})
        if (deferred_pending[std::size_t(l)] != 0)
            if (IMB_MGR* m = thread_mgr(l)) flush_deferred(m, l);
}

std::unique_ptr<crypto_ctx> make_ipsecmb_ctx(enc_alg enc, std::span<const std::uint8_t> enc_key, integ_alg integ,
                                             std::span<const std::uint8_t> integ_key, std::string* error) {
    auto c = std::make_unique<ipsecmb_ctx>();
    if (!c->init(enc, enc_key, integ, integ_key, error)) return nullptr;
    return c;
}

} // namespace esp::detail
