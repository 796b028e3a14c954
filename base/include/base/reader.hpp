#pragma once
// Bounds-checked big-endian reader over untrusted bytes (see STYLE.md "Untrusted bytes").
// Every read either succeeds completely or marks the reader failed and returns zero/empty;
// callers check ok() once after a group of reads. No raw indexing of wire data elsewhere.
#include <bit>
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
// after the length has been validated once). One unaligned access with a byte swap each: byte-
// wise stores are not always merged by the compiler (between other stores that may alias) and a
// wide load of bytes just stored that way stalls store forwarding.
namespace detail {
template <typename T> inline T to_be(T v) {
    if constexpr (std::endian::native == std::endian::big) return v;
    else if constexpr (sizeof(T) == 2) return T(__builtin_bswap16(v));
    else if constexpr (sizeof(T) == 4) return T(__builtin_bswap32(v));
    else return T(__builtin_bswap64(v));
}
} // namespace detail
inline void store_be16(std::uint8_t* p, std::uint16_t v) {
    v = detail::to_be(v);
    std::memcpy(p, &v, 2);
}
inline void store_be32(std::uint8_t* p, std::uint32_t v) {
    v = detail::to_be(v);
    std::memcpy(p, &v, 4);
}
inline void store_be64(std::uint8_t* p, std::uint64_t v) {
    v = detail::to_be(v);
    std::memcpy(p, &v, 8);
}
inline std::uint16_t load_be16(const std::uint8_t* p) {
    std::uint16_t v;
    std::memcpy(&v, p, 2);
    return detail::to_be(v);
}
inline std::uint32_t load_be32(const std::uint8_t* p) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return detail::to_be(v);
}
inline std::uint64_t load_be64(const std::uint8_t* p) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return detail::to_be(v);
}

} // namespace base
