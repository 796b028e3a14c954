// AES-256-CTR keystream on AVX-512 + VAES (see ctr_mb.hpp): the key schedule with AES-NI's key
// generation assist (FIPS 197 5.2), then four registers of four counter blocks each per step,
// the counters kept as native 64-bit halves (high, low) and byte-swapped into big-endian blocks.
#include "ctr_mb.hpp"

#include "gcm_mb.hpp"
#include "simd.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#define ESP_CTR_MB_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,vaes,aes")))

namespace esp::detail::ctr_mb {

namespace {

// w ^ (w << 32) ^ (w << 64) ^ (w << 96): each word of the previous round key XORed with all
// the words before it (the schedule's running XOR, four words at once).
ESP_CTR_MB_TARGET inline __m128i prefix_xor(__m128i w) {
    w = _mm_xor_si128(w, _mm_slli_si128(w, 4));
    w = _mm_xor_si128(w, _mm_slli_si128(w, 4));
    return _mm_xor_si128(w, _mm_slli_si128(w, 4));
}

// Round keys 2i + 2 (a) and 2i + 3 (b) from 2i and 2i + 1: a uses RotWord(SubWord(last word
// of b)) ^ Rcon, b uses SubWord(last word of the new a) (FIPS 197 5.2, Nk = 8).
template <int Rcon>
ESP_CTR_MB_TARGET inline void expand_pair(__m128i& a, __m128i& b, bool second = true) {
    a = _mm_xor_si128(prefix_xor(a), _mm_shuffle_epi32(_mm_aeskeygenassist_si128(b, Rcon), 0xff));
    if (second) b = _mm_xor_si128(prefix_xor(b), _mm_shuffle_epi32(_mm_aeskeygenassist_si128(a, 0), 0xaa));
}

// Round keys i and i + 1 (i alone for the last), each in all four lanes.
ESP_CTR_MB_TARGET inline void put(std::uint8_t (*rk)[64], int i, __m128i a, __m128i b) {
    _mm512_storeu_si512(rk[i], _mm512_broadcast_i32x4(a));
    if (i + 1 < 15) _mm512_storeu_si512(rk[i + 1], _mm512_broadcast_i32x4(b));
}

std::uint64_t load_be64(const std::uint8_t* p) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return __builtin_bswap64(v);
}

void store_be64(std::uint8_t* p, std::uint64_t v) {
    v = __builtin_bswap64(v);
    std::memcpy(p, &v, 8);
}

} // namespace

bool cpu_supported() { return gcm_mb::cpu_supported(); }

key256::~key256() { explicit_bzero(rk, sizeof rk); }

// Round keys 0 and 1 from the key, then pairs 2i + 2, 2i + 3 with Rcon 2^i (14 alone, last).
template <int... Rcon>
ESP_CTR_MB_TARGET inline void expand_all(std::uint8_t (*rk)[64], __m128i a, __m128i b, std::integer_sequence<int, Rcon...>) {
    put(rk, 0, a, b);
    int i = 2;
    ((expand_pair<Rcon>(a, b, i + 1 < 15), put(rk, i, a, b), i += 2), ...);
}

ESP_CTR_MB_TARGET void key256::expand(const std::uint8_t* key) {
    expand_all(rk, _mm_loadu_si128(reinterpret_cast<const __m128i*>(key)),
               _mm_loadu_si128(reinterpret_cast<const __m128i*>(key + 16)),
               std::integer_sequence<int, 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40>{});
}

ESP_CTR_MB_TARGET void keystream(const key256& k, std::uint8_t ctr[16], std::uint8_t* out, std::size_t len) {
    if (len == 0) return;
    const std::uint64_t hi = load_be64(ctr), lo = load_be64(ctr + 8);
    const unsigned __int128 c0 = (static_cast<unsigned __int128>(hi) << 64) | lo;
    // Register v: blocks c .. c + 3, each 128-bit lane as (high, low) in native order.
    std::uint64_t init[8];
    for (int j = 0; j < 4; ++j) {
        const unsigned __int128 c = c0 + unsigned(j);
        init[2 * j] = std::uint64_t(c >> 64);
        init[2 * j + 1] = std::uint64_t(c);
    }
    __m512i v = _mm512_loadu_si512(init);
    const __m512i four = _mm512_set_epi64(4, 0, 4, 0, 4, 0, 4, 0);  // to every low half
    const __m512i one = _mm512_set1_epi64(1);
    // Each 64-bit half byte-reversed: (high, low) native -> the big-endian block.
    const __m512i be = _mm512_broadcast_i32x4(_mm_set_epi8(8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7));
    for (std::size_t done = 0; done < len; done += 256) {
        __m512i x[4];
#pragma GCC unroll 4
        for (int g = 0; g < 4; ++g) {
            x[g] = _mm512_xor_si512(_mm512_shuffle_epi8(v, be), _mm512_loadu_si512(k.rk[0]));
            // Four blocks on: a low half that wrapped carries into its high half.
            const __m512i nv = _mm512_add_epi64(v, four);
            const __mmask8 wrapped = _mm512_cmplt_epu64_mask(nv, v) & 0xaa;
            v = _mm512_mask_add_epi64(nv, __mmask8(wrapped >> 1), nv, one);
        }
#pragma GCC unroll 13
        for (int r = 1; r < 14; ++r) {
#pragma GCC unroll 4
            for (int g = 0; g < 4; ++g) x[g] = _mm512_aesenc_epi128(x[g], _mm512_loadu_si512(k.rk[r]));
        }
#pragma GCC unroll 4
        for (int g = 0; g < 4; ++g) {
            x[g] = _mm512_aesenclast_epi128(x[g], _mm512_loadu_si512(k.rk[14]));
            const std::size_t at = done + 64 * std::size_t(g);
            if (at >= len) continue;
            const std::size_t left = len - at;
            if (left >= 64) _mm512_storeu_si512(out + at, x[g]);
            else _mm512_mask_storeu_epi8(out + at, (std::uint64_t(1) << left) - 1, x[g]);
        }
    }
    const unsigned __int128 c1 = c0 + (len + 15) / 16;
    store_be64(ctr, std::uint64_t(c1 >> 64));
    store_be64(ctr + 8, std::uint64_t(c1));
}

} // namespace esp::detail::ctr_mb
