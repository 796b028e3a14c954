#include <base/hex.hpp>
#include <base/reader.hpp>
#include <base/secret_bytes.hpp>
#include <base/writer.hpp>

#include <catch2/catch.hpp>

#include <array>

TEST_CASE("reader reads big-endian fields and fails on overrun", "[base][reader]") {
    const std::array<std::uint8_t, 7> b{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
    base::reader r(b);
    CHECK(r.read_u8() == 0x01);
    CHECK(r.read_u16() == 0x0203);
    CHECK(r.read_u32() == 0x04050607u);
    CHECK(r.ok());
    CHECK(r.empty());
    CHECK(r.read_u8() == 0);
    CHECK_FALSE(r.ok());
    CHECK(r.remaining() == 0);
}

TEST_CASE("reader sub() and bytes_from_end() stay within bounds", "[base][reader]") {
    const std::array<std::uint8_t, 6> b{0, 4, 0xaa, 0xbb, 0xcc, 0xdd};
    base::reader r(b);
    auto len = r.read_u16();
    auto tail = r.bytes_from_end(1);
    REQUIRE(tail.size() == 1);
    CHECK(tail[0] == 0xdd);
    auto s = r.sub(len);  // only 3 bytes remain after the tail was taken
    CHECK_FALSE(s.ok());
    CHECK_FALSE(r.ok());

    base::reader r2(b);
    r2.skip(2);
    auto s2 = r2.sub(2);
    CHECK(s2.read_u16() == 0xaabb);
    CHECK(s2.ok());
    CHECK(r2.read_u16() == 0xccdd);
    CHECK(r2.ok());
}

TEST_CASE("writer patches lengths; hex round-trips", "[base][writer]") {
    base::writer w;
    w.u16(0);
    w.u32(0xdeadbeef);
    w.patch_u16(0, static_cast<std::uint16_t>(w.size()));
    CHECK(base::to_hex(w.data()) == "0006deadbeef");
    auto back = base::from_hex("0x00:06de adbeef");
    REQUIRE(back);
    CHECK(*back == w.data());
    CHECK_FALSE(base::from_hex("abc"));
    CHECK_FALSE(base::from_hex("zz"));
}

TEST_CASE("secret_bytes compares in constant time and wipes on move", "[base][secret]") {
    base::secret_bytes a(std::string_view("key"));
    base::secret_bytes b(std::string_view("key"));
    CHECK(a == b);
    base::secret_bytes c(std::move(a));
    CHECK(a.empty());
    CHECK(c.size() == 3);
    c.append(std::array<std::uint8_t, 1>{'!'});
    CHECK(c.size() == 4);
    CHECK_FALSE(c == b);
}

#include <base/ipv4_text.hpp>

TEST_CASE("IPv4 text: strict dotted quad and small decimals", "[base][ipv4]") {
    CHECK(base::parse_ipv4_text("192.0.2.1") == 0xc0000201u);
    CHECK(base::parse_ipv4_text("0.0.0.0") == 0u);
    CHECK(base::parse_ipv4_text("255.255.255.255") == 0xffffffffu);
    for (auto bad : {"", "1.2.3", "1.2.3.4.5", "1.2.3.256", "01.2.3.4", "1.2.3.-4", "1..3.4", "1.2.3.4 ", "a.b.c.d"})
        CHECK_FALSE(base::parse_ipv4_text(bad));
    CHECK(base::parse_small_decimal("32", 32) == 32u);
    CHECK_FALSE(base::parse_small_decimal("33", 32));
    CHECK_FALSE(base::parse_small_decimal("024", 32));
    CHECK(base::parse_small_decimal("0", 32) == 0u);
}
