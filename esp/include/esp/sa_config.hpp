#pragma once
// Control-plane description of one ESP SA (tunnel mode). Built by IKE/control or ipsec-vector,
// validated once, then compiled into an outbound_sa or inbound_sa (see sa.hpp).
#include "esp/algorithms.hpp"
#include "esp/crypto.hpp"

#include <base/secret_bytes.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace esp {

struct ip_address {
    std::uint8_t family = 0;              // 4 or 6; 0 = unset
    std::array<std::uint8_t, 16> bytes{}; // IPv4 uses the first 4 bytes

    [[nodiscard]] bool is_v4() const { return family == 4; }
    [[nodiscard]] bool is_v6() const { return family == 6; }
    [[nodiscard]] static std::optional<ip_address> parse(std::string_view s);
    [[nodiscard]] static ip_address v4(std::uint32_t host_order);
    [[nodiscard]] std::string to_string() const;
    friend bool operator==(const ip_address&, const ip_address&) = default;
};

// RFC 3948 UDP encapsulation ports (outbound: source/destination of the outer UDP header).
struct udp_encap {
    std::uint16_t sport = 4500;
    std::uint16_t dport = 4500;
};

// Outer IPv4 DF bit (RFC 4301 8.1): copy from the inner IPv4 header (inner IPv6: set),
// always set, or always clear.
enum class df_policy : std::uint8_t { copy, set, clear };

// 0 = no limit. Bytes count inner (plaintext) packet bytes.
struct lifetime_limits {
    std::uint64_t bytes = 0;
    std::uint64_t packets = 0;
};

enum class sa_direction : std::uint8_t { outbound, inbound };
enum class lifetime_kind : std::uint8_t { soft, hard };

struct lifetime_event {
    std::uint32_t spi;
    sa_direction direction;
    lifetime_kind kind;
    bool by_bytes;       // true: the byte limit was crossed, false: the packet limit
    std::uint64_t bytes;    // counters at the moment of crossing
    std::uint64_t packets;
};

// Called on the SA's owning thread (a worker lcore) at most once per kind and direction, the
// moment a limit is crossed. Must not block; typically posts to the control plane.
using lifetime_callback = std::function<void(const lifetime_event&)>;

struct sa_config {
    std::uint32_t spi = 0;          // 256..2^32-1 (RFC 4303 2.1: 1..255 reserved, 0 local)
    ip_address src;                 // outer source (outbound: us; inbound: the peer)
    ip_address dst;                 // outer destination; same family as src
    enc_alg enc = enc_alg::aes256_cbc;
    base::secret_bytes enc_key;     // params(enc).key_len bytes (GCM: key || 4-byte salt)
    integ_alg integ = integ_alg::sha256_128;
    base::secret_bytes integ_key;   // params(integ).key_len bytes; empty for none
    bool esn = false;               // RFC 4303 2.2.1 extended sequence numbers
    std::uint32_t replay_window = 64;  // inbound: 0 = off, else 64..4096
    std::optional<udp_encap> natt;  // RFC 3948
    lifetime_limits soft;           // callback only
    lifetime_limits hard;           // callback, then every further packet dropped (lifetime)
    lifetime_callback on_lifetime;
    df_policy df = df_policy::copy;
    std::uint8_t ttl = 64;          // outer IPv4 TTL / IPv6 hop limit
    std::uint64_t initial_seq = 1;  // outbound: first sequence number (64-bit with ESN), >= 1;
                                    // inbound with ESN: the replay window starts just below it
    backend_kind backend = backend_kind::ipsecmb;
    // Outbound CBC IVs; null = a per-SA CSPRNG (AES-CTR keyed from RAND_bytes). Tests inject a
    // fixed source to compare backends byte for byte. GCM IVs are the sequence number.
    std::shared_ptr<iv_source> iv;
};

// Empty string when valid, else a one-line reason (no key material in it).
[[nodiscard]] std::string validate(const sa_config& c);

} // namespace esp
