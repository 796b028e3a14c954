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

// GCC 12's AVX-512 intrinsics fill the unused operand with _mm512_undefined_*(), a deliberate
// self-initialisation that -Wuninitialized reports at every use.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
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
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("vaes") && __builtin_cpu_supports("vpclmulqdq") &&
           __builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul");
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

// run() for at most max_ops ops.
ESP_GCM_MB_TARGET void run_chunk(const std::uint8_t* round_keys, unsigned rounds, const hash_key& hk,
                                 const std::uint8_t* salt, std::span<crypto_op> ops, bool encrypt, std::uint32_t icv) {
    // One block more per message than its data (J0); the last 16-block pass may reach 15 beyond.
    alignas(64) __m128i ctr[max_blocks + 16];  // not initialised: only written blocks are read back
    std::array<std::uint32_t, max_ops> first;  // each message's J0 in ctr
    const std::size_t n = ops.size();

    // 1. J0 = salt || IV || 00000001 as four little-endian words; J0 + j only changes the last
    //    byte (j <= 17), so the counters of a message are J0 plus j << 24 in its last word.
    std::uint32_t s32;
    std::memcpy(&s32, salt, 4);
    const __m512i step0 = _mm512_set_epi32(3 << 24, 0, 0, 0, 2 << 24, 0, 0, 0, 1 << 24, 0, 0, 0, 0, 0, 0, 0);
    const __m512i step4 = _mm512_set_epi32(4 << 24, 0, 0, 0, 4 << 24, 0, 0, 0, 4 << 24, 0, 0, 0, 4 << 24, 0, 0, 0);
    std::uint32_t total = 0;
    for (std::size_t i = 0; i < n; ++i) {
        std::uint32_t iv0, iv1;
        std::memcpy(&iv0, ops[i].iv.data(), 4);
        std::memcpy(&iv1, ops[i].iv.data() + 4, 4);
        const __m128i j0 = _mm_set_epi32(0x01000000, int(iv1), int(iv0), int(s32));
        __m512i c = _mm512_add_epi32(_mm512_broadcast_i32x4(j0), step0);
        const std::uint32_t blocks = (ops[i].len + 15) / 16 + 1;
        first[i] = total;
        for (std::uint32_t b = 0; b < blocks; b += 4) {
            _mm512_storeu_si512(&ctr[total + b], c);
            c = _mm512_add_epi32(c, step4);
        }
        total += blocks;
    }

    // 2. The keystream, sixteen blocks (four registers) per pass, the last pass padded with
    //    whatever the scratch holds (never read back): a short burst is as fast as one pass.
    const auto* rk128 = reinterpret_cast<const __m128i*>(round_keys);
    __m512i rk[15];
    for (unsigned r = 0; r <= rounds; ++r) rk[r] = _mm512_broadcast_i32x4(_mm_loadu_si128(rk128 + r));
    const std::uint32_t padded = (total + 15) & ~15u;
    for (std::uint32_t b = 0; b < padded; b += 16) {
        __m512i x0 = _mm512_xor_si512(_mm512_load_si512(&ctr[b]), rk[0]);
        __m512i x1 = _mm512_xor_si512(_mm512_load_si512(&ctr[b + 4]), rk[0]);
        __m512i x2 = _mm512_xor_si512(_mm512_load_si512(&ctr[b + 8]), rk[0]);
        __m512i x3 = _mm512_xor_si512(_mm512_load_si512(&ctr[b + 12]), rk[0]);
        for (unsigned r = 1; r < rounds; ++r) {
            x0 = _mm512_aesenc_epi128(x0, rk[r]);
            x1 = _mm512_aesenc_epi128(x1, rk[r]);
            x2 = _mm512_aesenc_epi128(x2, rk[r]);
            x3 = _mm512_aesenc_epi128(x3, rk[r]);
        }
        _mm512_store_si512(&ctr[b], _mm512_aesenclast_epi128(x0, rk[rounds]));
        _mm512_store_si512(&ctr[b + 4], _mm512_aesenclast_epi128(x1, rk[rounds]));
        _mm512_store_si512(&ctr[b + 8], _mm512_aesenclast_epi128(x2, rk[rounds]));
        _mm512_store_si512(&ctr[b + 12], _mm512_aesenclast_epi128(x3, rk[rounds]));
    }

    // 3. Per message: CTR in place and GHASH. Bytes past the data are masked out of loads and
    //    stores (zero in the GHASH input: the padding of the last block).
    const __m512i rev4 = _mm512_broadcast_i32x4(byte_reverse_mask());
    const auto* q = reinterpret_cast<const __m128i*>(hk.q.data());
    const __mmask16 tag_mask = __mmask16((1u << icv) - 1);
    for (std::size_t i = 0; i < n; ++i) {
        crypto_op& op = ops[i];
        const __m128i* ks = &ctr[first[i]];
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
            const __m512i h = _mm512_loadu_si512(qa + a + off / 16);
            zlo = _mm512_xor_si512(zlo, _mm512_clmulepi64_epi128(g, h, 0x00));
            zhi = _mm512_xor_si512(zhi, _mm512_clmulepi64_epi128(g, h, 0x11));
            zmid = _mm512_ternarylogic_epi64(zmid, _mm512_clmulepi64_epi128(g, h, 0x01),
                                             _mm512_clmulepi64_epi128(g, h, 0x10), 0x96);
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

    // 4. Keystream and tag masks are as sensitive as the plaintext they covered.
    OPENSSL_cleanse(ctr, (padded + 4) * sizeof(__m128i));  // + the last message's 4-block counter store
}

} // namespace

void run(const std::uint8_t* round_keys, unsigned rounds, const hash_key& hk, const std::uint8_t* salt,
         std::span<crypto_op> ops, bool encrypt, std::uint32_t icv) {
    for (std::size_t i = 0; i < ops.size(); i += max_ops)
        run_chunk(round_keys, rounds, hk, salt, ops.subspan(i, std::min(max_ops, ops.size() - i)), encrypt, icv);
}

} // namespace esp::detail::gcm_mb
