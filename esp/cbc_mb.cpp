// Multi-buffer AES-CBC + HMAC-SHA-256 for short messages (see cbc_mb.hpp). Per pass of up to
// sixteen messages:
//  - HMAC-SHA-256 (RFC 2104, FIPS 180-4 6.2): the inner hash starts from the library's
//    precomputed state after (K ^ ipad) and runs over the message's blocks, sixteen messages in
//    the sixteen 32-bit lanes of each register: each step loads one 64-byte block per message
//    in place (masked: the last data block's bytes past the message read as zero; the 0x80,
//    the length and a block of padding only go into registers), byte-swaps and transposes them
//    into the schedule's sixteen words, and runs the 64 rounds; a message with fewer blocks
//    keeps its state (masked adds). The outer hash is one block per message built in registers
//    (inner digest, 0x80, the length 768), from the (K ^ opad) state.
//  - AES-CBC encryption (SP 800-38A 6.2): one message per 128-bit lane, four registers, so
//    each block step runs sixteen chains with four instructions in flight.
//  - AES-CBC decryption: up to four blocks of one message per register (the blocks are
//    independent), four registers in flight; the previous ciphertext blocks come from the
//    same load shifted by one block.
// Everything is data-independent in time: lengths and keys are public, AES is in the AES
// instructions, SHA-256 has no tables.
#include "cbc_mb.hpp"

#include "gcm_mb.hpp"
#include "simd.hpp"
#include "tag_equal.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#define ESP_CBC_MB_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,vaes,aes")))

namespace esp::detail::cbc_mb {

namespace {

// FIPS 180-4 4.2.2
alignas(64) constexpr std::uint32_t k256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

// Byte order reversed within each 32-bit word (SHA-256's words are big-endian).
ESP_CBC_MB_TARGET inline __m512i word_bswap_mask() {
    return _mm512_broadcast_i32x4(_mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3));
}

template <int N>
ESP_CBC_MB_TARGET inline __m512i ror(__m512i x) {
    return _mm512_ror_epi32(x, N);
}

// One round (FIPS 180-4 6.2.2 step 3) on sixteen lanes; the caller rotates the roles of a..h.
// Sigma and Ch/Maj are one three-input logic instruction each (0x96: a ^ b ^ c, 0xca: e ? f : g,
// 0xe8: majority).
ESP_CBC_MB_TARGET inline void sha_round(__m512i a, __m512i b, __m512i c, __m512i& d, __m512i e, __m512i f,
                                        __m512i g, __m512i& h, __m512i kw) {
    const __m512i s1 = _mm512_ternarylogic_epi32(ror<6>(e), ror<11>(e), ror<25>(e), 0x96);
    const __m512i ch = _mm512_ternarylogic_epi32(e, f, g, 0xca);
    const __m512i t1 = _mm512_add_epi32(_mm512_add_epi32(h, s1), _mm512_add_epi32(ch, kw));
    const __m512i s0 = _mm512_ternarylogic_epi32(ror<2>(a), ror<13>(a), ror<22>(a), 0x96);
    const __m512i maj = _mm512_ternarylogic_epi32(a, b, c, 0xe8);
    d = _mm512_add_epi32(d, t1);
    h = _mm512_add_epi32(t1, _mm512_add_epi32(s0, maj));
}

// K[t] + W[t], computing W[t] into w[t % 16] for t >= 16 (FIPS 180-4 6.2.2 step 1). k is
// k256 behind a compiler barrier: K[t] is then added as a broadcast memory operand (a load-port
// micro-op) instead of an immediate moved to a general register and broadcast from there, a
// vector-port micro-op on the ports the rounds saturate.
ESP_CBC_MB_TARGET inline __m512i kw(__m512i* w, const std::uint32_t* k, int t) {
    if (t >= 16) {
        const __m512i x15 = w[(t - 15) & 15], x2 = w[(t - 2) & 15];
        const __m512i s0 = _mm512_ternarylogic_epi32(ror<7>(x15), ror<18>(x15), _mm512_srli_epi32(x15, 3), 0x96);
        const __m512i s1 = _mm512_ternarylogic_epi32(ror<17>(x2), ror<19>(x2), _mm512_srli_epi32(x2, 10), 0x96);
        w[t & 15] = _mm512_add_epi32(_mm512_add_epi32(w[t & 15], w[(t - 7) & 15]), _mm512_add_epi32(s0, s1));
    }
    return _mm512_add_epi32(w[t & 15], _mm512_set1_epi32(int(k[t])));
}

// One block on sixteen lanes: s (the eight state words) += compression of w, in lanes `active`.
ESP_CBC_MB_TARGET void compress(__m512i* s, __m512i* w, __mmask16 active) {
    __m512i a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
    const std::uint32_t* k = k256;
    __asm__("" : "+r"(k));
#pragma GCC unroll 8
    for (int t = 0; t < 64; t += 8) {
        sha_round(a, b, c, d, e, f, g, h, kw(w, k, t));
        sha_round(h, a, b, c, d, e, f, g, kw(w, k, t + 1));
        sha_round(g, h, a, b, c, d, e, f, kw(w, k, t + 2));
        sha_round(f, g, h, a, b, c, d, e, kw(w, k, t + 3));
        sha_round(e, f, g, h, a, b, c, d, kw(w, k, t + 4));
        sha_round(d, e, f, g, h, a, b, c, kw(w, k, t + 5));
        sha_round(c, d, e, f, g, h, a, b, kw(w, k, t + 6));
        sha_round(b, c, d, e, f, g, h, a, kw(w, k, t + 7));
    }
    s[0] = _mm512_mask_add_epi32(s[0], active, s[0], a);
    s[1] = _mm512_mask_add_epi32(s[1], active, s[1], b);
    s[2] = _mm512_mask_add_epi32(s[2], active, s[2], c);
    s[3] = _mm512_mask_add_epi32(s[3], active, s[3], d);
    s[4] = _mm512_mask_add_epi32(s[4], active, s[4], e);
    s[5] = _mm512_mask_add_epi32(s[5], active, s[5], f);
    s[6] = _mm512_mask_add_epi32(s[6], active, s[6], g);
    s[7] = _mm512_mask_add_epi32(s[7], active, s[7], h);
}

// w[j] = word j (big-endian) of each lane's 64-byte block: r[i] is lane i's block, its words
// already byte-swapped. A 16x16 transpose of 32-bit words: pairs of rows interleaved by words,
// then by pairs of words, which leaves word 4k + m of rows 4g .. 4g + 3 in 128-bit lane k of
// register (g, m); the last two steps move those 128-bit lanes into place.
ESP_CBC_MB_TARGET inline void transpose_words(__m512i* w, const __m512i* r) {
    __m512i u[4][4];  // [g][m]
#pragma GCC unroll 4
    for (int g = 0; g < 4; ++g) {
        const __m512i t0 = _mm512_unpacklo_epi32(r[4 * g], r[4 * g + 1]);
        const __m512i t1 = _mm512_unpackhi_epi32(r[4 * g], r[4 * g + 1]);
        const __m512i t2 = _mm512_unpacklo_epi32(r[4 * g + 2], r[4 * g + 3]);
        const __m512i t3 = _mm512_unpackhi_epi32(r[4 * g + 2], r[4 * g + 3]);
        u[g][0] = _mm512_unpacklo_epi64(t0, t2);
        u[g][1] = _mm512_unpackhi_epi64(t0, t2);
        u[g][2] = _mm512_unpacklo_epi64(t1, t3);
        u[g][3] = _mm512_unpackhi_epi64(t1, t3);
    }
#pragma GCC unroll 4
    for (int m = 0; m < 4; ++m) {
        const __m512i v0 = _mm512_shuffle_i32x4(u[0][m], u[1][m], 0x44);
        const __m512i v1 = _mm512_shuffle_i32x4(u[0][m], u[1][m], 0xee);
        const __m512i v2 = _mm512_shuffle_i32x4(u[2][m], u[3][m], 0x44);
        const __m512i v3 = _mm512_shuffle_i32x4(u[2][m], u[3][m], 0xee);
        w[m] = _mm512_shuffle_i32x4(v0, v2, 0x88);
        w[4 + m] = _mm512_shuffle_i32x4(v0, v2, 0xdd);
        w[8 + m] = _mm512_shuffle_i32x4(v1, v3, 0x88);
        w[12 + m] = _mm512_shuffle_i32x4(v1, v3, 0xdd);
    }
}

// Lane i of s[0..8) = the eight words at states[i] (the library's HMAC states: the SHA-256
// working words in native order). One broadcast each when all lanes share the state (one SA).
ESP_CBC_MB_TARGET void load_states(__m512i* s, const std::uint8_t* const* states) {
    bool same = true;
    for (unsigned i = 1; i < lanes; ++i) same &= states[i] == states[0];
    std::uint32_t v[8];
    if (same) {
        std::memcpy(v, states[0], sizeof v);
        for (int k = 0; k < 8; ++k) s[k] = _mm512_set1_epi32(int(v[k]));
        explicit_bzero(v, sizeof v);  // key-derived
        return;
    }
    // Word k of every lane into register k.
    alignas(64) std::uint32_t t[8][lanes];
    for (unsigned i = 0; i < lanes; ++i) {
        std::memcpy(v, states[i], sizeof v);
        for (int k = 0; k < 8; ++k) t[k][i] = v[k];
    }
    for (int k = 0; k < 8; ++k) s[k] = _mm512_load_si512(t[k]);
    explicit_bzero(t, sizeof t);
    explicit_bzero(v, sizeof v);
}

// HMAC-SHA-256-128 of items[0..n), n <= lanes: to op.tag (encrypt), or compared with it (ok).
// FIPS 180-4 5.1.1 padding built in registers: a message's last data block is a masked load
// (the bytes past its end zero) with 0x80 after the data; a block holding only padding is all
// zeros; the block that ends the message gets the bit length (of ipad block + message) as its
// word 15 after the transpose (word 14, the length's high half, is zero there already).
ESP_CBC_MB_TARGET void hmac16(const item* items, std::uint32_t n, bool encrypt) {
    const std::uint8_t* src[lanes];
    std::uint32_t full[lanes], nb[lanes];
    std::uint64_t tail_mask[lanes], pad_bit[lanes];  // the last data block: bytes to load, the 0x80
    static_assert((64 + std::uint64_t(max_hash_len)) * 8 <= 0xffffffffu, "the bit length fits word 15");
    alignas(64) std::uint32_t bit_len[lanes];
    const std::uint8_t* states[lanes];
    std::uint32_t max_nb = 0;
    for (std::uint32_t i = 0; i < lanes; ++i) {
        const item& it = items[i < n ? i : 0];
        const std::uint32_t len = it.op->auth_len;
        src[i] = it.op->auth;
        states[i] = it.keys->ipad;
        if (i >= n) {  // an idle lane: never active, loads nothing
            full[i] = nb[i] = 0;
            tail_mask[i] = pad_bit[i] = 0;
            bit_len[i] = 0;
            continue;
        }
        full[i] = len / 64;
        const std::uint32_t rem = len % 64;
        tail_mask[i] = (std::uint64_t(1) << rem) - 1;
        pad_bit[i] = std::uint64_t(1) << rem;
        nb[i] = full[i] + (rem < 56 ? 1 : 2);  // the length needs bytes 56..63 of a block
        bit_len[i] = (64 + len) * 8;  // len <= max_hash_len (eligible)
        max_nb = std::max(max_nb, nb[i]);
    }
    const __m512i bswap = word_bswap_mask();
    const __m512i pad_byte = _mm512_set1_epi8(char(0x80));
    const __m512i length = _mm512_load_si512(bit_len);
    __m512i s[8], w[16];
    load_states(s, states);
    for (std::uint32_t b = 0; b < max_nb; ++b) {
        __m512i r[lanes];
        __mmask16 active = 0, last = 0;
#pragma GCC unroll 16
        for (std::uint32_t i = 0; i < lanes; ++i) {
            // Past the data (and in idle lanes) nothing is loaded, from the last data block's
            // address: a masked-off byte never faults.
            const std::uint64_t load = b < full[i] ? ~std::uint64_t(0) : b == full[i] ? tail_mask[i] : 0;
            const std::uint64_t pad = b == full[i] ? pad_bit[i] : 0;
            const __m512i x = _mm512_maskz_loadu_epi8(load, src[i] + 64 * std::min(b, full[i]));
            r[i] = _mm512_shuffle_epi8(_mm512_mask_mov_epi8(x, pad, pad_byte), bswap);
            active |= __mmask16(b < nb[i]) << i;
            last |= __mmask16(b + 1 == nb[i]) << i;
        }
        transpose_words(w, r);
        w[15] = _mm512_mask_mov_epi32(w[15], last, length);
        compress(s, w, active);
    }
    // Outer hash: one block of the inner digest (eight words), 0x80, zeros, 768 bits.
    for (int k = 0; k < 8; ++k) w[k] = s[k];
    w[8] = _mm512_set1_epi32(int(0x80000000u));
    for (int k = 9; k < 15; ++k) w[k] = _mm512_setzero_si512();
    w[15] = _mm512_set1_epi32((64 + 32) * 8);
    for (std::uint32_t i = 0; i < lanes; ++i) states[i] = items[i < n ? i : 0].keys->opad;
    load_states(s, states);
    compress(s, w, 0xffff);
    // sha256-128: the first four words, big-endian; lane i's tag is bytes 16i .. 16i + 15 of
    // the transpose.
    alignas(64) std::uint32_t out[4][lanes];
    for (int k = 0; k < 4; ++k) _mm512_store_si512(out[k], _mm512_shuffle_epi8(s[k], bswap));
    for (std::uint32_t i = 0; i < n; ++i) {
        crypto_op& op = *items[i].op;
        std::uint32_t tag[4];
        for (int k = 0; k < 4; ++k) tag[k] = out[k][i];
        if (encrypt) {
            std::memcpy(op.tag, tag, 16);
            op.ok = true;
            continue;
        }
        op.ok = tag_equal(reinterpret_cast<const std::uint8_t*>(tag), op.tag, 16);
    }
}

// The round keys for four 128-bit lanes: rk[r] holds round key r of the items' keys for lanes 0..3.
ESP_CBC_MB_TARGET inline void lane_keys(__m512i* rk, const void* const* keys, unsigned rounds) {
    const auto* k0 = static_cast<const __m128i*>(keys[0]);
    const auto* k1 = static_cast<const __m128i*>(keys[1]);
    const auto* k2 = static_cast<const __m128i*>(keys[2]);
    const auto* k3 = static_cast<const __m128i*>(keys[3]);
    for (unsigned r = 0; r <= rounds; ++r) {
        __m512i x = _mm512_castsi128_si512(_mm_loadu_si128(k0 + r));
        x = _mm512_inserti32x4(x, _mm_loadu_si128(k1 + r), 1);
        x = _mm512_inserti32x4(x, _mm_loadu_si128(k2 + r), 2);
        rk[r] = _mm512_inserti32x4(x, _mm_loadu_si128(k3 + r), 3);
    }
}

ESP_CBC_MB_TARGET inline __m512i load4(const std::uint8_t* const* p) {
    __m512i x = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p[0])));
    x = _mm512_inserti32x4(x, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[1])), 1);
    x = _mm512_inserti32x4(x, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[2])), 2);
    return _mm512_inserti32x4(x, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[3])), 3);
}

// CBC encryption of items[0..n), n <= lanes: lane i is 128-bit lane i % 4 of register i / 4; all
// four registers always run (idle lanes encrypt a zero block, never stored), so that the chains
// stay in registers. Round r of register g: rk[15 * g + r]; Shared: all lanes have one key, rk[r].
template <bool Shared>
ESP_CBC_MB_TARGET void cbc_encrypt16(const item* items, std::uint32_t n, unsigned rounds, const __m512i* rk) {
    alignas(16) static constexpr std::uint8_t zero_block[16] = {};
    const std::uint8_t* in[lanes];
    std::uint8_t* out[lanes];
    std::uint32_t nb[lanes];
    std::uint32_t max_nb = 0;
    const std::uint8_t* iv[lanes];
    for (std::uint32_t i = 0; i < lanes; ++i) {
        const crypto_op& op = *items[i < n ? i : 0].op;
        in[i] = op.data;
        out[i] = op.data;
        iv[i] = op.iv;
        nb[i] = i < n ? op.len / 16 : 0;
        max_nb = std::max(max_nb, nb[i]);
    }
    __m512i prev[4];
#pragma GCC unroll 4
    for (std::uint32_t g = 0; g < 4; ++g) prev[g] = load4(iv + 4 * g);
    for (std::uint32_t b = 0; b < max_nb; ++b) {
        const std::uint8_t* p[lanes];
        for (std::uint32_t i = 0; i < lanes; ++i) p[i] = b < nb[i] ? in[i] + 16 * b : zero_block;
        __m512i x[4];
#pragma GCC unroll 4
        for (std::uint32_t g = 0; g < 4; ++g) x[g] = _mm512_ternarylogic_epi32(load4(p + 4 * g), prev[g], rk[(Shared ? 0 : 15 * g) + 0], 0x96);
        for (unsigned r = 1; r < rounds; ++r) {
#pragma GCC unroll 4
            for (std::uint32_t g = 0; g < 4; ++g) x[g] = _mm512_aesenc_epi128(x[g], rk[(Shared ? 0 : 15 * g) + r]);
        }
#pragma GCC unroll 4
        for (std::uint32_t g = 0; g < 4; ++g) {
            // A lane past its message's end keeps its chain value (never stored, never read).
            prev[g] = _mm512_aesenclast_epi128(x[g], rk[(Shared ? 0 : 15 * g) + rounds]);
            const __m512i c = prev[g];
            if (b < nb[4 * g]) _mm_storeu_si128(reinterpret_cast<__m128i*>(out[4 * g] + 16 * b), _mm512_castsi512_si128(c));
            if (b < nb[4 * g + 1]) _mm_storeu_si128(reinterpret_cast<__m128i*>(out[4 * g + 1] + 16 * b), _mm512_extracti32x4_epi32(c, 1));
            if (b < nb[4 * g + 2]) _mm_storeu_si128(reinterpret_cast<__m128i*>(out[4 * g + 2] + 16 * b), _mm512_extracti32x4_epi32(c, 2));
            if (b < nb[4 * g + 3]) _mm_storeu_si128(reinterpret_cast<__m128i*>(out[4 * g + 3] + 16 * b), _mm512_extracti32x4_epi32(c, 3));
        }
    }
}

ESP_CBC_MB_TARGET void cbc_encrypt(const item* items, std::uint32_t n, unsigned rounds) {
    bool shared = true;
    for (std::uint32_t i = 1; i < n; ++i) shared &= items[i].keys->enc == items[0].keys->enc;
    if (shared) {  // the SA's round keys as broadcast once (sa_keys::enc4)
        cbc_encrypt16<true>(items, n, rounds, reinterpret_cast<const __m512i*>(items[0].keys->enc4));
        return;
    }
    alignas(64) __m512i rk[4 * 15];
    for (std::uint32_t g = 0; g < 4; ++g) {
        const void* keys[4];
        for (std::uint32_t k = 0; k < 4; ++k) keys[k] = items[4 * g + k < n ? 4 * g + k : 0].keys->enc;
        lane_keys(rk + 15 * g, keys, rounds);
    }
    cbc_encrypt16<false>(items, n, rounds, rk);
    explicit_bzero(rk, sizeof rk);
}

// CBC decryption: each message in registers of four blocks (the last one masked), four
// registers in flight. P_i = D(C_i) ^ C_(i-1), C_(-1) = IV.
struct dec_task {
    const std::uint8_t* in;
    std::uint8_t* out;
    const __m128i* keys;
    __m512i prev;   // lane 3: the ciphertext block before this register's first
    __mmask8 mask;  // the 64-bit words of this register that are in the message (none: idle)
};

struct dec_cursor {
    const item* items;
    std::uint32_t n;
    std::uint32_t job = 0;  // the next register to take: register reg of items[job]
    std::uint32_t reg = 0;
    __m512i carry{};        // lane 3: the block before that register's first
};

ESP_CBC_MB_TARGET inline __m512i iv_lane3(const crypto_op& op) {
    return _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(op.iv)));
}

ESP_CBC_MB_TARGET inline bool next_task(dec_cursor& cur, dec_task& t) {
    while (cur.job < cur.n && 64 * cur.reg >= cur.items[cur.job].op->len) {
        ++cur.job;
        cur.reg = 0;
        if (cur.job < cur.n) cur.carry = iv_lane3(*cur.items[cur.job].op);
    }
    if (cur.job == cur.n) {  // idle: nothing loaded or stored
        const item& it = cur.items[0];
        t = {it.op->data, it.op->data, static_cast<const __m128i*>(it.keys->dec), cur.carry, 0};
        return false;
    }
    const item& it = cur.items[cur.job];
    const std::uint32_t left = it.op->len - 64 * cur.reg;
    t = {it.op->data + 64 * cur.reg, it.op->data + 64 * cur.reg, static_cast<const __m128i*>(it.keys->dec), cur.carry,
         __mmask8(left >= 64 ? 0xff : (1u << (left / 8)) - 1)};
    ++cur.reg;
    return true;
}

ESP_CBC_MB_TARGET inline __m512i key(const __m128i* keys, unsigned r) {
    return _mm512_broadcast_i32x4(_mm_loadu_si128(keys + r));
}

ESP_CBC_MB_TARGET void cbc_decrypt(const item* items, std::uint32_t n, unsigned rounds) {
    if (n == 0) return;
    dec_cursor cur{items, n};
    cur.carry = iv_lane3(*items[0].op);
    for (;;) {
        dec_task t[4];
        __m512i c[4], x[4];
        bool any = false;
#pragma GCC unroll 4
        for (int u = 0; u < 4; ++u) {
            any |= next_task(cur, t[u]);
            // All four loaded before any store: a following register of the same message takes
            // its previous block from this load (carry), not from memory it may overwrite.
            c[u] = _mm512_maskz_loadu_epi64(t[u].mask, t[u].in);
            t[u].prev = _mm512_alignr_epi32(c[u], t[u].prev, 12);
            cur.carry = c[u];
        }
        if (!any) break;
#pragma GCC unroll 4
        for (int u = 0; u < 4; ++u) x[u] = _mm512_xor_si512(c[u], key(t[u].keys, 0));
        for (unsigned r = 1; r < rounds; ++r) {
#pragma GCC unroll 4
            for (int u = 0; u < 4; ++u) x[u] = _mm512_aesdec_epi128(x[u], key(t[u].keys, r));
        }
#pragma GCC unroll 4
        for (int u = 0; u < 4; ++u) {
            x[u] = _mm512_aesdeclast_epi128(x[u], key(t[u].keys, rounds));
            _mm512_mask_storeu_epi64(t[u].out, t[u].mask, _mm512_xor_si512(x[u], t[u].prev));
        }
    }
}

} // namespace

bool cpu_supported() { return gcm_mb::cpu_supported(); }

ESP_CBC_MB_TARGET void broadcast_keys(const void* enc, std::uint8_t (*out)[64]) {
    const auto* k = static_cast<const __m128i*>(enc);
    for (unsigned r = 0; r < 15; ++r) _mm512_store_si512(out[r], _mm512_broadcast_i32x4(_mm_loadu_si128(k + r)));
}

void run(const item* items, std::uint32_t n, bool encrypt, std::uint32_t key_bytes) {
    const unsigned rounds = key_bytes == 16 ? 10 : key_bytes == 24 ? 12 : 14;
    // Encrypt: all of the ciphertext first, then the HMACs. The HMAC reads the ciphertext back in
    // 64-byte loads, which cannot take their data from the cipher's 16-byte stores still in the
    // store buffer and wait until they are written: the other passes' work hides that wait.
    if (encrypt) {
        for (std::uint32_t i = 0; i < n; i += lanes) cbc_encrypt(items + i, std::min(lanes, n - i), rounds);
        for (std::uint32_t i = 0; i < n; i += lanes) hmac16(items + i, std::min(lanes, n - i), true);
    } else {
        for (std::uint32_t i = 0; i < n; i += lanes) hmac16(items + i, std::min(lanes, n - i), false);
        cbc_decrypt(items, n, rounds);
    }
}

} // namespace esp::detail::cbc_mb
