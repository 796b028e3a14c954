// The outer header an SA writes (RFC 4303 3.1.2 tunnel mode, RFC 4301 5.1.2.1 header
// construction, RFC 3948 2.1 UDP encapsulation): lengths, checksums, TTL, DSCP/ECN copy, DF
// policy, incrementing IPv4 ID, IPv6 next header and a valid IPv6 UDP checksum; and the RFC 6040
// ECN propagation on decap.
#include "esp_test_util.hpp"

#include <catch2/catch.hpp>

using namespace esp_test;

namespace {

std::vector<std::vector<std::uint8_t>> encap_all(esp::outbound_sa& o, std::vector<std::vector<std::uint8_t>> inner) {
    std::vector<buffer> bufs;
    for (auto& i : inner) bufs.emplace_back(i);
    std::vector<esp::pkt> pk;
    for (auto& b : bufs) pk.push_back(b.p);
    std::vector<esp::drop_reason> r(pk.size());
    REQUIRE(o.encap(pk, r) == pk.size());
    std::vector<std::vector<std::uint8_t>> out;
    for (auto& p : pk) out.emplace_back(p.data(), p.data() + p.data_len);
    return out;
}

std::uint16_t udp6_checksum(const std::vector<std::uint8_t>& p) {
    std::uint32_t s = 0;
    auto add = [&](const std::uint8_t* d, std::size_t n) {
        for (std::size_t i = 0; i + 1 < n; i += 2) s += std::uint32_t(d[i] << 8 | d[i + 1]);
        if (n & 1) s += std::uint32_t(d[n - 1] << 8);
    };
    add(&p[8], 32);
    s += std::uint32_t(p.size() - 40) + 17;
    add(&p[40], p.size() - 40);
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return std::uint16_t(~s);
}

} // namespace

TEST_CASE("outer IPv4: length, checksum, TTL, TOS copied, DF policy, IDs increment, protocol 50") {
    for (auto df : {esp::df_policy::copy, esp::df_policy::set, esp::df_policy::clear}) {
        auto c = make_config(esp::enc_alg::aes256_cbc, esp::integ_alg::sha256_128);
        c.df = df;
        c.ttl = 17;
        auto o = esp::outbound_sa::create(c);
        REQUIRE(o);
        const auto out = encap_all(*o.sa, {inner_v4(100, 0xb8 | 1, true), inner_v4(100, 0x02, false), inner_v6(100, 0x2a)});
        for (std::size_t k = 0; k < out.size(); ++k) {
            const auto& p = out[k];
            CHECK(p[0] == 0x45);
            CHECK(base::load_be16(&p[2]) == p.size());
            CHECK(ipv4_checksum(p.data(), 20) == 0);
            CHECK(p[8] == 17);
            CHECK(p[9] == 50);
            CHECK(std::equal(c.src.bytes.begin(), c.src.bytes.begin() + 4, p.begin() + 12));
            CHECK(std::equal(c.dst.bytes.begin(), c.dst.bytes.begin() + 4, p.begin() + 16));
            CHECK(base::load_be16(&p[4]) == base::load_be16(&out[0][4]) + k);
            CHECK((base::load_be16(&p[6]) & 0x3fff) == 0);
            // ESP: 8 + 16 IV + ciphertext aligned to 16 + 16 ICV
            CHECK((p.size() - 20 - 8 - 16 - 16) % 16 == 0);
        }
        CHECK(out[0][1] == (0xb8 | 1));  // DSCP EF + ECT(1) copied
        CHECK(out[1][1] == 0x02);
        CHECK(out[2][1] == 0x2a);        // IPv6 traffic class copied
        const bool df0 = base::load_be16(&out[0][6]) & 0x4000, df1 = base::load_be16(&out[1][6]) & 0x4000,
                   df2 = base::load_be16(&out[2][6]) & 0x4000;
        if (df == esp::df_policy::copy) {
            CHECK(df0);
            CHECK_FALSE(df1);
            CHECK(df2);  // inner IPv6: never fragmented en route, keep PMTU behaviour
        } else {
            CHECK(df0 == (df == esp::df_policy::set));
            CHECK(df1 == (df == esp::df_policy::set));
            CHECK(df2 == (df == esp::df_policy::set));
        }
    }
}

TEST_CASE("outer IPv6 and NAT-T: payload length, next header, hop limit, UDP ports/length/checksum") {
    for (bool natt : {false, true})
        for (bool v6 : {false, true}) {
            INFO("natt=" << natt << " v6=" << v6);
            auto c = make_config(esp::enc_alg::aes128gcm16, esp::integ_alg::none, v6);
            if (natt) c.natt = esp::udp_encap{4500, 54321};
            auto o = esp::outbound_sa::create(c);
            REQUIRE(o);
            const auto out = encap_all(*o.sa, {inner_v4(77, 0x10), inner_v6(1400)});
            for (const auto& p : out) {
                const std::size_t ip = v6 ? 40 : 20;
                const std::uint8_t proto = natt ? 17 : 50;
                if (v6) {
                    CHECK(p[0] >> 4 == 6);
                    CHECK(base::load_be16(&p[4]) == p.size() - 40);
                    CHECK(p[6] == proto);
                    CHECK(p[7] == 64);
                } else {
                    CHECK(p[9] == proto);
                }
                if (natt) {
                    CHECK(base::load_be16(&p[ip]) == 4500);
                    CHECK(base::load_be16(&p[ip + 2]) == 54321);
                    CHECK(base::load_be16(&p[ip + 4]) == p.size() - ip);
                    if (v6) CHECK(udp6_checksum(p) == 0);       // RFC 8200 8.1: mandatory, verified
                    else CHECK(base::load_be16(&p[ip + 6]) == 0);  // RFC 3948 2.1
                    CHECK(base::load_be32(&p[ip + 8]) == c.spi);
                } else {
                    CHECK(base::load_be32(&p[ip]) == c.spi);
                }
            }
        }
}

TEST_CASE("RFC 6040 4.2 decap: CE propagates to ECT inner packets, ECT(1) over ECT(0), CE over Not-ECT is dropped") {
    auto c = make_config(esp::enc_alg::aes128gcm16, esp::integ_alg::none);
    auto o = esp::outbound_sa::create(c);
    auto i = esp::inbound_sa::create(c);
    REQUIRE((o && i));
    struct tc { std::uint8_t inner_ecn, outer_ecn, want; bool v6; };  // want 0xff = dropped
    const tc cases[] = {
        {1, 3, 3, false}, {2, 3, 3, false}, {3, 3, 3, false}, {0, 3, 0xff, false},
        {2, 1, 1, false}, {1, 2, 1, false}, {0, 1, 0, false}, {2, 0, 2, false},
        {2, 3, 3, true},  {0, 3, 0xff, true}, {2, 1, 1, true}, {1, 0, 1, true},
    };
    for (const auto& t : cases) {
        INFO("inner " << int(t.inner_ecn) << " outer " << int(t.outer_ecn) << " v6 " << t.v6);
        auto inner = t.v6 ? inner_v6(80, std::uint8_t(0xb8 | t.inner_ecn)) : inner_v4(60, std::uint8_t(0xb8 | t.inner_ecn));
        auto p = encap_all(*o.sa, {inner})[0];
        p[1] = std::uint8_t((p[1] & ~3u) | t.outer_ecn);  // what routers on the path did
        base::store_be16(&p[10], 0);
        base::store_be16(&p[10], ipv4_checksum(p.data(), 20));
        buffer b(p);
        esp::drop_reason r{};
        const std::size_t n = i.sa->decap({&b.p, 1}, {&r, 1});
        if (t.want == 0xff) {
            CHECK(n == 0);
            CHECK(r == esp::drop_reason::ecn);
            continue;
        }
        REQUIRE(n == 1);
        const std::uint8_t* a = b.p.data();
        const std::uint8_t tos = t.v6 ? std::uint8_t((a[0] & 15) << 4 | a[1] >> 4) : a[1];
        CHECK((tos & 3) == t.want);
        CHECK((tos & ~3u) == 0xb8);  // DSCP untouched
        if (!t.v6) CHECK(ipv4_checksum(a, 20) == 0);
    }
    CHECK(i.sa->counters().drop(esp::drop_reason::ecn) == 2);
}
