#pragma once
// Where nonces, IVs, SPIs and padding come from. An interface so that tests (and the two-peer
// exchange tests) can inject fixed values; system_random() draws from OpenSSL's RAND_bytes.
#include <cstdint>
#include <span>
#include <system_error>

namespace ike::crypto {

class random_source {
public:
    virtual ~random_source() = default;
    // Fills out completely or returns an error (crypto_errc::random_failure).
    [[nodiscard]] virtual std::error_code fill(std::span<std::uint8_t> out) = 0;
};

// Process-wide OpenSSL DRBG (RAND_bytes); thread-safe.
random_source& system_random();

} // namespace ike::crypto
