#pragma once
// Key material that wipes itself (OPENSSL_cleanse) on destruction, move and resize.
// Deliberately has no operator<< and no implicit conversion to a printable type; use
// redacted() in logs and API replies.
#include <openssl/crypto.h>

#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace base {

class secret_bytes {
public:
    secret_bytes() = default;
    explicit secret_bytes(std::size_t n) : _v(n, 0) {}
    explicit secret_bytes(std::span<const std::uint8_t> b) : _v(b.begin(), b.end()) {}
    explicit secret_bytes(std::string_view s) : _v(s.begin(), s.end()) {}
    secret_bytes(const secret_bytes& o) : _v(o._v) {}
    secret_bytes(secret_bytes&& o) noexcept : _v(std::move(o._v)) { o.wipe(); }
    secret_bytes& operator=(const secret_bytes& o) {
        if (this != &o) { wipe(); _v = o._v; }
        return *this;
    }
    secret_bytes& operator=(secret_bytes&& o) noexcept {
        if (this != &o) { wipe(); _v = std::move(o._v); o.wipe(); }
        return *this;
    }
    ~secret_bytes() { wipe(); }

    void wipe() {
        if (!_v.empty()) OPENSSL_cleanse(_v.data(), _v.size());
        _v.clear();
    }
    void append(std::span<const std::uint8_t> b) {
        // Grow into a fresh buffer so the old allocation can be wiped, never left behind.
        std::vector<std::uint8_t> n;
        n.reserve(_v.size() + b.size());
        n.insert(n.end(), _v.begin(), _v.end());
        n.insert(n.end(), b.begin(), b.end());
        wipe();
        _v = std::move(n);
    }
    [[nodiscard]] std::size_t size() const { return _v.size(); }
    [[nodiscard]] bool empty() const { return _v.empty(); }
    [[nodiscard]] std::uint8_t* data() { return _v.data(); }
    [[nodiscard]] const std::uint8_t* data() const { return _v.data(); }
    [[nodiscard]] std::span<const std::uint8_t> view() const { return _v; }
    [[nodiscard]] std::span<std::uint8_t> mut() { return _v; }
    [[nodiscard]] secret_bytes slice(std::size_t off, std::size_t n) const {
        return secret_bytes(view().subspan(off, n));
    }
    [[nodiscard]] static std::string_view redacted() { return "<redacted>"; }
    friend bool operator==(const secret_bytes& a, const secret_bytes& b) {
        return a._v.size() == b._v.size() && CRYPTO_memcmp(a._v.data(), b._v.data(), a._v.size()) == 0;
    }

private:
    std::vector<std::uint8_t> _v;
};

} // namespace base
