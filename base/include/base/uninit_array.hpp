#pragma once
// Storage for N T's that is not initialised on construction: per-burst scratch on the stack of
// the fast path (ESP framing, the data plane's burst lists) would otherwise be zero-filled, or
// filled by T's default member initialisers, on every call. Only slots written first are read.
#include <cstddef>
#include <type_traits>

namespace base {

template <class T, std::size_t N>
struct uninit_array {
    static_assert(std::is_trivially_destructible_v<T>);
    union {
        T v[N];
    };
    uninit_array() {}  // NOLINT: deliberately leaves v uninitialised
    T& operator[](std::size_t i) { return v[i]; }
    const T& operator[](std::size_t i) const { return v[i]; }
    T* data() { return v; }
    const T* data() const { return v; }
    static constexpr std::size_t size() { return N; }
};

} // namespace base
