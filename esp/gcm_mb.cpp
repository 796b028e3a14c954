// Multi-buffer AES-GCM for short messages (see gcm_mb.hpp). Per run():
//  1. counter blocks: per message J0 = salt || IV || 1, then J0 + 1 .. J0 + nb (one per 16 data
//     bytes), all of the burst's packed into one scratch array (NIST SP 800-38D 7.1; RFC 4106 4)
//  2. AES over the whole array, four blocks per VAES instruction, four instructions in flight:
//     E(J0) masks the tag, the rest is the keystream
//  3. per message: data XOR keystream in place (64 bytes per step, masked at the end), and
//     GHASH over AAD || ciphertext || lengths as one sum of products with powers of H
//     (block i of n times H^(n - i + 1)), reduced once; tag = GHASH XOR E(J0)
//  4. the scratch (keystream, tag masks) is wiped
//
// GHASH runs in the POLYVAL representation of the same field (RFC 8452 Appendix A): with the
// blocks byte-reversed and H multiplied by x, the carry-less product of two elements reduced by
// two folds with 0xc2 << 56 is the field product (times x^-128, which the choice of H' absorbs),
// and the result byte-reversed back is GHASH's. All of it is table-free and branch-free on
// secret data: AES rounds in the AES instructions, products in PCLMULQDQ.
#include "gcm_mb.hpp"
#include "simd.hpp"

#include <cpuid.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

#define ESP_GCM_MB_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,vaes,vpclmulqdq,aes,pclmul")))

namespace esp::detail::gcm_mb {

namespace {

// a * b * x^-128 in the POLYVAL field (RFC 8452 3): 128x128 carry-less product, then the low
// 128 bits folded away 64 at a time (a multiple of the field polynomial added each time).
ESP_GCM_MB_TARGET inline __m128i reduce(__m128i lo, __m128i hi) {
    const __m128i poly = _mm_set_epi64x(std::int64_t(0xc200000000000000ULL), 1);
    lo = _mm_xor_si128(_mm_shuffle_epi32(lo, 0x4e), _mm_clmulepi64_si128(lo, poly, 0x10));
    lo = _mm_xor_si128(_mm_shuffle_epi32(lo, 0x4e), _mm_clmulepi64_si128(lo, poly, 0x10));
    return _mm_xor_si128(lo, hi);
}

ESP_GCM_MB_TARGET inline void mul_acc(__m128i& lo, __m128i& hi, __m128i& mid, __m128i a, __m128i b) {
    lo = _mm_xor_si128(lo, _mm_clmulepi64_si128(a, b, 0x00));
    hi = _mm_xor_si128(hi, _mm_clmulepi64_si128(a, b, 0x11));
    mid = _mm_ternarylogic_epi64(mid, _mm_clmulepi64_si128(a, b, 0x01), _mm_clmulepi64_si128(a, b, 0x10), 0x96);
}

ESP_GCM_MB_TARGET inline __m128i dot(__m128i a, __m128i b) {
    __m128i lo = _mm_setzero_si128(), hi = lo, mid = lo;
    mul_acc(lo, hi, mid, a, b);
    return reduce(_mm_xor_si128(lo, _mm_slli_si128(mid, 8)), _mm_xor_si128(hi, _mm_srli_si128(mid, 8)));
}

// mul_acc on four lane pairs at once.
ESP_GCM_MB_TARGET inline void mul_acc4(__m512i& lo, __m512i& hi, __m512i& mid, __m512i a, __m512i b) {
    lo = _mm512_xor_si512(lo, _mm512_clmulepi64_epi128(a, b, 0x00));
    hi = _mm512_xor_si512(hi, _mm512_clmulepi64_epi128(a, b, 0x11));
    mid = _mm512_ternarylogic_epi64(mid, _mm512_clmulepi64_epi128(a, b, 0x01), _mm512_clmulepi64_epi128(a, b, 0x10), 0x96);
}

// The XOR of a register's four 128-bit lanes.
ESP_GCM_MB_TARGET inline __m128i fold4(__m512i z) {
    const __m256i y = _mm256_xor_si256(_mm512_castsi512_si256(z), _mm512_extracti64x4_epi64(z, 1));
    return _mm_xor_si128(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1));
}

ESP_GCM_MB_TARGET inline __m128i byte_reverse_mask() {
    return _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
}

// mulX_POLYVAL (RFC 8452 Appendix A): the little-endian 128-bit value shifted left by one, the
// polynomial x^128 + x^127 + x^126 + x^121 + 1 added when a bit falls out.
__m128i mul_x(__m128i v) {
    std::uint64_t w[2];
    std::memcpy(w, &v, 16);
    const std::uint64_t top = w[1] >> 63;
    w[1] = (w[1] << 1 | w[0] >> 63) ^ (top * 0xc200000000000000ULL);
    w[0] = (w[0] << 1) ^ top;
    std::memcpy(&v, w, 16);
    return v;
}

constexpr std::size_t max_blocks = max_ops * (max_len / 16 + 1);

} // namespace

bool cpu_supported() {
    // CPUID leaf 1: AES (ECX 25), PCLMULQDQ (ECX 1), OSXSAVE (ECX 27); leaf 7: AVX512F (EBX 16),
    // AVX512DQ (EBX 17), AVX512BW (EBX 30), AVX512VL (EBX 31), VAES (ECX 9), VPCLMULQDQ
    // (ECX 10); and the OS saves the SSE, AVX, opmask and ZMM state (XCR0 bits 1, 2, 5-7).
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
    if ((c & (1u << 25)) == 0 || (c & (1u << 1)) == 0 || (c & (1u << 27)) == 0) return false;
    unsigned xlo = 0, xhi = 0;
    __asm__("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    if ((xlo & 0xe6u) != 0xe6u) return false;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    const unsigned ebx_need = 1u << 16 | 1u << 17 | 1u << 30 | 1u << 31;
    const unsigned ecx_need = 1u << 9 | 1u << 10;
    return (b & ebx_need) == ebx_need && (c & ecx_need) == ecx_need;
}

ESP_GCM_MB_TARGET void init(hash_key& hk, const std::uint8_t* round_keys, unsigned rounds) {
    const auto* rk = reinterpret_cast<const __m128i*>(round_keys);
    __m128i h = _mm_loadu_si128(rk);  // E_K(0^128): the first round's XOR of zero is the key
    for (unsigned r = 1; r < rounds; ++r) h = _mm_aesenc_si128(h, _mm_loadu_si128(rk + r));
    h = _mm_aesenclast_si128(h, _mm_loadu_si128(rk + rounds));
    const __m128i h1 = mul_x(_mm_shuffle_epi8(h, byte_reverse_mask()));
    __m128i p = h1;
    hk.q.fill(0);
    auto* q = reinterpret_cast<__m128i*>(hk.q.data());
    for (std::uint32_t e = 1; e <= powers; ++e) {
        _mm_store_si128(q + (powers - e), p);
        p = dot(p, h1);
    }
    OPENSSL_cleanse(&h, sizeof h);
    OPENSSL_cleanse(&p, sizeof p);
}

namespace {

// Step 3 for a message packed alone: ks = its E(J0), then its keystream blocks. Data four
// blocks per register; AAD and lengths blocks one each.
ESP_GCM_MB_TARGET void finish_packed(crypto_op& op, const __m128i* ks, const __m128i* q, bool encrypt, __mmask16 tag_mask) {
    const __m512i rev4 = _mm512_broadcast_i32x4(byte_reverse_mask());
    const std::uint32_t a = op.auth_len ? 1 : 0;
    const std::uint32_t blocks = a + (op.len + 15) / 16 + 1;  // AAD, data, lengths
    const __m128i* qa = q + (powers - blocks);                  // H^blocks: the AAD's power
    __m512i zlo = _mm512_setzero_si512(), zhi = zlo, zmid = zlo;
    for (std::uint32_t off = 0; off < op.len; off += 64) {
        const std::uint32_t left = op.len - off;
        const __mmask64 m = left >= 64 ? ~__mmask64(0) : (__mmask64(1) << left) - 1;
        const __m512i in = _mm512_maskz_loadu_epi8(m, op.data + off);
        const __m512i out = _mm512_xor_si512(in, _mm512_loadu_si512(ks + 1 + off / 16));
        _mm512_mask_storeu_epi8(op.data + off, m, out);
        const __m512i g = _mm512_shuffle_epi8(encrypt ? _mm512_maskz_mov_epi8(m, out) : in, rev4);
        mul_acc4(zlo, zhi, zmid, g, _mm512_loadu_si512(qa + a + off / 16));
    }
    __m128i lo = fold4(zlo), hi = fold4(zhi), mid = fold4(zmid);
    if (a) {
        const __m128i aad = _mm_maskz_loadu_epi8(__mmask16((1u << op.auth_len) - 1), op.auth);
        mul_acc(lo, hi, mid, _mm_shuffle_epi8(aad, byte_reverse_mask()), _mm_load_si128(qa));
    }
    // len(A) || len(C) in bits, byte-reversed: C's length in the low half.
    const __m128i lens = _mm_set_epi64x(std::int64_t(op.auth_len) * 8, std::int64_t(op.len) * 8);
    mul_acc(lo, hi, mid, lens, _mm_load_si128(q + powers - 1));
    const __m128i s = reduce(_mm_xor_si128(lo, _mm_slli_si128(mid, 8)), _mm_xor_si128(hi, _mm_srli_si128(mid, 8)));
    const __m128i tag = _mm_xor_si128(_mm_shuffle_epi8(s, byte_reverse_mask()), _mm_load_si128(ks));
    if (encrypt) {
        _mm_mask_storeu_epi8(op.tag, tag_mask, tag);
        op.ok = true;
    } else {
        // Constant time: one test of all the ICV's bytes.
        const __m128i diff = _mm_maskz_mov_epi8(tag_mask, _mm_xor_si128(tag, _mm_maskz_loadu_epi8(tag_mask, op.tag)));
        op.ok = _mm_testz_si128(diff, diff) != 0;
    }
}

// Four messages of one shape (the same number of data blocks, all with or all without AAD), one
// per 128-bit lane: register t holds block t of each, so their counters are one register plus
// t and GHASH multiplies each register by one power of H for all four lanes (block t stands at
// the same place in each message's sequence). Lengths and AAD sizes may differ within their
// last block: loads and stores are masked per lane.
ESP_GCM_MB_TARGET inline std::uint32_t shape(const crypto_op& op) { return (op.len + 15) / 16 * 2 + (op.auth_len ? 1 : 0); }

// J0 = salt || IV || 00000001 of each of the four, one per lane.
ESP_GCM_MB_TARGET inline __m512i group_j0(crypto_op* const* ops, std::uint32_t s32) {
    __m512i j0 = _mm512_setzero_si512();
    for (unsigned k = 0; k < 4; ++k) {
        std::uint64_t iv;
        std::memcpy(&iv, ops[k]->iv, 8);
        const __m128i j = _mm_set_epi64x(std::int64_t(std::uint64_t(0x01000000) << 32 | iv >> 32), std::int64_t(iv << 32 | s32));
        j0 = _mm512_mask_broadcast_i32x4(j0, __mmask16(0xf << (4 * k)), j);
    }
    return j0;
}

// Four 16-byte pieces, each masked, into one register, and back.
ESP_GCM_MB_TARGET inline __m512i load4(const std::array<const std::uint8_t*, 4>& p, std::uint32_t off,
                                       const std::array<__mmask16, 4>& m) {
    __m512i z = _mm512_castsi128_si512(_mm_maskz_loadu_epi8(m[0], p[0] + off));
    z = _mm512_inserti64x2(z, _mm_maskz_loadu_epi8(m[1], p[1] + off), 1);
    z = _mm512_inserti64x2(z, _mm_maskz_loadu_epi8(m[2], p[2] + off), 2);
    return _mm512_inserti64x2(z, _mm_maskz_loadu_epi8(m[3], p[3] + off), 3);
}
ESP_GCM_MB_TARGET inline void store4(const std::array<std::uint8_t*, 4>& p, std::uint32_t off,
                                     const std::array<__mmask16, 4>& m, __m512i z) {
    _mm_mask_storeu_epi8(p[0] + off, m[0], _mm512_castsi512_si128(z));
    _mm_mask_storeu_epi8(p[1] + off, m[1], _mm512_extracti64x2_epi64(z, 1));
    _mm_mask_storeu_epi8(p[2] + off, m[2], _mm512_extracti64x2_epi64(z, 2));
    _mm_mask_storeu_epi8(p[3] + off, m[3], _mm512_extracti64x2_epi64(z, 3));
}

// Step 3 for a group of four: ks[t] = block t of the keystream of all four (t = 0: E(J0)).
ESP_GCM_MB_TARGET void finish_group4(crypto_op* const* ops, const __m512i* ks, const __m128i* q, bool encrypt,
                                     std::uint32_t icv) {
    const std::uint32_t nb = (ops[0]->len + 15) / 16;
    const std::uint32_t a = ops[0]->auth_len ? 1 : 0;
    const std::uint32_t blocks = a + nb + 1;  // AAD, data, lengths
    const __m512i rev4 = _mm512_broadcast_i32x4(byte_reverse_mask());
    const std::array<__mmask16, 4> full{0xffff, 0xffff, 0xffff, 0xffff};
    std::array<std::uint8_t*, 4> data;
    std::array<const std::uint8_t*, 4> cdata, auth;
    std::array<__mmask16, 4> last, aad_m;  // the bytes of each lane's last data block, of its AAD
    __mmask64 last4 = 0;                    // last, one register wide
    for (unsigned k = 0; k < 4; ++k) {
        data[k] = ops[k]->data;
        cdata[k] = ops[k]->data;
        auth[k] = ops[k]->auth;
        const std::uint32_t tail = ops[k]->len - 16 * (nb ? nb - 1 : 0);  // 1..16 (0 without data)
        last[k] = __mmask16((1u << tail) - 1);
        aad_m[k] = __mmask16((1u << ops[k]->auth_len) - 1);
        last4 |= __mmask64(last[k]) << (16 * k);
    }
    __m512i lo = _mm512_setzero_si512(), hi = lo, mid = lo;
    if (a) mul_acc4(lo, hi, mid, _mm512_shuffle_epi8(load4(auth, 0, aad_m), rev4), _mm512_broadcast_i32x4(q[powers - blocks]));
    for (std::uint32_t t = 1; t <= nb; ++t) {
        const std::uint32_t off = 16 * (t - 1);
        const bool end = t == nb;
        const auto& m = end ? last : full;
        const __m512i in = load4(cdata, off, m);
        const __m512i out = _mm512_xor_si512(in, _mm512_load_si512(ks + t));
        store4(data, off, m, out);
        const __m512i g = encrypt ? _mm512_maskz_mov_epi8(end ? last4 : ~__mmask64(0), out) : in;
        mul_acc4(lo, hi, mid, _mm512_shuffle_epi8(g, rev4), _mm512_broadcast_i32x4(q[powers - blocks + a + t - 1]));
    }
    // len(A) || len(C) in bits per lane, byte-reversed: C's length in the low half.
    const __m512i lens = _mm512_set_epi64(std::int64_t(ops[3]->auth_len) * 8, std::int64_t(ops[3]->len) * 8,
                                          std::int64_t(ops[2]->auth_len) * 8, std::int64_t(ops[2]->len) * 8,
                                          std::int64_t(ops[1]->auth_len) * 8, std::int64_t(ops[1]->len) * 8,
                                          std::int64_t(ops[0]->auth_len) * 8, std::int64_t(ops[0]->len) * 8);
    mul_acc4(lo, hi, mid, lens, _mm512_broadcast_i32x4(q[powers - 1]));

    // Reduce the four lanes at once (as reduce() does one), then tag = GHASH XOR E(J0).
    lo = _mm512_xor_si512(lo, _mm512_bslli_epi128(mid, 8));
    hi = _mm512_xor_si512(hi, _mm512_bsrli_epi128(mid, 8));
    const __m512i poly = _mm512_broadcast_i32x4(_mm_set_epi64x(std::int64_t(0xc200000000000000ULL), 1));
    lo = _mm512_xor_si512(_mm512_shuffle_epi32(lo, _MM_PERM_BADC), _mm512_clmulepi64_epi128(lo, poly, 0x10));
    lo = _mm512_xor_si512(_mm512_shuffle_epi32(lo, _MM_PERM_BADC), _mm512_clmulepi64_epi128(lo, poly, 0x10));
    const __m512i tags = _mm512_xor_si512(_mm512_shuffle_epi8(_mm512_xor_si512(lo, hi), rev4), _mm512_load_si512(ks));
    const __mmask16 tm = __mmask16((1u << icv) - 1);
    const std::array<__mmask16, 4> tm4{tm, tm, tm, tm};
    std::array<std::uint8_t*, 4> tag_p;
    for (unsigned k = 0; k < 4; ++k) tag_p[k] = ops[k]->tag;
    if (encrypt) {
        store4(tag_p, 0, tm4, tags);
        for (unsigned k = 0; k < 4; ++k) ops[k]->ok = true;
    } else {
        // Constant time: the four compared at once, each lane's verdict from one mask.
        const std::array<const std::uint8_t*, 4> want{tag_p[0], tag_p[1], tag_p[2], tag_p[3]};
        const __mmask64 t64 = __mmask64(tm) | __mmask64(tm) << 16 | __mmask64(tm) << 32 | __mmask64(tm) << 48;
        const __m512i diff = _mm512_xor_si512(_mm512_maskz_mov_epi8(t64, tags), load4(want, 0, tm4));
        const unsigned bad = _mm512_test_epi64_mask(diff, diff);  // two bits per lane
        for (unsigned k = 0; k < 4; ++k) ops[k]->ok = ((bad >> (2 * k)) & 3u) == 0;
    }
}

// AES on N registers of four counter blocks each, in place, the N chains interleaved.
template <unsigned N>
ESP_GCM_MB_TARGET inline void aes_regs(__m128i* blocks, const __m512i* rk, unsigned rounds) {
    __m512i x[N];
#pragma GCC unroll 4
    for (unsigned j = 0; j < N; ++j) x[j] = _mm512_xor_si512(_mm512_load_si512(blocks + 4 * j), rk[0]);
    for (unsigned r = 1; r < rounds; ++r) {
#pragma GCC unroll 4
        for (unsigned j = 0; j < N; ++j) x[j] = _mm512_aesenc_epi128(x[j], rk[r]);
    }
#pragma GCC unroll 4
    for (unsigned j = 0; j < N; ++j) _mm512_store_si512(blocks + 4 * j, _mm512_aesenclast_epi128(x[j], rk[rounds]));
}

// run() for at most max_ops ops.
ESP_GCM_MB_TARGET void run_chunk(const std::uint8_t* round_keys, unsigned rounds, const hash_key& hk,
                                 const std::uint8_t* salt, std::span<crypto_op> ops, bool encrypt, std::uint32_t icv) {
    // One block more per message than its data (J0), and the last message's 4-block stores.
    alignas(64) __m128i ctr[max_blocks + 8];  // not initialised: only written blocks are read back
    std::array<crypto_op*, max_ops> grouped, alone;
    std::array<std::uint32_t, max_ops> first;  // each group's, then each lone message's J0 in ctr
    std::size_t n_grouped = 0, n_alone = 0;
    std::uint32_t s32;
    std::memcpy(&s32, salt, 4);

    // 1. Counter blocks. Four consecutive messages of one shape form a group: their blocks t in
    //    one register (J0s + t), stored aligned. The others after the groups, packed one after
    //    the other: J0 + j only changes the last byte (j <= 16), so a message's counters are J0
    //    plus j << 24 in its last word.
    const __m512i step1 = _mm512_set_epi32(1 << 24, 0, 0, 0, 1 << 24, 0, 0, 0, 1 << 24, 0, 0, 0, 1 << 24, 0, 0, 0);
    std::uint32_t total = 0;
    for (std::size_t i = 0; i < ops.size();) {
        const std::uint32_t sh = shape(ops[i]);
        if (i + 4 <= ops.size() && shape(ops[i + 1]) == sh && shape(ops[i + 2]) == sh && shape(ops[i + 3]) == sh) {
            crypto_op** g = &grouped[n_grouped];
            for (unsigned k = 0; k < 4; ++k) g[k] = &ops[i + k];
            first[n_grouped / 4] = total;
            n_grouped += 4;
            __m512i c = group_j0(g, s32);
            const std::uint32_t nb = (ops[i].len + 15) / 16;
            for (std::uint32_t t = 0; t <= nb; ++t, total += 4) {
                _mm512_store_si512(&ctr[total], c);
                c = _mm512_add_epi32(c, step1);
            }
            i += 4;
        } else {
            alone[n_alone++] = &ops[i++];
        }
    }
    const std::size_t n_groups = n_grouped / 4;
    const __m512i step0 = _mm512_set_epi32(3 << 24, 0, 0, 0, 2 << 24, 0, 0, 0, 1 << 24, 0, 0, 0, 0, 0, 0, 0);
    const __m512i step4 = _mm512_set_epi32(4 << 24, 0, 0, 0, 4 << 24, 0, 0, 0, 4 << 24, 0, 0, 0, 4 << 24, 0, 0, 0);
    for (std::size_t i = 0; i < n_alone; ++i) {
        std::uint64_t iv;
        std::memcpy(&iv, alone[i]->iv, 8);
        const __m128i j0 = _mm_set_epi64x(std::int64_t(std::uint64_t(0x01000000) << 32 | iv >> 32), std::int64_t(iv << 32 | s32));
        __m512i c = _mm512_add_epi32(_mm512_broadcast_i32x4(j0), step0);
        const std::uint32_t blocks = (alone[i]->len + 15) / 16 + 1;
        first[n_groups + i] = total;
        for (std::uint32_t b = 0; b < blocks; b += 4) {
            _mm512_storeu_si512(&ctr[total + b], c);
            c = _mm512_add_epi32(c, step4);
        }
        total += blocks;
    }

    // 2. The keystream, four registers of four blocks in flight, the rest (one to three
    //    registers: a single message's blocks, say) in one last pass of its own.
    const auto* rk128 = reinterpret_cast<const __m128i*>(round_keys);
    __m512i rk[15];
    for (unsigned r = 0; r <= rounds; ++r) rk[r] = _mm512_broadcast_i32x4(_mm_loadu_si128(rk128 + r));
    const std::uint32_t regs = (total + 3) / 4;
    std::uint32_t done = 0;
    for (; done + 4 <= regs; done += 4) aes_regs<4>(&ctr[4 * done], rk, rounds);
    switch (regs - done) {
    case 3: aes_regs<3>(&ctr[4 * done], rk, rounds); break;
    case 2: aes_regs<2>(&ctr[4 * done], rk, rounds); break;
    case 1: aes_regs<1>(&ctr[4 * done], rk, rounds); break;
    default: break;
    }

    // 3. CTR in place and GHASH, per group, then per lone message. Bytes past the data are
    //    masked out of loads and stores (zero in the GHASH input: the last block's padding).
    const auto* q = reinterpret_cast<const __m128i*>(hk.q.data());
    for (std::size_t g = 0; g < n_groups; ++g)
        finish_group4(&grouped[4 * g], reinterpret_cast<const __m512i*>(&ctr[first[g]]), q, encrypt, icv);
    const __mmask16 tag_mask = __mmask16((1u << icv) - 1);
    for (std::size_t i = 0; i < n_alone; ++i) finish_packed(*alone[i], &ctr[first[n_groups + i]], q, encrypt, tag_mask);

    // 4. Keystream and tag masks are as sensitive as the plaintext they covered.
    // explicit_bzero: glibc's vector memset, never elided (OPENSSL_cleanse stores 8 bytes at a time:
    // 3% of a 64 B packet's time in the engine).
    explicit_bzero(ctr, (4 * regs + 4) * sizeof(__m128i));  // + the last message's 4-block counter store
}

} // namespace

void run(const std::uint8_t* round_keys, unsigned rounds, const hash_key& hk, const std::uint8_t* salt,
         std::span<crypto_op> ops, bool encrypt, std::uint32_t icv) {
    for (std::size_t i = 0; i < ops.size(); i += max_ops)
        run_chunk(round_keys, rounds, hk, salt, ops.subspan(i, std::min(max_ops, ops.size() - i)), encrypt, icv);
}

} // namespace esp::detail::gcm_mb
