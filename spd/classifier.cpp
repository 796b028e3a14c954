// Compiled classifier. Build flow (control side):
//  1. rank the policies of one direction by (priority, list position): rank 0 wins;
//  2. expand each policy into boxes, one per same-family (src prefix, dst prefix) pair, with
//     protocol and port ranges; dimensions are plain integers (IPv6 addresses split in two
//     64-bit halves; ports are 17-bit with 65536 meaning "no ports" so that non-first
//     fragments and port-less protocols match only port-any rules, exactly);
//  3. split each family's boxes into groups by whether src / dst are wide (short prefixes),
//     because wide rules replicate into every child when the tree cuts their dimension
//     (EffiCuts' observation); each group becomes one tree;
//  4. each tree node cuts one dimension into 2^c equal parts, choosing the dimension that
//     minimises the largest child and the largest c whose replication stays within
//     space_factor; a rule that covers its whole node shadows every lower-ranked rule there, so
//     the list is cut after it; adjacent children with the same rules reuse one subtree when
//     those rules span both children in the cut dimension; <= leaf_size rules make a leaf;
//  5. leaves are copied out as compact, rank-ordered rules (32 bytes for IPv4).
// Lookup (fast path), per packet: build the key, walk each tree of the packet's family whose
// best rank could still win, scan the leaf until the first exact match; the best rank maps
// to (policy, action, SA handle), or the default action.
#include "spd/classifier.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include <nmmintrin.h>  // SSE4.2 (x86-64-v2, which DPDK's corei7 baseline already requires)

namespace spd {

namespace {

using u64 = std::uint64_t;
using u32 = std::uint32_t;

constexpr u64 leaf_flag = u64(1) << 63;
constexpr u32 port_none = 65536;          // key value of a packet without ports
constexpr u64 port_space_max = (1u << 17) - 1;

constexpr u64 mask_bits(unsigned bits) { return bits >= 64 ? ~u64(0) : (u64(1) << bits) - 1; }

constexpr u64 make_leaf(u32 first, u32 count) { return leaf_flag | (u64(count) << 32) | first; }
// A node: child base (bits 0-31), dimension (32-39), shift (40-47) and the child index mask
// (48-62, so at most 2^15 children), bit 63 clear: the lookup decodes it with shifts only.
constexpr unsigned max_node_cut_bits = 15;
constexpr u64 make_node(u32 base, unsigned dim, unsigned shift, unsigned cbits) {
    return u64(base) | (u64(dim) << 32) | (u64(shift) << 40) | (mask_bits(cbits) << 48);
}
// The child slot of key dimensions dims under node e.
inline u64 child_slot(u64 e, const u64* dims) {
    return u32(e) + ((dims[(e >> 32) & 0xff] >> ((e >> 40) & 63)) & (e >> 48));
}

template <std::size_t D>
struct box {
    std::array<u64, D> lo;
    std::array<u64, D> hi;
    u32 rank;
};

// Compact leaf rules, checked exactly; their ranks live in a parallel array (leaf_rules).
// IPv4: the bounds of every field as two SSE vectors laid out like the packet's key vector:
//   32-bit lanes: src, dst; 16-bit lanes: sport, dport, proto, "has ports"
// so one rule is checked with unsigned min/max compares in a handful of instructions. The
// "has ports" lane is [1,1] when some port range is not "any" (packets without ports cannot
// match, RFC 4301 4.4.1.1 OPAQUE) and [0,1] otherwise.
struct rule4 {
    __m128i lo;
    __m128i hi;
};
static_assert(sizeof(rule4) == 32);

// IPv6: the address bounds as 64-bit lanes (high half, low half) with the sign bit flipped, so
// SSE4.2's signed 64-bit compare orders them as unsigned; the other fields as 16-bit lanes
// sport, dport, proto, "has ports" holding the lower bounds in lanes 0-3 and the complemented
// upper bounds in lanes 4-7 (v <= hi exactly when ~v >= ~hi), so one unsigned max checks both.
struct rule6 {
    __m128i src_lo, src_hi, dst_lo, dst_hi;
    __m128i misc;
};
static_assert(sizeof(rule6) == 80);

// Leaf rules of one family in leaf order, with the rank of each (lower wins).
template <class Rule>
struct leaf_rules {
    std::vector<Rule> rules;
    std::vector<u32> ranks;
    [[nodiscard]] std::size_t size() const { return rules.size(); }
};

struct tree_root {
    u64 entry;
    u32 min_rank;
};

// IPv4 dimensions: src, dst, proto, sport, dport. IPv6: src hi/lo, dst hi/lo, proto, ports.
constexpr std::array<unsigned, 5> bits4{32, 32, 8, 17, 17};
constexpr std::array<unsigned, 7> bits6{64, 64, 64, 64, 8, 17, 17};

} // namespace

struct classifier::tables {
    std::vector<u64> entries;
    std::vector<tree_root> trees4, trees6;   // ordered by min_rank
    leaf_rules<rule4> rules4;
    leaf_rules<rule6> rules6;
    std::vector<verdict> by_rank;   // one per rank, then the fallback (index ranks)
    u32 ranks = 0;
    verdict fallback;
    bool uses_ports = false;
    classifier_stats stats;
};

namespace {

template <std::size_t D>
class tree_builder {
public:
    tree_builder(const std::vector<box<D>>& boxes, const std::array<unsigned, D>& bits, const build_options& opt,
                 std::vector<u64>& entries, std::vector<u32>& leaf_items, classifier_stats& stats)
        : _boxes(boxes), _bits(bits), _opt(opt), _entries(entries), _leaf_items(leaf_items), _stats(stats) {}

    struct region {
        std::array<u64, D> lo{};
        std::array<unsigned, D> bits{};
        u64 hi(std::size_t d) const { return lo[d] + mask_bits(bits[d]); }
    };

    u64 build_root(std::vector<u32> ids) {
        region r;
        r.bits = _bits;
        // Memory bound: spfac limits replication per node, not over depth, so adversarial sets
        // could still multiply; past this many slots + leaf rules the tree stops cutting (its
        // remaining leaves just get longer).
        _budget = _entries.size() + _leaf_items.size() + _opt.max_replication * ids.size() + 1024;
        return build(std::move(ids), r, 0);
    }

private:
    bool covers(const box<D>& b, const region& r) const {
        for (std::size_t d = 0; d < D; ++d)
            if (b.lo[d] > r.lo[d] || b.hi[d] < r.hi(d)) return false;
        return true;
    }

    u64 make_leaf_entry(const std::vector<u32>& ids) {
        if (ids.empty()) return make_leaf(0, 0);
        u32 first = static_cast<u32>(_leaf_items.size());
        _leaf_items.insert(_leaf_items.end(), ids.begin(), ids.end());
        _stats.max_leaf = std::max(_stats.max_leaf, ids.size());
        return make_leaf(first, static_cast<u32>(ids.size()));
    }

    // Child index range [first, last] of box b in dimension d cut into 2^c parts of region r.
    std::pair<u32, u32> span_of(const box<D>& b, const region& r, std::size_t d, unsigned shift) const {
        u64 lo = std::max(b.lo[d], r.lo[d]) - r.lo[d];
        u64 hi = std::min(b.hi[d], r.hi(d)) - r.lo[d];
        return {static_cast<u32>(lo >> shift), static_cast<u32>(hi >> shift)};
    }

    // Shrinks each dimension of r to the smallest aligned block holding every rule's part of
    // r. Keys outside it match none of these rules, and the leaves check rules exactly, so
    // where such keys end up does not matter; the cuts then spend their bits where the rules
    // differ (e.g. below a common 10.0.0.0/8).
    void shrink(const std::vector<u32>& ids, region& r) const {
        for (std::size_t d = 0; d < D; ++d) {
            if (r.bits[d] == 0) continue;
            u64 lo = ~u64(0), hi = 0;
            for (u32 id : ids) {
                lo = std::min(lo, std::max(_boxes[id].lo[d], r.lo[d]));
                hi = std::max(hi, std::min(_boxes[id].hi[d], r.hi(d)));
            }
            const u64 diff = lo ^ hi;
            const unsigned need = diff == 0 ? 0u : unsigned(64 - __builtin_clzll(diff));
            if (need < r.bits[d]) {
                r.bits[d] = need;
                r.lo[d] = lo & ~mask_bits(need);
            }
        }
    }

    // A rule covering the whole region matches every packet that reaches here and can match
    // anything here, so nothing ranked after it can win.
    void prune(std::vector<u32>& ids, const region& r) const {
        for (std::size_t i = 0; i < ids.size(); ++i) {
            if (covers(_boxes[ids[i]], r)) { ids.resize(i + 1); break; }
        }
    }

    u64 build(std::vector<u32> ids, region r, unsigned depth) {
        _stats.max_depth = std::max<std::size_t>(_stats.max_depth, depth);
        shrink(ids, r);
        prune(ids, r);
        shrink(ids, r);
        if (ids.size() <= _opt.leaf_size || depth >= _opt.max_depth || over_budget()) return make_leaf_entry(ids);

        // Choose the dimension and number of cuts.
        // Score: the largest child first, then the average child. A cut whose largest child
        // still holds every rule is taken when other children are smaller: it moves those
        // rules out of the way (e.g. a few any-address port rules over many tunnels) and the
        // next level works on a smaller region. Region bits shrink at every level, so this
        // terminates; max_depth bounds it.
        const std::size_t n = ids.size();
        std::size_t best_dim = D, best_max = n + 1;
        double best_avg = 0;
        unsigned best_c = 0;
        std::vector<std::int64_t> diff;
        for (std::size_t d = 0; d < D; ++d) {
            if (r.bits[d] == 0) continue;
            unsigned max_c = std::min({r.bits[d], _opt.max_cut_bits, max_node_cut_bits});
            std::size_t dim_max = n, dim_sum = 0, dim_np = 1;
            unsigned dim_c = 0;
            for (unsigned c = 1; c <= max_c; ++c) {
                const std::size_t np = std::size_t(1) << c;
                const unsigned shift = r.bits[d] - c;
                diff.assign(np + 1, 0);
                std::size_t sum = 0;
                for (u32 id : ids) {
                    auto [a, b] = span_of(_boxes[id], r, d, shift);
                    diff[a] += 1;
                    diff[b + 1] -= 1;
                    sum += b - a + 1;
                }
                if (c > 1 && double(sum + np) > _opt.space_factor * double(n)) break;
                std::int64_t run = 0, mx = 0;
                for (std::size_t i = 0; i < np; ++i) { run += diff[i]; mx = std::max(mx, run); }
                dim_max = std::size_t(mx);
                dim_sum = sum;
                dim_np = np;
                dim_c = c;
                if (dim_max <= 1) break;
            }
            if (dim_c == 0 || (dim_max >= n && dim_sum >= n * dim_np)) continue;  // every child has all
            const double avg = double(dim_sum) / double(dim_np);
            if (dim_max < best_max || (dim_max == best_max && avg < best_avg)) {
                best_dim = d;
                best_max = dim_max;
                best_avg = avg;
                best_c = dim_c;
            }
        }
        if (best_dim == D) return make_leaf_entry(ids);  // no cut separates anything

        const std::size_t d = best_dim;
        const unsigned c = best_c, shift = r.bits[d] - c;
        const std::size_t np = std::size_t(1) << c;
        // Children's rule lists (positions into ids keep the rank order).
        std::vector<std::vector<u32>> kids(np);
        std::vector<std::pair<u32, u32>> spans(n);
        for (std::size_t i = 0; i < n; ++i) {
            spans[i] = span_of(_boxes[ids[i]], r, d, shift);
            for (u32 k = spans[i].first; k <= spans[i].second; ++k) kids[k].push_back(u32(i));
        }
        const u32 base = static_cast<u32>(_entries.size());
        _entries.resize(_entries.size() + np);
        std::size_t run_start = 0;
        for (std::size_t k = 0; k < np; ++k) {
            if (k > 0 && kids[k] == kids[k - 1]) {
                // Reuse the previous subtree only when every rule covers the whole run in this
                // dimension (touching a child is not enough: a range may start mid-child); then
                // the subtree sees the same rules wherever the key falls.
                const u64 run_lo = r.lo[d] + (u64(run_start) << shift);
                const u64 run_hi = r.lo[d] + (u64(k) << shift) + mask_bits(shift);
                bool same = true;
                for (u32 i : kids[k]) {
                    const box<D>& b = _boxes[ids[i]];
                    if (b.lo[d] > run_lo || b.hi[d] < run_hi) { same = false; break; }
                }
                if (same) { _entries[base + k] = _entries[base + k - 1]; continue; }
            }
            run_start = k;
            std::vector<u32> child_ids;
            child_ids.reserve(kids[k].size());
            for (u32 i : kids[k]) child_ids.push_back(ids[i]);
            region cr = r;
            cr.lo[d] = r.lo[d] + (u64(k) << shift);
            cr.bits[d] = shift;
            u64 e = child_ids.empty() ? make_leaf(0, 0) : build(std::move(child_ids), cr, depth + 1);
            _entries[base + k] = e;
        }
        return make_node(base, unsigned(d), shift, c);
    }

    bool over_budget() const { return _entries.size() + _leaf_items.size() > _budget; }

    const std::vector<box<D>>& _boxes;
    const std::array<unsigned, D>& _bits;
    std::size_t _budget = 0;
    const build_options& _opt;
    std::vector<u64>& _entries;
    std::vector<u32>& _leaf_items;
    classifier_stats& _stats;
};

// Prefix -> [lo, hi] over one 64-bit half of an address (or the 32-bit IPv4 address).
std::pair<u64, u64> v4_range(const ip_prefix* p) {
    if (!p) return {0, 0xffffffffu};
    u64 a = (u64(p->addr[0]) << 24) | (u64(p->addr[1]) << 16) | (u64(p->addr[2]) << 8) | p->addr[3];
    return {a, a | mask_bits(32 - p->len)};
}

// Big-endian 64-bit load (one load and a bswap, unlike a byte loop the compiler keeps as is).
u64 load64(const std::uint8_t* b) {
    u64 v;
    std::memcpy(&v, b, sizeof v);
    return __builtin_bswap64(v);
}

// IPv6 prefix -> ranges of the high and low 64-bit halves (a box: len <= 64 leaves the low half
// free, len > 64 fixes the high half).
std::array<std::pair<u64, u64>, 2> v6_ranges(const ip_prefix* p) {
    if (!p) return {{{0, ~u64(0)}, {0, ~u64(0)}}};
    u64 h = load64(p->addr.data()), l = load64(p->addr.data() + 8);
    if (p->len <= 64) return {{{h, h | mask_bits(64 - p->len)}, {0, ~u64(0)}}};
    return {{{h, h}, {l, l | mask_bits(128 - p->len)}}};
}

std::pair<u64, u64> port_dim(const port_range& pr) {
    if (pr.is_any()) return {0, port_space_max};
    return {pr.lo, pr.hi};
}

template <std::size_t D>
bool is_wide(const box<D>& b, std::size_t d, unsigned total_bits, unsigned wide_len) {
    return b.hi[d] - b.lo[d] >= mask_bits(total_bits - wide_len);
}

template <std::size_t D>
void build_family(const std::vector<box<D>>& boxes, const std::array<unsigned, D>& bits, std::size_t src_dim,
                  std::size_t dst_dim, unsigned wide_len, const build_options& opt, classifier::tables& t,
                  std::vector<tree_root>& roots, std::vector<u32>& leaf_items) {
    std::array<std::vector<u32>, 4> groups;
    for (u32 i = 0; i < boxes.size(); ++i) {
        unsigned g = (is_wide(boxes[i], src_dim, bits[src_dim], wide_len) ? 1u : 0u) |
                     (is_wide(boxes[i], dst_dim, bits[dst_dim], wide_len) ? 2u : 0u);
        groups[g].push_back(i);
    }
    // A small group is not worth a tree walk of its own on every lookup: fold it into the
    // largest group (its rules replicate there, but there are few of them).
    std::size_t largest = 0;
    for (std::size_t g = 1; g < groups.size(); ++g)
        if (groups[g].size() > groups[largest].size()) largest = g;
    for (std::size_t g = 0; g < groups.size(); ++g) {
        if (g == largest || groups[g].empty() || groups[g].size() > opt.small_group) continue;
        groups[largest].insert(groups[largest].end(), groups[g].begin(), groups[g].end());
        groups[g].clear();
    }
    std::sort(groups[largest].begin(), groups[largest].end());  // box ids are in rank order
    for (auto& ids : groups) {
        if (ids.empty()) continue;
        u32 min_rank = boxes[ids.front()].rank;
        tree_builder<D> b(boxes, bits, opt, t.entries, leaf_items, t.stats);
        roots.push_back(tree_root{b.build_root(std::move(ids)), min_rank});
    }
    std::sort(roots.begin(), roots.end(), [](const tree_root& a, const tree_root& b) { return a.min_rank < b.min_rank; });
}

bool port_needs(const box<5>& b) { return !(b.lo[3] == 0 && b.hi[3] == port_space_max && b.lo[4] == 0 && b.hi[4] == port_space_max); }
bool port_needs(const box<7>& b) { return !(b.lo[5] == 0 && b.hi[5] == port_space_max && b.lo[6] == 0 && b.hi[6] == port_space_max); }
std::uint16_t port_lo(u64 lo) { return static_cast<std::uint16_t>(std::min<u64>(lo, 65535)); }
std::uint16_t port_hi(u64 hi) { return static_cast<std::uint16_t>(std::min<u64>(hi, 65535)); }

// The IPv4 key/rule vector: lanes (32-bit) src, dst, sport | dport << 16, proto | ports << 16.
inline __m128i vec4(u32 src, u32 dst, std::uint16_t sp, std::uint16_t dp, std::uint8_t proto, unsigned ports) {
    return _mm_set_epi32(int(u32(proto) | (u32(ports) << 16)), int(u32(sp) | (u32(dp) << 16)), int(dst), int(src));
}

rule4 to_rule(const box<5>& b) {
    const unsigned needs = port_needs(b) ? 1 : 0;
    return rule4{vec4(u32(b.lo[0]), u32(b.lo[1]), port_lo(b.lo[3]), port_lo(b.lo[4]), std::uint8_t(b.lo[2]), needs),
                 vec4(u32(b.hi[0]), u32(b.hi[1]), port_hi(b.hi[3]), port_hi(b.hi[4]), std::uint8_t(b.hi[2]), 1)};
}

// Two 64-bit values as one vector with the sign bits flipped (lane 0: a, lane 1: b).
inline __m128i vec64_signed(u64 a, u64 b) {
    constexpr u64 sign = u64(1) << 63;
    return _mm_set_epi64x(static_cast<long long>(b ^ sign), static_cast<long long>(a ^ sign));
}

// The IPv6 16-bit lanes: sport, dport, proto, ports, then the complements of the same four.
inline __m128i vec6_misc(std::uint16_t sp_lo, std::uint16_t dp_lo, std::uint16_t proto_lo, std::uint16_t ports_lo,
                         std::uint16_t sp_hi, std::uint16_t dp_hi, std::uint16_t proto_hi, std::uint16_t ports_hi) {
    return _mm_setr_epi16(short(sp_lo), short(dp_lo), short(proto_lo), short(ports_lo), short(~sp_hi & 0xffff),
                          short(~dp_hi & 0xffff), short(~proto_hi & 0xffff), short(~ports_hi & 0xffff));
}

rule6 to_rule(const box<7>& b) {
    const std::uint16_t needs = port_needs(b) ? 1 : 0;
    return rule6{vec64_signed(b.lo[0], b.lo[1]), vec64_signed(b.hi[0], b.hi[1]), vec64_signed(b.lo[2], b.lo[3]),
                 vec64_signed(b.hi[2], b.hi[3]),
                 vec6_misc(port_lo(b.lo[5]), port_lo(b.lo[6]), std::uint16_t(b.lo[4]), needs, port_hi(b.hi[5]),
                           port_hi(b.hi[6]), std::uint16_t(b.hi[4]), 1)};
}

// Fixes up leaf entries so that they index the compact rule array: leaf_items (box ids) are
// replaced position for position by the corresponding rules.
template <std::size_t D, class Rule>
void emit_rules(const std::vector<box<D>>& boxes, const std::vector<u32>& leaf_items, leaf_rules<Rule>& out) {
    out.rules.reserve(leaf_items.size());
    out.ranks.reserve(leaf_items.size());
    for (u32 id : leaf_items) {
        out.rules.push_back(to_rule(boxes[id]));
        out.ranks.push_back(boxes[id].rank);
    }
}

struct key4 {
    std::array<u64, 5> dim;
    __m128i v;  // vec4() of the packet
};

struct key6 {
    std::array<u64, 7> dim;
    __m128i src, dst, misc;  // rule6's layout: vec64_signed() of the halves, vec6_misc(v, v)
};

inline u64 walk(const u64* entries, u64 e, const u64* dims) {
    while (!(e & leaf_flag)) e = entries[child_slot(e, dims)];
    return e;
}

// Non-short-circuit on purpose: all range checks are cheap ALU work on one cache line, and
// one well-predicted branch per rule beats six data-dependent ones.
// lo <= v <= hi per lane, unsigned: max(v, lo) >= v >= min(v, hi), so the two are equal exactly
// when both equal v, i.e. when v is in range: one xor per lane width, words 0-3 (the 32-bit
// lanes) from one and words 4-7 (the 16-bit lanes) from the other, and one ptest.
inline bool match(const rule4& r, const key4& k) {
    const __m128i v = k.v;
    const __m128i d32 = _mm_xor_si128(_mm_max_epu32(v, r.lo), _mm_min_epu32(v, r.hi));
    const __m128i d16 = _mm_xor_si128(_mm_max_epu16(v, r.lo), _mm_min_epu16(v, r.hi));
    const __m128i d = _mm_blend_epi16(d32, d16, 0xf0);
    return _mm_testz_si128(d, d) != 0;
}

// Outside when lo > v or v > hi in some address lane, or max(v, lo | ~hi) != v in some 16-bit
// lane; all of them or-ed and tested once.
inline bool match(const rule6& r, const key6& k) {
    const __m128i out_src = _mm_or_si128(_mm_cmpgt_epi64(r.src_lo, k.src), _mm_cmpgt_epi64(k.src, r.src_hi));
    const __m128i out_dst = _mm_or_si128(_mm_cmpgt_epi64(r.dst_lo, k.dst), _mm_cmpgt_epi64(k.dst, r.dst_hi));
    const __m128i out_misc = _mm_xor_si128(_mm_max_epu16(k.misc, r.misc), k.misc);
    const __m128i d = _mm_or_si128(_mm_or_si128(out_src, out_dst), out_misc);
    return _mm_testz_si128(d, d) != 0;
}

template <class Rule, class Key>
inline u32 lookup(const classifier::tables& t, const std::vector<tree_root>& roots, const leaf_rules<Rule>& rules,
                  const Key& k) {
    u32 best = no_policy;
    for (const tree_root& root : roots) {
        if (root.min_rank >= best) break;
        const u64 e = walk(t.entries.data(), root.entry, k.dim.data());
        const u32 first = u32(e), count = u32(e >> 32) & 0x7fffffffu;
        const Rule* r = rules.rules.data() + first;
        const u32* rank = rules.ranks.data() + first;
        for (u32 i = 0; i < count; ++i) {
            if (rank[i] >= best) break;
            if (match(r[i], k)) { best = rank[i]; break; }
        }
    }
    return best;
}

} // namespace

classifier::classifier(std::span<const policy> policies, direction dir, action default_action,
                       const build_options& opt) {
    auto t = std::make_unique<tables>();
    t->fallback = verdict{no_policy, no_sa, default_action};

    std::vector<u32> order;
    for (u32 i = 0; i < policies.size(); ++i)
        if (policies[i].dir == dir) order.push_back(i);
    std::stable_sort(order.begin(), order.end(),
                     [&](u32 a, u32 b) { return policies[a].priority < policies[b].priority; });
    t->stats.policies = order.size();

    std::vector<box<5>> boxes4;
    std::vector<box<7>> boxes6;
    for (u32 rank = 0; rank < order.size(); ++rank) {
        const policy& p = policies[order[rank]];
        t->by_rank.push_back(verdict{order[rank], p.act == action::protect ? p.sa_handle : no_sa, p.act});
        const std::pair<u64, u64> proto = p.proto ? std::pair<u64, u64>{*p.proto, *p.proto} : std::pair<u64, u64>{0, 255};
        const auto sp = port_dim(p.sport), dp = port_dim(p.dport);
        t->uses_ports = t->uses_ports || !p.sport.is_any() || !p.dport.is_any();
        auto family_list = [](const std::vector<ip_prefix>& l, ip_family f) {
            std::vector<const ip_prefix*> out;
            if (l.empty()) { out.push_back(nullptr); return out; }  // any
            for (const auto& x : l)
                if (x.family == f) out.push_back(&x);
            return out;
        };
        for (const ip_prefix* s : family_list(p.src, ip_family::v4))
            for (const ip_prefix* d : family_list(p.dst, ip_family::v4)) {
                box<5> b{};
                std::tie(b.lo[0], b.hi[0]) = v4_range(s);
                std::tie(b.lo[1], b.hi[1]) = v4_range(d);
                std::tie(b.lo[2], b.hi[2]) = proto;
                std::tie(b.lo[3], b.hi[3]) = sp;
                std::tie(b.lo[4], b.hi[4]) = dp;
                b.rank = rank;
                boxes4.push_back(b);
            }
        for (const ip_prefix* s : family_list(p.src, ip_family::v6))
            for (const ip_prefix* d : family_list(p.dst, ip_family::v6)) {
                box<7> b{};
                auto sr = v6_ranges(s), dr = v6_ranges(d);
                std::tie(b.lo[0], b.hi[0]) = sr[0];
                std::tie(b.lo[1], b.hi[1]) = sr[1];
                std::tie(b.lo[2], b.hi[2]) = dr[0];
                std::tie(b.lo[3], b.hi[3]) = dr[1];
                std::tie(b.lo[4], b.hi[4]) = proto;
                std::tie(b.lo[5], b.hi[5]) = sp;
                std::tie(b.lo[6], b.hi[6]) = dp;
                b.rank = rank;
                boxes6.push_back(b);
            }
    }
    t->ranks = u32(order.size());
    t->by_rank.push_back(t->fallback);
    t->stats.boxes_v4 = boxes4.size();
    t->stats.boxes_v6 = boxes6.size();

    std::vector<u32> items4, items6;
    build_family(boxes4, bits4, 0, 1, opt.wide_v4_len, opt, *t, t->trees4, items4);
    emit_rules(boxes4, items4, t->rules4);
    build_family(boxes6, bits6, 0, 2, opt.wide_v6_len, opt, *t, t->trees6, items6);
    emit_rules(boxes6, items6, t->rules6);

    t->stats.trees = t->trees4.size() + t->trees6.size();
    t->stats.tree_entries = t->entries.size();
    t->stats.leaf_rules = t->rules4.size() + t->rules6.size();
    t->stats.bytes = t->entries.size() * sizeof(u64) + t->rules4.size() * (sizeof(rule4) + sizeof(u32)) +
                     t->rules6.size() * (sizeof(rule6) + sizeof(u32)) + t->by_rank.size() * sizeof(verdict) +
                     (t->trees4.size() + t->trees6.size()) * sizeof(tree_root);
    _t = std::move(t);
}

classifier::~classifier() = default;
classifier::classifier(classifier&&) noexcept = default;
classifier& classifier::operator=(classifier&&) noexcept = default;

const classifier_stats& classifier::stats() const { return _t->stats; }
bool classifier::uses_ports() const noexcept { return _t->uses_ports; }

namespace {
inline u32 load32(const std::uint8_t* b) { return (u32(b[0]) << 24) | (u32(b[1]) << 16) | (u32(b[2]) << 8) | b[3]; }

inline void make_key(const flow_key& f, key4& k) {
    const u32 src = load32(f.src.data()), dst = load32(f.dst.data());
    k.v = vec4(src, dst, f.sport, f.dport, f.proto, f.ports_known ? 1 : 0);
    k.dim = {src, dst, f.proto, f.ports_known ? f.sport : port_none, f.ports_known ? f.dport : port_none};
}

inline void make_key(const flow_key& f, key6& k) {
    k.dim = {load64(f.src.data()), load64(f.src.data() + 8), load64(f.dst.data()), load64(f.dst.data() + 8),
             f.proto, f.ports_known ? f.sport : port_none, f.ports_known ? f.dport : port_none};
    k.src = vec64_signed(k.dim[0], k.dim[1]);
    k.dst = vec64_signed(k.dim[2], k.dim[3]);
    const std::uint16_t ports = f.ports_known ? 1 : 0;
    k.misc = vec6_misc(f.sport, f.dport, f.proto, ports, f.sport, f.dport, f.proto, ports);
}

inline u32 classify_one(const classifier::tables& t, const flow_key& f) {
    if (f.family == ip_family::v4) {
        key4 k;
        make_key(f, k);
        return lookup(t, t.trees4, t.rules4, k);
    }
    key6 k;
    make_key(f, k);
    return lookup(t, t.trees6, t.rules6, k);
}

// Burst lookup for one family, n <= 32 keys: each tree is walked one level at a time across
// the whole burst, so the independent loads of different packets overlap instead of each
// packet waiting for its own chain of cache misses; each leaf is prefetched as soon as the walk
// reaches it, so its rules load while the rest of the burst is still walking.
template <class Rule, class Key>
void lookup_burst(const classifier::tables& t, const std::vector<tree_root>& roots, const leaf_rules<Rule>& rules,
                  const Key* keys, std::size_t n, u32* best) {
    std::array<u64, classifier::burst_size> e;
    std::array<std::uint8_t, classifier::burst_size> act, walk;
    for (std::size_t i = 0; i < n; ++i) best[i] = no_policy;
    const u64* entries = t.entries.data();
    const Rule* const rule_base = rules.rules.data();
    const u32* const rank_base = rules.ranks.data();
    for (const tree_root& root : roots) {
        // Packets that can still improve on this tree (branch-free: the slot is written either
        // way, the count moves only for active packets).
        std::size_t m = 0;
        for (std::size_t i = 0; i < n; ++i) {
            act[m] = std::uint8_t(i);
            e[i] = root.entry;
            m += best[i] > root.min_rank ? 1 : 0;
        }
        if (m == 0) break;  // roots are ordered by min_rank: later trees cannot win either
        if (root.entry & leaf_flag) {
            __builtin_prefetch(rule_base + u32(root.entry));
            __builtin_prefetch(rank_base + u32(root.entry));
        } else {
            walk = act;
            std::size_t live = m;
            while (live) {
                std::size_t next = 0;
                for (std::size_t j = 0; j < live; ++j) {
                    const std::size_t i = walk[j];
                    const u64 y = entries[child_slot(e[i], keys[i].dim.data())];
                    e[i] = y;
                    walk[next] = std::uint8_t(i);
                    // A leaf's rules and ranks are prefetched now; an inner node prefetches entry 0
                    // (harmless).
                    const u64 is_leaf = y >> 63;
                    const u32 leaf_first = u32(y) & u32(0 - is_leaf);
                    __builtin_prefetch(rule_base + leaf_first);
                    __builtin_prefetch(rank_base + leaf_first);
                    next += 1 - is_leaf;
                }
                live = next;
            }
        }
        for (std::size_t j = 0; j < m; ++j) {
            const std::size_t i = act[j];
            const u32 first = u32(e[i]), count = u32(e[i] >> 32) & 0x7fffffffu;
            const Rule* r = rules.rules.data() + first;
            const u32* rank = rules.ranks.data() + first;
            if (count == 0) continue;
            if (rank[count - 1] < best[i]) {
                // Every rule here beats what the packet has (always so in its first tree): the
                // first match wins, no rank load and branch per rule.
                u32 q = 0;
                while (q < count && !match(r[q], keys[i])) ++q;
                if (q < count) best[i] = rank[q];
            } else {
                for (u32 q = 0; q < count; ++q) {
                    if (rank[q] >= best[i]) break;
                    if (match(r[q], keys[i])) { best[i] = rank[q]; break; }
                }
            }
        }
    }
}
} // namespace

verdict classifier::classify(const flow_key& k) const noexcept {
    u32 rank = classify_one(*_t, k);
    return rank == no_policy ? _t->fallback : _t->by_rank[rank];
}

void classifier::classify(std::span<const flow_key> in, std::span<verdict> out) const noexcept {
    const tables& t = *_t;
    const verdict* const by_rank = t.by_rank.data();  // no_policy (no match) maps to the fallback
    std::array<key4, burst_size> k4;
    std::array<key6, burst_size> k6;
    std::array<std::uint8_t, burst_size> at4, at6;
    std::array<u32, burst_size> best4, best6;
    for (std::size_t base = 0; base < in.size(); base += burst_size) {
        const std::size_t n = std::min(burst_size, in.size() - base);
        std::size_t n4 = 0, n6 = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const flow_key& f = in[base + i];
            if (f.family == ip_family::v4) { make_key(f, k4[n4]); at4[n4++] = std::uint8_t(i); }
            else { make_key(f, k6[n6]); at6[n6++] = std::uint8_t(i); }
        }
        if (n4) lookup_burst(t, t.trees4, t.rules4, k4.data(), n4, best4.data());
        if (n6) lookup_burst(t, t.trees6, t.rules6, k6.data(), n6, best6.data());
        for (std::size_t j = 0; j < n4; ++j)
            out[base + at4[j]] = by_rank[std::min(best4[j], t.ranks)];
        for (std::size_t j = 0; j < n6; ++j)
            out[base + at6[j]] = by_rank[std::min(best6[j], t.ranks)];
    }
}

} // namespace spd
