#pragma once
// Bounds-checked big-endian reader over untrusted bytes (see STYLE.md "Untrusted bytes").
// Every read either succeeds completely or marks the reader failed and returns zero/empty;
// callers check ok() once after a group of reads. No raw indexing of wire data elsewhere.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace base {

class reader {
public:
    reader() = default;
    explicit reader(std::span<const std::uint8_t> data) : _data(data) {}

    [[nodiscard]] bool ok() const { return !_failed; }
    [[nodiscard]] std::size_t remaining() const { return _failed ? 0 : _data.size() - _pos; }
    [[nodiscard]] bool empty() const { return remaining() == 0; }
    [[nodiscard]] std::size_t position() const { return _pos; }
    [[nodiscard]] std::span<const std::uint8_t> rest() const {
        return _failed ? std::span<const std::uint8_t>{} : _data.subspan(_pos);
    }

    std::uint8_t read_u8() { return static_cast<std::uint8_t>(read_be(1)); }
    std::uint16_t read_u16() { return static_cast<std::uint16_t>(read_be(2)); }
    std::uint32_t read_u32() { return static_cast<std::uint32_t>(read_be(4)); }
    std::uint64_t read_u64() { return read_be(8); }

    // Next n bytes; empty span and failed state when fewer remain.
    std::span<const std::uint8_t> bytes(std::size_t n) {
        if (!take(n)) return {};
        return _data.subspan(_pos - n, n);
    }
    // Last n bytes of what remains; shrinks the readable range from the end.
    std::span<const std::uint8_t> bytes_from_end(std::size_t n) {
        if (_failed || remaining() < n) { _failed = true; return {}; }
        auto tail = _data.subspan(_data.size() - n, n);
        _data = _data.first(_data.size() - n);
        return tail;
    }
    // A nested reader over the next len bytes (for length-prefixed structures).
    reader sub(std::size_t len) {
        auto b = bytes(len);
        reader r(b);
        if (_failed) r._failed = true;
        return r;
    }
    bool skip(std::size_t n) { return take(n); }
    void fail() { _failed = true; }

private:
    bool take(std::size_t n) {
        if (_failed || _data.size() - _pos < n) { _failed = true; return false; }
        _pos += n;
        return true;
    }
    std::uint64_t read_be(std::size_t n) {
        if (!take(n)) return 0;
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) v = (v << 8) | _data[_pos - n + i];
        return v;
    }

    std::span<const std::uint8_t> _data{};
    std::size_t _pos = 0;
    bool _failed = false;
};

// Big-endian stores/loads into a caller-checked destination (used by writers and the fast path
// after the length has been validated once).
inline void store_be16(std::uint8_t* p, std::uint16_t v) { p[0] = std::uint8_t(v >> 8); p[1] = std::uint8_t(v); }
inline void store_be32(std::uint8_t* p, std::uint32_t v) {
    p[0] = std::uint8_t(v >> 24); p[1] = std::uint8_t(v >> 16); p[2] = std::uint8_t(v >> 8); p[3] = std::uint8_t(v);
}
inline void store_be64(std::uint8_t* p, std::uint64_t v) { store_be32(p, std::uint32_t(v >> 32)); store_be32(p + 4, std::uint32_t(v)); }
inline std::uint16_t load_be16(const std::uint8_t* p) { return std::uint16_t((p[0] << 8) | p[1]); }
inline std::uint32_t load_be32(const std::uint8_t* p) {
    return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
}
inline std::uint64_t load_be64(const std::uint8_t* p) { return (std::uint64_t(load_be32(p)) << 32) | load_be32(p + 4); }

} // namespace base
