#pragma once
// Internal: runtime SA layouts and helpers shared by outbound.cpp and inbound.cpp.
#include "esp/sa.hpp"

#include <base/uninit_array.hpp>

#include <cstdint>
#include <cstring>

namespace esp {

// Lifetime bookkeeping: one callback per kind, then the hard limit drops packets.
struct lifetime_state {
    lifetime_limits soft;
    lifetime_limits hard;
    bool soft_fired = false;
    bool hard_fired = false;

    static bool reached(const lifetime_limits& l, std::uint64_t bytes, std::uint64_t packets) {
        return (l.bytes != 0 && bytes >= l.bytes) || (l.packets != 0 && packets >= l.packets);
    }
};

// Cold part shared by both directions: owners of the crypto context and the callback.
struct sa_cold {
    std::unique_ptr<crypto_ctx> crypto_owner;
    lifetime_callback on_lifetime;
    enc_alg enc = enc_alg::aes256_cbc;
    integ_alg integ = integ_alg::none;
    backend_kind backend = backend_kind::ipsecmb;
};

// Hot fields first: everything the burst loop reads for every packet sits in the first lines.
// The outer headers are a per-SA template (outer IP [+UDP] + SPI) copied whole per packet; only
// TOS, lengths, IP ID, DF and the checksum change, the checksum from tmpl_sum incrementally.
struct alignas(64) outbound_hot {
    std::uint64_t next_seq = 1;
    std::uint64_t seq_limit = 0xffffffffULL;  // last usable sequence number
    crypto_ctx* crypto = nullptr;
    iv_source* ivs = nullptr;
    std::uint32_t spi = 0;
    std::uint32_t tmpl_sum = 0;  // IPv4: one's complement sum of the template's constant words
    std::uint16_t ip_id = 0;
    std::uint16_t hdr = 0;       // headroom: outer IP [+UDP] + ESP header + IV
    std::uint8_t iv_len = 0;
    std::uint8_t block = 0;
    std::uint8_t icv = 0;
    std::uint8_t ttl = 64;
    std::uint8_t ip_hdr = 20;
    std::uint8_t udp_hdr = 0;
    df_policy df = df_policy::copy;
    bool aead = false;
    bool esn = false;
    bool v6 = false;
    bool exhausted = false;
    // Outer IPv4 (20) or IPv6 (40), UDP (8) when NAT-T, SPI (4); the rest zero. encap copies 32
    // (IPv4) or 56 (IPv6) bytes: never more than the headroom, the excess lands on seq and IV.
    std::array<std::uint8_t, 56> tmpl{};
    lifetime_state life;
    sa_counters counters;
};

struct encap_scratch;

struct outbound_sa::impl : outbound_hot {
    std::shared_ptr<iv_source> iv_owner;
    sa_cold cold;

    std::size_t encap_chunk(std::span<pkt> pkts, std::span<drop_reason> results);
    std::size_t encap_begin(std::span<pkt> pkts, std::span<drop_reason> results, encap_scratch& s);
    template <bool is_aead, bool is_esn, bool is_v6, bool has_udp>
    std::size_t encap_begin_t(std::span<pkt> pkts, std::span<drop_reason> results, encap_scratch& s);
    std::size_t encap_finish(encap_scratch& s, std::size_t first, std::size_t k);
    void fire_lifetime();
};

struct alignas(64) inbound_hot {
    crypto_ctx* crypto = nullptr;
    std::uint32_t spi = 0;
    std::uint8_t iv_len = 0;
    std::uint8_t block = 0;
    std::uint8_t icv = 0;
    bool aead = false;
    bool esn = false;
    lifetime_state life;
    sa_counters counters;
    replay_window window;
};

struct decap_scratch;

struct inbound_sa::impl : inbound_hot {
    sa_cold cold;

    // Processes a prefix of pkts (all of them unless an ESN subspace change splits the burst);
    // consumed says how many.
    std::size_t decap_chunk(std::span<pkt> pkts, std::span<drop_reason> results, std::size_t& consumed);
    std::size_t decap_begin(std::span<pkt> pkts, std::span<drop_reason> results, decap_scratch& s, std::size_t& consumed);
    template <bool is_aead, bool is_esn>
    std::size_t decap_begin_t(std::span<pkt> pkts, std::span<drop_reason> results, decap_scratch& s,
                              std::size_t& consumed);
    std::size_t decap_finish(decap_scratch& s, std::size_t first, std::size_t k);
    void fire_lifetime();
};

namespace detail {

// Per-burst scratch without zero-fill (shared with the data plane).
using base::uninit_array;

// Fixed-size copies for the ICV lengths that exist (12, 16, 24, 32), so no call or rep movs.
inline void copy_icv(std::uint8_t* dst, const std::uint8_t* src, std::uint32_t n) {
    switch (n) {
    case 12: std::memcpy(dst, src, 12); break;
    case 16: std::memcpy(dst, src, 16); break;
    case 24: std::memcpy(dst, src, 24); break;
    case 32: std::memcpy(dst, src, 32); break;
    default: std::memcpy(dst, src, n); break;
    }
}

// RFC 1071 one's complement sum (not yet folded/complemented), for IPv4 header and UDP checksums.
inline std::uint32_t csum_add(std::uint32_t sum, const std::uint8_t* p, std::size_t len) {
    for (; len >= 2; p += 2, len -= 2) sum += std::uint32_t(p[0] << 8 | p[1]);
    if (len) sum += std::uint32_t(p[0] << 8);
    return sum;
}
inline std::uint16_t csum_fold(std::uint32_t sum) {
    sum = (sum & 0xffff) + (sum >> 16);  // <= 0x1fffe
    sum = (sum & 0xffff) + (sum >> 16);  // <= 0xffff
    return std::uint16_t(~sum);
}

void fire(const lifetime_callback& cb, lifetime_state& life, std::uint32_t spi, sa_direction dir,
          const sa_counters& c);

} // namespace detail
} // namespace esp
