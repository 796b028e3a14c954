#pragma once
// The neighbour (ARP) table of one worker: static entries from the config, entries learned
// from ARP, and a small hold queue per unresolved next hop (RFC 1122 2.3.2.2: keep at least
// one packet while resolving). Fixed capacity, open addressing, no allocation after
// construction, owned by one lcore (no locks). Packets are opaque pointers here.
#include "dataplane/addr.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

struct rte_mbuf;

namespace dataplane {

class neighbor_table {
public:
    static constexpr std::size_t hold_max = 4;
    static constexpr unsigned arp_tries = 3;
    static constexpr std::uint64_t retry_ms = 1000;

    enum class state : std::uint8_t { free, incomplete, reachable, permanent };
    enum class hold_result : std::uint8_t {
        request,  // first packet for this next hop: held, caller sends an ARP request now
        held,     // queued behind a resolution already in progress
        full,     // hold queue (or the table) full: caller drops the packet
    };

    explicit neighbor_table(std::size_t capacity = 1024);

    bool add_static(std::uint16_t port, ipv4 ip, const mac& hw);
    // The MAC for a resolved next hop, or nullptr.
    [[nodiscard]] const mac* lookup(std::uint16_t port, ipv4 ip) const;

    hold_result hold(std::uint16_t port, ipv4 ip, rte_mbuf* pkt, std::uint64_t now_ms);

    // An ARP packet told us ip is at hw on port. Existing entries are updated (RFC 826 merge),
    // new ones created only when `create` (the ARP was addressed to us). Packets held for the
    // entry are written to `released` (hold_max fits); returns how many.
    std::size_t learn(std::uint16_t port, ipv4 ip, const mac& hw, bool create, std::uint64_t now_ms,
                      std::span<rte_mbuf*, hold_max> released);

    // Retries and timeouts of unresolved entries: calls request(port, ip) for each entry due
    // for another ARP request, and expired(pkt) for every packet of an entry that gave up.
    template <class Request, class Expired>
    void age(std::uint64_t now_ms, Request&& request, Expired&& expired) {
        for (std::size_t s = 0; s < _slots.size(); ++s) {
            auto& e = _slots[s];
            if (e.st != state::incomplete || now_ms < e.next_try_ms) continue;
            if (e.tries >= arp_tries) {
                for (std::size_t i = 0; i < e.held; ++i) expired(e.queue[i]);
                erase_at(s);  // may shift a later entry here: it is aged on the next call
                continue;
            }
            ++e.tries;
            e.next_try_ms = now_ms + retry_ms;
            request(e.port, e.ip);
        }
    }

    // Hands every held packet to f and forgets it (shutdown).
    template <class F>
    void drain(F&& f) {
        for (auto& e : _slots) {
            for (std::size_t i = 0; i < e.held; ++i) f(e.queue[i]);
            e.held = 0;
        }
    }

    [[nodiscard]] std::size_t size() const { return _used; }
    [[nodiscard]] state state_of(std::uint16_t port, ipv4 ip) const;

private:
    struct entry {
        ipv4 ip = 0;
        std::uint16_t port = 0;
        state st = state::free;
        std::uint8_t held = 0;
        std::uint8_t tries = 0;
        mac hw{};
        std::uint64_t next_try_ms = 0;
        std::array<rte_mbuf*, hold_max> queue{};
    };
    [[nodiscard]] std::size_t slot_of(std::uint16_t port, ipv4 ip) const;  // existing or the free slot to use
    [[nodiscard]] std::size_t home(std::uint16_t port, ipv4 ip) const;
    entry* insert(std::uint16_t port, ipv4 ip);
    void erase_at(std::size_t i);  // backward-shift deletion, no allocation

    std::vector<entry> _slots;
    std::size_t _used = 0;
};

// Per forwarded packet: inline.
inline std::size_t neighbor_table::home(std::uint16_t port, ipv4 ip) const {
    std::uint32_t h = (ip ^ (std::uint32_t(port) << 24)) * 0x9e3779b1u;
    return (h >> 7) & (_slots.size() - 1);
}

inline std::size_t neighbor_table::slot_of(std::uint16_t port, ipv4 ip) const {
    std::size_t i = home(port, ip);
    while (_slots[i].st != state::free && !(_slots[i].ip == ip && _slots[i].port == port))
        i = (i + 1) & (_slots.size() - 1);
    return i;
}

inline const mac* neighbor_table::lookup(std::uint16_t port, ipv4 ip) const {
    const auto& e = _slots[slot_of(port, ip)];
    return e.st == state::reachable || e.st == state::permanent ? &e.hw : nullptr;
}

} // namespace dataplane
