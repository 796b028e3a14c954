// The worker pipeline. What happens to a packet, in order:
//
//  0. Several workers: worker w polls RX queue w of each port that has one (RSS or the device's
//     own spreading); single-queue ports are polled by worker 0 alone. Each SA has one owning
//     worker (sa_owner, by SPI): a packet classified onto another worker's SA (6a) or carrying
//     another worker's inbound SPI (6b) is handed to that worker's ring with its SA index and
//     the snapshot generation (re-classified if the snapshot changed meanwhile), so sequence
//     numbers, replay windows and SA counters have one writer. Neighbours learned from ARP are
//     told to the other workers (each has its own table). Worker 0 also drains the IKE inject
//     ring and sends what other workers queued for ports with fewer TX queues than workers.
//  1. RX: a burst of up to 32 from each port (this worker's queue); counted per port.
//  2. L2: chained mbufs, runts and frames not for our MAC (or broadcast) are dropped. ARP is
//     answered for our own addresses (port IPs and VIPs) and learned into the neighbour
//     table, releasing packets held for that next hop. Anything but IPv4 is dropped. The
//     Ethernet header is stripped: from here on the mbuf holds the IP packet.
//  3. L3: the IPv4 header is validated (version, lengths, checksum); Ethernet padding trimmed.
//  4. Local (to one of our addresses): ICMP echo answered out of the receiving port; IKE
//     (UDP 500, UDP 4500 behind the non-ESP marker) on the public side punted to the IKE ring; ESP and
//     UDP-encapsulated ESP on the public side go to step 6b; anything else is dropped.
//  5. Transit: broadcast/multicast never routed nor protected; TTL checked; the whole burst
//     classified by the SPD at once: private side with the out-direction policies (PROTECT ->
//     6a, BYPASS -> 7, DISCARD -> drop), public side with the in-direction policies
//     (plaintext matching PROTECT is dropped: it should have come through the tunnel).
//  6a. Encap, the burst's packets grouped by SA and all groups encrypted in one multi-buffer
//     pass (esp::encap_batch): tunnel MTU check first (DF set:
//     ICMP "fragmentation needed" with the tunnel MTU back to the sender), TTL-1, optional
//     TCP MSS clamp, too big without DF: fragmented before encryption (RFC 791), ESP encap;
//     the outer packet goes to 7 towards the SA's peer.
//  6b. Decap: SPI -> SAD, the burst's packets grouped by SA and all groups decrypted in one
//     multi-buffer pass (esp::decap_batch); the inner packet must match the in-direction SPD
//     with PROTECT by this very SA (RFC 4301 5.2 step 4); TTL-1, MSS clamp, then 7 (or
//     local ICMP echo, whose reply goes back through the outbound SPD).
//  7. Output: route lookup, port MTU (DF: ICMP fragmentation needed if the SPD lets it go in
//     clear; no DF: fragmented), neighbour (unresolved: held, ARP request sent),
//     Ethernet header, per-port TX buffer flushed once per round. IKE's inject ring joins here.
//  8. Round end: neighbour retries/timeouts every 100 ms, RCU quiescent state; an idle round
//     backs off with short sleeps (at most idle_sleep_us), offline for RCU while asleep.
//
// No allocation, lock, log or exception per packet: scratch arrays live on the stack, the
// tables are an RCU snapshot, counters are single-writer.
#include "engine_state.hpp"

#include "dataplane/flow_key.hpp"
#include "dataplane/packet.hpp"

#include <base/reader.hpp>
#include <base/uninit_array.hpp>
#include <spd/flow.hpp>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <ctime>

namespace dataplane {

namespace {

struct ctx {
    engine::state& s;
    worker& w;
    const tables& t;
    std::uint64_t now;
    unsigned nworkers;
};

std::span<std::uint8_t> data_of(rte_mbuf* m) { return {rte_pktmbuf_mtod(m, std::uint8_t*), m->data_len}; }

esp::pkt to_pkt(rte_mbuf* m) {
    return {static_cast<std::uint8_t*>(m->buf_addr), m->buf_len, m->data_off, m->data_len};
}
void from_pkt(rte_mbuf* m, const esp::pkt& p) {
    m->data_off = std::uint16_t(p.data_off);
    m->data_len = std::uint16_t(p.data_len);
    m->pkt_len = p.data_len;
}

// The SPI of an ESP packet (ip: its validated IPv4 header); 0 when too short to hold one, which
// decap_stage then locates and counts.
[[gnu::always_inline]] inline std::uint32_t esp_spi(const std::uint8_t* ip, const ipv4_view& v) {
    return std::size_t(v.total_len - v.ihl) >= 8u ? base::load_be32(ip + v.ihl) : 0;
}

// Ours: a port address, a configured VIP or a run-time VIP of the snapshot.
[[gnu::always_inline]] inline bool is_local(const ctx& c, ipv4 a) { return c.s.is_local(a) || c.t.is_vip(a); }
// false: a is neither ours nor a port's subnet broadcast (one hash for both filters; nearly every
// transit destination ends here).
[[gnu::always_inline]] inline bool maybe_special(const ctx& c, ipv4 a) {
    const unsigned slot = address_filter::slot(a);
    return c.s.special.maybe_at(slot) || c.t.vip_filter.maybe_at(slot);
}

// The last destination a check found to be ours, or plain unicast transit: a burst's packets
// mostly go to one address, which is then checked once (what is ours and which addresses are
// broadcasts only change between rounds, with the snapshot).
struct dst_memo {
    bool set = false;
    ipv4 dst = 0;
    [[nodiscard]] bool hit(ipv4 a) const { return set && a == dst; }
    void remember(ipv4 a) {
        set = true;
        dst = a;
    }
};

void drop_pkt(ctx& c, rte_mbuf* m, drop why) {
    c.w.stats.drop_one(why);
    rte_pktmbuf_free(m);
}

// Sends on one TX queue, counting what went out and dropping what did not fit. bytes: the
// pkt_len sum of pkts, taken before the burst (a sent mbuf may be freed at once); the unsent
// ones, still ours, are taken back out.
void transmit(ctx& c, std::size_t port, std::uint16_t queue, rte_mbuf** pkts, std::uint16_t n, std::uint64_t bytes) {
    std::uint16_t sent = rte_eth_tx_burst(c.s.ports[port].id, queue, pkts, n);
    for (std::uint16_t i = sent; i < n; ++i) {
        bytes -= pkts[i]->pkt_len;
        drop_pkt(c, pkts[i], drop::tx_full);
    }
    c.w.stats.ports[port].tx_packets.add(sent);
    c.w.stats.ports[port].tx_bytes.add(bytes);
}

// A worker without a TX queue of its own on this port hands its packets to worker 0.
void flush_tx(ctx& c, std::size_t port) {
    auto& b = c.w.tx[port];
    if (b.n == 0) return;
    const auto& pr = c.s.ports[port];
    if (c.w.id < pr.tx_queues) {
        transmit(c, port, std::uint16_t(c.w.id), b.pkts.data(), b.n, b.bytes);
    } else {
        auto k = rte_ring_enqueue_burst(pr.tx_funnel, reinterpret_cast<void**>(b.pkts.data()), b.n, nullptr);
        for (std::uint16_t i = std::uint16_t(k); i < b.n; ++i) drop_pkt(c, b.pkts[i], drop::tx_full);
    }
    b.n = 0;
    b.bytes = 0;
}

// Worker 0: what the other workers queued for ports with fewer TX queues than workers.
std::uint32_t drain_tx_funnels(ctx& c) {
    std::uint32_t got = 0;
    base::uninit_array<rte_mbuf*, 2 * burst_size> pkts;  // per round: not zeroed, only [0, n) read
    for (std::size_t p = 0; p < c.s.ports.size(); ++p) {
        auto* ring = c.s.ports[p].tx_funnel;
        if (!ring) continue;
        auto n = rte_ring_dequeue_burst(ring, reinterpret_cast<void**>(pkts.data()), unsigned(pkts.size()), nullptr);
        if (n == 0) continue;
        got += n;
        std::uint64_t bytes = 0;
        for (unsigned i = 0; i < n; ++i) bytes += pkts[i]->pkt_len;
        transmit(c, p, 0, pkts.data(), std::uint16_t(n), bytes);
    }
    return got;
}

handoff_tag& tag_of(const ctx& c, rte_mbuf* m) {
    return *RTE_MBUF_DYNFIELD(m, c.s.handoff_field, handoff_tag*);
}

void flush_handoff(ctx& c, unsigned owner) {
    auto& b = c.w.to_worker[owner];
    if (b.n == 0) return;
    auto k = rte_ring_enqueue_burst(c.s.workers[owner]->handoff, reinterpret_cast<void**>(b.pkts.data()), b.n, nullptr);
    c.w.stats.handed_off.add(k);
    for (std::uint16_t i = std::uint16_t(k); i < b.n; ++i) drop_pkt(c, b.pkts[i], drop::handoff_full);
    b.n = 0;
}

// To the worker owning the packet's SA (flushed at the end of the round).
void handoff(ctx& c, unsigned owner, rte_mbuf* m, const handoff_tag& tag) {
    tag_of(c, m) = tag;
    auto& b = c.w.to_worker[owner];
    if (b.n == b.pkts.size()) flush_handoff(c, owner);
    b.pkts[b.n++] = m;
}

[[gnu::always_inline]] inline void tx_enqueue(ctx& c, std::size_t port, rte_mbuf* m) {
    auto& b = c.w.tx[port];
    if (b.n == b.pkts.size()) flush_tx(c, port);
    b.pkts[b.n++] = m;
    b.bytes += m->pkt_len;
}

// m holds an IP packet; gives it an Ethernet header towards dst and queues it.
[[gnu::always_inline]] inline void emit_l2(ctx& c, std::size_t port, rte_mbuf* m, const mac& dst) {
    auto* eth = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(m, eth_hlen));
    if (!eth) return drop_pkt(c, m, drop::no_headroom);
    write_eth(eth, dst, c.s.ports[port].hw, ethertype_ipv4);
    tx_enqueue(c, port, m);
}

void send_arp_request(ctx& c, std::size_t port, ipv4 target) {
    rte_mbuf* m = rte_pktmbuf_alloc(c.s.pool);
    if (!m) return c.w.stats.drop_one(drop::no_mbuf);
    auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, eth_hlen + arp_len));
    if (!p) return drop_pkt(c, m, drop::no_mbuf);
    const auto& pr = c.s.ports[port];
    write_arp_frame(p, 1, mac_broadcast, pr.hw, pr.ip.addr, mac_zero, target);
    c.w.stats.arp_requests_sent.add();
    tx_enqueue(c, port, m);
}

void output(ctx& c, rte_mbuf* m, ipv4 dst);

// Splits m (IPv4 without DF, TTL already handled) into pieces of at most mtu bytes in new
// mbufs and frees it; returns the count, 0 when it could not (m dropped and counted).
std::size_t fragment(ctx& c, rte_mbuf* m, std::uint32_t mtu, std::span<rte_mbuf*, max_fragments> out) {
    auto ip = data_of(m);
    auto n = ipv4_fragment_count(ip, mtu);
    if (n == 0) {
        drop_pkt(c, m, drop::too_big);
        return 0;
    }
    const auto room = std::uint16_t(std::min<std::size_t>(mtu, ip.size()));
    for (std::size_t i = 0; i < n; ++i) {
        rte_mbuf* f = rte_pktmbuf_alloc(c.s.pool);
        auto* p = f ? reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(f, room)) : nullptr;
        if (!p) {
            if (f) rte_pktmbuf_free(f);
            for (std::size_t j = 0; j < i; ++j) rte_pktmbuf_free(out[j]);
            drop_pkt(c, m, drop::no_mbuf);
            return 0;
        }
        auto len = write_ipv4_fragment(ip, mtu, i, p);
        rte_pktmbuf_trim(f, std::uint16_t(room - len));
        out[i] = f;
    }
    c.w.stats.fragmented.add();
    rte_pktmbuf_free(m);
    return n;
}

// ICMP "fragmentation needed" with `mtu` to the sender of `offending`, from our address on the
// port facing it. Sent only where the outbound SPD lets it go in clear (a sender behind a
// tunnel is not answered from here: this path has no encap stage).
void send_frag_needed(ctx& c, rte_mbuf* offending, std::uint16_t mtu) {
    drop why;
    auto v = parse_ipv4(data_of(offending), why);
    if (!v) return;
    rte_mbuf* m = rte_pktmbuf_alloc(c.s.pool);
    if (!m) return c.w.stats.drop_one(drop::no_mbuf);
    auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, icmp_frag_needed_max));
    if (!p) return drop_pkt(c, m, drop::no_mbuf);
    ipv4 src = c.s.ports[0].ip.addr;
    if (auto nh = c.t.routes.lookup(v->src)) src = c.s.ports[nh->port].ip.addr;
    auto len = write_icmp_frag_needed(p, data_of(offending), src, mtu);
    if (len == 0) return drop_pkt(c, m, drop::ipv4_malformed);
    rte_pktmbuf_trim(m, std::uint16_t(icmp_frag_needed_max - len));
    spd::flow_key k;
    if (spd::extract_flow(data_of(m), k) != spd::extract_status::ok || c.t.spd_out->classify(k).act != spd::action::bypass) {
        rte_pktmbuf_free(m);  // ours, not a received packet: nothing to count
        return;
    }
    c.w.stats.icmp_frag_needed_sent.add();
    output(c, m, v->src);
}

// 7. Output of an IP packet towards dst. Bigger than the port MTU: DF set, ICMP "fragmentation
// needed" to the sender; otherwise fragmented (RFC 791).
void output(ctx& c, rte_mbuf* m, ipv4 dst) {
    auto nh = c.t.routes.lookup(dst);
    if (!nh) return drop_pkt(c, m, drop::no_route);
    if (const auto mtu = c.s.ports[nh->port].mtu; m->pkt_len > mtu) {
        drop why;
        auto v = parse_ipv4(data_of(m), why);
        if (!v) return drop_pkt(c, m, why);
        if (v->df) {
            send_frag_needed(c, m, mtu);
            return drop_pkt(c, m, drop::frag_needed);
        }
        std::array<rte_mbuf*, max_fragments> frags{};
        auto n = fragment(c, m, mtu, frags);
        for (std::size_t i = 0; i < n; ++i) output(c, frags[i], dst);
        return;
    }
    if (const mac* hw = c.w.neigh.lookup(nh->port, nh->ip)) return emit_l2(c, nh->port, m, *hw);
    switch (c.w.neigh.hold(nh->port, nh->ip, m, c.now)) {
    case neighbor_table::hold_result::request: send_arp_request(c, nh->port, nh->ip); break;
    case neighbor_table::hold_result::held: break;
    case neighbor_table::hold_result::full: drop_pkt(c, m, drop::neighbor_hold_full); break;
    }
}

// The last destination output_cached() resolved: the next packet to it (the rest of a burst's
// bypass verdicts, of one SA's encap flush) skips the route scan and the neighbour probe. Lives
// for one loop over packets, in which no ARP is handled: neighbour entries only change (or
// move) on ARP and ageing, so the cached MAC stays the table's current one.
struct output_cache {
    ipv4 dst = 0;
    const mac* hw = nullptr;  // nullptr: nothing cached
    std::size_t port = 0;
    std::uint32_t mtu = 0;
};

void output_resolve(ctx& c, rte_mbuf* m, ipv4 dst, output_cache& oc) {
    if (auto nh = c.t.routes.lookup(dst)) {
        const auto mtu = c.s.ports[nh->port].mtu;
        const mac* hw = m->pkt_len <= mtu ? c.w.neigh.lookup(nh->port, nh->ip) : nullptr;
        if (hw) {
            oc = {dst, hw, nh->port, mtu};
            return emit_l2(c, nh->port, m, *hw);
        }
    }
    output(c, m, dst);  // no route, too big or unresolved: the full path decides
}

// The cached destination inline, anything else through output_resolve.
[[gnu::always_inline]] inline void output_cached(ctx& c, rte_mbuf* m, ipv4 dst, output_cache& oc) {
    if (oc.hw && dst == oc.dst && m->pkt_len <= oc.mtu) return emit_l2(c, oc.port, m, *oc.hw);
    output_resolve(c, m, dst, oc);
}

// Each worker has its own neighbour table: what one learns from ARP, the others are told.
void tell_other_workers(ctx& c, std::size_t port, ipv4 ip, const mac& hw, bool create) {
    neighbor_note note{ip, std::uint16_t(port), std::uint8_t(create), 0, hw, {}};
    for (const auto& o : c.s.workers)
        if (o->id != c.w.id) rte_ring_enqueue_elem(o->notes, &note, sizeof note);  // full: it will ARP itself
}

std::uint32_t drain_notes(ctx& c) {
    base::uninit_array<neighbor_note, 16> notes;  // per round: not zeroed, only [0, n) read
    auto n = rte_ring_dequeue_burst_elem(c.w.notes, notes.data(), sizeof(neighbor_note), unsigned(notes.size()), nullptr);
    for (unsigned i = 0; i < n; ++i) {
        const auto& nn = notes[i];
        std::array<rte_mbuf*, neighbor_table::hold_max> released{};
        auto k = c.w.neigh.learn(nn.port, nn.ip, nn.hw, nn.create != 0, c.now, released);
        for (std::size_t j = 0; j < k; ++j) emit_l2(c, nn.port, released[j], nn.hw);
    }
    return n;
}

// 2. ARP: answer requests for our addresses, learn senders (RFC 826 merge).
void handle_arp(ctx& c, std::size_t port, rte_mbuf* m, std::span<const std::uint8_t> l3) {
    auto a = parse_arp(l3);
    if (!a) return drop_pkt(c, m, drop::arp_malformed);
    const auto& pr = c.s.ports[port];
    bool for_us = pr.owns(a->tpa) || c.t.owns_vip(port, a->tpa);
    if (a->spa != 0 && !(a->sha[0] & 1)) {
        std::array<rte_mbuf*, neighbor_table::hold_max> released{};
        auto n = c.w.neigh.learn(std::uint16_t(port), a->spa, a->sha, for_us, c.now, released);
        if (a->op == 2 && c.w.neigh.lookup(std::uint16_t(port), a->spa)) c.w.stats.arp_replies_learned.add();
        for (std::size_t i = 0; i < n; ++i) emit_l2(c, port, released[i], a->sha);
        if (c.nworkers > 1) tell_other_workers(c, port, a->spa, a->sha, for_us);
    }
    if (a->op == 1 && for_us) {
        auto* p = rte_pktmbuf_mtod(m, std::uint8_t*);
        write_arp_frame(p, 2, a->sha, pr.hw, a->tpa, a->sha, a->spa);
        m->data_len = std::uint16_t(eth_hlen + arp_len);
        m->pkt_len = m->data_len;
        c.w.stats.arp_requests_answered.add();
        return tx_enqueue(c, port, m);
    }
    if (a->op == 1) return drop_pkt(c, m, drop::arp_not_for_us);
    rte_pktmbuf_free(m);  // a reply: consumed (counted as learned above)
}

// One burst's lists. The arrays are left uninitialised on purpose (one is built per RX burst,
// and filling them, flow keys and verdicts included, cost more than the parsing): only the
// first n_* entries are ever read.
struct burst_lists {
    base::uninit_array<rte_mbuf*, burst_size> transit;
    base::uninit_array<spd::flow_key, burst_size> keys;        // [0, key_runs::n): see key_runs
    base::uninit_array<spd::verdict, burst_size> verdicts;     // one per key
    base::uninit_array<std::uint8_t, burst_size> key_of;       // transit packet -> its key
    std::size_t n_transit = 0;
    base::uninit_array<rte_mbuf*, burst_size> enc;
    base::uninit_array<std::uint32_t, burst_size> enc_sa;
    std::size_t n_enc = 0;
    base::uninit_array<rte_mbuf*, burst_size> esp_in;
    base::uninit_array<std::uint32_t, burst_size> esp_spi;  // read on the way in; 0: decap_stage locates it
    std::size_t n_esp = 0;
    void add_esp(rte_mbuf* m, std::uint32_t spi) {
        esp_in[n_esp] = m;
        esp_spi[n_esp++] = spi;
    }
};

[[gnu::always_inline]] inline void protect_or_forward(ctx& c, rte_mbuf* m, const spd::verdict& v, burst_lists& l);

// A packet we originate (ICMP error, echo reply to a tunnel peer): outbound SPD decides.
void local_out(ctx& c, rte_mbuf* m, burst_lists& l) {
    spd::flow_key k;
    if (spd::extract_flow(data_of(m), k) != spd::extract_status::ok) return drop_pkt(c, m, drop::ipv4_malformed);
    auto v = c.t.spd_out->classify(k);
    if (v.act == spd::action::bypass) {
        drop why;
        auto iv = parse_ipv4(data_of(m), why);
        if (!iv) return drop_pkt(c, m, why);
        return output(c, m, iv->dst);
    }
    protect_or_forward(c, m, v, l);
}

[[gnu::always_inline]] inline void protect_or_forward(ctx& c, rte_mbuf* m, const spd::verdict& v, burst_lists& l) {
    if (v.act == spd::action::discard) return drop_pkt(c, m, drop::policy_discard);
    if (v.sa_handle >= c.t.out_sas.size()) {
        if (c.t.no_sa_hit && v.policy < c.t.policies.size()) {
            auto& hit = c.t.no_sa_hit[v.policy];
            if (!hit.load(std::memory_order_relaxed)) hit.store(1, std::memory_order_relaxed);
        }
        return drop_pkt(c, m, drop::policy_no_sa);
    }
    if (c.nworkers > 1) {
        auto owner = sa_owner(c.t.out_sas[v.sa_handle].sa->spi(), c.nworkers);
        if (owner != c.w.id) return handoff(c, owner, m, {c.t.generation, v.sa_handle, handoff_kind::encap});
    }
    if (l.n_enc == l.enc.size()) return drop_pkt(c, m, drop::tx_full);
    l.enc[l.n_enc] = m;
    l.enc_sa[l.n_enc++] = v.sa_handle;
}

// 4. Local delivery.
void local_in(ctx& c, std::size_t port, rte_mbuf* m, const ipv4_view& v, const mac& from, burst_lists& l) {
    auto ip = data_of(m);
    const bool public_side = c.s.ports[port].role == port_role::public_side;
    switch (v.proto) {
    case proto_icmp: {
        if (v.fragment || !icmp_echo_to_reply(ip, v.dst)) return drop_pkt(c, m, drop::local_unhandled);
        c.w.stats.icmp_echo_answered.add();
        auto* eth = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(m, eth_hlen));
        if (!eth) return drop_pkt(c, m, drop::no_headroom);
        write_eth(eth, from, c.s.ports[port].hw, ethertype_ipv4);
        return tx_enqueue(c, port, m);
    }
    case proto_udp: {
        if (v.fragment) return drop_pkt(c, m, drop::ipv4_fragment);
        base::reader r(ip.subspan(v.ihl, v.total_len - v.ihl));
        r.skip(2);
        auto dport = r.read_u16();
        r.skip(4);
        if (!r.ok()) return drop_pkt(c, m, drop::ipv4_malformed);
        if (public_side && (dport == port_ike || dport == port_nat_t) && is_ike_payload(dport, r.rest())) {
            if (!c.s.ike_attached.load(std::memory_order_relaxed)) return drop_pkt(c, m, drop::no_ike);
            m->port = std::uint16_t(port);
            if (rte_ring_enqueue(c.s.punt, m) != 0) return drop_pkt(c, m, drop::punt_full);
            c.w.stats.punted.add();
            return;
        }
        if (dport == port_nat_t && public_side && l.n_esp < l.esp_in.size()) {
            // RFC 3948 2.2: the SPI right after the UDP header (a keepalive or a runt: located
            // and counted by decap_stage).
            const std::size_t udp_payload = std::size_t(v.total_len - v.ihl) - 8u;
            l.add_esp(m, udp_payload >= 8 ? base::load_be32(ip.data() + v.ihl + 8) : 0);
            return;
        }
        return drop_pkt(c, m, drop::local_unhandled);
    }
    case proto_esp:
        if (v.fragment) return drop_pkt(c, m, drop::ipv4_fragment);
        if (public_side && l.n_esp < l.esp_in.size()) {
            l.add_esp(m, esp_spi(ip.data(), v));
            return;
        }
        return drop_pkt(c, m, drop::local_unhandled);
    default: return drop_pkt(c, m, drop::local_unhandled);
    }
}

[[gnu::always_inline]] inline void forward_ttl(ctx& c, rte_mbuf* m, bool tunnel) {
    auto ip = data_of(m);
    decrement_ttl(ip.data());
    if (tunnel && c.s.cfg.mss_clamp && clamp_tcp_mss(ip, c.s.cfg.mss_clamp)) c.w.stats.mss_clamped.add();
}

// 5 -> 7 for a BYPASS verdict: forwarded in clear.
void forward_bypass(ctx& c, rte_mbuf* m, output_cache& oc) {
    forward_ttl(c, m, false);
    c.w.stats.bypassed.add();
    // Only validated IPv4 packets get a verdict: the destination straight from the header.
    output_cached(c, m, base::load_be32(rte_pktmbuf_mtod(m, const std::uint8_t*) + 16), oc);
}

// 6a. Encap, grouped by SA; the groups of all SAs go to one esp::encap_batch so their crypto
// runs in one multi-buffer pass. Too big for the tunnel: DF set, ICMP "fragmentation needed"
// with the tunnel MTU; otherwise fragmented before encryption (each piece its own ESP packet,
// so the peer's gateway forwards them and the receiving host reassembles).
void encap_close_group(ctx& c, encap_queue& q) {
    if (q.n > q.group_start) {
        auto& sa = *c.t.out_sas[q.sa[q.group_start]].sa;
        const auto k = q.n - q.group_start;
        q.batch.add(sa, std::span(q.pk.data() + q.group_start, k), std::span(q.res.data() + q.group_start, k));
    }
    q.group_start = q.n;
}

void encap_flush(ctx& c, encap_queue& q) {
    encap_close_group(c, q);
    q.batch.run();
    output_cache oc;
    for (std::size_t i = 0; i < q.n; ++i) {
        if (q.res[i] != esp::drop_reason::ok) {
            c.w.stats.esp_drops[esp::index(q.res[i])].add();
            drop_pkt(c, q.mb[i], drop::outbound_esp_error);
            continue;
        }
        from_pkt(q.mb[i], q.pk[i]);
        c.w.stats.encapsulated.add();
        output_cached(c, q.mb[i], c.t.out_sas[q.sa[i]].peer, oc);
    }
    q.n = 0;
    q.group_start = 0;
}

void encap_stage(ctx& c, burst_lists& l) {
    auto& q = c.w.encap;
    // A burst mostly goes to one SA: then it is one group in order, without the grouping scan.
    bool one_sa = true;
    for (std::size_t i = 1; i < l.n_enc; ++i) one_sa &= l.enc_sa[i] == l.enc_sa[0];
    std::array<bool, burst_size> done{};
    for (std::size_t first = 0; first < l.n_enc; ++first) {
        if (done[first]) continue;
        const auto sa_index = l.enc_sa[first];
        const auto& e = c.t.out_sas[sa_index];
        auto nh = c.t.routes.lookup(e.peer);
        std::uint32_t inner_mtu = nh ? e.inner_mtu(c.s.ports[nh->port].mtu) : 0;
        auto add = [&](rte_mbuf* m) {
            if (q.n == q.mb.size()) encap_flush(c, q);
            q.mb[q.n] = m;
            q.pk[q.n] = to_pkt(m);
            q.sa[q.n] = sa_index;
            ++q.n;
        };
        for (std::size_t i = first; i < l.n_enc; ++i) {
            if (!one_sa) {
                if (done[i] || l.enc_sa[i] != sa_index) continue;
                done[i] = true;
            }
            rte_mbuf* m = l.enc[i];
            if (!nh) { drop_pkt(c, m, drop::no_route); continue; }
            // Every packet here was validated on its way (process_burst, decap, a hand-over from a
            // worker that did, or built by us): length and DF straight from the header.
            const auto* ip = rte_pktmbuf_mtod(m, const std::uint8_t*);
            const std::uint32_t total_len = base::load_be16(ip + 2);
            const bool df = (ip[6] & 0x40) != 0;
            if (total_len > inner_mtu && df) {
                send_frag_needed(c, m, std::uint16_t(inner_mtu));
                drop_pkt(c, m, drop::frag_needed);
                continue;
            }
            forward_ttl(c, m, true);
            if (total_len <= inner_mtu) {
                add(m);
                continue;
            }
            std::array<rte_mbuf*, max_fragments> frags{};
            auto n = fragment(c, m, inner_mtu, frags);
            for (std::size_t j = 0; j < n; ++j) add(frags[j]);
        }
        encap_close_group(c, q);
        if (one_sa) break;  // the inner loop took every packet
    }
    if (q.n) encap_flush(c, q);
}

// 6b. Decap, grouped by SA, then the inbound policy check on the inner packets.
void decap_stage(ctx& c, burst_lists& l) {
    if (l.n_esp == 0) return;
    // Scratch arrays uninitialised like burst_lists: only the first n / k entries are read.
    base::uninit_array<std::uint32_t, burst_size> sa_of;
    base::uninit_array<esp::pkt, burst_size> pk;
    std::size_t n = 0;
    // A burst mostly comes from one tunnel: the last SPI's SA is reused without a SAD probe.
    bool have_last = false;
    std::uint32_t last_spi = 0, last_idx = 0;
    bool one_sa = true;
    for (std::size_t i = 0; i < l.n_esp; ++i) {
        rte_mbuf* m = l.esp_in[i];
        // The SPI read on the way in, else the full outer parse (hand-overs, short packets);
        // the SA's decap validates every header field again before trusting any.
        std::uint32_t spi = l.esp_spi[i];
        if (spi == 0) {
            esp::esp_location loc;
            auto r = esp::locate_esp(to_pkt(m), loc);
            if (r != esp::drop_reason::ok) {
                c.w.stats.esp_drops[esp::index(r)].add();
                drop_pkt(c, m, drop::inbound_esp_error);
                continue;
            }
            spi = loc.spi;
        }
        if (c.nworkers > 1) {
            auto owner = sa_owner(spi, c.nworkers);
            if (owner != c.w.id) {
                handoff(c, owner, m, {c.t.generation, 0, handoff_kind::decap});
                continue;
            }
        }
        std::uint32_t idx = last_idx;
        if (!have_last || spi != last_spi) {
            if (!c.t.find_inbound(spi, idx)) {
                drop_pkt(c, m, drop::inbound_no_sa);
                continue;
            }
            one_sa = one_sa && (n == 0 || idx == sa_of[0]);
            have_last = true;
            last_spi = spi;
            last_idx = idx;
        }
        l.esp_in[n] = m;
        pk[n] = to_pkt(m);
        sa_of[n++] = idx;
    }
    // Grouped by SA, every group into the worker's esp::decap_batch: the burst's packets of all
    // SAs share one multi-buffer crypto pass (a burst spread over many tunnels would otherwise
    // flush the manager once per SA with its lanes nearly empty). One SA (the usual burst): one
    // group, in arrival order, as the loop above left it. mb / mb_sa: the packets in group order.
    base::uninit_array<rte_mbuf*, burst_size> grouped;
    base::uninit_array<std::uint32_t, burst_size> grouped_sa;
    base::uninit_array<esp::drop_reason, burst_size> res;
    rte_mbuf** mb = l.esp_in.data();
    std::uint32_t* mb_sa = sa_of.data();
    const std::size_t k = n;
    if (one_sa) {
        if (n != 0) c.w.decap.add(*c.t.in_sas[sa_of[0]].sa, std::span(pk.data(), n), std::span(res.data(), n));
    } else {
        mb = grouped.data();
        mb_sa = grouped_sa.data();
        std::size_t g = 0;
        std::array<bool, burst_size> done{};
        for (std::size_t first = 0; first < n; ++first) {
            if (done[first]) continue;
            const auto sa_index = sa_of[first];
            const std::size_t group = g;
            for (std::size_t i = first; i < n; ++i) {
                if (done[i] || sa_of[i] != sa_index) continue;
                done[i] = true;
                mb[g] = l.esp_in[i];
                mb_sa[g] = sa_index;
                pk[g] = to_pkt(mb[g]);  // over the arrival-order views: rebuilt from the mbufs
                ++g;
            }
            c.w.decap.add(*c.t.in_sas[sa_index].sa, std::span(pk.data() + group, g - group),
                          std::span(res.data() + group, g - group));
        }
    }
    c.w.decap.run();

    base::uninit_array<spd::flow_key, burst_size> keys;
    base::uninit_array<spd::verdict, burst_size> verdicts;
    base::uninit_array<std::uint8_t, burst_size> key_of;
    key_runs runs(keys.data(), c.t.spd_in->uses_ports());
    base::uninit_array<ipv4_view, burst_size> inner;
    base::uninit_array<bool, burst_size> inner_ok;
    base::uninit_array<drop, burst_size> inner_why;
    std::size_t good = 0;
    for (std::size_t i = 0; i < k; ++i) {
        if (res[i] != esp::drop_reason::ok) {
            c.w.stats.esp_drops[esp::index(res[i])].add();
            drop_pkt(c, mb[i], drop::inbound_esp_error);
            continue;
        }
        from_pkt(mb[i], pk[i]);
        // A valid inner IPv4 packet is parsed once for both the policy check and forwarding;
        // anything else (inner IPv6) still gets its policy check, then is dropped below.
        drop why;
        inner_ok[good] = parse_ipv4(data_of(mb[i]), inner[good], why);
        if (inner_ok[good]) {
            key_of[good] = runs.add_v4(data_of(mb[i]), inner[good]);
        } else if (spd::extract_flow(data_of(mb[i]), keys[runs.n]) != spd::extract_status::ok) {
            drop_pkt(c, mb[i], drop::inbound_policy_mismatch);
            continue;
        } else {
            key_of[good] = runs.add_built();
            inner_why[good] = why;
        }
        mb_sa[good] = mb_sa[i];
        mb[good++] = mb[i];
    }
    output_cache oc;
    dst_memo transit;
    c.t.spd_in->classify(std::span<const spd::flow_key>(keys.data(), runs.n), std::span(verdicts.data(), runs.n));
    for (std::size_t i = 0; i < good; ++i) {
        rte_mbuf* m = mb[i];
        const spd::verdict& vd = verdicts[key_of[i]];
        if (vd.act != spd::action::protect || vd.sa_handle != c.t.in_sas[mb_sa[i]].policy_tag) {
            drop_pkt(c, m, drop::inbound_policy_mismatch);
            continue;
        }
        c.w.stats.decapsulated.add();
        if (!inner_ok[i]) { drop_pkt(c, m, inner_why[i]); continue; }  // inner IPv6: not forwarded yet
        const ipv4_view* v = &inner[i];
        if (!transit.hit(v->dst)) {
            const bool special = maybe_special(c, v->dst);
            if (special && is_local(c, v->dst)) {
                if (v->proto == proto_icmp && !v->fragment && icmp_echo_to_reply(data_of(m), v->dst)) {
                    c.w.stats.icmp_echo_answered.add();
                    local_out(c, m, l);
                } else {
                    drop_pkt(c, m, drop::local_unhandled);
                }
                continue;
            }
            if (is_multicast_or_broadcast(v->dst) || (special && c.s.is_directed_broadcast(v->dst))) { drop_pkt(c, m, drop::multicast); continue; }
            transit.remember(v->dst);
        }
        if (v->ttl <= 1) { drop_pkt(c, m, drop::ttl_exceeded); continue; }
        forward_ttl(c, m, true);
        output_cached(c, m, v->dst, oc);
    }
    l.n_esp = 0;
}

// 1-5 for one RX burst of one port.
void process_burst(ctx& c, std::size_t port, rte_mbuf** pkts, std::uint16_t n) {
    burst_lists l;
    const auto& pr = c.s.ports[port];
    auto& ps = c.w.stats.ports[port];
    ps.rx_packets.add(n);
    const bool public_side = pr.role == port_role::public_side;
    const bool outbound = pr.role == port_role::private_side;
    const auto& cls = outbound ? *c.t.spd_out : *c.t.spd_in;
    key_runs runs(l.keys.data(), cls.uses_ports());
    dst_memo local, transit;
    std::uint64_t rx_bytes = 0;
    for (std::uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        rx_bytes += m->pkt_len;
        if (i + 1 < n) {
            // The next packet's first line, and the line before it, where an outbound ESP header
            // and the new Ethernet header will be written.
            rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
            rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], char*) - RTE_CACHE_LINE_SIZE);
        }
        if (m->nb_segs != 1) { drop_pkt(c, m, drop::multi_segment); continue; }
        auto frame = data_of(m);
        // The Ethernet header read in place (parse_eth's checks, without building a view).
        if (frame.size() < eth_hlen) { drop_pkt(c, m, drop::runt); continue; }
        const std::uint8_t* eth = frame.data();
        const bool l2_broadcast = std::memcmp(eth, mac_broadcast.data(), 6) == 0;
        if (!l2_broadcast && std::memcmp(eth, pr.hw.data(), 6) != 0) { drop_pkt(c, m, drop::not_for_us); continue; }
        const std::uint16_t ethertype = base::load_be16(eth + 12);
        if (ethertype == ethertype_arp) { handle_arp(c, port, m, frame.subspan(eth_hlen)); continue; }
        if (ethertype != ethertype_ipv4) { drop_pkt(c, m, drop::unsupported_ethertype); continue; }
        rte_pktmbuf_adj(m, eth_hlen);
        drop why;
        ipv4_view v;
        if (!parse_ipv4(data_of(m), v, why)) { drop_pkt(c, m, why); continue; }
        if (m->data_len > v.total_len) rte_pktmbuf_trim(m, std::uint16_t(m->data_len - v.total_len));
        if (!transit.hit(v.dst)) {
            bool special = false;
            if (local.hit(v.dst) || ((special = maybe_special(c, v.dst)) && is_local(c, v.dst))) {
                local.remember(v.dst);
                // ESP to us on the public side, the bulk of inbound traffic, straight to the decap
                // list with its SPI (what local_in would do for it).
                if (v.proto == proto_esp && public_side && !v.fragment && l.n_esp < l.esp_in.size()) {
                    l.add_esp(m, esp_spi(rte_pktmbuf_mtod(m, const std::uint8_t*), v));
                    continue;
                }
                mac from;
                std::memcpy(from.data(), eth + 6, 6);
                local_in(c, port, m, v, from, l);
                continue;
            }
            if (is_multicast_or_broadcast(v.dst) || (special && c.s.is_directed_broadcast(v.dst))) {
                drop_pkt(c, m, drop::multicast);
                continue;
            }
            transit.remember(v.dst);
        }
        if (l2_broadcast) { drop_pkt(c, m, drop::multicast); continue; }
        if (v.ttl <= 1) { drop_pkt(c, m, drop::ttl_exceeded); continue; }
        l.key_of[l.n_transit] = runs.add_v4(data_of(m), v);
        l.transit[l.n_transit++] = m;
    }
    ps.rx_bytes.add(rx_bytes);
    cls.classify(std::span<const spd::flow_key>(l.keys.data(), runs.n), std::span(l.verdicts.data(), runs.n));
    output_cache oc;
    for (std::size_t i = 0; i < l.n_transit; ++i) {
        rte_mbuf* m = l.transit[i];
        const auto& v = l.verdicts[l.key_of[i]];
        if (v.act == spd::action::bypass) {
            forward_bypass(c, m, oc);
            continue;
        }
        if (!outbound && v.act == spd::action::protect) { drop_pkt(c, m, drop::inbound_unprotected); continue; }
        protect_or_forward(c, m, v, l);
    }
    decap_stage(c, l);  // may add echo replies to the encap list
    encap_stage(c, l);
}

// Packets other workers handed to this one because it owns their SA.
std::uint32_t drain_handoff(ctx& c) {
    base::uninit_array<rte_mbuf*, burst_size> pkts;  // only [0, n) read
    auto n = rte_ring_dequeue_burst(c.w.handoff, reinterpret_cast<void**>(pkts.data()), burst_size, nullptr);
    if (n == 0) return 0;
    // Neighbour notes sent before these packets were handed over are visible now (the ring
    // dequeue acquires): learn them first, so no packet waits for an ARP another worker did.
    drain_notes(c);
    burst_lists l;
    for (unsigned i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        const auto tag = tag_of(c, m);
        if (tag.kind == handoff_kind::decap) {
            l.add_esp(m, 0);
        } else if (tag.generation == c.t.generation && tag.sa < c.t.out_sas.size()) {
            l.enc[l.n_enc] = m;
            l.enc_sa[l.n_enc++] = tag.sa;
        } else {
            // Classified under an older snapshot: its SA index means nothing now, decide again.
            spd::flow_key k;
            if (spd::extract_flow(data_of(m), k) != spd::extract_status::ok) {
                drop_pkt(c, m, drop::ipv4_malformed);
                continue;
            }
            auto v = c.t.spd_out->classify(k);
            if (v.act == spd::action::bypass) {
                output_cache oc;
                forward_bypass(c, m, oc);
                continue;
            }
            protect_or_forward(c, m, v, l);
        }
    }
    decap_stage(c, l);
    encap_stage(c, l);
    return n;
}

void drain_inject(ctx& c) {
    base::uninit_array<rte_mbuf*, burst_size> pkts;  // only [0, n) read
    unsigned n = rte_ring_dequeue_burst(c.s.inject, reinterpret_cast<void**>(pkts.data()), burst_size, nullptr);
    for (unsigned i = 0; i < n; ++i) {
        drop why;
        auto v = parse_ipv4(data_of(pkts[i]), why);
        if (!v) { drop_pkt(c, pkts[i], why); continue; }
        c.w.stats.injected.add();
        output(c, pkts[i], v->dst);
    }
}

void idle_sleep(std::uint32_t us) {
    timespec ts{0, long(us) * 1000};
    nanosleep(&ts, nullptr);
}

} // namespace

void run_worker(engine::state& s, worker& w) {
    auto& qs = s.tables_rcu->readers();
    qs.register_reader(w.id);
    qs.online(w.id);
    std::array<rte_mbuf*, burst_size> pkts{};
    const unsigned nworkers = unsigned(s.workers.size());
    while (!s.stopping.load(std::memory_order_relaxed)) {
        ctx c{s, w, *s.tables_rcu->get(), now_ms_coarse(), nworkers};
        std::uint32_t got = 0;
        if (w.notes) got += drain_notes(c);
        for (std::size_t p = 0; p < s.ports.size(); ++p) {
            if (w.id >= s.ports[p].rx_queues) continue;
            auto n = rte_eth_rx_burst(s.ports[p].id, std::uint16_t(w.id), pkts.data(), burst_size);
            if (n == 0) continue;
            got += n;
            process_burst(c, p, pkts.data(), n);
        }
        if (w.handoff) got += drain_handoff(c);
        if (w.id == 0 && !rte_ring_empty(s.inject)) {
            got += 1;
            drain_inject(c);
        }
        if (c.now - w.last_age_ms >= 100) {
            w.last_age_ms = c.now;
            w.neigh.age(
                c.now, [&](std::uint16_t port, ipv4 ip) { send_arp_request(c, port, ip); },
                [&](rte_mbuf* m) { drop_pkt(c, m, drop::neighbor_timeout); });
        }
        for (unsigned o = 0; o < nworkers; ++o) flush_handoff(c, o);
        for (std::size_t p = 0; p < s.ports.size(); ++p) flush_tx(c, p);
        if (w.id == 0) got += drain_tx_funnels(c);
        qs.quiescent(w.id);  // nothing from this round's snapshot is referenced any more
        if (got) {
            w.idle_rounds = 0;
            s.last_activity_ms.store(c.now, std::memory_order_relaxed);
            continue;
        }
        // 8. Adaptive polling: spin briefly, then sleep with a growing interval capped at
        // idle_sleep_us, offline for RCU so a publisher never waits on a sleeping worker.
        if (++w.idle_rounds < 64 || s.cfg.idle_sleep_us == 0) continue;
        std::uint32_t shift = std::min<std::uint32_t>(w.idle_rounds - 64, 16);
        qs.offline(w.id);
        idle_sleep(std::min<std::uint32_t>(s.cfg.idle_sleep_us, 1u << shift));
        qs.online(w.id);
    }
    qs.offline(w.id);
    qs.unregister_reader(w.id);
}

void drain_worker(engine::state& s, worker& w) {
    for (auto& b : w.to_worker) {
        for (std::uint16_t i = 0; i < b.n; ++i) rte_pktmbuf_free(b.pkts[i]);
        b.n = 0;
    }
    for (auto& b : w.tx) {
        for (std::uint16_t i = 0; i < b.n; ++i) rte_pktmbuf_free(b.pkts[i]);
        b.n = 0;
        b.bytes = 0;
    }
    w.neigh.drain([](rte_mbuf* m) { rte_pktmbuf_free(m); });
    (void)s;
}

} // namespace dataplane
