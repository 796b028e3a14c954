// Outbound ESP tunnel mode (RFC 4303 3.1.2, 3.3; RFC 3948 2.1 for UDP encapsulation).
//
//  1. per packet: validate the view and the inner IPv4/IPv6 header (not_ip), trim to the IP
//     length, compute padding, check head/tailroom (no_room) and the outer length (too_big)
//  2. per packet: hard lifetime (lifetime), then reserve the next sequence number (seq_cycled):
//     all survivors of the burst get consecutive numbers before any crypto runs
//  3. (before 1) one iv_source call for a CBC IV per packet of the burst (a dropped packet's is
//     never used)
//  4. (in the same pass as 1 + 2) per packet: write trailer (padding 1,2,3,..., pad length, next
//     header 4/41), outer IP [+UDP] + SPI from the SA's template, sequence number, IV (CBC: the
//     packet's from step 3; GCM: the 64-bit sequence number, RFC 4106 3.1), crypto op (its iv
//     points at the packet's); ESN: seq_hi placed where the ICV goes so it is authenticated but
//     not sent (RFC 4303 2.2.1)
//  5. one crypto call for the burst (encrypt, then ICV over ESP header .. ciphertext [|| seq_hi]);
//     the tag is written in place (ESN+CBC: into scratch, copied over seq_hi afterwards)
//  6. per packet: ESN+CBC ICV copy, IPv6 UDP checksum, counters; lifetime callbacks
#include "sa_internal.hpp"

#include <base/reader.hpp>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <type_traits>

namespace esp {

namespace detail {
void fire(const lifetime_callback& cb, lifetime_state& life, std::uint32_t spi, sa_direction dir,
          const sa_counters& c) {
    for (auto kind : {lifetime_kind::soft, lifetime_kind::hard}) {
        auto& limits = kind == lifetime_kind::soft ? life.soft : life.hard;
        bool& fired = kind == lifetime_kind::soft ? life.soft_fired : life.hard_fired;
        if (fired || !lifetime_state::reached(limits, c.bytes, c.packets)) continue;
        fired = true;
        if (cb) cb(lifetime_event{spi, dir, kind, limits.bytes != 0 && c.bytes >= limits.bytes, c.bytes, c.packets});
    }
}
} // namespace detail

static_assert(std::endian::native == std::endian::little, "encap_begin_t builds IPv4 header words little-endian");

struct inner_info {
    std::uint32_t len = 0;  // IP length (data_len trimmed to it)
    std::uint8_t tos = 0;   // IPv4 TOS / IPv6 traffic class
    std::uint8_t next_header = 0;  // 4 or 41
    bool df = false;
};

namespace {

// The inner header fields encap needs, loaded directly after one length check per version.
[[gnu::always_inline]] inline drop_reason parse_inner(const pkt& p, inner_info& info) {
    const std::uint8_t* d = p.data();
    const std::uint32_t n = p.data_len;
    if (n >= 8 && d[0] >> 4 == 4) {  // version/IHL, TOS, total length, ID, flags/fragment offset
        const std::uint32_t ihl = (d[0] & 15u) * 4;
        const std::uint32_t total = base::load_be16(d + 2);
        if (ihl < 20 || total < ihl || total > n) return drop_reason::not_ip;
        info.len = total;
        info.tos = d[1];
        info.df = (d[6] & 0x40) != 0;
        info.next_header = 4;
        return drop_reason::ok;
    }
    if (n >= 6 && d[0] >> 4 == 6) {  // version/traffic class/flow label, payload length
        const std::uint32_t len = std::uint32_t(base::load_be16(d + 4)) + 40;
        if (len > n) return drop_reason::not_ip;
        info.len = len;
        info.tos = std::uint8_t((d[0] & 15u) << 4 | d[1] >> 4);
        info.df = true;  // IPv6 is never fragmented in transit: keep PMTU semantics (RFC 4301 8.1)
        info.next_header = 41;
        return drop_reason::ok;
    }
    return drop_reason::not_ip;
}

} // namespace

struct encap_prep {  // one packet's framing plan
    std::uint64_t seq;
    std::uint32_t len;  // inner IP length
    std::uint8_t pad;
    std::uint8_t next_header;  // 4 or 41
    std::uint8_t tos;          // inner IPv4 TOS / IPv6 traffic class
    bool df;                   // inner DF (always for IPv6)
};

// Scratch of one encap pass over at most max_burst packets, of one SA (encap) or of several
// (encap_batch): per slot the packet's inner length, its crypto op, tag and AAD.
struct encap_scratch {
    detail::uninit_array<std::uint32_t, max_burst> inner_len;
    detail::uninit_array<crypto_op, max_burst> ops;
    detail::uninit_array<pkt*, max_burst> pkt_of;
    detail::uninit_array<drop_reason*, max_burst> result_of;
    alignas(16) detail::uninit_array<std::array<std::uint8_t, 64>, max_burst> tags;
    alignas(16) detail::uninit_array<std::array<std::uint8_t, 16>, max_burst> aad;
    alignas(16) detail::uninit_array<std::uint8_t, max_burst * 16> ivs_buf;
    std::size_t used = 0;
};

namespace {

// RFC 4303 2.4 default padding 1, 2, 3, ...: written 16 bytes at once when the buffer has room.
constexpr std::array<std::uint8_t, 16> pad_pattern{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

} // namespace

void outbound_sa::impl::fire_lifetime() { detail::fire(cold.on_lifetime, life, spi, sa_direction::outbound, counters); }

// Steps 1-4 for pkts into scratch slots [s.used, s.used + k); returns k (ok packets, whose
// crypto ops are ready); the others have their result set already. One instance per framing
// (AEAD or not, ESN, IPv6 outer, UDP encapsulation): the per-packet code has no branch on them.
template <bool is_aead, bool is_esn, bool is_v6, bool has_udp>
std::size_t outbound_sa::impl::encap_begin_t(std::span<pkt> pkts, std::span<drop_reason> results, encap_scratch& s) {
    // SA fields as locals: the byte stores into packets may alias *this, so members read in the
    // loop would be reloaded after every one of them.
    const std::uint32_t hdr_len = hdr;
    constexpr std::uint32_t ip_h = is_v6 ? 40 : 20, udp_h = has_udp ? 8 : 0;
    const std::uint32_t ivl = iv_len, icv_n = icv;
    const std::uint32_t df_always = df == df_policy::set ? 0x4000u : 0u;
    const std::uint32_t df_copied = df == df_policy::copy ? 0x4000u : 0u;
    const std::uint32_t spi_v = spi, base_sum = tmpl_sum;
    const std::uint8_t* const t = tmpl.data();
    // IPv4: the template's first 16 bytes as two words, into which the per-packet fields go.
    std::uint64_t t0 = 0, t1 = 0;
    if constexpr (!is_v6) {
        std::memcpy(&t0, t, 8);
        std::memcpy(&t1, t + 8, 8);
    }
    std::uint16_t id_next = ip_id;
    const std::uint32_t tail_fixed = 2u + icv_n;
    const std::uint32_t block_mask = std::uint32_t(block) - 1;  // block sizes are powers of two
    const std::size_t first = s.used;
    // The hard lifetime and the sequence space as budgets of this call (fewer values live in the
    // loop): a packet goes while the SA's bytes before it are under the byte limit and fewer than
    // `budget` packets went before it in this call; which limit stopped it is sorted out only then.
    const std::uint64_t seq0 = next_seq, limit = seq_limit;
    const std::uint64_t seq_budget = exhausted || seq0 > limit ? 0
                                     : limit - seq0 == ~std::uint64_t(0) ? limit - seq0 : limit - seq0 + 1;
    const lifetime_limits hard = life.hard;
    const std::uint64_t life_budget = life.hard_fired ? 0
                                      : hard.packets == 0 ? ~std::uint64_t(0)
                                      : counters.packets >= hard.packets ? 0 : hard.packets - counters.packets;
    const std::uint64_t budget = std::min(seq_budget, life_budget);
    const std::uint64_t byte_limit = hard.bytes == 0 ? ~std::uint64_t(0) : hard.bytes;
    std::uint64_t bytes = counters.bytes;
    std::size_t k = 0;

    // 3 for CBC: an IV for each packet, ivs_buf[ivl * i ..] for pkts[i], copied into it by frame()
    // while its header line is at hand (the crypto reads it there: no second copy in the op).
    const std::uint8_t* const ivs_buf = s.ivs_buf.data();
    if constexpr (!is_aead) ivs->fill({s.ivs_buf.data(), pkts.size() * ivl});

    // 4: framing of pkts[i] into slot with its plan q.
    auto frame = [&](pkt& p, const encap_prep& q, std::size_t slot, std::size_t i) __attribute__((always_inline)) {
        std::uint8_t* inner = p.data();
        std::uint8_t* out = inner - hdr_len;
        std::uint8_t* esp = out + ip_h + udp_h;
        std::uint8_t* iv = esp + 8;
        const std::uint8_t tos = q.tos;
        std::uint8_t* trailer = inner + q.len;
        if (p.buf_len - p.data_off - q.len >= pad_pattern.size()) {
            std::memcpy(trailer, pad_pattern.data(), pad_pattern.size());  // RFC 4303 2.4; excess lands in the ICV
        } else {
            for (std::uint8_t b = 0; b < q.pad; ++b) trailer[b] = std::uint8_t(b + 1);
        }
        trailer[q.pad] = q.pad;
        trailer[q.pad + 1] = q.next_header;
        const std::uint32_t ct_len = q.len + q.pad + 2;
        std::uint8_t* icvp = inner + ct_len;
        const std::uint32_t esp_len = 8 + ivl + ct_len + icv_n;
        const std::uint32_t total = std::uint32_t(ip_h) + udp_h + esp_len;

        // Outer IP [+UDP] + SPI from the template (IPv4: its first 16 bytes come below, with the
        // per-packet fields); seq and IV overwrite what it copied beyond.
        if constexpr (!is_v6) std::memcpy(out + 16, t + 16, 16);
        else std::memcpy(out, t, 56);
        base::store_be32(esp + 4, std::uint32_t(q.seq));
        if constexpr (!is_aead) {
            if (ivl == 16) [[likely]] std::memcpy(iv, ivs_buf + 16 * i, 16);
            else std::memcpy(iv, ivs_buf + ivl * i, 8);
        }
        crypto_op& op = s.ops[slot];
        op.data = inner;
        op.len = ct_len;
        op.iv = iv;
        op.ok = false;
        if constexpr (is_aead) {
            base::store_be64(iv, q.seq);
            // RFC 4106 5: AAD = SPI || [seq_hi ||] seq_lo. Without ESN that is the ESP header
            // itself, already in place; with ESN it is built in scratch.
            if constexpr (is_esn) {
                std::uint8_t* a = s.aad[slot].data();
                base::store_be32(a, spi_v);
                base::store_be32(a + 4, std::uint32_t(q.seq >> 32));
                base::store_be32(a + 8, std::uint32_t(q.seq));
                op.auth = a;
                op.auth_len = 12;
            } else {
                op.auth = esp;
                op.auth_len = 8;
            }
            op.tag = icvp;  // the tag goes straight to its place, after the ciphertext
        } else {
            op.auth = esp;
            op.auth_len = 8 + ivl + ct_len;
            if constexpr (is_esn) {
                // seq_hi sits where the ICV goes (authenticated, not sent): the tag is computed
                // into scratch and copied over it afterwards.
                base::store_be32(icvp, std::uint32_t(q.seq >> 32));
                op.auth_len += 4;
                op.tag = s.tags[slot].data();
            } else {
                op.tag = icvp;  // right after the authenticated region, overlapping nothing
            }
        }

        if constexpr (has_udp) {
            std::uint8_t* u = out + ip_h;
            base::store_be16(u + 4, std::uint16_t(8 + esp_len));  // ports from the template, checksum 0
        }
        if constexpr (!is_v6) {
            // RFC 1071 incremental: template words + the per-packet ones (TOS, length, ID, DF).
            // TOS: DSCP + ECN copied (RFC 4301 5.1.2.1, RFC 6040 4.1 normal mode). Bytes 0-15 go
            // as two little-endian words: the template's, with TOS (byte 1), total length (2-3),
            // ID (4-5), flags/fragment offset (6-7) and the checksum (10-11) in network order.
            const std::uint16_t id = id_next++;
            const std::uint32_t frag = df_always | (q.df ? df_copied : 0u);
            const std::uint32_t sum = base_sum + tos + total + id + frag;
            const std::uint64_t w0 = t0 | std::uint64_t(tos) << 8 | std::uint64_t(__builtin_bswap16(std::uint16_t(total))) << 16 |
                                     std::uint64_t(__builtin_bswap16(id)) << 32 |
                                     std::uint64_t(__builtin_bswap16(std::uint16_t(frag))) << 48;
            const std::uint64_t w1 = t1 | std::uint64_t(__builtin_bswap16(detail::csum_fold(sum))) << 16;
            std::memcpy(out, &w0, 8);
            std::memcpy(out + 8, &w1, 8);
        } else {
            base::store_be32(out, 0x60000000u | std::uint32_t(tos) << 20);
            base::store_be16(out + 4, std::uint16_t(total - 40));
        }
        p.data_off -= hdr_len;
        p.data_len = total;
    };

    // 1 + 2: validate, size, lifetime, sequence number reservation.
    for (std::size_t i = 0; i < pkts.size(); ++i) {
        if (i + 1 < pkts.size()) __builtin_prefetch(pkts[i + 1].data());  // next header (a prefetch never faults)
        const pkt& p = pkts[i];
        inner_info in;
        drop_reason r = p.valid() ? parse_inner(p, in) : drop_reason::not_ip;
        if (r == drop_reason::ok) {
            const std::uint32_t len = in.len;
            const std::uint32_t pad = (0u - (len + 2)) & block_mask;
            const std::uint64_t total = std::uint64_t(hdr_len) + len + pad + tail_fixed;
            if (p.data_off < hdr_len || p.buf_len - p.data_off - len < pad + tail_fixed)
                r = drop_reason::no_room;
            else if (total - (is_v6 ? 40 : 0) > 0xffff)
                r = drop_reason::too_big;
            else if (k >= budget || bytes >= byte_limit)
                // RFC 4303 3.3.3: never cycle the sequence number; a new SA is needed.
                r = k >= life_budget || bytes >= byte_limit ? drop_reason::lifetime : drop_reason::seq_cycled;
            else {
                const std::size_t slot = first + k;
                const encap_prep q{seq0 + k, len, std::uint8_t(pad), in.next_header, in.tos, in.df};
                ++k;
                s.inner_len[slot] = len;
                bytes += len;
                s.pkt_of[slot] = &pkts[i];
                s.result_of[slot] = &results[i];
                frame(pkts[i], q, slot, i);  // while the packet's lines and q are at hand
            }
        }
        results[i] = r;
        if (r != drop_reason::ok) ++counters.drops[index(r)];
    }
    // The last number used up: the SA stays at it, exhausted (RFC 4303 3.3.3).
    if (k != 0 && k == seq_budget) {
        next_seq = limit;
        exhausted = true;
    } else {
        next_seq = seq0 + k;
    }
    ip_id = id_next;
    s.used += k;
    return k;
}

std::size_t outbound_sa::impl::encap_begin(std::span<pkt> pkts, std::span<drop_reason> results, encap_scratch& s) {
    using fn = std::size_t (impl::*)(std::span<pkt>, std::span<drop_reason>, encap_scratch&);
    static constexpr fn variants[16] = {
        &impl::encap_begin_t<false, false, false, false>, &impl::encap_begin_t<true, false, false, false>,
        &impl::encap_begin_t<false, true, false, false>,  &impl::encap_begin_t<true, true, false, false>,
        &impl::encap_begin_t<false, false, true, false>,  &impl::encap_begin_t<true, false, true, false>,
        &impl::encap_begin_t<false, true, true, false>,   &impl::encap_begin_t<true, true, true, false>,
        &impl::encap_begin_t<false, false, false, true>,  &impl::encap_begin_t<true, false, false, true>,
        &impl::encap_begin_t<false, true, false, true>,   &impl::encap_begin_t<true, true, false, true>,
        &impl::encap_begin_t<false, false, true, true>,   &impl::encap_begin_t<true, false, true, true>,
        &impl::encap_begin_t<false, true, true, true>,    &impl::encap_begin_t<true, true, true, true>,
    };
    const unsigned v = unsigned(aead) | unsigned(esn) << 1 | unsigned(v6) << 2 | unsigned(udp_hdr != 0) << 3;
    return (this->*variants[v])(pkts, results, s);
}

// Step 6 for slots [first, first + k) once their crypto ran; returns the ok count.
std::size_t outbound_sa::impl::encap_finish(encap_scratch& s, std::size_t first, std::size_t k) {
    const std::uint32_t hdr_len = hdr;
    std::size_t good = 0;
    std::uint64_t bytes = 0;
    for (std::size_t slot = first; slot < first + k; ++slot) {
        pkt& p = *s.pkt_of[slot];
        const std::uint32_t len = s.inner_len[slot];
        const crypto_op& op = s.ops[slot];
        if (!op.ok) {
            // Restore the caller's view of the inner packet; the buffer's head/tailroom is scratch.
            p.data_off += hdr_len;
            p.data_len = len;
            *s.result_of[slot] = drop_reason::crypto;
            ++counters.drops[index(drop_reason::crypto)];
            continue;
        }
        if (esn && !aead) detail::copy_icv(op.data + op.len, op.tag, icv);
        if (udp_hdr && v6) {
            std::uint8_t* out = p.data();
            std::uint8_t* u = out + 40;
            const std::uint32_t ulen = p.data_len - 40;
            std::uint32_t sum = detail::csum_add(0, out + 8, 32);  // RFC 8200 8.1 pseudo-header
            sum += ulen + 17;
            sum = detail::csum_add(sum, u, ulen);
            std::uint16_t c = detail::csum_fold(sum);
            base::store_be16(u + 6, c == 0 ? 0xffff : c);
        }
        bytes += len;
        ++good;
    }
    counters.packets += good;
    counters.bytes += bytes;
    if ((life.soft.bytes | life.soft.packets | life.hard.bytes | life.hard.packets) != 0) fire_lifetime();
    return good;
}

namespace {

// The per-SA part of every outer header (RFC 791 / RFC 8200, RFC 3948 2.1, RFC 4303 2.1): the
// per-packet fields (TOS/traffic class, lengths, IP ID, DF, checksum) stay zero here.
void build_template(outbound_sa::impl& im, const sa_config& cfg) {
    auto& t = im.tmpl;
    t.fill(0);
    const std::uint8_t proto = im.udp_hdr ? 17 : 50;
    if (!im.v6) {
        t[0] = 0x45;
        t[8] = im.ttl;
        t[9] = proto;
        std::memcpy(&t[12], cfg.src.bytes.data(), 4);
        std::memcpy(&t[16], cfg.dst.bytes.data(), 4);
        im.tmpl_sum = detail::csum_add(0, t.data(), 20);  // checksum field is zero
    } else {
        t[0] = 0x60;
        t[6] = proto;
        t[7] = im.ttl;
        std::memcpy(&t[8], cfg.src.bytes.data(), 16);
        std::memcpy(&t[24], cfg.dst.bytes.data(), 16);
    }
    std::uint8_t* u = &t[im.ip_hdr];
    if (cfg.natt) {
        base::store_be16(u, cfg.natt->sport);
        base::store_be16(u + 2, cfg.natt->dport);
    }
    base::store_be32(u + im.udp_hdr, im.spi);
}

} // namespace

std::size_t outbound_sa::impl::encap_chunk(std::span<pkt> pkts, std::span<drop_reason> results) {
    encap_scratch s;
    const std::size_t k = encap_begin(pkts, results, s);
    if (k == 0) return 0;
    // 5: crypto for the burst.
    crypto->encrypt({s.ops.data(), k});
    return encap_finish(s, 0, k);
}

sa_result<outbound_sa> outbound_sa::create(const sa_config& cfg) {
    sa_result<outbound_sa> res;
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
    im->iv_owner = cfg.iv ? cfg.iv : make_random_iv_source();
    im->ivs = im->iv_owner.get();
    im->spi = cfg.spi;
    im->next_seq = cfg.initial_seq;
    im->seq_limit = cfg.esn ? ~std::uint64_t(0) : 0xffffffffULL;
    im->iv_len = ep.iv_len;
    im->block = ep.block_size;
    im->icv = icv_len(cfg.enc, cfg.integ);
    im->aead = ep.aead;
    im->esn = cfg.esn;
    im->v6 = cfg.src.is_v6();
    im->ip_hdr = im->v6 ? 40 : 20;
    im->udp_hdr = cfg.natt ? 8 : 0;
    im->ttl = cfg.ttl;
    im->df = cfg.df;
    im->hdr = std::uint16_t(im->ip_hdr + im->udp_hdr + 8 + im->iv_len);
    build_template(*im, cfg);
    im->life.soft = cfg.soft;
    im->life.hard = cfg.hard;
    im->cold.on_lifetime = cfg.on_lifetime;
    im->cold.enc = cfg.enc;
    im->cold.integ = cfg.integ;
    im->cold.backend = cfg.backend;
    res.sa.reset(new outbound_sa());
    res.sa->_impl = std::move(im);
    return res;
}

// The fields every packet touches (with the header template and the lifetime limits) fit in
// the first three cache lines; then the counters: five lines, nothing else is touched per burst.
static_assert(std::is_standard_layout_v<outbound_hot>);
static_assert(offsetof(outbound_hot, counters) <= 160, "outbound per-packet fields grew beyond 2.5 cache lines");
static_assert(sizeof(outbound_hot) <= 320, "outbound hot SA grew unexpectedly");

outbound_sa::~outbound_sa() = default;

std::size_t outbound_sa::encap(std::span<pkt> pkts, std::span<drop_reason> results) {
    const std::size_t n = std::min(pkts.size(), results.size());
    std::size_t good = 0;
    for (std::size_t b = 0; b < n; b += max_burst) {
        const std::size_t c = std::min(max_burst, n - b);
        good += _impl->encap_chunk(pkts.subspan(b, c), results.subspan(b, c));
    }
    return good;
}

struct encap_batch::state {
    struct group {
        outbound_sa::impl* sa;
        std::size_t first, k;
    };
    encap_scratch scratch;
    std::array<group, max_burst> groups;
    std::size_t n_groups = 0;
};

encap_batch::encap_batch() : _s(std::make_unique<state>()) {}
encap_batch::~encap_batch() = default;

std::size_t encap_batch::pending() const { return _s->scratch.used; }

void encap_batch::add(outbound_sa& sa, std::span<pkt> pkts, std::span<drop_reason> results) {
    const std::size_t n = std::min(pkts.size(), results.size());
    for (std::size_t b = 0; b < n;) {
        auto& s = *_s;
        if (s.scratch.used == max_burst || s.n_groups == s.groups.size()) run();
        const std::size_t c = std::min(max_burst - s.scratch.used, n - b);
        const std::size_t first = s.scratch.used;
        const std::size_t k = sa._impl->encap_begin(pkts.subspan(b, c), results.subspan(b, c), s.scratch);
        if (k) s.groups[s.n_groups++] = {sa._impl.get(), first, k};
        b += c;
    }
}

void encap_batch::run() {
    auto& s = *_s;
    for (std::size_t g = 0; g < s.n_groups; ++g) {
        const auto& gr = s.groups[g];
        gr.sa->crypto->encrypt_deferred({s.scratch.ops.data() + gr.first, gr.k});
    }
    crypto_ctx::complete_deferred();
    for (std::size_t g = 0; g < s.n_groups; ++g) {
        const auto& gr = s.groups[g];
        gr.sa->encap_finish(s.scratch, gr.first, gr.k);
    }
    s.n_groups = 0;
    s.scratch.used = 0;
}

std::uint32_t outbound_sa::spi() const { return _impl->spi; }
std::uint64_t outbound_sa::next_seq() const { return _impl->next_seq; }
const sa_counters& outbound_sa::counters() const { return _impl->counters; }
bool outbound_sa::hard_expired() const { return _impl->life.hard_fired; }
std::uint32_t outbound_sa::headroom() const { return std::uint32_t(_impl->ip_hdr) + _impl->udp_hdr + 8 + _impl->iv_len; }
std::uint32_t outbound_sa::tailroom() const { return std::uint32_t(_impl->block) - 1 + 2 + _impl->icv; }
enc_alg outbound_sa::enc() const { return _impl->cold.enc; }
integ_alg outbound_sa::integ() const { return _impl->cold.integ; }
backend_kind outbound_sa::backend() const { return _impl->cold.backend; }

} // namespace esp
