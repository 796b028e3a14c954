// Inbound ESP tunnel mode, in the order of RFC 4303 3.4 (and RFC 3948 for UDP encapsulation).
//
//  1. per packet: locate ESP in the outer IPv4/IPv6 [+UDP] packet (not_ip, not_esp, fragment,
//     runt), SPI match (no_sa), length and cipher-block alignment (runt, bad_length), hard
//     lifetime already reached (lifetime)
//  2. per packet: infer the full sequence number (ESN, RFC 4303 A2.2) and pre-check the replay
//     window (replay); sequence 0 is refused
//  3. one crypto call for the burst: HMAC verified with CRYPTO_memcmp before the plaintext is
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

drop_reason locate_esp(const pkt& p, esp_location& info) {
    if (!p.valid()) return drop_reason::not_ip;
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

namespace {

struct decap_prep {
    std::uint64_t seq = 0;
    std::uint8_t* ct = nullptr;
    std::uint32_t ct_len = 0;
    std::uint8_t outer_ecn = 0;
};

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
    std::array<decap_prep, max_burst> pr;
    std::array<crypto_op, max_burst> ops;
    std::array<std::uint8_t, max_burst> which;
    alignas(16) std::array<std::array<std::uint8_t, 64>, max_burst> tags;
    alignas(16) std::array<std::array<std::uint8_t, 16>, max_burst> aad;
    const std::uint32_t min_ct = aead ? 4 : block;  // at least pad length + next header, aligned
    std::size_t k = 0;

    auto drop = [&](std::size_t i, drop_reason r) {
        results[i] = r;
        ++counters.drops[index(r)];
    };

    // 1 + 2: framing checks and replay pre-check; nothing in the SA changes here.
    // ESN: the high bits are inferred from the window as it was before this sub-burst. When a
    // packet would infer differently had the earlier packets of the burst already been accepted
    // (the burst crosses a 2^32 boundary), the sub-burst ends before it and the rest is processed
    // after the window has advanced on authenticated packets only.
    std::uint64_t provisional_top = window.top();
    std::size_t i = 0;
    for (; i < pkts.size(); ++i) {
        if (i + 1 < pkts.size() && pkts[i + 1].valid()) __builtin_prefetch(pkts[i + 1].data());  // next header
        pkt& p = pkts[i];
        esp_location loc;
        drop_reason r = locate_esp(p, loc);
        if (r != drop_reason::ok) { drop(i, r); continue; }
        if (loc.spi != spi) { drop(i, drop_reason::no_sa); continue; }
        if (loc.esp_len < 8u + iv_len + min_ct + icv) { drop(i, drop_reason::runt); continue; }
        const std::uint32_t ct_len = loc.esp_len - 8 - iv_len - icv;
        if (ct_len % block != 0) { drop(i, drop_reason::bad_length); continue; }
        if (life.hard_fired) { drop(i, drop_reason::lifetime); continue; }
        const std::uint64_t seq = window.infer(loc.seq);
        if (esn) {
            const std::uint64_t alt = window.infer(loc.seq, provisional_top);
            if (alt != seq && k > 0) break;
        }
        if (!window.check(seq)) { drop(i, drop_reason::replay); continue; }
        provisional_top = std::max(provisional_top, seq);

        std::uint8_t* esp = p.data() + loc.esp_offset;
        std::uint8_t* iv = esp + 8;
        std::uint8_t* ct = iv + iv_len;
        std::uint8_t* icvp = ct + ct_len;
        pr[i] = decap_prep{seq, ct, ct_len, std::uint8_t(loc.outer_tos & 3)};
        crypto_op& op = ops[k];
        op.data = ct;
        op.len = ct_len;
        op.ok = false;
        if (aead) {
            std::uint8_t* a = aad[k].data();
            base::store_be32(a, spi);
            if (esn) {
                base::store_be32(a + 4, std::uint32_t(seq >> 32));
                base::store_be32(a + 8, std::uint32_t(seq));
            } else {
                base::store_be32(a + 4, std::uint32_t(seq));
            }
            op.auth = a;
            op.auth_len = esn ? 12 : 8;
            std::memcpy(op.iv.data(), iv, 8);
            op.tag = icvp;
        } else {
            std::memcpy(tags[k].data(), icvp, icv);
            op.tag = tags[k].data();
            op.auth = esp;
            op.auth_len = 8 + iv_len + ct_len;
            if (esn) {
                base::store_be32(icvp, std::uint32_t(seq >> 32));
                op.auth_len += 4;
            }
            std::memcpy(op.iv.data(), iv, iv_len);
        }
        which[k++] = std::uint8_t(i);
    }
    consumed = i;
    if (k == 0) return 0;

    // 3: ICV / AEAD for the burst.
    crypto->decrypt({ops.data(), k});

    // 4 + 5: window update only for authenticated packets, then the decrypted trailer.
    std::size_t good = 0;
    for (std::size_t j = 0; j < k; ++j) {
        const std::size_t i = which[j];
        pkt& p = pkts[i];
        const decap_prep& q = pr[i];
        if (!ops[j].ok) { drop(i, drop_reason::icv); continue; }
        if (!window.update(q.seq)) { drop(i, drop_reason::replay); continue; }
        if (life.hard_fired) { drop(i, drop_reason::lifetime); continue; }

        base::reader t({q.ct, q.ct_len});
        const std::span<const std::uint8_t> trailer = t.bytes_from_end(2);
        const std::uint8_t pad_len = trailer[0];
        const std::uint8_t nh = trailer[1];
        const std::span<const std::uint8_t> pad = t.bytes_from_end(pad_len);
        if (!t.ok()) { drop(i, drop_reason::pad); continue; }
        bool pad_ok = true;
        for (std::size_t b = 0; b < pad.size(); ++b) pad_ok &= pad[b] == std::uint8_t(b + 1);
        if (!pad_ok) { drop(i, drop_reason::pad); continue; }
        if (nh == 59) { drop(i, drop_reason::dummy); continue; }
        if (nh != 4 && nh != 41) { drop(i, drop_reason::next_header); continue; }

        // The inner IP header must agree with next header; its own length bounds the packet.
        const std::span<const std::uint8_t> body = t.rest();
        base::reader in(body);
        const std::uint8_t v0 = in.read_u8();
        if (!in.ok() || (v0 >> 4) != (nh == 4 ? 4 : 6)) { drop(i, drop_reason::next_header); continue; }
        std::uint32_t ip_len = 0;
        if (nh == 4) {
            in.skip(1);
            ip_len = in.read_u16();
            if (!in.ok() || ip_len < 20 || ip_len < (v0 & 15u) * 4 || (v0 & 15u) < 5 || ip_len > body.size()) {
                drop(i, drop_reason::not_ip);
                continue;
            }
        } else {
            in.skip(3);
            ip_len = std::uint32_t(in.read_u16()) + 40;
            if (!in.ok() || ip_len > body.size()) { drop(i, drop_reason::not_ip); continue; }
        }
        if (!decap_ecn(q.ct, q.outer_ecn)) { drop(i, drop_reason::ecn); continue; }
        p.data_off = std::uint32_t(q.ct - p.buf);
        p.data_len = ip_len;
        results[i] = drop_reason::ok;
        ++counters.packets;
        counters.bytes += ip_len;
        ++good;
        if (lifetime_state::reached(life.hard, counters.bytes, counters.packets)) fire_lifetime();
    }
    fire_lifetime();
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

std::uint32_t inbound_sa::spi() const { return _impl->spi; }
const sa_counters& inbound_sa::counters() const { return _impl->counters; }
const replay_window& inbound_sa::window() const { return _impl->window; }
bool inbound_sa::hard_expired() const { return _impl->life.hard_fired; }
enc_alg inbound_sa::enc() const { return _impl->cold.enc; }
integ_alg inbound_sa::integ() const { return _impl->cold.integ; }
backend_kind inbound_sa::backend() const { return _impl->cold.backend; }

} // namespace esp
