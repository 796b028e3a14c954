#pragma once
// NAT_DETECTION_SOURCE_IP / NAT_DETECTION_DESTINATION_IP notification data (RFC 7296 2.23):
//   SHA-1(SPIi | SPIr | IP | Port), IP as 4 or 16 bytes, port in network order. In the
//   IKE_SA_INIT request SPIr is zero.
#include "ike/crypto_error.hpp"

#include <array>
#include <cstdint>
#include <span>

namespace ike::crypto {

using nat_hash = std::array<std::uint8_t, 20>;

// invalid_argument unless ip is 4 or 16 bytes.
result<nat_hash> nat_detection_hash(std::uint64_t spi_i, std::uint64_t spi_r, std::span<const std::uint8_t> ip,
                                    std::uint16_t port);

} // namespace ike::crypto
