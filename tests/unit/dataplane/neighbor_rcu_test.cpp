// Neighbour table (static entries, ARP resolution with a hold queue, retries, timeouts,
// deletion keeping probe chains) and the RCU publisher (nothing freed while a reader may
// still hold it).
#include <dataplane/neighbor.hpp>
#include <dataplane/snapshot.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

using namespace dataplane;

namespace {
rte_mbuf* fake(std::uintptr_t i) { return reinterpret_cast<rte_mbuf*>(i * 64); }
} // namespace

TEST_CASE("neighbor: static entries resolve and are never overridden by ARP") {
    neighbor_table t(16);
    mac m{2, 0, 0, 0, 0, 9};
    REQUIRE(t.add_static(1, 0xac1001feu, m));
    REQUIRE(t.lookup(1, 0xac1001feu));
    CHECK(*t.lookup(1, 0xac1001feu) == m);
    CHECK_FALSE(t.lookup(0, 0xac1001feu));  // per port
    std::array<rte_mbuf*, neighbor_table::hold_max> rel{};
    CHECK(t.learn(1, 0xac1001feu, mac{2, 6, 6, 6, 6, 6}, true, 0, rel) == 0);
    CHECK(*t.lookup(1, 0xac1001feu) == m);
}

TEST_CASE("neighbor: unresolved next hop holds packets, ARP reply releases them in order") {
    neighbor_table t(16);
    CHECK(t.hold(0, 0x0a010077u, fake(1), 0) == neighbor_table::hold_result::request);
    CHECK(t.hold(0, 0x0a010077u, fake(2), 0) == neighbor_table::hold_result::held);
    CHECK(t.hold(0, 0x0a010077u, fake(3), 0) == neighbor_table::hold_result::held);
    CHECK(t.hold(0, 0x0a010077u, fake(4), 0) == neighbor_table::hold_result::held);
    CHECK(t.hold(0, 0x0a010077u, fake(5), 0) == neighbor_table::hold_result::full);
    CHECK_FALSE(t.lookup(0, 0x0a010077u));
    CHECK(t.state_of(0, 0x0a010077u) == neighbor_table::state::incomplete);
    std::array<rte_mbuf*, neighbor_table::hold_max> rel{};
    // an unsolicited ARP from someone else is not learned (create=false) ...
    CHECK(t.learn(0, 0x0a010078u, mac{2, 0, 0, 0, 0, 0x78}, false, 5, rel) == 0);
    CHECK(t.state_of(0, 0x0a010078u) == neighbor_table::state::free);
    // ... but the reply for the pending entry is, even when not addressed to us
    REQUIRE(t.learn(0, 0x0a010077u, mac{2, 0, 0, 0, 0, 0x77}, false, 5, rel) == 4);
    CHECK(rel == std::array<rte_mbuf*, 4>{fake(1), fake(2), fake(3), fake(4)});
    REQUIRE(t.lookup(0, 0x0a010077u));
    CHECK((*t.lookup(0, 0x0a010077u))[5] == 0x77);
}

TEST_CASE("neighbor: ARP retried every second, three tries, then held packets expire") {
    neighbor_table t(16);
    REQUIRE(t.hold(0, 0x0a010066u, fake(1), 1000) == neighbor_table::hold_result::request);
    std::vector<std::uint64_t> requests;
    std::vector<rte_mbuf*> expired;
    auto run = [&](std::uint64_t now) {
        t.age(now, [&](std::uint16_t, ipv4) { requests.push_back(now); }, [&](rte_mbuf* m) { expired.push_back(m); });
    };
    run(1500);
    CHECK(requests.empty());
    run(2000);
    run(2500);
    run(3000);
    CHECK(requests == std::vector<std::uint64_t>{2000, 3000});
    CHECK(expired.empty());
    run(4000);
    CHECK(expired == std::vector<rte_mbuf*>{fake(1)});
    CHECK(t.state_of(0, 0x0a010066u) == neighbor_table::state::free);
    CHECK(t.size() == 0);
}

TEST_CASE("neighbor: deleting entries keeps every other entry reachable") {
    neighbor_table t(90);
    for (ipv4 i = 0; i < 60; ++i) REQUIRE(t.add_static(0, 0x0a000000u + i * 256, mac{2, 0, 0, 0, 0, std::uint8_t(i)}));
    for (ipv4 i = 0; i < 30; ++i)
        REQUIRE(t.hold(1, 0x0b000000u + i, fake(i + 1), 0) == neighbor_table::hold_result::request);
    std::size_t expired = 0;
    for (int round = 0; round < 4; ++round)
        t.age(std::uint64_t(round + 1) * 1000, [](std::uint16_t, ipv4) {}, [&](rte_mbuf*) { ++expired; });
    CHECK(expired == 30);
    CHECK(t.size() == 60);
    for (ipv4 i = 0; i < 60; ++i) {
        auto* m = t.lookup(0, 0x0a000000u + i * 256);
        REQUIRE(m);
        CHECK((*m)[5] == i);
    }
}

namespace {
struct tracked {
    static inline std::atomic<int> alive{0};
    int value;
    explicit tracked(int v) : value(v) { ++alive; }
    ~tracked() { --alive; }
};
} // namespace

TEST_CASE("rcu: a retired snapshot is freed only after every reader passed a quiescent state") {
    {
        rcu_published<tracked> pub(2);
        pub.readers().register_reader(0);
        pub.readers().register_reader(1);
        pub.readers().online(0);
        pub.readers().online(1);
        pub.publish(std::make_unique<tracked>(1));
        const tracked* held0 = pub.get();
        CHECK(held0->value == 1);
        pub.publish(std::make_unique<tracked>(2));
        CHECK(tracked::alive == 2);
        CHECK(pub.reclaim() == 1);  // nobody reported yet
        pub.readers().quiescent(0);
        CHECK(pub.reclaim() == 1);  // reader 1 may still hold version 1
        CHECK(held0->value == 1);
        pub.readers().quiescent(1);
        CHECK(pub.reclaim() == 0);
        CHECK(tracked::alive == 1);
        CHECK(pub.get()->value == 2);
        // an offline reader does not hold up reclamation
        pub.readers().offline(1);
        pub.publish(std::make_unique<tracked>(3));
        pub.readers().quiescent(0);
        CHECK(pub.reclaim() == 0);
        CHECK(tracked::alive == 1);
        pub.readers().offline(0);
    }
    CHECK(tracked::alive == 0);
}

TEST_CASE("rcu: a reader thread never sees a freed snapshot while the writer publishes") {
    rcu_published<tracked> pub(1);
    pub.publish(std::make_unique<tracked>(0));
    std::atomic<bool> stop{false};
    std::atomic<long> reads{0};
    std::atomic<bool> bad{false};
    std::thread reader([&] {
        pub.readers().register_reader(0);
        pub.readers().online(0);
        int last = 0;
        while (!stop.load()) {
            const tracked* t = pub.get();
            int v = t->value;  // ASan would flag a use after free here
            if (v < last) bad = true;
            last = v;
            ++reads;
            pub.readers().quiescent(0);
        }
        pub.readers().offline(0);
        pub.readers().unregister_reader(0);
    });
    for (int i = 1; i <= 2000; ++i) {
        pub.publish(std::make_unique<tracked>(i));
        pub.reclaim();
        if (i % 100 == 0) std::this_thread::yield();
    }
    while (reads.load() < 100) std::this_thread::yield();
    stop = true;
    reader.join();
    CHECK(pub.reclaim() == 0);
    CHECK_FALSE(bad);
    CHECK(tracked::alive == 1);
}
