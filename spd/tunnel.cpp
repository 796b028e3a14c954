#include "spd/tunnel.hpp"

#include <algorithm>
#include <stdexcept>

namespace spd {

std::vector<policy> compile_tunnel(const tunnel_selectors& t) {
    if (t.local.empty() || t.peer.empty())
        throw std::invalid_argument("tunnel " + t.name + ": local and peer CIDRs must not be empty");
    for (ip_family f : {ip_family::v4, ip_family::v6}) {
        auto has = [f](const std::vector<ip_prefix>& l) {
            return std::any_of(l.begin(), l.end(), [f](const ip_prefix& p) { return p.family == f; });
        };
        if (has(t.local) != has(t.peer))
            throw std::invalid_argument("tunnel " + t.name + ": IPv" + std::to_string(int(f)) +
                                        " CIDRs on one side only");
    }
    policy out;
    out.name = t.name + "/out";
    out.priority = t.priority;
    out.dir = direction::out;
    out.src = t.local;
    out.dst = t.peer;
    out.act = action::protect;
    out.sa_handle = t.sa_out;
    policy in = out;
    in.name = t.name + "/in";
    in.dir = direction::in;
    in.src = t.peer;
    in.dst = t.local;
    in.sa_handle = t.sa_in;
    return {std::move(out), std::move(in)};
}

} // namespace spd
