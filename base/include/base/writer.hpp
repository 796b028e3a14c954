#pragma once
// Growable big-endian writer for building messages on the control plane (never on the fast path).
#include <cstdint>
#include <span>
#include <vector>

namespace base {

class writer {
public:
    void u8(std::uint8_t v) { _buf.push_back(v); }
    void u16(std::uint16_t v) { u8(std::uint8_t(v >> 8)); u8(std::uint8_t(v)); }
    void u32(std::uint32_t v) { u16(std::uint16_t(v >> 16)); u16(std::uint16_t(v)); }
    void u64(std::uint64_t v) { u32(std::uint32_t(v >> 32)); u32(std::uint32_t(v)); }
    void bytes(std::span<const std::uint8_t> b) { _buf.insert(_buf.end(), b.begin(), b.end()); }
    void zeros(std::size_t n) { _buf.insert(_buf.end(), n, 0); }
    // Overwrite a previously written 16/32-bit field (lengths known only at the end).
    void patch_u16(std::size_t at, std::uint16_t v) { _buf.at(at) = std::uint8_t(v >> 8); _buf.at(at + 1) = std::uint8_t(v); }
    void patch_u32(std::size_t at, std::uint32_t v) { patch_u16(at, std::uint16_t(v >> 16)); patch_u16(at + 2, std::uint16_t(v)); }
    [[nodiscard]] std::size_t size() const { return _buf.size(); }
    [[nodiscard]] const std::vector<std::uint8_t>& data() const { return _buf; }
    std::vector<std::uint8_t> take() { return std::move(_buf); }

private:
    std::vector<std::uint8_t> _buf;
};

} // namespace base
