#pragma once
// The security association database for inbound traffic: SPI (optionally with the destination
// address, RFC 4301 section 4.1 "longest match": SPI+destination before SPI alone) -> opaque SA
// handle. Built once by the control side and then immutable: lookups are const, touch no
// mutable state and are safe from any number of threads. Open addressing at <= 50% load with
// a recorded maximum probe distance, so a miss (e.g. a forged SPI) costs a bounded number of
// probes.
#include "spd/types.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace spd {

struct sad_entry {
    std::uint32_t spi = 0;                 // 0 is reserved (RFC 4303 section 2.1) and rejected
    std::optional<ip_prefix> dst;          // host prefix (/32 or /128) to key on SPI+destination
    std::uint32_t sa_handle = no_sa;
};

class sad {
public:
    sad() = default;
    // Throws std::invalid_argument on SPI 0, a dst that is not a host address, or a duplicate
    // (spi, dst) key.
    explicit sad(std::span<const sad_entry> entries);

    // The SA for an inbound ESP packet, or no_sa.
    std::uint32_t lookup(std::uint32_t spi, ip_family f, const std::array<std::uint8_t, 16>& dst) const noexcept;
    std::uint32_t lookup(std::uint32_t spi) const noexcept;

    std::size_t size() const { return _count; }
    std::size_t max_probe() const { return std::max(_spi_probe, _dst_probe); }

private:
    struct spi_slot { std::uint32_t spi; std::uint32_t handle; };
    struct dst_slot {
        std::uint32_t spi;
        std::uint32_t handle;
        std::array<std::uint8_t, 16> dst;
        std::uint8_t family;
        std::uint8_t pad[7];
    };
    std::vector<spi_slot> _spi;            // spi == 0: empty
    std::vector<dst_slot> _dst;
    std::uint32_t _spi_mask = 0, _dst_mask = 0;
    std::size_t _spi_probe = 0, _dst_probe = 0, _count = 0;
};

} // namespace spd
