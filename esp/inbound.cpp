// Inbound ESP tunnel mode, in the order of RFC 4303 3.4 (and RFC 3948 for UDP encapsulation).
//
//  1. per packet: locate ESP in the outer IPv4/IPv6 [+UDP] packet (not_ip, not_esp, fragment,
//     runt), SPI match (no_sa), length and cipher-block alignment (runt, bad_length), hard
//     lifetime already reached (lifetime)
//  2. per packet: infer the full sequence number (ESN, RFC 4303 A2.2) and pre-check the replay
//     window (replay); sequence 0 is refused
//  3. one crypto call for the burst: HMAC verified in constant time before the plaintext is
//     used / GCM open (icv). ESN: seq_hi is authenticated in place of the received ICV, which is
//     saved first (RFC 4303 2.2.1, 3.4.4)
//  4. per packet, in order: window update (replay, e.g. a duplicate in the same burst), padding
//     1,2,3,... (pad), next header 4/41 matching the inner IP version (next_header), 59 (dummy,
//     RFC 4303 2.6), inner IP length (not_ip; TFC padding removed), ECN (RFC 6040 4.2: ecn)
//  5. the inner packet stays in place: data_off/data_len describe it; counters, lifetimes
#include "sa_internal.hpp"

#include <base/reader.hpp>

#include <algorithm>
#include <cstddef>
#include <type_traits>

namespace esp {

namespace {

// Fast path of locate_esp for the common shape: IPv4 without options, not a fragment, ESP or
// UDP-ESP. One length check covers every load; false sends the packet (and every error) to the
// reader path, which gives the same result for these packets too. Inline in decap's loop.
[[gnu::always_inline]] inline bool locate_esp_fast(const pkt& p, esp_location& info) {
    if (p.data_len < 36) return false;
    const std::uint8_t* d = p.data();
    const std::uint32_t total = base::load_be16(d + 2);
    const std::uint8_t proto = d[9];
    if (d[0] != 0x45 || total > p.data_len || total < 28 || (base::load_be16(d + 6) & 0x3fff) != 0) return false;
    std::uint32_t esp_off = 0, esp_end = 0;
    if (proto == 50) {
        esp_off = 20;
        esp_end = total;
    } else if (proto == 17) {
        const std::uint32_t ulen = base::load_be16(d + 24);
        // 8 bytes of ESP header at least and not the non-ESP marker (RFC 3948 2.2)
        if (ulen < 16 || 20 + ulen > total || base::load_be32(d + 28) == 0) return false;
        esp_off = 28;
        esp_end = 20 + ulen;
    } else {
        return false;
    }
    info.outer_tos = d[1];
    info.ip_version = 4;
    info.udp = proto == 17;
    info.spi = base::load_be32(d + esp_off);
    info.seq = base::load_be32(d + esp_off + 4);
    info.esp_offset = esp_off;
    info.esp_len = esp_end - esp_off;
    return true;
}

} // namespace

drop_reason locate_esp(const pkt& p, esp_location& info) {
    if (!p.valid()) return drop_reason::not_ip;
    if (locate_esp_fast(p, info)) return drop_reason::ok;
    base::reader r({p.data(), p.data_len});
    const std::uint8_t b0 = r.read_u8();
    if (!r.ok()) return drop_reason::not_ip;
    std::uint8_t proto = 0;
    std::size_t ip_end = 0;  // offset just past the IP packet (its own length field)
    if (b0 >> 4 == 4) {
        const std::uint32_t ihl = (b0 & 15u) * 4;
        info.outer_tos = r.read_u8();
        const std::uint16_t total = r.read_u16();
        r.skip(2);
        const std::uint16_t frag = r.read_u16();
        r.skip(1);
        proto = r.read_u8();
        if (!r.ok() || ihl < 20 || total < ihl || total > p.data_len) return drop_reason::not_ip;
        if ((frag & 0x3fff) != 0) return drop_reason::fragment;
        r.skip(ihl - 10);  // checksum, addresses, options
        ip_end = total;
        info.ip_version = 4;
    } else if (b0 >> 4 == 6) {
        const std::uint8_t b1 = r.read_u8();
        info.outer_tos = std::uint8_t((b0 & 15u) << 4 | b1 >> 4);
        r.skip(2);
        const std::uint16_t plen = r.read_u16();
        proto = r.read_u8();
        r.skip(1 + 32);
        if (!r.ok() || std::uint32_t(plen) + 40 > p.data_len) return drop_reason::not_ip;
        ip_end = std::size_t(plen) + 40;
        info.ip_version = 6;
        // Skip hop-by-hop, routing and destination options headers (RFC 8200 4.1).
        while (proto == 0 || proto == 43 || proto == 60) {
            proto = r.read_u8();
            const std::size_t ext = (std::size_t(r.read_u8()) + 1) * 8;
            r.skip(ext - 2);
            if (!r.ok() || r.position() > ip_end) return drop_reason::not_ip;
        }
        if (proto == 44) return drop_reason::fragment;
    } else {
        return drop_reason::not_ip;
    }
    if (!r.ok() || r.position() > ip_end) return drop_reason::not_ip;
    std::size_t esp_end = ip_end;
    info.udp = false;
    if (proto == 17) {
        r.skip(4);
        const std::uint16_t ulen = r.read_u16();
        r.skip(2);
        if (!r.ok() || ulen < 8 || r.position() - 8 + ulen > ip_end) return drop_reason::not_ip;
        esp_end = r.position() - 8 + ulen;
        const std::size_t avail = esp_end - r.position();
        base::reader peek(r.rest().first(avail));
        // RFC 3948 2.2/2.3: NAT-keepalive (one 0xFF byte) and IKE (non-ESP marker, SPI 0).
        if (avail == 1 && peek.read_u8() == 0xff) return drop_reason::not_esp;
        if (avail >= 4 && peek.read_u32() == 0) return drop_reason::not_esp;
        info.udp = true;
    } else if (proto != 50) {
        return drop_reason::not_esp;
    }
    const std::size_t esp_off = r.position();
    base::reader e(r.rest().first(esp_end - esp_off));
    info.spi = e.read_u32();
    info.seq = e.read_u32();
    if (!e.ok()) return drop_reason::runt;
    info.esp_offset = std::uint32_t(esp_off);
    info.esp_len = std::uint32_t(esp_end - esp_off);
    return drop_reason::ok;
}

struct decap_prep {  // no initialisers: written before read
    std::uint64_t seq;
    std::uint8_t* ct;
    std::uint32_t ct_len;
    std::uint8_t outer_ecn;
};

// Scratch of one decap pass over at most max_burst packets, of one SA (decap) or of several
// (decap_batch): per slot the packet, its result, its plan, its crypto op and the op's context,
// the saved ICV (ESN + CBC) and the AAD (ESN + GCM).
struct decap_scratch {
    detail::uninit_array<decap_prep, max_burst> pr;
    detail::uninit_array<crypto_op, max_burst> ops;
    detail::uninit_array<crypto_ctx*, max_burst> ctx;
    detail::uninit_array<pkt*, max_burst> pkt_of;
    detail::uninit_array<drop_reason*, max_burst> result_of;
    alignas(16) detail::uninit_array<std::array<std::uint8_t, 64>, max_burst> tags;
    alignas(16) detail::uninit_array<std::array<std::uint8_t, 16>, max_burst> aad;
    std::size_t used = 0;
};

namespace {

// Expected padding bytes (RFC 4303 2.4: 1, 2, 3, ...) and which bytes to compare, for the 16
// bytes that end at the pad length field: row pad_len starts at index pad_len (pad_len <= 16).
constexpr std::array<std::uint8_t, 32> pad_expect{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
constexpr std::array<std::uint8_t, 32> pad_mask{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// Padding check over [end - pad_len, end) (end = the pad length byte, pad_len <= avail).
bool padding_ok(const std::uint8_t* end, std::uint32_t pad_len, std::uint32_t avail) {
    if (pad_len <= 16 && avail >= 16) {
        // Each 8-byte word loaded into a register of its own (memcpy into arrays went through
        // the stack).
        std::uint64_t w0, w1, e0, e1, m0, m1;
        std::memcpy(&w0, end - 16, 8);
        std::memcpy(&w1, end - 8, 8);
        std::memcpy(&e0, pad_expect.data() + pad_len, 8);
        std::memcpy(&e1, pad_expect.data() + pad_len + 8, 8);
        std::memcpy(&m0, pad_mask.data() + pad_len, 8);
        std::memcpy(&m1, pad_mask.data() + pad_len + 8, 8);
        return (((w0 ^ e0) & m0) | ((w1 ^ e1) & m1)) == 0;
    }
    bool ok = true;
    const std::uint8_t* pad = end - pad_len;
    for (std::uint32_t b = 0; b < pad_len; ++b) ok &= pad[b] == std::uint8_t(b + 1);
    return ok;
}

// RFC 6040 4.2 (normal mode, Figure 4): outer CE marks an ECN-capable inner packet CE, outer
// ECT(1) turns inner ECT(0) into ECT(1), and outer CE over a Not-ECT inner packet MUST be
// dropped (the inner transport would not understand the mark). Returns false for that drop.
bool decap_ecn(std::uint8_t* inner, std::uint8_t outer_ecn) {
    const bool v4 = inner[0] >> 4 == 4;
    const std::uint8_t in = v4 ? (inner[1] & 3) : ((inner[1] >> 4) & 3);
    std::uint8_t out = in;
    if (in == 0) return outer_ecn != 3;
    if (outer_ecn == 3) out = 3;
    else if (outer_ecn == 1 && in == 2) out = 1;
    if (out == in) return true;
    if (v4) {
        inner[1] = std::uint8_t((inner[1] & ~3u) | out);
        const std::uint32_t ihl = (inner[0] & 15u) * 4;
        base::store_be16(inner + 10, 0);
        base::store_be16(inner + 10, detail::csum_fold(detail::csum_add(0, inner, ihl)));
    } else {
        inner[1] = std::uint8_t((inner[1] & ~0x30u) | (out << 4));
    }
    return true;
}

} // namespace

void inbound_sa::impl::fire_lifetime() { detail::fire(cold.on_lifetime, life, spi, sa_direction::inbound, counters); }

std::size_t inbound_sa::impl::decap_chunk(std::span<pkt> pkts, std::span<drop_reason> results, std::size_t& consumed) {
    decap_scratch s;
    const std::size_t k = decap_begin(pkts, results, s, consumed);
    if (k == 0) return 0;
    // 3: ICV / AEAD for the burst.
    crypto->decrypt({s.ops.data(), k});
    return decap_finish(s, 0, k);
}

// Steps 1 + 2 for a prefix of pkts (consumed says how long) into scratch slots [s.used,
// s.used + k); returns k (the packets whose crypto ops are ready); the others have their result
// set already. Nothing in the SA changes here but drop counters. One instance per framing (AEAD
// or not, ESN): the per-packet code has no branch on them.
template <bool is_aead, bool is_esn>
std::size_t inbound_sa::impl::decap_begin_t(std::span<pkt> pkts, std::span<drop_reason> results, decap_scratch& s,
                                            std::size_t& consumed) {
    const std::uint32_t min_ct = is_aead ? 4 : block;  // at least pad length + next header, aligned
    const std::uint32_t block_mask = std::uint32_t(block) - 1;  // block sizes are powers of two
    const std::uint32_t overhead = 8u + iv_len + icv;
    const std::size_t first = s.used;
    std::size_t k = 0;

    auto drop = [&](std::size_t i, drop_reason r) {
        results[i] = r;
        ++counters.drops[index(r)];
    };

    // ESN: the high bits are inferred from the window as it was before this sub-burst. When a
    // packet would infer differently had the earlier packets of the burst already been accepted
    // (the burst crosses a 2^32 boundary), the sub-burst ends before it and the rest is processed
    // after the window has advanced on authenticated packets only.
    std::uint64_t provisional_top = window.top();
    std::size_t i = 0;
    for (; i < pkts.size(); ++i) {
        if (i + 1 < pkts.size()) __builtin_prefetch(pkts[i + 1].data());  // next header (a prefetch never faults)
        pkt& p = pkts[i];
        esp_location loc;
        if (!p.valid() || !locate_esp_fast(p, loc)) {
            const drop_reason r = locate_esp(p, loc);
            if (r != drop_reason::ok) { drop(i, r); continue; }
        }
        if (loc.spi != spi) { drop(i, drop_reason::no_sa); continue; }
        if (loc.esp_len < overhead + min_ct) { drop(i, drop_reason::runt); continue; }
        const std::uint32_t ct_len = loc.esp_len - overhead;
        if ((ct_len & block_mask) != 0) { drop(i, drop_reason::bad_length); continue; }
        if (life.hard_fired) { drop(i, drop_reason::lifetime); continue; }
        const std::uint64_t seq = window.infer(loc.seq);
        if constexpr (is_esn) {
            const std::uint64_t alt = window.infer(loc.seq, provisional_top);
            if (alt != seq && k > 0) break;
        }
        if (!window.check(seq)) { drop(i, drop_reason::replay); continue; }
        provisional_top = std::max(provisional_top, seq);

        const std::size_t slot = first + k++;
        std::uint8_t* esp = p.data() + loc.esp_offset;
        std::uint8_t* iv = esp + 8;
        std::uint8_t* ct = iv + iv_len;
        std::uint8_t* icvp = ct + ct_len;
        s.pr[slot] = decap_prep{seq, ct, ct_len, std::uint8_t(loc.outer_tos & 3)};
        s.pkt_of[slot] = &p;
        s.result_of[slot] = &results[i];
        s.ctx[slot] = crypto;
        crypto_op& op = s.ops[slot];
        op.data = ct;
        op.len = ct_len;
        op.ok = false;
        if constexpr (is_aead) {
            // RFC 4106 5: AAD = SPI || [seq_hi ||] seq_lo: without ESN the received ESP header
            // as it is (its SPI matched ours); with ESN built in scratch with the inferred seq_hi.
            if constexpr (is_esn) {
                std::uint8_t* a = s.aad[slot].data();
                std::memcpy(a, esp, 4);
                base::store_be32(a + 4, std::uint32_t(seq >> 32));
                base::store_be32(a + 8, std::uint32_t(seq));
                op.auth = a;
                op.auth_len = 12;
            } else {
                op.auth = esp;
                op.auth_len = 8;
            }
            op.iv = iv;
            op.tag = icvp;
        } else {
            op.auth = esp;
            op.auth_len = 8 + iv_len + ct_len;
            if constexpr (is_esn) {
                // seq_hi is authenticated where the ICV is: save the received ICV first.
                detail::copy_icv(s.tags[slot].data(), icvp, icv);
                op.tag = s.tags[slot].data();
                base::store_be32(icvp, std::uint32_t(seq >> 32));
                op.auth_len += 4;
            } else {
                op.tag = icvp;
            }
            op.iv = iv;
        }
    }
    consumed = i;
    s.used += k;
    return k;
}

std::size_t inbound_sa::impl::decap_begin(std::span<pkt> pkts, std::span<drop_reason> results, decap_scratch& s,
                                          std::size_t& consumed) {
    if (aead) return esn ? decap_begin_t<true, true>(pkts, results, s, consumed)
                         : decap_begin_t<true, false>(pkts, results, s, consumed);
    return esn ? decap_begin_t<false, true>(pkts, results, s, consumed)
               : decap_begin_t<false, false>(pkts, results, s, consumed);
}

// Steps 4 + 5 for slots [first, first + k) once their crypto ran: window update only for
// authenticated packets, then the decrypted trailer. Returns the ok count.
std::size_t inbound_sa::impl::decap_finish(decap_scratch& s, std::size_t first, std::size_t k) {
    std::size_t good = 0;
    std::uint64_t pend_packets = 0, pend_bytes = 0;
    const bool hard_limited = life.hard.bytes != 0 || life.hard.packets != 0;
    for (std::size_t slot = first; slot < first + k; ++slot) {
        pkt& p = *s.pkt_of[slot];
        const decap_prep& q = s.pr[slot];
        drop_reason& result = *s.result_of[slot];
        auto drop = [&](drop_reason r) {
            result = r;
            ++counters.drops[index(r)];
        };
        if (!s.ops[slot].ok) { drop(drop_reason::icv); continue; }
        if (!window.update(q.seq)) { drop(drop_reason::replay); continue; }
        if (life.hard_fired) { drop(drop_reason::lifetime); continue; }

        // ct_len >= min_ct >= 4 (checked above): the trailer's two bytes are there.
        const std::uint8_t* end = q.ct + q.ct_len - 2;  // pad length byte
        const std::uint32_t pad_len = end[0];
        const std::uint8_t nh = end[1];
        const std::uint32_t avail = q.ct_len - 2;
        if (pad_len > avail || !padding_ok(end, pad_len, avail)) { drop(drop_reason::pad); continue; }
        if (nh == 59) { drop(drop_reason::dummy); continue; }
        if (nh != 4 && nh != 41) { drop(drop_reason::next_header); continue; }

        // The inner IP header must agree with next header; its own length bounds the packet.
        const std::uint32_t body = avail - pad_len;
        const std::uint8_t* in = q.ct;
        std::uint32_t ip_len = 0;
        if (body < 1 || (in[0] >> 4) != (nh == 4 ? 4 : 6)) { drop(drop_reason::next_header); continue; }
        if (nh == 4) {
            const std::uint32_t ihl = in[0] & 15u;
            ip_len = body >= 4 ? base::load_be16(in + 2) : 0;
            if (body < 4 || ip_len < 20 || ip_len < ihl * 4 || ihl < 5 || ip_len > body) {
                drop(drop_reason::not_ip);
                continue;
            }
        } else {
            ip_len = body >= 6 ? std::uint32_t(base::load_be16(in + 4)) + 40 : 0;
            if (body < 6 || ip_len > body) { drop(drop_reason::not_ip); continue; }
        }
        if (!decap_ecn(q.ct, q.outer_ecn)) { drop(drop_reason::ecn); continue; }
        p.data_off = std::uint32_t(q.ct - p.buf);
        p.data_len = ip_len;
        result = drop_reason::ok;
        ++good;
        ++pend_packets;
        pend_bytes += ip_len;
        if (hard_limited) {
            // Counters per packet so that the hard limit stops the rest of this burst.
            counters.packets += pend_packets;
            counters.bytes += pend_bytes;
            pend_packets = pend_bytes = 0;
            if (lifetime_state::reached(life.hard, counters.bytes, counters.packets)) fire_lifetime();
        }
    }
    counters.packets += pend_packets;
    counters.bytes += pend_bytes;
    if ((life.soft.bytes | life.soft.packets | life.hard.bytes | life.hard.packets) != 0) fire_lifetime();
    return good;
}

sa_result<inbound_sa> inbound_sa::create(const sa_config& cfg) {
    sa_result<inbound_sa> res;
    if (auto e = validate(cfg); !e.empty()) {
        res.error = e;
        return res;
    }
    auto im = std::make_unique<impl>();
    std::string err;
    im->cold.crypto_owner = crypto_ctx::create(cfg.backend, cfg.enc, cfg.enc_key.view(), cfg.integ,
                                               cfg.integ_key.view(), &err);
    if (!im->cold.crypto_owner) {
        res.error = err.empty() ? "crypto setup failed" : err;
        return res;
    }
    const auto ep = params(cfg.enc);
    im->crypto = im->cold.crypto_owner.get();
    im->spi = cfg.spi;
    im->iv_len = ep.iv_len;
    im->block = ep.block_size;
    im->icv = icv_len(cfg.enc, cfg.integ);
    im->aead = ep.aead;
    im->esn = cfg.esn;
    // ESN: the receive window starts at the configured first sequence number (both ends of an
    // SA share the config), so an SA that starts near or past 2^32 infers seq_hi correctly.
    im->window = replay_window(cfg.replay_window, cfg.esn, cfg.esn ? cfg.initial_seq : 1);
    im->life.soft = cfg.soft;
    im->life.hard = cfg.hard;
    im->cold.on_lifetime = cfg.on_lifetime;
    im->cold.enc = cfg.enc;
    im->cold.integ = cfg.integ;
    im->cold.backend = cfg.backend;
    res.sa.reset(new inbound_sa());
    res.sa->_impl = std::move(im);
    return res;
}

// Per-packet fields and counters in the first lines, then the 1 KiB replay ring.
static_assert(std::is_standard_layout_v<inbound_hot>);
static_assert(offsetof(inbound_hot, window) <= 256, "inbound hot fields grew beyond four cache lines");
static_assert(sizeof(inbound_hot) <= 256 + sizeof(replay_window) + 64, "inbound hot SA grew unexpectedly");

inbound_sa::~inbound_sa() = default;

std::size_t inbound_sa::decap(std::span<pkt> pkts, std::span<drop_reason> results) {
    const std::size_t n = std::min(pkts.size(), results.size());
    std::size_t good = 0;
    for (std::size_t b = 0; b < n;) {
        const std::size_t c = std::min(max_burst, n - b);
        std::size_t consumed = c;
        good += _impl->decap_chunk(pkts.subspan(b, c), results.subspan(b, c), consumed);
        b += consumed;
    }
    return good;
}

struct decap_batch::state {
    struct group {
        inbound_sa::impl* sa;
        std::size_t first, k;
    };
    decap_scratch scratch;
    std::array<group, max_burst> groups;
    std::size_t n_groups = 0;
};

decap_batch::decap_batch() : _s(std::make_unique<state>()) {}
decap_batch::~decap_batch() = default;

std::size_t decap_batch::pending() const { return _s->scratch.used; }

void decap_batch::add(inbound_sa& sa, std::span<pkt> pkts, std::span<drop_reason> results) {
    auto& s = *_s;
    const std::size_t n = std::min(pkts.size(), results.size());
    for (std::size_t b = 0; b < n;) {
        // An SA already waiting in the batch runs first: its replay pre-check and ESN inference
        // must see the window after the packets queued before.
        bool waiting = false;
        for (std::size_t g = 0; g < s.n_groups; ++g) waiting |= s.groups[g].sa == sa._impl.get();
        if (waiting || s.scratch.used == max_burst || s.n_groups == s.groups.size()) run();
        const std::size_t c = std::min(max_burst - s.scratch.used, n - b);
        const std::size_t first = s.scratch.used;
        std::size_t consumed = c;
        const std::size_t k = sa._impl->decap_begin(pkts.subspan(b, c), results.subspan(b, c), s.scratch, consumed);
        if (k) s.groups[s.n_groups++] = {sa._impl.get(), first, k};
        b += consumed;
    }
}

void decap_batch::run() {
    auto& s = *_s;
    if (s.scratch.used) crypto_ctx::decrypt_many({s.scratch.ops.data(), s.scratch.used}, {s.scratch.ctx.data(), s.scratch.used});
    for (std::size_t g = 0; g < s.n_groups; ++g) {
        const auto& gr = s.groups[g];
        gr.sa->decap_finish(s.scratch, gr.first, gr.k);
    }
    s.n_groups = 0;
    s.scratch.used = 0;
}

std::uint32_t inbound_sa::spi() const { return _impl->spi; }
const sa_counters& inbound_sa::counters() const { return _impl->counters; }
const replay_window& inbound_sa::window() const { return _impl->window; }
bool inbound_sa::hard_expired() const { return _impl->life.hard_fired; }
enc_alg inbound_sa::enc() const { return _impl->cold.enc; }
integ_alg inbound_sa::integ() const { return _impl->cold.integ; }
backend_kind inbound_sa::backend() const { return _impl->cold.backend; }

} // namespace esp
