#pragma once
// Internal: constructors of the two crypto backends (see esp/crypto.hpp for the interface).
#include "esp/crypto.hpp"

#include <memory>
#include <span>
#include <string>

namespace esp::detail {

std::unique_ptr<crypto_ctx> make_openssl_ctx(enc_alg enc, std::span<const std::uint8_t> enc_key, integ_alg integ,
                                             std::span<const std::uint8_t> integ_key, std::string* error);
std::unique_ptr<crypto_ctx> make_ipsecmb_ctx(enc_alg enc, std::span<const std::uint8_t> enc_key, integ_alg integ,
                                             std::span<const std::uint8_t> integ_key, std::string* error);
bool ipsecmb_usable();
bool ipsecmb_gcm_mb_active();  // this thread's main manager sends short GCM messages to gcm_mb
bool ipsecmb_cbc_mb_active();  // ... and short AES-CBC + HMAC-SHA-256 jobs to cbc_mb
// Completes the ops queued by encrypt_deferred on this thread.
void ipsecmb_complete_deferred();
// crypto_ctx::decrypt_many for contexts that are all of the intel-ipsec-mb backend.
void ipsecmb_decrypt_many(std::span<crypto_op> ops, std::span<crypto_ctx* const> ctxs);

} // namespace esp::detail
