// Round trips encap -> decap for every algorithm pair, inner/outer IPv4/IPv6, NAT-T, ESN and both
// backends, and cross-backend: the two backends produce identical bytes for the same IVs, and
// either decrypts the other's output.
#include "esp_test_util.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <thread>

using namespace esp_test;

namespace {

std::unique_ptr<esp::outbound_sa> out_sa(const esp::sa_config& c) {
    auto r = esp::outbound_sa::create(c);
    INFO(r.error);
    REQUIRE(r);
    return std::move(r.sa);
}
std::unique_ptr<esp::inbound_sa> in_sa(const esp::sa_config& c) {
    auto r = esp::inbound_sa::create(c);
    INFO(r.error);
    REQUIRE(r);
    return std::move(r.sa);
}

} // namespace

TEST_CASE("esp round trip: every algorithm pair x inner v4/v6 x outer v4/v6 x NAT-T x ESN x backend") {
    for (auto [enc, integ] : all_pairs())
        for (auto backend : both_backends)
            for (bool v6_outer : {false, true})
                for (bool natt : {false, true})
                    for (bool esn : {false, true}) {
                        auto c = make_config(enc, integ, v6_outer, backend);
                        c.esn = esn;
                        if (natt) c.natt = esp::udp_encap{4500, 4501};
                        if (esn) c.initial_seq = 0xfffffffeULL;  // crosses 2^32 inside the burst
                        auto o = out_sa(c);
                        auto i = in_sa(c);
                        INFO(to_string(enc) << " " << to_string(integ) << " " << to_string(backend) << " v6_outer="
                                            << v6_outer << " natt=" << natt << " esn=" << esn);
                        std::vector<std::vector<std::uint8_t>> inner;
                        std::vector<buffer> bufs;
                        for (std::size_t k = 0; k < 6; ++k) {
                            inner.push_back(k % 2 ? inner_v6(48 + k * 37, std::uint8_t(k)) : inner_v4(28 + k * 41, std::uint8_t(k << 2)));
                            bufs.emplace_back(inner.back());
                        }
                        std::vector<esp::pkt> pk;
                        for (auto& b : bufs) pk.push_back(b.p);
                        std::vector<esp::drop_reason> res(pk.size());
                        REQUIRE(o->encap(pk, res) == pk.size());
                        for (std::size_t k = 0; k < pk.size(); ++k) {
                            CHECK(res[k] == esp::drop_reason::ok);
                            esp::esp_location loc;
                            REQUIRE(esp::locate_esp(pk[k], loc) == esp::drop_reason::ok);
                            CHECK(loc.spi == c.spi);
                            CHECK(loc.udp == natt);
                            CHECK(loc.ip_version == (v6_outer ? 6 : 4));
                            CHECK(loc.seq == std::uint32_t(c.initial_seq + k));
                        }
                        REQUIRE(i->decap(pk, res) == pk.size());
                        for (std::size_t k = 0; k < pk.size(); ++k) {
                            CHECK(res[k] == esp::drop_reason::ok);
                            CHECK(std::vector<std::uint8_t>(pk[k].data(), pk[k].data() + pk[k].data_len) == inner[k]);
                        }
                        CHECK(i->counters().packets == pk.size());
                        CHECK(i->window().top() == c.initial_seq + pk.size() - 1);
                        CHECK(o->counters().packets == pk.size());
                    }
}

TEST_CASE("esp backends: identical bytes for the same IVs, and each decrypts the other") {
    for (auto [enc, integ] : all_pairs())
        for (bool esn : {false, true}) {
            INFO(to_string(enc) << " " << to_string(integ) << " esn=" << esn);
            auto co = make_config(enc, integ, false, esp::backend_kind::openssl);
            co.esn = esn;
            co.iv = std::make_shared<counting_iv>(7);
            auto cm = make_config(enc, integ, false, esp::backend_kind::ipsecmb);
            cm.esn = esn;
            cm.iv = std::make_shared<counting_iv>(7);
            auto oo = out_sa(co);
            auto om = out_sa(cm);
            std::vector<buffer> a, b;
            for (std::size_t n : {28u, 64u, 100u, 512u, 1400u, 1401u}) {
                a.emplace_back(inner_v4(n));
                b.emplace_back(inner_v4(n));
            }
            std::vector<esp::pkt> pa, pb;
            for (auto& x : a) pa.push_back(x.p);
            for (auto& x : b) pb.push_back(x.p);
            std::vector<esp::drop_reason> ra(pa.size()), rb(pb.size());
            REQUIRE(oo->encap(pa, ra) == pa.size());
            REQUIRE(om->encap(pb, rb) == pb.size());
            for (std::size_t k = 0; k < pa.size(); ++k) {
                std::vector<std::uint8_t> xa(pa[k].data(), pa[k].data() + pa[k].data_len);
                std::vector<std::uint8_t> xb(pb[k].data(), pb[k].data() + pb[k].data_len);
                CHECK(xa == xb);
            }
            // openssl-encrypted -> ipsecmb decap, ipsecmb-encrypted -> openssl decap
            auto im = in_sa(cm);
            auto io = in_sa(co);
            REQUIRE(im->decap(pa, ra) == pa.size());
            REQUIRE(io->decap(pb, rb) == pb.size());
        }
}

TEST_CASE("ipsecmb SSE and AVX code paths (pinned per thread) match OpenSSL byte for byte") {
    // The multi-buffer manager is per thread and reads ESP_IPSECMB_ARCH on first use, so each arch
    // runs in a fresh thread. Paths the CPU lacks report the backend unavailable and are skipped.
    for (const char* arch : {"sse", "avx", "avx2", "avx512"}) {
        ::setenv("ESP_IPSECMB_ARCH", arch, 1);
        bool available = false;
        std::size_t mismatches = 0, compared = 0;
        std::thread t([&] {
            available = esp::ipsecmb_available();
            if (!available) return;
            for (auto [enc, integ] : all_pairs()) {
                auto co = make_config(enc, integ, false, esp::backend_kind::openssl);
                auto cm = make_config(enc, integ, false, esp::backend_kind::ipsecmb);
                co.iv = std::make_shared<counting_iv>(3);
                cm.iv = std::make_shared<counting_iv>(3);
                auto oo = esp::outbound_sa::create(co);
                auto om = esp::outbound_sa::create(cm);
                auto im = esp::inbound_sa::create(cm);
                if (!oo || !om || !im) { ++mismatches; continue; }
                for (std::size_t n : {28u, 333u, 1400u}) {
                    buffer a(inner_v4(n)), b(inner_v4(n));
                    esp::drop_reason r{};
                    oo.sa->encap({&a.p, 1}, {&r, 1});
                    om.sa->encap({&b.p, 1}, {&r, 1});
                    ++compared;
                    if (a.bytes() != b.bytes()) ++mismatches;
                    if (im.sa->decap({&a.p, 1}, {&r, 1}) != 1 || a.bytes() != inner_v4(n)) ++mismatches;
                }
            }
        });
        t.join();
        ::unsetenv("ESP_IPSECMB_ARCH");
        INFO("arch " << arch);
        if (!available) {
            WARN("intel-ipsec-mb " << arch << " path not available on this CPU; skipped");
            continue;
        }
        CHECK(compared == all_pairs().size() * 3);
        CHECK(mismatches == 0);
    }
}

TEST_CASE("bursts longer than max_burst are processed in chunks, results stay in input order") {
    for (auto b : both_backends) {
        auto c = make_config(esp::enc_alg::aes256_cbc, esp::integ_alg::sha256_128, true, b);
        auto o = out_sa(c);
        auto i = in_sa(c);
        std::vector<buffer> bufs;
        for (std::size_t k = 0; k < 150; ++k) bufs.emplace_back(k % 7 == 3 ? std::vector<std::uint8_t>(30, 0) : inner_v4(40 + k));
        std::vector<esp::pkt> pk;
        for (auto& x : bufs) pk.push_back(x.p);
        std::vector<esp::drop_reason> res(pk.size());
        const std::size_t bad = (150 + 3) / 7;  // k % 7 == 3 are not IP
        CHECK(o->encap(pk, res) == 150 - bad);
        for (std::size_t k = 0; k < pk.size(); ++k)
            CHECK(res[k] == (k % 7 == 3 ? esp::drop_reason::not_ip : esp::drop_reason::ok));
        CHECK(i->decap(pk, res) == 150 - bad);
        for (std::size_t k = 0; k < pk.size(); ++k) {
            if (k % 7 == 3) {
                CHECK(res[k] == esp::drop_reason::not_ip);
                continue;
            }
            CHECK(res[k] == esp::drop_reason::ok);
            CHECK(std::vector<std::uint8_t>(pk[k].data(), pk[k].data() + pk[k].data_len) == inner_v4(40 + k));
        }
        CHECK(i->window().top() == 150 - bad);
    }
}

TEST_CASE("outer IPv6 extension headers before ESP are skipped; a fragment header is refused") {
    auto c = make_config(esp::enc_alg::aes128gcm16, esp::integ_alg::none, true);
    auto o = out_sa(c);
    auto i = in_sa(c);
    auto with_ext = [&](std::uint8_t ext_type) {
        buffer b(inner_v4(64));
        esp::drop_reason r{};
        REQUIRE(o->encap({&b.p, 1}, {&r, 1}) == 1);
        auto p = b.bytes();
        // insert an 8-byte extension header (RFC 8200 4.3 / 4.5 layout) between IPv6 and ESP
        std::vector<std::uint8_t> ext(8, 0);
        ext[0] = p[6];  // next header: ESP
        if (ext_type == 44) ext[3] = 1;  // fragment header: offset 0, M=1
        else ext[1] = 0;  // hdr ext len 0 = 8 bytes, PadN follows
        if (ext_type != 44) { ext[2] = 1; ext[3] = 4; }
        p[6] = ext_type;
        base::store_be16(&p[4], std::uint16_t(base::load_be16(&p[4]) + 8));
        p.insert(p.begin() + 40, ext.begin(), ext.end());
        return p;
    };
    for (std::uint8_t t : {0, 60}) {
        buffer b(with_ext(t));
        esp::drop_reason r{};
        CHECK(i->decap({&b.p, 1}, {&r, 1}) == 1);
        CHECK(b.bytes() == inner_v4(64));
    }
    buffer f(with_ext(44));
    esp::drop_reason r{};
    CHECK(i->decap({&f.p, 1}, {&r, 1}) == 0);
    CHECK(r == esp::drop_reason::fragment);
}
