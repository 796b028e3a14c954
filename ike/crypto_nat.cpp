// NAT detection hashes (RFC 7296 2.23) through EVP_Digest.
#include "ike/crypto_nat.hpp"

#include "crypto_internal.hpp"

#include <base/reader.hpp>

#include <algorithm>

namespace ike::crypto {

result<nat_hash> nat_detection_hash(std::uint64_t spi_i, std::uint64_t spi_r, std::span<const std::uint8_t> ip,
                                    std::uint16_t port) {
    if (ip.size() != 4 && ip.size() != 16) return crypto_errc::invalid_argument;
    std::array<std::uint8_t, 8 + 8 + 16 + 2> in{};
    base::store_be64(in.data(), spi_i);
    base::store_be64(in.data() + 8, spi_r);
    std::copy(ip.begin(), ip.end(), in.begin() + 16);
    base::store_be16(in.data() + 16 + ip.size(), port);
    const std::size_t len = 16 + ip.size() + 2;
    nat_hash out{};
    unsigned int n = 0;
    evp_md_ptr sha1(EVP_MD_fetch(nullptr, "SHA1", nullptr));
    if (!sha1 || EVP_Digest(in.data(), len, out.data(), &n, sha1.get(), nullptr) != 1) return last_openssl_error();
    if (n != out.size()) return crypto_errc::invalid_argument;
    return out;
}

} // namespace ike::crypto
