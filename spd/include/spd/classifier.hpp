#pragma once
// The compiled policy classifier: an immutable structure built on the control side from a
// policy list, read concurrently by any number of workers (no mutable state, no locks). A
// policy change builds a new classifier; the data plane publishes it (RCU) and frees the old.
//
// Structure (see docs in classifier.cpp): per address family, the policies' selector boxes
// (one per same-family src x dst prefix pair) are split into up to four groups by how wide
// their address ranges are, and each group is indexed by a multi-way cutting decision tree
// (HiCuts-style equal-size cuts on src, dst, protocol and port dimensions, node reuse,
// pruning of rules shadowed by a higher-priority rule that covers the whole node). Leaves hold
// a short priority-ordered list of compact rules checked exactly; the best rank over the
// groups wins. Lookup does no allocation, locking or virtual dispatch.
#include "spd/types.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace spd {

struct build_options {
    unsigned leaf_size = 8;        // stop cutting at this many rules
    double space_factor = 4.0;     // HiCuts spfac: replicated rules per node <= spfac * rules
    unsigned max_cut_bits = 8;     // at most 2^8 children per node
    unsigned max_depth = 40;       // safety net; a leaf holds everything left beyond it
    unsigned wide_v4_len = 8;      // IPv4 prefixes this short or shorter are "wide"
    unsigned wide_v6_len = 16;     // IPv6 ditto
    std::size_t max_replication = 64; // per tree: slots + leaf rules <= this x rules + 1024
    std::size_t small_group = 0;   // groups this small join the family's largest group (0: never)
};

struct classifier_stats {
    std::size_t policies = 0;      // policies of the classifier's direction
    std::size_t boxes_v4 = 0;      // selector boxes (src x dst prefix pairs) per family
    std::size_t boxes_v6 = 0;
    std::size_t trees = 0;         // decision trees over both families
    std::size_t tree_entries = 0;  // child slots (8 bytes each)
    std::size_t leaf_rules = 0;    // rules stored in leaves (replication included)
    std::size_t max_depth = 0;
    std::size_t max_leaf = 0;      // longest leaf list
    std::size_t bytes = 0;         // memory of the lookup tables
};

class classifier {
public:
    static constexpr std::size_t burst_size = 32;

    // Compiles the policies of direction dir. verdict.policy is the index into `policies`.
    classifier(std::span<const policy> policies, direction dir, action default_action,
               const build_options& opt = {});
    ~classifier();
    classifier(classifier&&) noexcept;
    classifier& operator=(classifier&&) noexcept;

    // Classifies in[i] into out[i]; out.size() must be >= in.size(). Any length works; the
    // fast path calls it with one burst (<= 32).
    void classify(std::span<const flow_key> in, std::span<verdict> out) const noexcept;
    verdict classify(const flow_key& k) const noexcept;

    // False when no policy of the direction has a port selector: then a flow's verdict depends
    // on its family, addresses and protocol only, and packets that agree on those share it
    // (the data plane classifies such runs of a burst once).
    bool uses_ports() const noexcept;

    const classifier_stats& stats() const;

    struct tables;
private:
    std::unique_ptr<const tables> _t;
};

} // namespace spd
