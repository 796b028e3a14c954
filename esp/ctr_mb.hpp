#pragma once
// Internal: AES-256-CTR keystream (SP 800-38A 6.5) on AVX-512 with VAES, four counter blocks per
// register, for the CBC IV source (esp/crypto.cpp). The counter is SP 800-38A's standard
// increment of the whole 128-bit block as a big-endian integer, so the output equals OpenSSL's
// EVP_aes_256_ctr from the same key and counter (what the tests compare). In the engine at 64 B,
// OpenSSL's took about 6 ns per 16-byte IV (2.3% of the time: the EVP call and the zeroed input
// for it); this takes about 3.
#include <cstddef>
#include <cstdint>

namespace esp::detail::ctr_mb {

// The CPU has what this needs: gcm_mb::cpu_supported().
bool cpu_supported();

// An expanded AES-256 key (FIPS 197 5.2), each round key repeated in the four 128-bit lanes of
// 64 bytes (what the rounds take as memory operands), wiped on destruction.
struct key256 {
    alignas(64) std::uint8_t rk[15][64];
    key256() = default;
    key256(const key256&) = delete;
    key256& operator=(const key256&) = delete;
    ~key256();
    // The key schedule of key[0..32) (AES-NI); needs cpu_supported().
    void expand(const std::uint8_t* key);
};

// out[0..len) = the keystream from counter block ctr on: ceil(len / 16) blocks, each E(K, ctr)
// with ctr incremented after it; a last partial block's unused bytes are discarded (ctr has
// moved past it). Needs cpu_supported().
void keystream(const key256& k, std::uint8_t ctr[16], std::uint8_t* out, std::size_t len);

} // namespace esp::detail::ctr_mb
