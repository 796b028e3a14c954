#pragma once
// Internal: multi-buffer AES-CBC + HMAC-SHA-256 for short messages (FIPS 197, SP 800-38A 6.2,
// FIPS 180-4, RFC 2104 / RFC 4868), on AVX-512 with VAES, for the intel-ipsec-mb backend's
// synchronous CBC batches. intel-ipsec-mb 1.3 runs these on 16 SIMD lanes as well, but its lane
// bookkeeping costs more than the arithmetic for a 64 B packet (run alone, 32 jobs of an 88-byte
// HMAC: about 107 ns per job, of which the three SHA-256 blocks take about 60; a 64-byte CBC
// encryption about 32 ns, of which about 6 are AES). Here sixteen messages go through each step
// in lockstep with nothing but the arithmetic in the loop: SHA-256 with each message in one
// 32-bit lane (the inner hash's blocks read in place and transposed, the outer hash built in
// registers from the inner digest), CBC encryption with one message per 128-bit lane, CBC
// decryption four blocks of one message per instruction.
//
// The interface is the library's job: run() takes jobs filled for IMB_SUBMIT_CIPHER_BURST and
// IMB_SUBMIT_HASH_BURST (the same fields, including the library's precomputed HMAC states), does
// both parts, and marks them completed, so the backend can hand a batch to either.
#include <intel-ipsec-mb.h>

#include <cstdint>

namespace esp::detail::cbc_mb {

// HMAC input bytes per message (ESP header + IV + ciphertext). Longer ones stay with the library.
constexpr std::uint64_t max_hash_len = 280;
constexpr std::uint32_t lanes = 16;  // messages per pass (run() takes any number)

// The CPU has AVX-512 F/BW/VL and VAES (and the OS saves the registers): gcm_mb::cpu_supported.
bool cpu_supported();

// run() takes a job when both of these hold: AES-CBC (any key size; key_bytes is the batch's)
// over whole blocks, HMAC-SHA-256 with a 16-byte tag (RFC 4868 sha256-128) over at most
// max_hash_len bytes, nothing empty or missing. Whatever the library would refuse (it checks
// every job) is left to it, so that a job fails or succeeds the same on either path. Two parts
// for a caller that refills only a job's per-message fields: the fields an SA fixes (checked
// once when they are written) and the ones every message sets.
inline bool sa_fields_eligible(const IMB_JOB& j) {
    return j.hash_alg == IMB_AUTH_HMAC_SHA_256 && j.auth_tag_output_len_in_bytes == 16 && j.iv_len_in_bytes == 16 &&
           j.enc_keys && j.dec_keys && j.u.HMAC._hashed_auth_key_xor_ipad && j.u.HMAC._hashed_auth_key_xor_opad;
}
inline bool message_fields_eligible(const IMB_JOB& j) {
    return j.cipher_mode == IMB_CIPHER_CBC && j.msg_len_to_hash_in_bytes != 0 &&
           j.msg_len_to_hash_in_bytes <= max_hash_len && j.msg_len_to_cipher_in_bytes != 0 &&
           j.msg_len_to_cipher_in_bytes % 16 == 0 && j.src && j.dst && j.iv && j.auth_tag_output;
}

// Runs the jobs *jobs[0..n) that both checks above accept (all of one direction and key size:
// 16, 24 or 32 bytes): encrypt = CBC then HMAC over the ciphertext, decrypt = HMAC then CBC; the
// tag goes to auth_tag_output (the caller compares it when decrypting); status becomes
// IMB_STATUS_COMPLETED. Needs cpu_supported().
void run(IMB_JOB* const* jobs, std::uint32_t n, IMB_CIPHER_DIRECTION dir, std::uint32_t key_bytes);

} // namespace esp::detail::cbc_mb
