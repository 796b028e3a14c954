#include "spd/linear.hpp"

#include <algorithm>

namespace spd {

linear_classifier::linear_classifier(std::span<const policy> policies, direction dir, action default_action)
    : _policies(policies.begin(), policies.end()), _default(default_action) {
    for (std::uint32_t i = 0; i < _policies.size(); ++i)
        if (_policies[i].dir == dir) _order.push_back(i);
    std::stable_sort(_order.begin(), _order.end(), [&](std::uint32_t a, std::uint32_t b) {
        return _policies[a].priority < _policies[b].priority;
    });
}

verdict linear_classifier::classify(const flow_key& k) const noexcept {
    for (std::uint32_t i : _order) {
        const policy& p = _policies[i];
        if (selectors_match(p, k)) return verdict{i, p.act == action::protect ? p.sa_handle : no_sa, p.act};
    }
    return verdict{no_policy, no_sa, _default};
}

void linear_classifier::classify(std::span<const flow_key> in, std::span<verdict> out) const noexcept {
    for (std::size_t i = 0; i < in.size(); ++i) out[i] = classify(in[i]);
}

} // namespace spd
