// Fuzz target: the policy JSON parser, then (for inputs that parse) a differential check of the
// compiled classifier against the linear reference on flows derived from the input bytes.
// Contract: parse_policy_json either returns or throws policy_error; classifiers never disagree.
#include <spd/classifier.hpp>
#include <spd/linear.hpp>
#include <spd/policy_json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    spd::policy_set set;
    try {
        set = spd::parse_policy_json(text);
    } catch (const spd::policy_error&) {
        return 0;
    }
    std::size_t boxes = 0;
    for (const auto& p : set.policies) boxes += std::max<std::size_t>(1, p.src.size()) * std::max<std::size_t>(1, p.dst.size());
    if (boxes > 20000) return 0;  // keep each run fast
    spd::linear_classifier lin(set.policies, spd::direction::out, set.default_action);
    spd::classifier cls(set.policies, spd::direction::out, set.default_action, spd::build_options{.leaf_size = 1});
    // Flows: addresses taken from the policies' own prefixes and from the input bytes.
    std::size_t pos = 0;
    auto byte = [&]() -> std::uint8_t { return size ? data[pos++ % size] : 0; };
    for (std::size_t n = 0; n < 64; ++n) {
        spd::flow_key k;
        const spd::policy* p = set.policies.empty() ? nullptr : &set.policies[n % set.policies.size()];
        k.family = (byte() & 1) ? spd::ip_family::v6 : spd::ip_family::v4;
        if (p && !p->src.empty()) { k.family = p->src[0].family; k.src = p->src[0].addr; }
        if (p && !p->dst.empty() && p->dst[0].family == k.family) k.dst = p->dst[0].addr;
        const std::size_t len = k.family == spd::ip_family::v4 ? 4 : 16;
        k.src[len - 1] ^= byte() & 0x0f;
        k.dst[len - 1] ^= byte() & 0x0f;
        k.proto = p && p->proto && (byte() & 3) ? *p->proto : byte();
        k.ports_known = spd::has_ports(k.proto) && (byte() & 7);
        if (k.ports_known) {
            k.sport = std::uint16_t(p && !(byte() & 1) ? p->sport.lo : byte() << 8 | byte());
            k.dport = std::uint16_t(p && !(byte() & 1) ? p->dport.hi : byte() << 8 | byte());
        }
        if (!(lin.classify(k) == cls.classify(k))) std::abort();
    }
    return 0;
}
