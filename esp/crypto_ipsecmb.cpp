// intel-ipsec-mb backend (the fast path): one multi-buffer manager per thread. AES-CBC + HMAC
// (every CBC suite but 3DES) goes to the library as two synchronous bursts on jobs of our own
// (sync_batch: IMB_SUBMIT_CIPHER_BURST, then IMB_SUBMIT_HASH_BURST; hash first to decrypt), so
// the library interleaves up to 4/8/16 packets per SIMD lane set without its job queue (on
// AVX-512 CPUs with VAES, AES-CBC + HMAC-SHA-256 ops with up to 280 bytes of HMAC input go to
// our cbc_mb.cpp instead, as they are, in batches of their own (mb_batch): the same arithmetic
// without the library's lane bookkeeping or a job per op);
// encrypt_deferred collects the ops of several SAs into one such batch until complete_deferred,
// decrypt_many puts several contexts' ops into one. 3DES goes through the manager's job queue as
// one burst of chained jobs (IMB_SUBMIT_BURST), flushed so no job outlives the call. GCM, which
// the library runs one buffer at a time: messages up to 160 bytes go to our multi-buffer code
// (gcm_mb.cpp) on AVX-512 CPUs with VAES when the manager runs its AVX-512 path, the rest straight
// to the library's AES-GCM functions (gcm_direct).
// Key schedules, HMAC ipad/opad states and GCM hash keys are computed once per SA and wiped in
// the destructor. init_mb_mgr_auto picks SSE/AVX/AVX2/AVX512 for the running CPU.
#include "crypto_backends.hpp"
#include "cbc_mb.hpp"
#include "gcm_mb.hpp"
#include "tag_equal.hpp"

#include <base/uninit_array.hpp>

#include <intel-ipsec-mb.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <atomic>
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
    bool gcm_mb = false;  // main lane: short AES-GCM messages go to gcm_mb (AVX-512 code path)
    bool cbc_mb = false;  // main lane: short AES-CBC + HMAC-SHA-256 jobs go to cbc_mb (likewise)
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
            return;
        }
        gcm_mb = arch == IMB_ARCH_AVX512 && gcm_mb::cpu_supported();
        cbc_mb = arch == IMB_ARCH_AVX512 && cbc_mb::cpu_supported();
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
const mgr_holder& main_holder() {
    static thread_local mgr_holder h(lane::main);
    return h;
}
IMB_MGR* thread_mgr(lane l = lane::main) {
    if (l == lane::sha_ni) {
        static thread_local mgr_holder h(lane::sha_ni);
        return h.mgr;
    }
    return main_holder().mgr;
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

// n (at most chunk) jobs as one burst through the manager's job queue (IMB_SUBMIT_BURST, 3DES):
// the library checks every job before running any, then takes them all in one call, about 15%
// less time per 64 B op than job by job (a call into the manager per job and per completion).
// fill(job, i) sets up job i; done(job) gets each job as it completes; the burst is flushed, so
// nothing of it stays queued. Returns false, with nothing submitted, when the library refused
// the burst (no queue space, or a job it finds invalid): the caller then goes job by job.
template <class Fill, class Done>
bool submit_burst(IMB_MGR* m, std::uint32_t n, Fill fill, Done done) {
    base::uninit_array<IMB_JOB*, chunk> jobs;
    if (IMB_GET_NEXT_BURST(m, n, jobs.data()) != n) return false;
    for (std::uint32_t i = 0; i < n; ++i) fill(jobs[i], i);
    std::uint32_t got = IMB_SUBMIT_BURST(m, n, jobs.data());
    if (got == 0 && imb_get_errno(m) != 0) return false;
    for (std::uint32_t i = 0; i < got; ++i) done(jobs[i]);
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

// The same n jobs one at a time, flushed at the end: the fallback for a refused burst, so that
// only the job the library finds invalid fails.
template <class Fill, class Done>
void submit_jobs(IMB_MGR* m, std::uint32_t n, Fill fill, Done done) {
    for (std::uint32_t i = 0; i < n; ++i) {
        IMB_JOB* job = IMB_GET_NEXT_JOB(m);
        fill(job, i);
        job = IMB_SUBMIT_JOB(m);
        while (job) {
            done(job);
            job = IMB_GET_COMPLETED_JOB(m);
        }
    }
    while (IMB_JOB* job = IMB_FLUSH_JOB(m)) done(job);
}

// AES-CBC + HMAC ops as two synchronous bursts on jobs of our own (IMB_SUBMIT_CIPHER_BURST with
// one key size, IMB_SUBMIT_HASH_BURST with one hash): the library runs the CBC-encrypt and HMAC
// lanes without its job queue, whose per-job bookkeeping and 256-job ring (51 KB, cycled through
// by every burst) cost 10-20% of a 64 B op. The jobs are zeroed once (thread-local storage), so
// the fields never set here stay zero, and the library never writes a job but its status, so a
// slot refilled for the context and direction it last held gets only the per-op fields (8 of
// 19: 2-4% more 64 B CBC Mpps in the engine). A batch holds ops of one manager, direction, key
// size and hash.
struct sync_batch {
    alignas(64) std::array<IMB_JOB, chunk> jobs;
    alignas(16) std::array<std::array<std::uint8_t, 64>, chunk> tags;  // decrypt: computed ICVs
    std::array<crypto_op*, chunk> ops;
    std::array<std::uint32_t, chunk> icv;
    // Per slot, the context (by its serial number, never reused) and direction its job's
    // per-SA fields were written for: the same again skips rewriting them.
    std::array<std::uint64_t, chunk> serial;
    std::array<IMB_CIPHER_DIRECTION, chunk> serial_dir;
    std::uint32_t n;
    IMB_MGR* m;
    IMB_CIPHER_DIRECTION dir;
    IMB_KEY_SIZE_BYTES key;
    IMB_HASH_ALG hash;
};
std::atomic<std::uint64_t> next_serial{1};  // ipsecmb_ctx serial numbers (0: a slot never filled)
thread_local sync_batch t_now;       // one call's ops (encrypt, decrypt, decrypt_many)
thread_local sync_batch t_deferred;  // encrypt_deferred's, until complete_deferred

enum class job_part : std::uint8_t { both, cipher, hash };

// A burst the library refused (it checks every job before running any) goes job by job through
// the manager's queue, with only the part not done yet, so that only the job it finds invalid
// fails.
void run_sync_fallback(sync_batch& b, std::uint32_t n, job_part part) {
    for (std::uint32_t i = 0; i < n; ++i) b.jobs[i].status = IMB_STATUS_BEING_PROCESSED;
    auto fill = [&](IMB_JOB* job, std::size_t i) {
        *job = b.jobs[i];
        if (part == job_part::hash) job->cipher_mode = IMB_CIPHER_NULL;  // ciphertext already in place
        if (part == job_part::cipher) job->hash_alg = IMB_AUTH_NULL;    // ICV already computed
        job->user_data = reinterpret_cast<void*>(std::uintptr_t(i));
    };
    auto done = [&](IMB_JOB* job) { b.jobs[reinterpret_cast<std::uintptr_t>(job->user_data)].status = job->status; };
    submit_jobs(b.m, n, fill, done);
}

// The library's two bursts on b.jobs[0..n) (to encrypt, the cipher first; to decrypt, the
// HMAC). A refused first burst ran nothing: all of it job by job; a refused second one: its part
// job by job.
void run_bursts(sync_batch& b, std::uint32_t n) {
    const bool enc = b.dir == IMB_DIR_ENCRYPT;
    IMB_JOB* jobs = b.jobs.data();
    const auto first = [&] {
        return enc ? IMB_SUBMIT_CIPHER_BURST(b.m, jobs, n, IMB_CIPHER_CBC, b.dir, b.key) : IMB_SUBMIT_HASH_BURST(b.m, jobs, n, b.hash);
    };
    const auto second = [&] {
        return enc ? IMB_SUBMIT_HASH_BURST(b.m, jobs, n, b.hash) : IMB_SUBMIT_CIPHER_BURST(b.m, jobs, n, IMB_CIPHER_CBC, b.dir, b.key);
    };
    if (first() != n) {
        run_sync_fallback(b, n, job_part::both);
    } else if (second() != n) {
        // The first burst set every status to completed: the second part's run decides now.
        run_sync_fallback(b, n, enc ? job_part::hash : job_part::cipher);
    }
}

// Runs and empties the batch; sets every op's ok (decrypt: the computed ICV matches op.tag).
void run_sync(sync_batch& b) {
    const std::uint32_t n = b.n;
    b.n = 0;
    if (n == 0) return;
    run_bursts(b, n);
    const bool enc = b.dir == IMB_DIR_ENCRYPT;
    for (std::uint32_t i = 0; i < n; ++i) {
        crypto_op& op = *b.ops[i];
        op.ok = b.jobs[i].status == IMB_STATUS_COMPLETED && (enc || tag_equal(b.tags[i].data(), op.tag, b.icv[i]));
    }
}

// Short AES-CBC + HMAC-SHA-256-128 ops for cbc_mb (on the main manager where it is active),
// taken as they are: no library job is filled for them (2.5-3% more 64 B CBC Mpps in the engine
// than filling jobs and handing those to cbc_mb). A batch holds ops of one direction and key size.
struct mb_batch {
    std::array<cbc_mb::item, chunk> items;
    std::uint32_t n = 0;
    bool encrypt = true;
    std::uint32_t key_bytes = 0;
};
thread_local mb_batch t_mb_now;       // one call's (encrypt, decrypt, decrypt_many)
thread_local mb_batch t_mb_deferred;  // encrypt_deferred's, until complete_deferred

void run_mb(mb_batch& b) {
    const std::uint32_t n = b.n;
    b.n = 0;
    if (n != 0) cbc_mb::run(b.items.data(), n, b.encrypt, b.key_bytes);
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
            if (gcm_mb::cpu_supported()) {
                gcm_mb::init(_gcm_h, _k.gcm.expanded_keys, gcm_rounds());
                _gcm_mb = true;
            }
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
            if (enc != enc_alg::des3_cbc && integ == integ_alg::sha256_128 && cbc_mb::cpu_supported()) {
                cbc_mb::broadcast_keys(_k.aes.enc, _enc4);
                _mbk = {_k.aes.enc, _k.aes.dec, _ipad, _opad, _enc4};
                _cbc_mb = true;
            }
        }
        return true;
    }

    ~ipsecmb_ctx() override {
        OPENSSL_cleanse(&_k, sizeof _k);
        OPENSSL_cleanse(_ipad, sizeof _ipad);
        OPENSSL_cleanse(_opad, sizeof _opad);
        OPENSSL_cleanse(_salt.data(), _salt.size());
        OPENSSL_cleanse(&_gcm_h, sizeof _gcm_h);
        OPENSSL_cleanse(_enc4, sizeof _enc4);
    }

    void encrypt(std::span<crypto_op> ops) override { run(ops, IMB_DIR_ENCRYPT); }
    void decrypt(std::span<crypto_op> ops) override { run(ops, IMB_DIR_DECRYPT); }

    void encrypt_deferred(std::span<crypto_op> ops) override {
        IMB_MGR* const m = mgr().m;
        if (!m) {
            for (auto& op : ops) op.ok = false;
            return;
        }
        if (_mode == IMB_CIPHER_GCM) return gcm_direct(m, ops, IMB_DIR_ENCRYPT);  // nothing to defer
        if (!sync_capable()) return run(ops, IMB_DIR_ENCRYPT);                   // 3DES: at once
        add_ops(t_deferred, t_mb_deferred, m, ops, IMB_DIR_ENCRYPT);
    }
    [[nodiscard]] backend_kind backend() const override { return backend_kind::ipsecmb; }

    // Decrypt of ops of several contexts of this backend (crypto_ctx::decrypt_many): the AES-CBC
    // + HMAC ops of all of them go into one sync_batch (split where the manager, key size or hash
    // changes), so packets of many SAs share the manager's SIMD lanes; 3DES ops likewise into one
    // burst of chained jobs per lane; GCM ops go to the AES-GCM functions, a run of one context
    // at a time.
    static void decrypt_many(std::span<crypto_op> ops, std::span<crypto_ctx* const> ctxs) {
        const auto ctx_of = [&](std::size_t i) { return static_cast<ipsecmb_ctx*>(ctxs[i]); };
        struct queued {  // 3DES ops of one lane, by index in ops
            IMB_MGR* m = nullptr;
            std::uint32_t k = 0;
            base::uninit_array<std::uint32_t, chunk> idx;
        };
        std::array<queued, 2> q;
        alignas(16) base::uninit_array<std::array<std::uint8_t, 64>, chunk> tags;
        const auto run_queued = [&](queued& qu) {
            if (qu.k == 0) return;
            auto fill = [&](IMB_JOB* job, std::size_t j) {
                ctx_of(qu.idx[j])->fill_job(job, ops[qu.idx[j]], IMB_DIR_DECRYPT, tags[j].data());
                job->user_data = reinterpret_cast<void*>(std::uintptr_t(j));
            };
            auto done = [&](IMB_JOB* job) {
                const auto j = reinterpret_cast<std::uintptr_t>(job->user_data);
                crypto_op& op = ops[qu.idx[j]];
                op.ok = job->status == IMB_STATUS_COMPLETED && tag_equal(tags[j].data(), op.tag, ctx_of(qu.idx[j])->_icv);
            };
            if (!submit_burst(qu.m, qu.k, fill, done)) submit_jobs(qu.m, qu.k, fill, done);
            qu.k = 0;
        };
        sync_batch& b = t_now;
        for (std::size_t i = 0; i < ops.size();) {  // a run of one context at a time
            ipsecmb_ctx* c = ctx_of(i);
            std::size_t r = i + 1;
            while (r < ops.size() && ctxs[r] == c) ++r;
            const auto run_ops = ops.subspan(i, r - i);
            const auto [m, l] = c->mgr();
            if (!m) {
                for (auto& op : run_ops) op.ok = false;
            } else if (c->_mode == IMB_CIPHER_GCM) {
                c->gcm_direct(m, run_ops, IMB_DIR_DECRYPT);
            } else if (c->sync_capable()) {
                c->add_ops(b, t_mb_now, m, run_ops, IMB_DIR_DECRYPT);
            } else {
                auto& qu = q[std::size_t(l)];
                for (std::size_t j = i; j < r; ++j) {
                    if (qu.k == chunk) run_queued(qu);
                    ops[j].ok = false;
                    qu.m = m;
                    qu.idx[qu.k++] = std::uint32_t(j);
                }
            }
            i = r;
        }
        run_mb(t_mb_now);
        run_sync(b);
        for (auto& qu : q) run_queued(qu);
    }

    // Queues ops: those cbc_mb takes (an SA of its suite on the manager it serves, a short op)
    // into mb, run when full or first when it holds the other direction or key size; the others
    // into b (add_sync). The caller runs both.
    void add_ops(sync_batch& b, mb_batch& mb, IMB_MGR* m, std::span<crypto_op> ops, IMB_CIPHER_DIRECTION dir) const {
        if (!_cbc_mb || !main_holder().cbc_mb || m != main_holder().mgr) return add_sync(b, m, ops, dir);
        const bool enc = dir == IMB_DIR_ENCRYPT;
        if (mb.n != 0 && (mb.encrypt != enc || mb.key_bytes != _key_len)) run_mb(mb);
        mb.encrypt = enc;
        mb.key_bytes = _key_len;
        // The count in a local: the stores into ops and items may alias it.
        std::uint32_t n = mb.n;
        for (std::size_t j = 0; j < ops.size();) {
            if (!cbc_mb::eligible(ops[j])) {  // a run of them to the library
                std::size_t e = j + 1;
                while (e < ops.size() && !cbc_mb::eligible(ops[e])) ++e;
                add_sync(b, m, ops.subspan(j, e - j), dir);
                j = e;
                continue;
            }
            if (n == chunk) {
                mb.n = n;
                run_mb(mb);
                n = 0;
            }
            ops[j].ok = false;
            mb.items[n++] = {&ops[j], &_mbk};
            ++j;
        }
        mb.n = n;
    }

    // Queues ops for batch b (run when it is full, or first when it holds ops of another manager,
    // direction, key size or hash); the caller runs it.
    void add_sync(sync_batch& b, IMB_MGR* m, std::span<crypto_op> ops, IMB_CIPHER_DIRECTION dir) const {
        const auto key = IMB_KEY_SIZE_BYTES(_key_len);
        const bool enc = dir == IMB_DIR_ENCRYPT;
        for (std::size_t j = 0; j < ops.size();) {
            // The batch's kind checked once per run of ops, not per op.
            if (b.n == chunk || (b.n != 0 && (b.m != m || b.dir != dir || b.key != key || b.hash != _hash))) run_sync(b);
            b.m = m;
            b.dir = dir;
            b.key = key;
            b.hash = _hash;
            const std::size_t take = std::min<std::size_t>(ops.size() - j, chunk - b.n);
            // Members and the batch count in locals: the job stores may alias them (the status
            // is an int-sized enum), which would reload them after every store.
            const std::uint64_t serial = _serial;
            const std::uint32_t icv = _icv;
            const IMB_CIPHER_MODE mode = _mode;
            std::uint32_t i = b.n;
            for (std::size_t t = 0; t < take; ++t, ++i) {
                crypto_op& op = ops[j + t];
                IMB_JOB* job = &b.jobs[i];
                if (b.serial[i] != serial || b.serial_dir[i] != dir) {
                    fill_job(job, op, dir, enc ? op.tag : b.tags[i].data());
                    b.serial[i] = serial;
                    b.serial_dir[i] = dir;
                } else {
                    fill_op_fields(job, op, enc ? op.tag : b.tags[i].data(), mode);
                }
                job->status = IMB_STATUS_BEING_PROCESSED;
                op.ok = false;
                b.ops[i] = &op;
                b.icv[i] = icv;
            }
            b.n = i;
            j += take;
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
        IMB_MGR* const m = mgr().m;
        if (!m) {
            for (auto& op : ops) op.ok = false;
            return;
        }
        for (std::size_t base = 0; base < ops.size(); base += chunk) {
            const std::size_t n = std::min(chunk, ops.size() - base);
            run_chunk(m, ops.subspan(base, n), dir);
        }
    }

    // AES-CBC with an HMAC: the suites the cipher and hash burst API covers (not 3DES).
    [[nodiscard]] bool sync_capable() const { return _mode == IMB_CIPHER_CBC && _hash != IMB_AUTH_NULL; }

    // The fields of a job that change from op to op (mode: the context's _mode).
    static void fill_op_fields(IMB_JOB* job, crypto_op& op, std::uint8_t* tag_out, IMB_CIPHER_MODE mode) {
        // An empty cipher region (pure HMAC) is not a valid CBC job; ESP never produces one,
        // but the primitive stays total.
        job->cipher_mode = op.len == 0 ? IMB_CIPHER_NULL : mode;
        job->auth_tag_output = tag_out;
        job->msg_len_to_cipher_in_bytes = op.len;
        job->iv = op.iv;
        job->src = op.auth;
        job->dst = op.data;
        job->cipher_start_src_offset_in_bytes = std::uint64_t(op.data - op.auth);
        job->msg_len_to_hash_in_bytes = op.auth_len;
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
        job->iv = op.iv;
        job->iv_len_in_bytes = _iv_len;
        job->src = op.auth;
        job->dst = op.data;
        job->cipher_start_src_offset_in_bytes = std::uint64_t(op.data - op.auth);
        job->hash_start_src_offset_in_bytes = 0;
        job->msg_len_to_hash_in_bytes = op.auth_len;
        job->u.HMAC._hashed_auth_key_xor_ipad = _ipad;
        job->u.HMAC._hashed_auth_key_xor_opad = _opad;
    }

    [[nodiscard]] unsigned gcm_rounds() const { return _key_len == 32 ? 14 : 10; }

    // GCM is one buffer at a time in the library (no SIMD lanes across packets). Where the CPU
    // and the manager's code path allow, runs of at least min_ops short messages go to gcm_mb,
    // which encrypts the counter blocks of up to 32 messages together; the rest is called directly
    // (IMB_AES*_GCM_ENC/DEC) instead of through the job manager, whose job checks and queue
    // handling cost about as much as the cipher at 64 B.
    void gcm_direct(IMB_MGR* m, std::span<crypto_op> ops, IMB_CIPHER_DIRECTION dir) {
        if (!_gcm_mb || !main_holder().gcm_mb || ops.size() < gcm_mb::min_ops) return gcm_library(m, ops, dir);
        for (std::size_t i = 0; i < ops.size();) {
            std::size_t j = i;
            while (j < ops.size() && gcm_mb::eligible(ops[j])) ++j;
            if (j - i < gcm_mb::min_ops) {
                gcm_library(m, ops.subspan(i, std::max<std::size_t>(j - i, 1)), dir);
                i += std::max<std::size_t>(j - i, 1);
                continue;
            }
            gcm_mb::run(_k.gcm.expanded_keys, gcm_rounds(), _gcm_h, _salt.data(), ops.subspan(i, j - i),
                        dir == IMB_DIR_ENCRYPT, _icv);
            i = j;
        }
    }

    // The library's AES-GCM, one message per call. The context holds per-message state derived
    // from the key (the encrypted initial counter block): wiped after the burst.
    void gcm_library(IMB_MGR* m, std::span<crypto_op> ops, IMB_CIPHER_DIRECTION dir) {
        struct gcm_context_data gctx;
        alignas(16) std::uint8_t nonce[12];
        std::memcpy(nonce, _salt.data(), 4);  // RFC 4106 4: salt || explicit IV
        alignas(16) std::uint8_t tag[16];
        for (auto& op : ops) {
            std::memcpy(nonce + 4, op.iv, 8);
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

    void run_chunk(IMB_MGR* m, std::span<crypto_op> ops, IMB_CIPHER_DIRECTION dir) {
        if (_mode == IMB_CIPHER_GCM) return gcm_direct(m, ops, dir);
        if (sync_capable()) {
            add_ops(t_now, t_mb_now, m, ops, dir);
            run_mb(t_mb_now);
            return run_sync(t_now);
        }
        // 3DES: one burst of chained jobs through the manager's queue.
        alignas(16) base::uninit_array<std::array<std::uint8_t, 64>, chunk> tags;
        for (auto& op : ops) op.ok = false;
        auto fill = [&](IMB_JOB* job, std::size_t i) {
            fill_job(job, ops[i], dir, dir == IMB_DIR_ENCRYPT ? ops[i].tag : tags[i].data());
            job->user_data = reinterpret_cast<void*>(std::uintptr_t(i));
        };
        auto done = [&](IMB_JOB* job) {
            crypto_op& op = ops[reinterpret_cast<std::uintptr_t>(job->user_data)];
            op.ok = job->status == IMB_STATUS_COMPLETED &&
                    (dir == IMB_DIR_ENCRYPT || tag_equal(tags[reinterpret_cast<std::uintptr_t>(job->user_data)].data(), op.tag, _icv));
        };
        const auto n = std::uint32_t(ops.size());
        if (!submit_burst(m, n, fill, done)) submit_jobs(m, n, fill, done);
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
    gcm_mb::hash_key _gcm_h;  // GCM with gcm_mb: powers of the hash key
    bool _gcm_mb = false;
    cbc_mb::sa_keys _mbk;     // AES-CBC + HMAC-SHA-256-128 (_cbc_mb): the keys as cbc_mb takes them
    alignas(64) std::uint8_t _enc4[15][64] = {};  // ... with the encryption round keys broadcast
    bool _cbc_mb = false;
    alignas(16) std::uint8_t _ipad[64] = {};
    alignas(16) std::uint8_t _opad[64] = {};
    std::array<std::uint8_t, 4> _salt{};
    const void* _enc_keys = nullptr;
    const void* _dec_keys = nullptr;
    IMB_CIPHER_MODE _mode = IMB_CIPHER_CBC;
    IMB_HASH_ALG _hash = IMB_AUTH_NULL;
    std::uint32_t _icv = 0;
    std::uint32_t _key_len = 0;
    std::uint32_t _iv_len = 16;
    lane _lane = lane::main;
    const std::uint64_t _serial = next_serial.fetch_add(1, std::memory_order_relaxed);
};

} // namespace

bool ipsecmb_usable() { return thread_mgr() != nullptr; }
bool ipsecmb_gcm_mb_active() { return main_holder().gcm_mb; }
bool ipsecmb_cbc_mb_active() { return main_holder().cbc_mb; }

void ipsecmb_decrypt_many(std::span<crypto_op> ops, std::span<crypto_ctx* const> ctxs) {
    ipsecmb_ctx::decrypt_many(ops, ctxs);
}

void ipsecmb_complete_deferred() {
    run_mb(t_mb_deferred);
    run_sync(t_deferred);
}

std::unique_ptr<crypto_ctx> make_ipsecmb_ctx(enc_alg enc, std::span<const std::uint8_t> enc_key, integ_alg integ,
                                             std::span<const std::uint8_t> integ_key, std::string* error) {
    auto c = std::make_unique<ipsecmb_ctx>();
    if (!c->init(enc, enc_key, integ, integ_key, error)) return nullptr;
    return c;
}

} // namespace esp::detail
