#include "spd/sad.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <stdexcept>

namespace spd {

namespace {
std::uint32_t hash_spi(std::uint32_t spi) { return spi * 0x9e3779b1u ^ (spi >> 16); }
std::uint32_t hash_dst(std::uint32_t spi, const std::array<std::uint8_t, 16>& d) {
    std::uint32_t h = hash_spi(spi);
    for (std::size_t i = 0; i < 16; i += 4) {
        std::uint32_t w = (std::uint32_t(d[i]) << 24) | (std::uint32_t(d[i + 1]) << 16) | (std::uint32_t(d[i + 2]) << 8) | d[i + 3];
        h = (h ^ w) * 0x85ebca6bu;
        h ^= h >> 13;
    }
    return h;
}
std::size_t table_size(std::size_t n) { return n == 0 ? 0 : std::bit_ceil(n * 2); }
} // namespace

sad::sad(std::span<const sad_entry> entries) {
    std::size_t n_dst = 0;
    for (const auto& e : entries) {
        if (e.spi == 0) throw std::invalid_argument("SAD: SPI 0 is reserved");
        if (e.dst) {
            if (e.dst->len != e.dst->max_len())
                throw std::invalid_argument("SAD: destination " + e.dst->to_string() + " is not a host address");
            ++n_dst;
        }
    }
    _spi.assign(table_size(entries.size() - n_dst), spi_slot{0, no_sa});
    _dst.assign(table_size(n_dst), dst_slot{});
    _spi_mask = _spi.empty() ? 0 : std::uint32_t(_spi.size() - 1);
    _dst_mask = _dst.empty() ? 0 : std::uint32_t(_dst.size() - 1);
    for (const auto& e : entries) {
        if (!e.dst) {
            for (std::size_t probe = 0;; ++probe) {
                auto& s = _spi[(hash_spi(e.spi) + probe) & _spi_mask];
                if (s.spi == e.spi) throw std::invalid_argument("SAD: duplicate SPI " + std::to_string(e.spi));
                if (s.spi == 0) { s = {e.spi, e.sa_handle}; _spi_probe = std::max(_spi_probe, probe + 1); break; }
            }
        } else {
            const auto fam = std::uint8_t(e.dst->family);
            for (std::size_t probe = 0;; ++probe) {
                auto& s = _dst[(hash_dst(e.spi, e.dst->addr) + probe) & _dst_mask];
                if (s.spi == e.spi && s.family == fam && s.dst == e.dst->addr)
                    throw std::invalid_argument("SAD: duplicate SPI " + std::to_string(e.spi) + " with destination " +
                                                e.dst->to_string());
                if (s.spi == 0) {
                    s.spi = e.spi;
                    s.handle = e.sa_handle;
                    s.dst = e.dst->addr;
                    s.family = fam;
                    _dst_probe = std::max(_dst_probe, probe + 1);
                    break;
                }
            }
        }
        ++_count;
    }
}

std::uint32_t sad::lookup(std::uint32_t spi) const noexcept {
    if (_spi.empty() || spi == 0) return no_sa;
    const std::uint32_t h = hash_spi(spi);
    for (std::size_t probe = 0; probe < _spi_probe; ++probe) {
        const auto& s = _spi[(h + probe) & _spi_mask];
        if (s.spi == spi) return s.handle;
        if (s.spi == 0) break;
    }
    return no_sa;
}

std::uint32_t sad::lookup(std::uint32_t spi, ip_family f, const std::array<std::uint8_t, 16>& dst) const noexcept {
    if (!_dst.empty() && spi != 0) {
        const std::uint32_t h = hash_dst(spi, dst);
        for (std::size_t probe = 0; probe < _dst_probe; ++probe) {
            const auto& s = _dst[(h + probe) & _dst_mask];
            if (s.spi == spi && s.family == std::uint8_t(f) && s.dst == dst) return s.handle;
            if (s.spi == 0) break;
        }
    }
    return lookup(spi);
}

} // namespace spd
