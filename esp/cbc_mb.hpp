#pragma once
// Internal: multi-buffer AES-CBC + HMAC-SHA-256 for short messages (FIPS 197, SP 800-38A 6.2,
// FIPS 180-4, RFC 2104 / RFC 4868), on AVX-512 with VAES, for the intel-ipsec-mb backend's
// AES-CBC + HMAC-SHA-256-128 ops. intel-ipsec-mb 1.3 runs these on 16 SIMD lanes as well, but its
// lane bookkeeping costs more than the arithmetic for a 64 B packet (run alone, 32 jobs of an 88-byte
// HMAC: about 107 ns per job, of which the three SHA-256 blocks take about 60; a 64-byte CBC
// encryption about 32 ns, of which about 6 are AES). Here sixteen messages go through each step
// in lockstep with nothing but the arithmetic in the loop: SHA-256 with each message in one
// 32-bit lane (the inner hash's blocks read in place and transposed, the outer hash built in
// registers from the inner digest), CBC encryption with one message per 128-bit lane, CBC
// decryption four blocks of one message per instruction.
//
// The interface is the backend's: run() takes its crypto_ops as they are (no library job is
// filled for them) with the SA's keys, does both parts, and sets each op's ok.
#include "esp/crypto.hpp"

#include <cstdint>

namespace esp::detail::cbc_mb {

// HMAC input bytes per message (ESP header + IV + ciphertext). Longer ones stay with the library.
constexpr std::uint32_t max_hash_len = 280;
constexpr std::uint32_t lanes = 16;  // messages per pass (run() takes any number)

// The CPU has AVX-512 F/BW/VL and VAES (and the OS saves the registers): gcm_mb::cpu_supported.
bool cpu_supported();

// One SA's keys in the forms the intel-ipsec-mb backend keeps them: the AES key schedules for
// encryption and decryption (AES-NI order, 15 round keys of 16 bytes at most) and the SHA-256
// states after the (K ^ ipad) and (K ^ opad) blocks (eight native-order words each).
// enc4: enc's 15 round keys each repeated in the four 128-bit lanes of 64 bytes (broadcast_keys),
// so that a pass of one SA's encryptions takes its round keys from there as they are instead of
// broadcasting them (and wiping the copy) every time: +1-3% 64 B CBC outbound Mpps. (The same
// for decryption, whose rounds broadcast each key from memory in the instruction, gained
// nothing.)
struct sa_keys {
    const void* enc = nullptr;
    const void* dec = nullptr;
    const std::uint8_t* ipad = nullptr;
    const std::uint8_t* opad = nullptr;
    const std::uint8_t (*enc4)[64] = nullptr;  // 64-byte aligned
};

// out[r] = round key r of enc (an AES-NI schedule of 15 round keys; 11 or 13 used for AES-128
// and AES-192, the rest whatever the schedule holds) in all four 128-bit lanes. out: 64-byte
// aligned. Needs cpu_supported().
void broadcast_keys(const void* enc, std::uint8_t (*out)[64]);

// An op with its SA's keys.
struct item {
    crypto_op* op;
    const sa_keys* keys;
};

// run() takes an AES-CBC + HMAC-SHA-256-128 op (see crypto_op) whose cipher region is whole
// blocks, neither region empty, the HMAC input at most max_hash_len bytes and no pointer missing.
// Anything else (and any op of another suite) stays with the library, which decides whether it
// fails (it refuses a job without an IV, say).
inline bool eligible(const crypto_op& op) {
    return op.len != 0 && op.len % 16 == 0 && op.auth_len != 0 && op.auth_len <= max_hash_len && op.data && op.auth &&
           op.tag && op.iv;
}

// Runs items[0..n) (all eligible, of one direction and key size: 16, 24 or 32 bytes): encrypt =
// CBC in place then HMAC over the ciphertext's region, the tag to op.tag, ok = true; decrypt =
// HMAC, compared with op.tag in constant time (ok), then CBC in place. Needs cpu_supported().
void run(const item* items, std::uint32_t n, bool encrypt, std::uint32_t key_bytes);

} // namespace esp::detail::cbc_mb
