// Neighbour table: linear probing over a power-of-two slot array, kept at most half full.
#include "dataplane/neighbor.hpp"

#include <bit>

namespace dataplane {

neighbor_table::neighbor_table(std::size_t capacity) : _slots(std::bit_ceil(capacity * 2)) {}

neighbor_table::entry* neighbor_table::insert(std::uint16_t port, ipv4 ip) {
    auto i = slot_of(port, ip);
    if (_slots[i].st == state::free) {
        if ((_used + 1) * 2 > _slots.size()) return nullptr;
        _slots[i] = entry{};
        _slots[i].ip = ip;
        _slots[i].port = port;
        ++_used;
    }
    return &_slots[i];
}

void neighbor_table::erase_at(std::size_t i) {
    const std::size_t mask = _slots.size() - 1;
    std::size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (_slots[j].st == state::free) break;
        std::size_t k = home(_slots[j].port, _slots[j].ip);
        // Entry j may stay when its home lies cyclically in (i, j]; else it fills the hole.
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays) continue;
        _slots[i] = _slots[j];
        i = j;
    }
    _slots[i] = entry{};
    --_used;
}

bool neighbor_table::add_static(std::uint16_t port, ipv4 ip, const mac& hw) {
    auto* e = insert(port, ip);
    if (!e) return false;
    e->st = state::permanent;
    e->hw = hw;
    return true;
}

neighbor_table::state neighbor_table::state_of(std::uint16_t port, ipv4 ip) const {
    return _slots[slot_of(port, ip)].st;
}

neighbor_table::hold_result neighbor_table::hold(std::uint16_t port, ipv4 ip, rte_mbuf* pkt, std::uint64_t now_ms) {
    auto* e = insert(port, ip);
    if (!e) return hold_result::full;
    if (e->st == state::free) {
        e->st = state::incomplete;
        e->tries = 1;
        e->next_try_ms = now_ms + retry_ms;
        e->queue[e->held++] = pkt;
        return hold_result::request;
    }
    if (e->st != state::incomplete || e->held >= hold_max) return hold_result::full;
    e->queue[e->held++] = pkt;
    return hold_result::held;
}

std::size_t neighbor_table::learn(std::uint16_t port, ipv4 ip, const mac& hw, bool create, std::uint64_t,
                                  std::span<rte_mbuf*, hold_max> released) {
    auto i = slot_of(port, ip);
    entry* e = &_slots[i];
    if (e->st == state::free) {
        if (!create) return 0;
        e = insert(port, ip);
        if (!e) return 0;
    }
    if (e->st == state::permanent) return 0;  // static entries are never overridden by the wire
    std::size_t n = e->held;
    for (std::size_t k = 0; k < n; ++k) released[k] = e->queue[k];
    e->held = 0;
    e->st = state::reachable;
    e->hw = hw;
    return n;
}

} // namespace dataplane
