#pragma once
// The reference classifier: policies in priority order, first match wins. Obviously correct
// and O(rules) per packet; the compiled classifier is tested against it.
#include "spd/types.hpp"

#include <span>
#include <vector>

namespace spd {

class linear_classifier {
public:
    // Keeps the policies of direction dir, ordered by priority (stable: ties keep list order).
    linear_classifier(std::span<const policy> policies, direction dir, action default_action);

    verdict classify(const flow_key& k) const noexcept;
    // out.size() must be >= in.size().
    void classify(std::span<const flow_key> in, std::span<verdict> out) const noexcept;

    std::size_t size() const { return _order.size(); }

private:
    std::vector<policy> _policies;        // a copy: the classifier owns what it reads
    std::vector<std::uint32_t> _order;    // indices into _policies by (priority, position)
    action _default;
};

} // namespace spd
