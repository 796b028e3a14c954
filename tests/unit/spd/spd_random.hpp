#pragma once
// Random policy sets and flows for differential tests and benchmarks: nested/overlapping
// prefixes from a small pool of base addresses (IPv4 and IPv6, lengths on both sides of /64),
// protocol and port selectors, priorities from a small range so ties are common; flows are
// biased to fall inside some policy's selectors and onto range boundaries.
#include <spd/types.hpp>

#include <random>
#include <vector>

namespace spd_test {

struct random_spec {
    std::size_t policies = 50;
    unsigned priority_range = 8;      // priorities drawn from [0, priority_range)
    unsigned v6_percent = 40;         // share of IPv6 prefixes
    unsigned any_addr_percent = 20;   // src or dst omitted
    unsigned max_list = 3;            // prefixes per src/dst list
    unsigned port_percent = 50;       // policies with a port selector
    unsigned base_pool = 6;           // distinct base addresses per family (fewer: more overlap)
};

class random_sets {
public:
    explicit random_sets(std::uint64_t seed) : _rng(seed) {}

    std::vector<spd::policy> policies(const random_spec& s) {
        make_pool(s);
        std::vector<spd::policy> out;
        for (std::size_t i = 0; i < s.policies; ++i) {
            spd::policy p;
            p.name = "p" + std::to_string(i);
            p.priority = std::uint32_t(pick(s.priority_range));
            p.dir = pick(10) == 0 ? spd::direction::in : spd::direction::out;
            p.src = list(s);
            p.dst = list(s);
            unsigned pr = unsigned(pick(10));
            if (pr < 4) p.proto = std::nullopt;
            else if (pr < 6) p.proto = spd::proto_tcp;
            else if (pr < 8) p.proto = spd::proto_udp;
            else if (pr == 8) p.proto = spd::proto_sctp;
            else p.proto = std::uint8_t(pick(2) ? spd::proto_icmp : 47);
            if ((!p.proto || spd::has_ports(*p.proto)) && pick(100) < s.port_percent) {
                if (pick(2)) p.dport = ports(); else p.sport = ports();
                if (pick(4) == 0) p.sport = ports();
            }
            p.act = spd::action(pick(3));
            p.sa_handle = p.act == spd::action::protect ? std::uint32_t(i) : spd::no_sa;
            out.push_back(std::move(p));
        }
        return out;
    }

    // A flow that lands inside one of the policies most of the time.
    spd::flow_key flow(const std::vector<spd::policy>& ps) {
        spd::flow_key k;
        const spd::policy* p = ps.empty() || pick(10) < 2 ? nullptr : &ps[pick(ps.size())];
        k.family = pick(100) < 45 ? spd::ip_family::v6 : spd::ip_family::v4;
        if (p) {
            // Follow the policy's family when it has addresses.
            for (const auto* l : {&p->src, &p->dst})
                if (!l->empty()) { k.family = (*l)[pick(l->size())].family; break; }
        }
        k.src = address_in(p ? &p->src : nullptr, k.family);
        k.dst = address_in(p ? &p->dst : nullptr, k.family);
        if (p && p->proto && pick(10) < 8) k.proto = *p->proto;
        else k.proto = std::uint8_t(std::array<int, 7>{6, 17, 132, 1, 58, 47, 50}[pick(7)]);
        k.ports_known = spd::has_ports(k.proto) && pick(10) != 0;  // 10%: non-first fragments
        if (k.ports_known) {
            k.sport = port_near(p ? &p->sport : nullptr);
            k.dport = port_near(p ? &p->dport : nullptr);
        }
        return k;
    }

    std::uint64_t pick(std::uint64_t n) { return n == 0 ? 0 : std::uniform_int_distribution<std::uint64_t>(0, n - 1)(_rng); }

private:
    void make_pool(const random_spec& s) {
        _pool4.clear();
        _pool6.clear();
        for (unsigned i = 0; i < s.base_pool; ++i) {
            std::array<std::uint8_t, 16> a{}, b{};
            for (int j = 0; j < 4; ++j) a[j] = std::uint8_t(pick(256));
            for (int j = 0; j < 16; ++j) b[j] = std::uint8_t(pick(256));
            _pool4.push_back(a);
            _pool6.push_back(b);
        }
    }

    spd::ip_prefix prefix(const random_spec& s) {
        spd::ip_prefix p;
        p.family = pick(100) < s.v6_percent ? spd::ip_family::v6 : spd::ip_family::v4;
        auto& pool = p.family == spd::ip_family::v4 ? _pool4 : _pool6;
        p.addr = pool[pick(pool.size())];
        unsigned max = p.max_len();
        // Mostly realistic lengths, sometimes anything (incl. /0 and host routes).
        p.len = std::uint8_t(pick(3) == 0 ? pick(max + 1) : (max == 32 ? 8 + pick(25) : 16 + pick(113)));
        // Perturb bits inside the prefix now and then to create siblings, then clear host bits.
        if (p.len > 0 && pick(2)) {
            unsigned bit = unsigned(pick(p.len));
            p.addr[bit / 8] ^= std::uint8_t(0x80u >> (bit % 8));
        }
        for (unsigned bit = p.len; bit < max; ++bit) p.addr[bit / 8] &= std::uint8_t(~(0x80u >> (bit % 8)));
        return p;
    }

    std::vector<spd::ip_prefix> list(const random_spec& s) {
        std::vector<spd::ip_prefix> l;
        if (pick(100) < s.any_addr_percent) return l;
        std::size_t n = 1 + pick(s.max_list);
        for (std::size_t i = 0; i < n; ++i) l.push_back(prefix(s));
        return l;
    }

    spd::port_range ports() {
        std::uint16_t a = std::uint16_t(pick(3) == 0 ? pick(65536) : pick(2048));
        if (pick(3) == 0) return {a, a};
        std::uint16_t b = std::uint16_t(std::min<std::uint64_t>(65535, a + pick(pick(2) ? 64 : 30000)));
        return {a, b};
    }

    std::uint16_t port_near(const spd::port_range* r) {
        if (!r || r->is_any() || pick(5) == 0) return std::uint16_t(pick(2) ? pick(65536) : pick(2048));
        switch (pick(5)) {
        case 0: return r->lo;
        case 1: return r->hi;
        case 2: return std::uint16_t(r->lo - 1);
        case 3: return std::uint16_t(r->hi + 1);
        default: return std::uint16_t(r->lo + pick(std::uint64_t(r->hi - r->lo) + 1));
        }
    }

    std::array<std::uint8_t, 16> address_in(const std::vector<spd::ip_prefix>* l, spd::ip_family f) {
        std::array<std::uint8_t, 16> a{};
        const unsigned max = f == spd::ip_family::v4 ? 32 : 128;
        const spd::ip_prefix* p = nullptr;
        if (l && !l->empty() && pick(10) < 9) {
            const auto& c = (*l)[pick(l->size())];
            if (c.family == f) p = &c;
        }
        if (!p) {
            // Random, but often near a pool address so that prefixes of other policies match too.
            auto& pool = f == spd::ip_family::v4 ? _pool4 : _pool6;
            a = pool[pick(pool.size())];
            unsigned keep = unsigned(pick(max + 1));
            for (unsigned bit = keep; bit < max; ++bit)
                if (pick(2)) a[bit / 8] ^= std::uint8_t(0x80u >> (bit % 8));
            return a;
        }
        a = p->addr;
        for (unsigned bit = p->len; bit < max; ++bit)
            if (pick(2)) a[bit / 8] |= std::uint8_t(0x80u >> (bit % 8));
        // Sometimes all-ones host part: the top of the range.
        if (pick(8) == 0)
            for (unsigned bit = p->len; bit < max; ++bit) a[bit / 8] |= std::uint8_t(0x80u >> (bit % 8));
        return a;
    }

    std::mt19937_64 _rng;
    std::vector<std::array<std::uint8_t, 16>> _pool4, _pool6;
};

} // namespace spd_test
