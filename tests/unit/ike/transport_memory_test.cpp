#include <ike/transport_memory.hpp>

#include <catch2/catch.hpp>

namespace {
ike::udp_endpoint ep(const char* a, std::uint16_t p) { return {boost::asio::ip::make_address(a), p}; }
}

TEST_CASE("memory network delivers, drops on filter and translates through a NAT", "[ike][transport]") {
    ike::memory_network net;
    auto& a = net.attach(boost::asio::ip::make_address("10.0.0.2"));
    auto& b = net.attach(boost::asio::ip::make_address("192.0.2.1"));
    net.add_nat(boost::asio::ip::make_address("10.0.0.2"), boost::asio::ip::make_address("198.51.100.9"));
    std::vector<std::pair<ike::udp_endpoint, std::vector<std::uint8_t>>> at_b, at_a;
    b.set_receiver([&](const ike::udp_endpoint&, const ike::udp_endpoint& from, std::span<const std::uint8_t> d) {
        at_b.emplace_back(from, std::vector<std::uint8_t>(d.begin(), d.end()));
    });
    a.set_receiver([&](const ike::udp_endpoint& local, const ike::udp_endpoint&, std::span<const std::uint8_t> d) {
        CHECK(local == ep("10.0.0.2", 500));
        at_a.emplace_back(local, std::vector<std::uint8_t>(d.begin(), d.end()));
    });
    const std::uint8_t msg[] = {1, 2, 3};
    a.send(ep("10.0.0.2", 500), ep("192.0.2.1", 500), msg);
    CHECK(net.flush() == 1);
    REQUIRE(at_b.size() == 1);
    CHECK(at_b[0].first == ep("198.51.100.9", 10500));  // source rewritten by the NAT
    b.send(ep("192.0.2.1", 500), at_b[0].first, msg);     // reply to the NAT's public side
    net.flush();
    REQUIRE(at_a.size() == 1);

    net.set_drop_filter([](const ike::memory_datagram& d) { return d.data.size() == 3; });
    a.send(ep("10.0.0.2", 500), ep("192.0.2.1", 500), msg);
    CHECK(net.flush() == 0);
    CHECK(net.dropped() == 1);
}
