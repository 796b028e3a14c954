// Route table construction from the static config.
#include "dataplane/route.hpp"

#include "dataplane/config.hpp"

#include <algorithm>

namespace dataplane {

void route_table::add(const route_entry& r) {
    auto at = std::find_if(_routes.begin(), _routes.end(), [&](const route_entry& e) { return e.dst.len < r.dst.len; });
    _routes.insert(at, r);
}

route_table build_routes(const config& c) {
    route_table t;
    for (std::size_t i = 0; i < c.ports.size(); ++i) t.add({c.ports[i].ip.subnet(), 0, std::uint16_t(i)});
    for (const auto& r : c.routes) t.add({r.dst, r.via.value_or(0), std::uint16_t(r.port)});
    for (std::size_t i = 0; i < c.ports.size(); ++i)
        if (c.ports[i].gateway) t.add({prefix4{0, 0}, *c.ports[i].gateway, std::uint16_t(i)});
    return t;
}

} // namespace dataplane
