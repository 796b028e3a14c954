// Tunnel plan -> ike::peer_config and spd::policy (see tunnel_compile.hpp).
#include "tunnel_compile.hpp"

#include <boost/asio/ip/address_v4.hpp>

namespace ipsecd {

namespace {
ike::ip_address to_address(control::ipv4 a) { return boost::asio::ip::address_v4(a.value); }

spd::ip_prefix to_prefix(const control::ipv4_cidr& c) {
    spd::ip_prefix p;
    p.family = spd::ip_family::v4;
    std::uint32_t v = c.network.value & c.mask();
    p.addr[0] = std::uint8_t(v >> 24);
    p.addr[1] = std::uint8_t(v >> 16);
    p.addr[2] = std::uint8_t(v >> 8);
    p.addr[3] = std::uint8_t(v);
    p.len = std::uint8_t(c.prefix);
    return p;
}
} // namespace

ike::peer_identity to_ike_identity(const control::peer_identity& id) {
    ike::peer_identity out;
    switch (id.type) {
    case control::id_type::ipv4_addr: {
        if (auto a = control::ipv4::parse(id.value)) {
            out.type = ike::peer_identity::ipv4;
            auto b = boost::asio::ip::address_v4(a->value).to_bytes();
            out.data.assign(b.begin(), b.end());
            return out;
        }
        // Not an address (validation should have caught it): send it as an FQDN rather than fail.
        out.type = ike::peer_identity::fqdn;
        break;
    }
    case control::id_type::fqdn: out.type = ike::peer_identity::fqdn; break;
    case control::id_type::key_id: out.type = ike::peer_identity::key_id; break;
    }
    out.data.assign(id.value.begin(), id.value.end());
    return out;
}

std::optional<ike::peer_config> to_ike_peer(const control::peer_config& p, std::string& error) {
    if (p.tunnel_uuid.empty()) {
        error = "tunnel without uuid";
        return std::nullopt;
    }
    if (p.psk.size() == 0) {
        error = "tunnel " + p.tunnel_uuid + " has no pre-shared key";
        return std::nullopt;
    }
    if (p.ike.text.empty() || p.esp.text.empty()) {
        error = "tunnel " + p.tunnel_uuid + " has no IKE or ESP proposal";
        return std::nullopt;
    }
    ike::peer_config c;
    c.name = p.tunnel_uuid;
    c.local_address = to_address(p.local_address);
    c.peer_address = to_address(p.peer_address);
    c.local_id = to_ike_identity(p.local_id);
    c.peer_id = to_ike_identity(p.remote_id);
    c.psks.push_back({c.local_id, c.peer_id, p.psk});
    c.ike_proposals = {p.ike.text};
    c.esp_proposals = {p.esp.text};
    for (const auto& l : p.local_cidrs) {
        auto v = to_ike_cidr(l);
        if (!v) {
            error = "bad local CIDR " + l.str();
            return std::nullopt;
        }
        c.local_ts.push_back(*v);
    }
    for (const auto& r : p.peer_cidrs) {
        auto v = to_ike_cidr(r);
        if (!v) {
            error = "bad peer CIDR " + r.str();
            return std::nullopt;
        }
        c.peer_ts.push_back(*v);
    }
    c.force_encap = p.nat_t == control::nat_t_mode::force;
    c.ike_lifetime_seconds = p.ike_lifetime_s;
    c.child_lifetime_seconds = p.child_lifetime_s;
    c.dpd_delay = std::chrono::seconds(p.dpd_delay_s);
    switch (p.dpd) {
    case control::dpd_action::restart: c.dpd_action = ike::peer_config::dead_peer_action::restart; break;
    case control::dpd_action::clear: c.dpd_action = ike::peer_config::dead_peer_action::clear; break;
    case control::dpd_action::hold: c.dpd_action = ike::peer_config::dead_peer_action::hold; break;
    }
    return c;
}

std::optional<ike::cidr> to_ike_cidr(const control::ipv4_cidr& c) {
    if (c.prefix < 0 || c.prefix > 32) return std::nullopt;
    return ike::cidr{to_address(c.network), std::uint8_t(c.prefix)};
}

std::vector<ike::cidr> to_ike_cidrs(const std::vector<control::ipv4_cidr>& list) {
    std::vector<ike::cidr> out;
    for (const auto& c : list)
        if (auto v = to_ike_cidr(c)) out.push_back(*v);
    return out;
}

std::vector<spd::policy> to_spd_policies(const std::vector<control::spd_policy>& policies) {
    std::vector<spd::policy> out;
    std::size_t n_out = 0, n_in = 0;
    for (const auto& sp : policies) {
        spd::policy p;
        const bool outbound = sp.direction == control::policy_direction::out;
        p.name = sp.tunnel_uuid + (outbound ? "/out/" + std::to_string(n_out++) : "/in/" + std::to_string(n_in++));
        p.priority = sp.priority;
        p.dir = outbound ? spd::direction::out : spd::direction::in;
        p.src = {to_prefix(sp.src)};
        p.dst = {to_prefix(sp.dst)};
        switch (sp.action) {
        case control::policy_action::protect: p.act = spd::action::protect; break;
        case control::policy_action::bypass: p.act = spd::action::bypass; break;
        case control::policy_action::discard: p.act = spd::action::discard; break;
        }
        p.sa = sp.tunnel_uuid;
        p.sa_handle = spd::no_sa;
        out.push_back(std::move(p));
    }
    return out;
}

} // namespace ipsecd
