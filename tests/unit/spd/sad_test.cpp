// SAD: SPI -> SA handle, SPI+destination preferred over SPI alone (RFC 4301 section 4.1).
#include "spd_test_util.hpp"

#include <spd/sad.hpp>

#include <catch2/catch.hpp>

#include <random>
#include <set>

using namespace spd;
using spd_test::pfx;

TEST_CASE("SAD finds SAs by SPI and misses unknown SPIs", "[spd][sad]") {
    std::vector<sad_entry> e{{0x1001, std::nullopt, 1}, {0x1002, std::nullopt, 2}, {0xffffffff, std::nullopt, 3}};
    sad s(e);
    CHECK(s.size() == 3);
    CHECK(s.lookup(0x1001) == 1);
    CHECK(s.lookup(0x1002) == 2);
    CHECK(s.lookup(0xffffffff) == 3);
    CHECK(s.lookup(0x1003) == no_sa);
    CHECK(s.lookup(0) == no_sa);
    CHECK(s.lookup(0x1001, ip_family::v4, pfx("192.0.2.1").addr) == 1);
    sad empty;
    CHECK(empty.lookup(0x1001) == no_sa);
    CHECK(empty.lookup(0x1001, ip_family::v6, pfx("2001:db8::1").addr) == no_sa);
}

TEST_CASE("SAD: SPI with destination wins over SPI alone", "[spd][sad]") {
    std::vector<sad_entry> e{{0x500, std::nullopt, 10},
                             {0x500, pfx("192.0.2.1"), 11},
                             {0x500, pfx("2001:db8::1"), 12},
                             {0x600, pfx("192.0.2.1"), 13}};
    sad s(e);
    CHECK(s.lookup(0x500, ip_family::v4, pfx("192.0.2.1").addr) == 11);
    CHECK(s.lookup(0x500, ip_family::v6, pfx("2001:db8::1").addr) == 12);
    CHECK(s.lookup(0x500, ip_family::v4, pfx("192.0.2.2").addr) == 10);
    CHECK(s.lookup(0x600, ip_family::v4, pfx("192.0.2.1").addr) == 13);
    CHECK(s.lookup(0x600, ip_family::v4, pfx("192.0.2.2").addr) == no_sa);
    CHECK(s.lookup(0x600) == no_sa);
}

TEST_CASE("SAD rejects SPI 0, non-host destinations and duplicates", "[spd][sad]") {
    CHECK_THROWS_AS(sad(std::vector<sad_entry>{{0, std::nullopt, 1}}), std::invalid_argument);
    CHECK_THROWS_AS(sad(std::vector<sad_entry>{{5, pfx("192.0.2.0/24"), 1}}), std::invalid_argument);
    CHECK_THROWS_AS(sad(std::vector<sad_entry>{{5, std::nullopt, 1}, {5, std::nullopt, 2}}), std::invalid_argument);
    CHECK_THROWS_AS(sad(std::vector<sad_entry>{{5, pfx("192.0.2.1"), 1}, {5, pfx("192.0.2.1"), 2}}),
                    std::invalid_argument);
}

TEST_CASE("SAD with many random SPIs: every one found, misses bounded", "[spd][sad]") {
    std::mt19937 rng(42);
    std::set<std::uint32_t> spis;
    while (spis.size() < 20000) spis.insert(rng() | 1u);
    std::vector<sad_entry> e;
    std::uint32_t h = 0;
    for (auto spi : spis) e.push_back({spi, std::nullopt, h++});
    sad s(e);
    h = 0;
    std::size_t found = 0;
    for (auto spi : spis) found += s.lookup(spi) == h++;
    CHECK(found == spis.size());
    std::size_t false_hits = 0;
    for (int i = 0; i < 20000; ++i) {
        std::uint32_t spi = rng();
        if (!spis.count(spi)) false_hits += s.lookup(spi) != no_sa;
    }
    CHECK(false_hits == 0);
    INFO("max probe " << s.max_probe());
    CHECK(s.max_probe() < 64);
}
