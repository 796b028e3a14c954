// Hostile and broken input: every packet here must be dropped with the right reason and counter,
// and the replay window must stay unchanged wherever RFC 4303 3.4.3 says the packet does not
// count (anything that fails before or at the ICV check).
#include "esp_test_util.hpp"

#include <catch2/catch.hpp>

#include <limits>

using namespace esp_test;
using esp::drop_reason;

namespace {

struct sa_pair {
    esp::sa_config cfg;
    std::unique_ptr<esp::outbound_sa> out;
    std::unique_ptr<esp::inbound_sa> in;
};

sa_pair make_pair(esp::sa_config c) {
    auto o = esp::outbound_sa::create(c);
    INFO(o.error);
    REQUIRE(o);
    auto i = esp::inbound_sa::create(c);
    INFO(i.error);
    REQUIRE(i);
    return {std::move(c), std::move(o.sa), std::move(i.sa)};
}

// Encapsulate one inner packet and return the outer bytes.
std::vector<std::uint8_t> encap_one(esp::outbound_sa& o, std::span<const std::uint8_t> inner) {
    buffer b(inner);
    drop_reason r{};
    REQUIRE(o.encap({&b.p, 1}, {&r, 1}) == 1);
    return b.bytes();
}

drop_reason decap_one(esp::inbound_sa& in, std::span<const std::uint8_t> outer, std::vector<std::uint8_t>* inner = nullptr) {
    buffer b(outer);
    drop_reason r{};
    in.decap({&b.p, 1}, {&r, 1});
    if (inner && r == drop_reason::ok) *inner = b.bytes();
    return r;
}

// Build an ESP packet (outer IPv4, no UDP) from an arbitrary plaintext (padding and trailer chosen
// by the caller) with the SA's own crypto primitives, so the ICV / tag is valid.
std::vector<std::uint8_t> craft(const esp::sa_config& c, std::uint64_t seq, std::vector<std::uint8_t> plain,
                                std::uint32_t spi = 0) {
    std::string err;
    auto ctx = esp::crypto_ctx::create(c.backend, c.enc, c.enc_key.view(), c.integ, c.integ_key.view(), &err);
    REQUIRE(ctx);
    const auto ep = esp::params(c.enc);
    const std::uint32_t icv = esp::icv_len(c.enc, c.integ);
    const std::uint32_t esp_len = 8 + ep.iv_len + std::uint32_t(plain.size()) + icv;
    std::vector<std::uint8_t> pkt(20 + esp_len + 4, 0);  // + room for ESN seq_hi during HMAC
    pkt[0] = 0x45;
    base::store_be16(&pkt[2], std::uint16_t(20 + esp_len));
    pkt[8] = 64;
    pkt[9] = 50;
    std::copy(c.dst.bytes.begin(), c.dst.bytes.begin() + 4, pkt.begin() + 12);
    std::copy(c.src.bytes.begin(), c.src.bytes.begin() + 4, pkt.begin() + 16);
    base::store_be16(&pkt[10], ipv4_checksum(pkt.data(), 20));
    std::uint8_t* esp = pkt.data() + 20;
    base::store_be32(esp, spi ? spi : c.spi);
    base::store_be32(esp + 4, std::uint32_t(seq));
    std::uint8_t* iv = esp + 8;
    std::uint8_t* ct = iv + ep.iv_len;
    std::copy(plain.begin(), plain.end(), ct);
    std::uint8_t* icvp = ct + plain.size();
    esp::crypto_op op;
    op.data = ct;
    op.len = std::uint32_t(plain.size());
    std::array<std::uint8_t, 64> tag{};
    op.tag = tag.data();
    std::array<std::uint8_t, 12> aad{};
    if (ep.aead) {
        base::store_be64(iv, seq);
        op.iv = iv;
        base::store_be32(aad.data(), spi ? spi : c.spi);
        if (c.esn) {
            base::store_be32(aad.data() + 4, std::uint32_t(seq >> 32));
            base::store_be32(aad.data() + 8, std::uint32_t(seq));
        } else {
            base::store_be32(aad.data() + 4, std::uint32_t(seq));
        }
        op.auth = aad.data();
        op.auth_len = c.esn ? 12 : 8;
    } else {
        for (std::uint32_t i = 0; i < ep.iv_len; ++i) iv[i] = std::uint8_t(0xa0 + i);
        op.iv = iv;
        op.auth = esp;
        op.auth_len = 8 + ep.iv_len + op.len;
        if (c.esn) {
            base::store_be32(icvp, std::uint32_t(seq >> 32));
            op.auth_len += 4;
        }
    }
    ctx->encrypt({&op, 1});
    REQUIRE(op.ok);
    std::copy(tag.begin(), tag.begin() + icv, icvp);
    pkt.resize(20 + esp_len);
    return pkt;
}

// Inner packet + RFC 4303 padding + trailer, aligned for the SA's cipher.
std::vector<std::uint8_t> with_trailer(const esp::sa_config& c, std::vector<std::uint8_t> inner, std::uint8_t nh) {
    const std::uint32_t block = esp::params(c.enc).block_size;
    const std::uint8_t pad = std::uint8_t((block - (inner.size() + 2) % block) % block);
    for (std::uint8_t i = 1; i <= pad; ++i) inner.push_back(i);
    inner.push_back(pad);
    inner.push_back(nh);
    return inner;
}

const std::pair<esp::enc_alg, esp::integ_alg> sample_pairs[] = {
    {esp::enc_alg::aes256_cbc, esp::integ_alg::sha256_128},
    {esp::enc_alg::aes128gcm16, esp::integ_alg::none},
    {esp::enc_alg::des3_cbc, esp::integ_alg::sha1_96},
};

} // namespace

TEST_CASE("bit flips in ICV, ciphertext, IV, sequence number and SPI are dropped; window unchanged") {
    for (auto [enc, integ] : sample_pairs)
        for (auto b : both_backends) {
            INFO(to_string(enc) << " " << to_string(b));
            auto s = make_pair(make_config(enc, integ, false, b));
            const auto good = encap_one(*s.out, inner_v4(100));
            const auto second = encap_one(*s.out, inner_v4(100));
            const std::size_t esp_off = 20;
            const std::size_t icv = esp::icv_len(enc, integ);
            const auto flip = [&](std::size_t at) {
                auto p = good;
                p[at] ^= 0x01;
                return p;
            };
            CHECK(decap_one(*s.in, flip(good.size() - 1)) == drop_reason::icv);            // ICV
            CHECK(decap_one(*s.in, flip(good.size() - icv)) == drop_reason::icv);          // first ICV byte
            CHECK(decap_one(*s.in, flip(good.size() - icv - 1)) == drop_reason::icv);      // ciphertext end
            CHECK(decap_one(*s.in, flip(esp_off + 8)) == drop_reason::icv);                // IV
            CHECK(decap_one(*s.in, flip(esp_off + 8 + esp::params(enc).iv_len)) == drop_reason::icv);
            CHECK(decap_one(*s.in, flip(esp_off + 7)) == drop_reason::replay);             // seq 1 -> 0
            CHECK(decap_one(*s.in, flip(esp_off + 6)) == drop_reason::icv);                // seq 1 -> 257
            CHECK(decap_one(*s.in, flip(esp_off + 3)) == drop_reason::no_sa);              // SPI
            CHECK(s.in->window().top() == 0);
            CHECK(s.in->counters().drop(drop_reason::icv) == 6);
            CHECK(s.in->counters().drop(drop_reason::replay) == 1);
            CHECK(s.in->counters().drop(drop_reason::no_sa) == 1);
            CHECK(s.in->counters().packets == 0);
            // the untouched packets still pass, in either order
            CHECK(decap_one(*s.in, second) == drop_reason::ok);
            CHECK(decap_one(*s.in, good) == drop_reason::ok);
            CHECK(s.in->window().top() == 2);
        }
}

TEST_CASE("duplicates are dropped as replay, across bursts and inside one burst") {
    for (auto b : both_backends) {
        auto s = make_pair(make_config(esp::enc_alg::aes128gcm16, esp::integ_alg::none, false, b));
        const auto p1 = encap_one(*s.out, inner_v4(60));
        const auto p2 = encap_one(*s.out, inner_v4(61));
        CHECK(decap_one(*s.in, p1) == drop_reason::ok);
        CHECK(decap_one(*s.in, p1) == drop_reason::replay);
        // same burst: p2 twice, only the first passes (window update re-checks)
        buffer a(p2), c(p2);
        esp::pkt pk[2] = {a.p, c.p};
        drop_reason r[2];
        CHECK(s.in->decap(pk, r) == 1);
        CHECK(r[0] == drop_reason::ok);
        CHECK(r[1] == drop_reason::replay);
        CHECK(s.in->counters().drop(drop_reason::replay) == 2);
        CHECK(s.in->counters().packets == 2);
    }
}

TEST_CASE("replay window edges at 64 and 4096 through the SA") {
    for (std::uint32_t w : {64u, 4096u}) {
        INFO("window " << w);
        auto c = make_config(esp::enc_alg::aes128gcm16, esp::integ_alg::none);
        c.replay_window = w;
        auto s = make_pair(c);
        // sequence numbers 1 .. w+1 are produced; deliver the newest first
        std::vector<std::vector<std::uint8_t>> pk;
        for (std::uint32_t i = 0; i < w + 1; ++i) pk.push_back(encap_one(*s.out, inner_v4(40)));
        const std::uint64_t top = w + 1;
        CHECK(decap_one(*s.in, pk[top - 1]) == drop_reason::ok);
        // top - w is just outside (seq 1), top - w + 1 is the oldest inside (seq 2)
        CHECK(decap_one(*s.in, pk[0]) == drop_reason::replay);
        CHECK(decap_one(*s.in, pk[1]) == drop_reason::ok);
        CHECK(decap_one(*s.in, pk[1]) == drop_reason::replay);
        CHECK(decap_one(*s.in, pk[w / 2]) == drop_reason::ok);
        CHECK(s.in->window().top() == top);
        CHECK(s.in->counters().drop(drop_reason::replay) == 2);
    }
}

TEST_CASE("ESN: a sequence run across 2^32, late packets from before the wrap, without ESN the sender stops") {
    for (auto [enc, integ] : sample_pairs)
        for (auto b : both_backends) {
            INFO(to_string(enc) << " " << to_string(b));
            auto c = make_config(enc, integ, false, b);
            c.esn = true;
            c.initial_seq = 0xfffffff0ULL;
            auto s = make_pair(c);
            std::vector<std::vector<std::uint8_t>> pk;
            for (int i = 0; i < 32; ++i) pk.push_back(encap_one(*s.out, inner_v4(50 + i)));
            CHECK(s.out->next_seq() == 0xfffffff0ULL + 32);
            // deliver all but 0xfffffffe and 0xffffffff (indices 14, 15), then those two late
            for (int i = 0; i < 32; ++i)
                if (i != 14 && i != 15) CHECK(decap_one(*s.in, pk[i]) == drop_reason::ok);
            CHECK(s.in->window().top() == 0xfffffff0ULL + 31);
            CHECK(decap_one(*s.in, pk[15]) == drop_reason::ok);
            CHECK(decap_one(*s.in, pk[14]) == drop_reason::ok);
            CHECK(decap_one(*s.in, pk[14]) == drop_reason::replay);
            CHECK(decap_one(*s.in, pk[20]) == drop_reason::replay);
            CHECK(s.in->counters().packets == 32);
        }
    // without ESN: 0xfffffffe and 0xffffffff, then the counter would cycle
    auto c = make_config(esp::enc_alg::aes256_cbc, esp::integ_alg::sha256_128);
    c.initial_seq = 0xfffffffeULL;
    auto s = make_pair(c);
    std::vector<buffer> bufs;
    for (int i = 0; i < 4; ++i) bufs.emplace_back(inner_v4(40));
    esp::pkt pk[4] = {bufs[0].p, bufs[1].p, bufs[2].p, bufs[3].p};
    drop_reason r[4];
    CHECK(s.out->encap(pk, r) == 2);
    CHECK(r[0] == drop_reason::ok);
    CHECK(r[1] == drop_reason::ok);
    CHECK(r[2] == drop_reason::seq_cycled);
    CHECK(r[3] == drop_reason::seq_cycled);
    CHECK(s.out->counters().drop(drop_reason::seq_cycled) == 2);
    // a refused packet's view is untouched
    CHECK(pk[2].data_off == headroom);
    CHECK(pk[2].data_len == 40);
    // and later bursts stay refused
    buffer more(inner_v4(40));
    CHECK(s.out->encap({&more.p, 1}, {r, 1}) == 0);
    CHECK(r[0] == drop_reason::seq_cycled);
}

TEST_CASE("outbound counter exhaustion with ESN at 2^64-1") {
    auto c = make_config(esp::enc_alg::aes128gcm16, esp::integ_alg::none);
    c.esn = true;
    c.initial_seq = std::numeric_limits<std::uint64_t>::max() - 1;
    auto s = make_pair(c);
    std::vector<buffer> bufs;
    for (int i = 0; i < 3; ++i) bufs.emplace_back(inner_v6(60));
    esp::pkt pk[3] = {bufs[0].p, bufs[1].p, bufs[2].p};
    drop_reason r[3];
    CHECK(s.out->encap(pk, r) == 2);
    CHECK(r[2] == drop_reason::seq_cycled);
}

TEST_CASE("outbound limits across bursts: sequence space and hard packet lifetime, which one is counted") {
    // encap bursts of `sizes` on an SA with the last sequence number `first` and a hard limit of
    // `hard` packets (0: none); the reasons of all packets in order.
    auto run = [](std::uint64_t first, std::uint64_t hard, std::vector<std::size_t> sizes) {
        auto c = make_config(esp::enc_alg::aes256_cbc, esp::integ_alg::sha256_128);
        c.initial_seq = first;
        c.hard.packets = hard;
        auto s = make_pair(c);
        std::vector<drop_reason> all;
        for (auto n : sizes) {
            std::vector<buffer> bufs;
            for (std::size_t i = 0; i < n; ++i) bufs.emplace_back(inner_v4(40));
            std::vector<esp::pkt> pk;
            for (auto& b : bufs) pk.push_back(b.p);
            std::vector<drop_reason> r(n);
            const auto ok = s.out->encap(pk, r);
            CHECK(ok == std::size_t(std::count(r.begin(), r.end(), drop_reason::ok)));
            all.insert(all.end(), r.begin(), r.end());
        }
        return all;
    };
    using enum drop_reason;
    // the last number (0xffffffff) taken by the second burst's first packet: then never again
    CHECK(run(0xfffffffeULL, 0, {1, 2, 1}) == std::vector{ok, ok, seq_cycled, seq_cycled});
    CHECK(run(0xfffffffeULL, 0, {2, 1}) == std::vector{ok, ok, seq_cycled});
    // a hard packet limit reached in the second burst, counted as lifetime
    CHECK(run(1, 5, {3, 3, 1}) == std::vector{ok, ok, ok, ok, ok, lifetime, lifetime});
    // both limits: lifetime once the packet limit is reached, else seq_cycled (dropped packets
    // count towards neither)
    CHECK(run(0xffffffffULL, 1, {3}) == std::vector{ok, lifetime, lifetime});
    CHECK(run(0xffffffffULL, 2, {3}) == std::vector{ok, seq_cycled, seq_cycled});
    CHECK(run(0xffffffffULL, 3, {1, 2}) == std::vector{ok, seq_cycled, seq_cycled});
}

TEST_CASE("10k forged far-ahead packets, then a valid one: the window never moved") {
    for (auto b : both_backends) {
        auto s = make_pair(make_config(esp::enc_alg::aes256_cbc, esp::integ_alg::sha256_128, false, b));
        const auto p1 = encap_one(*s.out, inner_v4(80));
        const auto p2 = encap_one(*s.out, inner_v4(80));
        CHECK(decap_one(*s.in, p1) == drop_reason::ok);
        std::vector<buffer> forged;
        for (std::uint32_t i = 0; i < 10000; ++i) {
            auto f = p2;
            base::store_be32(&f[24], 1000000 + i * 977);  // far ahead
            f[f.size() - 1 - (i % 16)] ^= std::uint8_t(1 + i % 255);
            forged.emplace_back(f);
        }
        std::vector<esp::pkt> pk;
        for (auto& f : forged) pk.push_back(f.p);
        std::vector<drop_reason> r(pk.size());
        CHECK(s.in->decap(pk, r) == 0);
        CHECK(s.in->counters().drop(drop_reason::icv) == 10000);
        CHECK(s.in->window().top() == 1);
        CHECK(decap_one(*s.in, p2) == drop_reason::ok);
        CHECK(s.in->window().top() == 2);
    }
}

TEST_CASE("sequence number 0 is refused even with a valid ICV") {
    for (auto [enc, integ] : sample_pairs) {
        auto c = make_config(enc, integ);
        auto s = make_pair(c);
        const auto p = craft(c, 0, with_trailer(c, inner_v4(64), 4));
        CHECK(decap_one(*s.in, p) == drop_reason::replay);
        // the same construction with sequence 1 is accepted: the crafted packet itself is sound
        CHECK(decap_one(*s.in, craft(c, 1, with_trailer(c, inner_v4(64), 4))) == drop_reason::ok);
        CHECK(s.in->window().top() == 1);
    }
}

TEST_CASE("bad padding under a valid ICV: dropped as pad after the window update") {
    for (auto [enc, integ] : sample_pairs)
        for (auto b : both_backends) {
            INFO(to_string(enc) << " " << to_string(b));
            auto c = make_config(enc, integ, false, b);
            auto s = make_pair(c);
            // wrong padding byte values
            auto plain = with_trailer(c, inner_v4(61), 4);
            const std::uint8_t pad_len = plain[plain.size() - 2];
            REQUIRE(pad_len >= 1);
            plain[plain.size() - 3] ^= 0x40;
            CHECK(decap_one(*s.in, craft(c, 7, plain)) == drop_reason::pad);
            CHECK(s.in->window().top() == 7);
            // pad length larger than the payload
            std::vector<std::uint8_t> tiny(esp::params(enc).block_size, 0);
            tiny[tiny.size() - 2] = 250;
            tiny[tiny.size() - 1] = 4;
            CHECK(decap_one(*s.in, craft(c, 8, tiny)) == drop_reason::pad);
            CHECK(s.in->counters().drop(drop_reason::pad) == 2);
            CHECK(s.in->counters().packets == 0);
        }
}

TEST_CASE("next header: 59 is a counted dummy, anything but 4/41 or a version mismatch is refused") {
    auto c = make_config(esp::enc_alg::aes128_cbc, esp::integ_alg::sha1_96);
    auto s = make_pair(c);
    CHECK(decap_one(*s.in, craft(c, 1, with_trailer(c, std::vector<std::uint8_t>(30, 0x55), 59))) == drop_reason::dummy);
    CHECK(decap_one(*s.in, craft(c, 2, with_trailer(c, inner_v4(40), 17))) == drop_reason::next_header);
    CHECK(decap_one(*s.in, craft(c, 3, with_trailer(c, inner_v4(40), 41))) == drop_reason::next_header);
    CHECK(decap_one(*s.in, craft(c, 4, with_trailer(c, inner_v6(60), 4))) == drop_reason::next_header);
    std::vector<std::uint8_t> inner;
    CHECK(decap_one(*s.in, craft(c, 5, with_trailer(c, inner_v6(60), 41)), &inner) == drop_reason::ok);
    CHECK(inner == inner_v6(60));
    // TFC padding after the inner packet (RFC 4303 2.7) is removed using the inner IP length
    auto tfc = inner_v4(40);
    tfc.resize(70, 0);
    CHECK(decap_one(*s.in, craft(c, 6, with_trailer(c, tfc, 4)), &inner) == drop_reason::ok);
    CHECK(inner == inner_v4(40));
    CHECK(s.in->counters().drop(drop_reason::dummy) == 1);
    CHECK(s.in->counters().drop(drop_reason::next_header) == 3);
    CHECK(s.in->window().top() == 6);  // all of them authenticated
}

TEST_CASE("every truncation length is dropped and never moves the window") {
    for (auto [enc, integ] : sample_pairs)
        for (bool natt : {false, true}) {
            INFO(to_string(enc) << " natt=" << natt);
            auto c = make_config(enc, integ);
            if (natt) c.natt = esp::udp_encap{};
            auto s = make_pair(c);
            const auto full = encap_one(*s.out, inner_v4(90));
            for (std::size_t len = 0; len < full.size(); ++len) {
                // (a) cut buffer, headers as they were
                std::vector<std::uint8_t> cut(full.begin(), full.begin() + std::ptrdiff_t(len));
                const drop_reason ra = decap_one(*s.in, cut);
                CHECK(ra == drop_reason::not_ip);
                // (b) lengths rewritten to match, so the ESP part itself is short
                if (len >= 20) {
                    base::store_be16(&cut[2], std::uint16_t(len));
                    if (natt && len >= 28) base::store_be16(&cut[24], std::uint16_t(len - 20));
                    const drop_reason rb = decap_one(*s.in, cut);
                    INFO("len " << len << " -> " << to_string(rb));
                    CHECK((rb == drop_reason::runt || rb == drop_reason::bad_length || rb == drop_reason::icv ||
                           rb == drop_reason::not_ip || rb == drop_reason::not_esp));
                }
                CHECK(s.in->window().top() == 0);
            }
            CHECK(s.in->counters().packets == 0);
            CHECK(decap_one(*s.in, full) == drop_reason::ok);
        }
}

TEST_CASE("reserved SPIs: no SA can be created, and packets carrying them find no SA") {
    for (std::uint32_t spi : {0u, 1u, 200u, 255u}) {
        auto c = make_config(esp::enc_alg::aes128gcm16, esp::integ_alg::none);
        c.spi = spi;
        CHECK_FALSE(esp::outbound_sa::create(c));
        CHECK_FALSE(esp::inbound_sa::create(c));
        CHECK_FALSE(esp::validate(c).empty());
    }
    auto c = make_config(esp::enc_alg::aes128gcm16, esp::integ_alg::none);
    auto s = make_pair(c);
    for (std::uint32_t spi : {1u, 255u})
        CHECK(decap_one(*s.in, craft(c, 1, with_trailer(c, inner_v4(40), 4), spi)) == drop_reason::no_sa);
    CHECK(s.in->counters().drop(drop_reason::no_sa) == 2);
}

TEST_CASE("outer packets that are not ESP: IKE on 4500, NAT keepalive, other protocols, fragments") {
    auto c = make_config(esp::enc_alg::aes128gcm16, esp::integ_alg::none);
    c.natt = esp::udp_encap{};
    auto s = make_pair(c);
    const auto good = encap_one(*s.out, inner_v4(40));
    auto ike = good;
    base::store_be32(&ike[28], 0);  // non-ESP marker
    CHECK(decap_one(*s.in, ike) == drop_reason::not_esp);
    std::vector<std::uint8_t> ka(good.begin(), good.begin() + 29);
    base::store_be16(&ka[2], 29);
    base::store_be16(&ka[24], 9);
    ka[28] = 0xff;
    CHECK(decap_one(*s.in, ka) == drop_reason::not_esp);
    auto tcp = good;
    tcp[9] = 6;
    CHECK(decap_one(*s.in, tcp) == drop_reason::not_esp);
    auto frag = good;
    base::store_be16(&frag[6], 0x2000);  // MF
    CHECK(decap_one(*s.in, frag) == drop_reason::fragment);
    auto v5 = good;
    v5[0] = 0x55;
    CHECK(decap_one(*s.in, v5) == drop_reason::not_ip);
    CHECK(decap_one(*s.in, good) == drop_reason::ok);
}

TEST_CASE("encap refuses what it cannot frame: not IP, no headroom, no tailroom; views untouched") {
    auto c = make_config(esp::enc_alg::aes256_cbc, esp::integ_alg::sha512_256);
    auto s = make_pair(c);
    std::vector<std::uint8_t> junk(40, 0x12);
    buffer a(junk);
    buffer h(inner_v4(100), s.out->headroom() - 1, 200);
    buffer t(inner_v4(100), 128, 100 % 16 == 0 ? 1 : 2);
    buffer ok(inner_v4(100), s.out->headroom(), s.out->tailroom());
    esp::pkt pk[4] = {a.p, h.p, t.p, ok.p};
    drop_reason r[4];
    CHECK(s.out->encap(pk, r) == 1);
    CHECK(r[0] == drop_reason::not_ip);
    CHECK(r[1] == drop_reason::no_room);
    CHECK(r[2] == drop_reason::no_room);
    CHECK(r[3] == drop_reason::ok);
    CHECK(pk[1].data_off == h.p.data_off);
    CHECK(pk[1].data_len == 100);
    CHECK(pk[3].data_off == 0);  // used exactly the advertised headroom
    CHECK(s.out->next_seq() == 2);  // refused packets consumed no sequence numbers
}

TEST_CASE("lifetimes: soft callback once, hard callback once, then drops (both directions)") {
    for (bool by_bytes : {false, true}) {
        INFO("by_bytes=" << by_bytes);
        auto c = make_config(esp::enc_alg::aes128gcm16, esp::integ_alg::none);
        std::vector<esp::lifetime_event> events;
        c.on_lifetime = [&](const esp::lifetime_event& e) { events.push_back(e); };
        if (by_bytes) {
            c.soft.bytes = 3 * 100;
            c.hard.bytes = 5 * 100;
        } else {
            c.soft.packets = 3;
            c.hard.packets = 5;
        }
        auto s = make_pair(c);
        std::vector<buffer> bufs;
        for (int i = 0; i < 8; ++i) bufs.emplace_back(inner_v4(100));
        std::vector<esp::pkt> pk;
        for (auto& b : bufs) pk.push_back(b.p);
        std::vector<drop_reason> r(pk.size());
        CHECK(s.out->encap(pk, r) == 5);
        CHECK(r[4] == drop_reason::ok);
        CHECK(r[5] == drop_reason::lifetime);
        CHECK(s.out->hard_expired());
        REQUIRE(events.size() == 2);
        CHECK(events[0].kind == esp::lifetime_kind::soft);
        CHECK(events[0].direction == esp::sa_direction::outbound);
        CHECK(events[0].by_bytes == by_bytes);
        CHECK(events[1].kind == esp::lifetime_kind::hard);
        CHECK(s.out->counters().drop(drop_reason::lifetime) == 3);
        // inbound: the five that made it; a sixth (crafted, valid) is refused after hard expiry
        pk.resize(5);
        r.resize(5);
        CHECK(s.in->decap(pk, r) == 5);
        REQUIRE(events.size() == 4);
        CHECK(events[2].direction == esp::sa_direction::inbound);
        CHECK(events[3].kind == esp::lifetime_kind::hard);
        CHECK(s.in->hard_expired());
        CHECK(decap_one(*s.in, craft(c, 6, with_trailer(c, inner_v4(100), 4))) == drop_reason::lifetime);
        CHECK(events.size() == 4);
    }
}
