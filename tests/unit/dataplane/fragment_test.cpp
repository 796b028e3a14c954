// RFC 791 fragmentation (dataplane/packet.hpp): pieces within the MTU, offsets in 8-byte units,
// MF on all but the last, options copied by their flag, and a reassembly written here from
// the RFC's rules giving back the original bytes.
#include <dataplane/packet.hpp>

#include <base/reader.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <vector>

using namespace dataplane;

namespace {

std::vector<std::uint8_t> packet(std::size_t payload, std::uint16_t frag, std::vector<std::uint8_t> options = {}) {
    std::size_t ihl = 20 + options.size();
    std::vector<std::uint8_t> p(ihl + payload);
    p[0] = std::uint8_t(0x40 | (ihl / 4));
    base::store_be16(&p[2], std::uint16_t(p.size()));
    base::store_be16(&p[4], 0xbeef);
    base::store_be16(&p[6], frag);
    p[8] = 33;
    p[9] = proto_udp;
    base::store_be32(&p[12], 0x0a010005);
    base::store_be32(&p[16], 0x0a020007);
    std::copy(options.begin(), options.end(), p.begin() + 20);
    for (std::size_t i = 0; i < payload; ++i) p[ihl + i] = std::uint8_t(i * 7 + 3);
    set_ipv4_checksum(p.data(), ihl);
    return p;
}

struct piece {
    std::vector<std::uint8_t> bytes;
    std::size_t ihl, offset;  // offset in bytes
    bool more;
};

std::vector<piece> split(const std::vector<std::uint8_t>& p, std::size_t mtu) {
    std::vector<piece> out;
    auto n = ipv4_fragment_count(p, mtu);
    for (std::size_t i = 0; i < n; ++i) {
        std::vector<std::uint8_t> b(mtu);
        auto len = write_ipv4_fragment(p, mtu, i, b.data());
        REQUIRE(len > 0);
        REQUIRE(len <= mtu);
        b.resize(len);
        drop why;
        auto v = parse_ipv4(b, why);  // valid header and checksum
        REQUIRE(v);
        CHECK(v->total_len == len);
        auto fw = base::load_be16(&b[6]);
        CHECK(base::load_be16(&b[4]) == 0xbeef);  // identification kept
        CHECK((fw & 0x4000) == 0);
        out.push_back({b, v->ihl, std::size_t(fw & 0x1fff) * 8, (fw & 0x2000) != 0});
    }
    return out;
}

// RFC 791 reassembly of the data: every byte placed at its offset, no gap, no overlap.
std::vector<std::uint8_t> reassemble(const std::vector<piece>& pieces, std::size_t base) {
    std::map<std::size_t, std::vector<std::uint8_t>> parts;
    for (auto& f : pieces) parts[f.offset] = {f.bytes.begin() + long(f.ihl), f.bytes.end()};
    std::vector<std::uint8_t> data;
    std::size_t at = base;
    for (auto& [off, d] : parts) {
        REQUIRE(off == at);
        data.insert(data.end(), d.begin(), d.end());
        at += d.size();
    }
    return data;
}

} // namespace

TEST_CASE("fragment: a 1480-byte packet over MTU 1000 and 576 reassembles to the original") {
    auto p = packet(1460, 0);
    for (std::size_t mtu : {1000u, 576u, 68u}) {
        CAPTURE(mtu);
        auto n = ipv4_fragment_count(p, mtu);
        if (mtu == 68) {
            CHECK(n == 0);  // 1460 / 48 bytes would take 31 pieces: over max_fragments
            continue;
        }
        auto f = split(p, mtu);
        REQUIRE(f.size() == (mtu == 1000 ? 2u : 3u));
        for (std::size_t i = 0; i < f.size(); ++i) {
            CHECK(f[i].more == (i + 1 < f.size()));
            if (i + 1 < f.size()) CHECK((f[i].bytes.size() - f[i].ihl) % 8 == 0);
        }
        CHECK(f[0].bytes.size() == (mtu - 20) / 8 * 8 + 20);
        auto data = reassemble(f, 0);
        CHECK(data == std::vector<std::uint8_t>(p.begin() + 20, p.end()));
        for (auto& x : f) CHECK(std::equal(x.bytes.begin() + 12, x.bytes.begin() + 20, p.begin() + 12));  // addresses
    }
}

TEST_CASE("fragment: DF, tiny MTUs and bad input give no pieces") {
    CHECK(ipv4_fragment_count(packet(1000, 0x4000), 576) == 0);  // DF
    CHECK(ipv4_fragment_count(packet(1000, 0), 27) == 0);        // header + 8 does not fit
    CHECK(ipv4_fragment_count(packet(1000, 0), 28) == 0);        // 8 bytes a piece: 125 pieces
    auto bad = packet(1000, 0);
    bad[10] ^= 1;  // checksum
    CHECK(ipv4_fragment_count(bad, 576) == 0);
    std::vector<std::uint8_t> out(576);
    CHECK(write_ipv4_fragment(bad, 576, 0, out.data()) == 0);
    CHECK(write_ipv4_fragment(packet(1000, 0), 576, 2, out.data()) == 0);  // only two pieces
    CHECK(ipv4_fragment_count(packet(100, 0), 576) == 1);                  // fits: one piece, itself
}

TEST_CASE("fragment: a fragment is split further with its own offset and MF kept (RFC 791 3.2)") {
    // A middle fragment (MF set, offset 185 units = 1480 bytes) and a last one (MF clear).
    for (bool mf : {true, false}) {
        auto p = packet(1200, std::uint16_t((mf ? 0x2000 : 0) | 185));
        auto f = split(p, 700);
        REQUIRE(f.size() == 2);
        CHECK(f[0].offset == 1480);
        CHECK(f[0].more);
        CHECK(f[1].more == mf);
        CHECK(reassemble(f, 1480) == std::vector<std::uint8_t>(p.begin() + 20, p.end()));
    }
}

TEST_CASE("fragment: the first piece keeps all options, the others only copied ones (RFC 791 3.1)") {
    // Options: NOP, record route (7, not copied, 7 bytes), a copied option 0x94 (router alert,
    // 4 bytes), end of list -> 12 bytes, ihl 32.
    std::vector<std::uint8_t> opts = {1, 7, 7, 4, 0, 0, 0, 0, 0x94, 4, 0, 0};
    auto p = packet(1000, 0, opts);
    auto f = split(p, 600);
    REQUIRE(f.size() == 2);
    CHECK(f[0].ihl == 32);
    CHECK(std::equal(opts.begin(), opts.end(), f[0].bytes.begin() + 20));
    CHECK(f[1].ihl == 24);
    CHECK(std::vector<std::uint8_t>(f[1].bytes.begin() + 20, f[1].bytes.begin() + 24) ==
          std::vector<std::uint8_t>{0x94, 4, 0, 0});
    CHECK(reassemble(f, 0) == std::vector<std::uint8_t>(p.begin() + 32, p.end()));
}
