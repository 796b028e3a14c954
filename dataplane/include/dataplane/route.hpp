#pragma once
// The IPv4 route table: connected subnets of the ports, static routes and the ports' default
// gateways, longest prefix first. Built once per snapshot; lookups are a scan over a few
// dozen entries sorted by prefix length (a vRouter's tunnel gateway has few routes; the
// per-tunnel selectors live in the SPD, not here).
#include "dataplane/addr.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace dataplane {

struct config;

struct route_entry {
    prefix4 dst;
    ipv4 via = 0;            // 0: directly connected, the next hop is the destination itself
    std::uint16_t port = 0;  // index into the config's ports
};

struct next_hop {
    std::uint16_t port = 0;
    ipv4 ip = 0;
};

class route_table {
public:
    void add(const route_entry& r);  // keeps longest-prefix-first order (stable for equal lengths)
    [[nodiscard]] std::optional<next_hop> lookup(ipv4 dst) const {
        for (const auto& r : _routes)
            if (r.dst.contains(dst)) return next_hop{r.port, r.via ? r.via : dst};
        return std::nullopt;
    }
    [[nodiscard]] const std::vector<route_entry>& entries() const { return _routes; }

private:
    std::vector<route_entry> _routes;
};

// Connected subnets first, then configured routes, then a 0/0 for each port with a gateway.
route_table build_routes(const config& c);

} // namespace dataplane
