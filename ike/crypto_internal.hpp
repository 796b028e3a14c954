#pragma once
// Helpers shared by the crypto suite's .cpp files (not a public header).
#include "ike/crypto_error.hpp"
#include "ike/crypto_handles.hpp"

#include <cstdint>
#include <initializer_list>
#include <span>

namespace ike::crypto::detail {

using byte_span = std::span<const std::uint8_t>;

// The HMAC EVP_MAC, fetched once for the process.
EVP_MAC* hmac_mac();

// HMAC-<digest>(key, parts...) into out, which must be exactly the digest size.
std::error_code hmac(const char* digest, byte_span key, std::initializer_list<byte_span> parts,
                     std::span<std::uint8_t> out);

} // namespace ike::crypto::detail
