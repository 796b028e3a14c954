#pragma once
// Internal: multi-buffer AES-GCM for short messages (NIST SP 800-38D, RFC 4106), on AVX-512
// with VAES and VPCLMULQDQ. intel-ipsec-mb 1.3 runs AES-GCM one buffer at a time: at 64 B a
// call is latency-bound (the AES rounds and the GHASH multiplications of one message form one
// dependency chain) and costs about as much as the rest of the packet's path. Here the counter
// blocks of a whole burst (all messages of one key) are encrypted together, four per instruction
// with several instructions in flight, and each message's GHASH multiplies all its blocks by
// precomputed powers of H at once (one reduction per message), so the cost per message is
// throughput-bound. Used by the intel-ipsec-mb backend for messages up to max_len bytes when the
// CPU has the instructions; longer ones stay with the library, whose single-buffer code is
// already throughput-bound there.
#include "esp/crypto.hpp"

#include <array>
#include <cstdint>
#include <span>

namespace esp::detail::gcm_mb {

// Plaintext/ciphertext bytes per message. Past about 160 bytes the library's one-buffer code is
// as fast (run alone, 32 messages of one size: 1.3-1.7x the library at 52 B, 1.1-1.6x at 100 B,
// 0.9-1.2x at 132 B, parity at 164 B, 0.9-1.05x at 196 and 244 B; in the engine at 256 B frames
// no gain outbound, a few percent lost inbound).
constexpr std::uint32_t max_len = 160;
constexpr std::uint32_t max_aad = 16;       // AAD bytes (ESP: 8, or 12 with ESN)
constexpr std::size_t max_ops = 32;         // messages per pass (run() takes any number)
// Fewer messages in a call are faster through the library (run alone, 52 B: one message 46-74 ns
// here against the library's 33-43, two 37-51, three 30-46, four 28-36, eight 22-32).
constexpr std::size_t min_ops = 4;
constexpr std::uint32_t powers = max_len / 16 + 2;  // H^1 .. H^powers: AAD + data + length blocks

// The powers of the hash key H = E_K(0^128), in the POLYVAL representation of the GHASH field
// (RFC 8452 Appendix A: byte-reversed blocks, H multiplied by x), highest power first and four
// zero blocks after the last (a message's last 4-block load may reach past H^1). Secret: wiped
// by the owner.
struct hash_key {
    alignas(64) std::array<std::uint8_t, (powers + 4) * 16> q{};
};

// The CPU has AVX-512 F/BW/VL, VAES and VPCLMULQDQ (and the OS saves the registers).
bool cpu_supported();

// round_keys: the AES encryption key schedule (rounds + 1 blocks, rounds 10 or 14), as
// intel-ipsec-mb's gcm_key_data.expanded_keys holds it. Needs cpu_supported().
void init(hash_key& hk, const std::uint8_t* round_keys, unsigned rounds);

// True when run() takes the op: len <= max_len, auth_len <= max_aad.
inline bool eligible(const crypto_op& op) { return op.len <= max_len && op.auth_len <= max_aad; }

// Encrypts (sets the tag, ok = true) or decrypts in place (ok = tag matches) eligible ops of
// one key, max_ops per pass: nonce = salt || op.iv[0..8) (RFC 4106 4), AAD op.auth, ICV of icv
// bytes (at most 16) at op.tag. Needs cpu_supported().
void run(const std::uint8_t* round_keys, unsigned rounds, const hash_key& hk, const std::uint8_t* salt,
         std::span<crypto_op> ops, bool encrypt, std::uint32_t icv);

} // namespace esp::detail::gcm_mb
