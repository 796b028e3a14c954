#pragma once
// Helpers for the esp unit tests: plain buffers with head/tailroom, inner packets, SA configs.
#include <esp/sa.hpp>

#include <base/hex.hpp>
#include <base/reader.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace esp_test {

inline constexpr std::uint32_t headroom = 128;
inline constexpr std::uint32_t tailroom = 128;

// One owned buffer and the esp::pkt view over it.
struct buffer {
    std::vector<std::uint8_t> mem;
    esp::pkt p;

    explicit buffer(std::span<const std::uint8_t> data, std::uint32_t head = headroom, std::uint32_t tail = tailroom)
        : mem(head + data.size() + tail, 0xee) {
        std::copy(data.begin(), data.end(), mem.begin() + head);
        p = esp::pkt{mem.data(), std::uint32_t(mem.size()), head, std::uint32_t(data.size())};
    }
    buffer(const buffer& o) : mem(o.mem), p(o.p) { p.buf = mem.data(); }
    buffer& operator=(const buffer& o) {
        mem = o.mem;
        p = o.p;
        p.buf = mem.data();
        return *this;
    }
    [[nodiscard]] std::vector<std::uint8_t> bytes() const { return {p.data(), p.data() + p.data_len}; }
};

inline std::vector<std::uint8_t> hex(std::string_view s) { return base::from_hex(s).value(); }

inline std::uint16_t ipv4_checksum(const std::uint8_t* h, std::size_t len) {
    std::uint32_t s = 0;
    for (std::size_t i = 0; i + 1 < len; i += 2) s += std::uint32_t(h[i] << 8 | h[i + 1]);
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return std::uint16_t(~s);
}

// An inner IPv4/UDP packet 198.51.100.1 -> 198.51.100.2 of `total` bytes (>= 28).
inline std::vector<std::uint8_t> inner_v4(std::size_t total, std::uint8_t tos = 0, bool df = false, std::uint8_t seed = 1) {
    std::vector<std::uint8_t> v(total);
    v[0] = 0x45;
    v[1] = tos;
    base::store_be16(&v[2], std::uint16_t(total));
    base::store_be16(&v[4], 0x1234);
    base::store_be16(&v[6], df ? 0x4000 : 0);
    v[8] = 63;
    v[9] = 17;
    const std::uint8_t a[8] = {198, 51, 100, 1, 198, 51, 100, 2};
    std::memcpy(&v[12], a, 8);
    base::store_be16(&v[10], ipv4_checksum(v.data(), 20));
    base::store_be16(&v[20], 1000);
    base::store_be16(&v[22], 2000);
    base::store_be16(&v[24], std::uint16_t(total - 20));
    for (std::size_t i = 28; i < total; ++i) v[i] = std::uint8_t(i * 7 + seed);
    return v;
}

// An inner IPv6/UDP packet 2001:db8::1 -> 2001:db8::2 of `total` bytes (>= 48).
inline std::vector<std::uint8_t> inner_v6(std::size_t total, std::uint8_t tclass = 0, std::uint8_t seed = 1) {
    std::vector<std::uint8_t> v(total);
    base::store_be32(&v[0], 0x60000000u | std::uint32_t(tclass) << 20 | 0x12345);
    base::store_be16(&v[4], std::uint16_t(total - 40));
    v[6] = 17;
    v[7] = 64;
    v[8] = 0x20; v[9] = 0x01; v[10] = 0x0d; v[11] = 0xb8; v[23] = 1;
    v[24] = 0x20; v[25] = 0x01; v[26] = 0x0d; v[27] = 0xb8; v[39] = 2;
    base::store_be16(&v[40], 1000);
    base::store_be16(&v[42], 2000);
    base::store_be16(&v[44], std::uint16_t(total - 40));
    for (std::size_t i = 48; i < total; ++i) v[i] = std::uint8_t(i * 13 + seed);
    return v;
}

// The views of a set of buffers (what encap/decap take).
inline std::vector<esp::pkt> views(std::vector<buffer>& b) {
    std::vector<esp::pkt> v;
    for (auto& x : b) v.push_back(x.p);
    return v;
}

// One SA's algorithms and shape, for tests that run many kinds of SA side by side.
struct sa_kind {
    esp::enc_alg enc;
    esp::integ_alg integ;
    bool v6 = false;
    bool natt = false;
    bool esn = false;
};

inline base::secret_bytes key_bytes(std::size_t n, std::uint8_t seed) {
    base::secret_bytes k(n);
    for (std::size_t i = 0; i < n; ++i) k.data()[i] = std::uint8_t(seed + i * 31);
    return k;
}

inline esp::sa_config make_config(esp::enc_alg enc, esp::integ_alg integ, bool v6_outer = false,
                                  esp::backend_kind backend = esp::backend_kind::openssl) {
    esp::sa_config c;
    c.spi = 0x11223344;
    c.src = *esp::ip_address::parse(v6_outer ? "2001:db8:1::1" : "192.0.2.1");
    c.dst = *esp::ip_address::parse(v6_outer ? "2001:db8:2::2" : "192.0.2.2");
    c.enc = enc;
    c.enc_key = key_bytes(esp::params(enc).key_len, 0x10);
    c.integ = integ;
    c.integ_key = key_bytes(esp::params(integ).key_len, 0x80);
    c.backend = backend;
    return c;
}

// Deterministic IVs for byte-exact comparisons across backends.
class counting_iv final : public esp::iv_source {
public:
    explicit counting_iv(std::uint8_t start = 0) : _next(start) {}
    void fill(std::span<std::uint8_t> out) override {
        for (auto& b : out) b = _next++;
    }

private:
    std::uint8_t _next;
};

inline const esp::enc_alg all_enc[] = {esp::enc_alg::aes128_cbc, esp::enc_alg::aes192_cbc, esp::enc_alg::aes256_cbc,
                                       esp::enc_alg::aes128gcm16, esp::enc_alg::aes256gcm16, esp::enc_alg::des3_cbc};
inline const esp::integ_alg all_integ[] = {esp::integ_alg::sha1_96, esp::integ_alg::sha256_128,
                                           esp::integ_alg::sha384_192, esp::integ_alg::sha512_256};

// Every valid (enc, integ) pair: CBC ciphers with each HMAC, GCM with none.
inline std::vector<std::pair<esp::enc_alg, esp::integ_alg>> all_pairs() {
    std::vector<std::pair<esp::enc_alg, esp::integ_alg>> v;
    for (auto e : all_enc) {
        if (esp::params(e).aead) v.emplace_back(e, esp::integ_alg::none);
        else
            for (auto i : all_integ) v.emplace_back(e, i);
    }
    return v;
}

inline const esp::backend_kind both_backends[] = {esp::backend_kind::openssl, esp::backend_kind::ipsecmb};

} // namespace esp_test
