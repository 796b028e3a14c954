#pragma once
// Key exchange groups (IKEv2 Transform Type 4) through OpenSSL 3 EVP_PKEY, with the RFC 6989
// checks on every received public value:
//   MODP (RFC 2409/3526): exact size, 1 < y < p-1;
//   MODP with prime-order subgroup (RFC 5114 groups 22-24): also y^q = 1 mod p;
//   ECP (RFC 5903 / RFC 5114 groups 25-26): x || y of exact size, point on the curve (and not
//   the point at infinity, which has no x || y encoding);
//   curve25519 (RFC 8031): 32 bytes, all-zero shared secret rejected.
// Shared secrets: MODP g^ir left-padded to the size of p (RFC 7296 2.14), ECP the x coordinate
// only (RFC 5903 7), curve25519 the 32-byte X25519 output.
#include "ike/crypto_error.hpp"

#include <base/secret_bytes.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace ike::crypto {

enum class dh_group : std::uint16_t {
    modp768 = 1,       // refused (RFC 8247)
    modp1024 = 2,      // accepted, weak
    modp1536 = 5,      // accepted, weak
    modp2048 = 14,
    modp3072 = 15,
    modp4096 = 16,
    modp6144 = 17,
    modp8192 = 18,
    ecp256 = 19,
    ecp384 = 20,
    ecp521 = 21,
    modp1024s160 = 22, // RFC 5114, weak
    modp2048s224 = 23,
    modp2048s256 = 24,
    ecp192 = 25,       // RFC 5114, weak
    ecp224 = 26,
    curve25519 = 31,   // RFC 8031
};

enum class dh_kind { modp, modp_subgroup, ecp, x25519 };

struct dh_group_info {
    dh_group id;
    dh_kind kind;
    std::string_view name;     // strongSwan keyword: "modp2048", "ecp256", "curve25519", ...
    std::size_t public_size;   // exact KE payload data length
    std::size_t shared_size;   // g^ir length
    bool weak;                 // accepted but reported as weak
    bool refused;              // never negotiated (group 1)
};

// nullptr for a group we do not know; refused groups have an entry with refused = true.
const dh_group_info* find_dh_group(std::uint16_t wire_id);
const dh_group_info& dh_info(dh_group g); // g must be a known enumerator

// RFC 6989 / size checks of a peer's public value, without computing anything secret.
std::error_code check_public_value(dh_group g, std::span<const std::uint8_t> peer_public);

// One side of one key exchange: a private key and its public value.
class key_exchange {
public:
    virtual ~key_exchange() = default;
    [[nodiscard]] virtual dh_group group() const = 0;
    // Our KE payload data.
    [[nodiscard]] virtual std::span<const std::uint8_t> public_value() const = 0;
    // g^ir from the peer's KE payload data; checks it first (check_public_value).
    [[nodiscard]] virtual result<base::secret_bytes> shared_secret(std::span<const std::uint8_t> peer_public) const = 0;
};

// A fresh key pair from OpenSSL's DRBG. refused_group / unsupported_algorithm as appropriate.
result<std::unique_ptr<key_exchange>> generate_key_exchange(dh_group g);

// A key pair from a fixed private value (big-endian exponent for MODP, scalar for ECP, the raw
// 32-byte key for curve25519): for known-answer tests and reproducible exchange tests.
result<std::unique_ptr<key_exchange>> key_exchange_from_private(dh_group g, std::span<const std::uint8_t> priv);

// How IKE tasks obtain key exchanges, so tests can inject fixed DH values.
class key_exchange_factory {
public:
    virtual ~key_exchange_factory() = default;
    [[nodiscard]] virtual result<std::unique_ptr<key_exchange>> create(dh_group g) = 0;
};

// generate_key_exchange() behind the factory interface.
key_exchange_factory& system_key_exchange_factory();

} // namespace ike::crypto
