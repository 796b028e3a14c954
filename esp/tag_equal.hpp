#pragma once
// Internal: the ICV comparison of the intel-ipsec-mb backend and of cbc_mb.
#include <openssl/crypto.h>

#include <cstdint>
#include <cstring>

namespace esp::detail {

// Constant-time ICV comparison: the 12- and 16-byte ICVs of the fast path as an OR of XORs with
// no call and no early exit (the asm barrier keeps the compiler from turning it into compares and
// branches over the words); other lengths through CRYPTO_memcmp.
inline bool tag_equal(const std::uint8_t* a, const std::uint8_t* b, std::uint32_t n) {
    if (n == 16 || n == 12) {
        std::uint64_t x0, y0, d;
        std::memcpy(&x0, a, 8);
        std::memcpy(&y0, b, 8);
        if (n == 16) {
            std::uint64_t x1, y1;
            std::memcpy(&x1, a + 8, 8);
            std::memcpy(&y1, b + 8, 8);
            d = (x0 ^ y0) | (x1 ^ y1);
        } else {
            std::uint32_t x1, y1;
            std::memcpy(&x1, a + 8, 4);
            std::memcpy(&y1, b + 8, 4);
            d = (x0 ^ y0) | (x1 ^ y1);
        }
        __asm__("" : "+r"(d));
        return d == 0;
    }
    return CRYPTO_memcmp(a, b, n) == 0;
}

} // namespace esp::detail
