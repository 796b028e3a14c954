// The IKE endpoint's SA installer in ipsecd (see sa_table.hpp).
#include "sa_table.hpp"

#include <esp/algorithms.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace ipsecd {

namespace {
std::optional<esp::ip_address> to_esp_address(const boost::asio::ip::address& a) {
    if (!a.is_v4()) return std::nullopt;
    return esp::ip_address::v4(a.to_v4().to_uint());
}
const char* dir_name(ike::sa_direction d) { return d == ike::sa_direction::inbound ? "inbound" : "outbound"; }

// An address as 16 network-order bytes (IPv4 in the first 4, like spd::ip_prefix).
std::array<std::uint8_t, 16> address_bytes(const boost::asio::ip::address& a) {
    std::array<std::uint8_t, 16> b{};
    if (a.is_v4()) {
        auto v4 = a.to_v4().to_bytes();
        std::copy(v4.begin(), v4.end(), b.begin());
    } else {
        b = a.to_v6().to_bytes();
    }
    return b;
}

// How an outbound policy's addresses relate to a CHILD SA's selectors for one side.
enum class fit { covered, overlaps, apart };

// An SA without selectors on a side (not from a negotiation) covers the whole tunnel there.
fit prefix_fit(const spd::ip_prefix& p, const std::vector<ike::esp_selector>& sels) {
    if (sels.empty()) return fit::covered;
    const std::size_t n = p.family == spd::ip_family::v4 ? 4 : 16;
    auto lo = p.addr, hi = p.addr;
    for (unsigned bit = p.len; bit < n * 8; ++bit) hi[bit / 8] |= std::uint8_t(0x80u >> (bit % 8));
    auto less_eq = [n](const std::array<std::uint8_t, 16>& a, const std::array<std::uint8_t, 16>& b) {
        return !std::lexicographical_compare(b.begin(), b.begin() + std::ptrdiff_t(n), a.begin(), a.begin() + std::ptrdiff_t(n));
    };
    fit best = fit::apart;
    for (const auto& s : sels) {
        if (s.start.is_v4() != (p.family == spd::ip_family::v4)) continue;
        auto start = address_bytes(s.start), end = address_bytes(s.end);
        if (less_eq(start, lo) && less_eq(hi, end)) return fit::covered;
        if (less_eq(start, hi) && less_eq(lo, end)) best = fit::overlaps;
    }
    return best;
}

// The worse fit of all the policy's prefixes on one side (an empty list means any address).
fit side_fit(const std::vector<spd::ip_prefix>& prefixes, const std::vector<ike::esp_selector>& sels) {
    if (prefixes.empty()) {
        const auto f4 = prefix_fit(*spd::ip_prefix::parse("0.0.0.0/0"), sels);
        const auto f6 = prefix_fit(*spd::ip_prefix::parse("::/0"), sels);
        if (f4 == fit::covered && f6 == fit::covered) return fit::covered;
        return f4 == fit::apart && f6 == fit::apart ? fit::apart : fit::overlaps;
    }
    fit worst = fit::covered;
    for (const auto& p : prefixes) worst = std::max(worst, prefix_fit(p, sels));
    return worst;
}
} // namespace

std::optional<esp::sa_config> to_esp_config(const ike::esp_sa_install& sa, std::uint32_t replay_window,
                                            std::string& error) {
    esp::sa_config c;
    c.spi = sa.spi;
    auto src = to_esp_address(sa.tunnel_src), dst = to_esp_address(sa.tunnel_dst);
    if (!src || !dst) {
        error = "outer addresses must be IPv4";
        return std::nullopt;
    }
    c.src = *src;
    c.dst = *dst;
    auto enc = esp::parse_enc(sa.encryption);
    if (!enc) {
        error = "encryption '" + sa.encryption + "' not supported by the data plane";
        return std::nullopt;
    }
    c.enc = *enc;
    auto integ = esp::parse_integ(sa.integrity.empty() ? "none" : sa.integrity);
    if (!integ) {
        error = "integrity '" + sa.integrity + "' not supported by the data plane";
        return std::nullopt;
    }
    c.integ = *integ;
    c.enc_key = sa.encryption_key;
    c.integ_key = sa.integrity_key;
    c.esn = sa.esn;
    c.replay_window = replay_window;
    if (sa.encap) c.natt = esp::udp_encap{sa.encap->src_port, sa.encap->dst_port};
    if (auto why = esp::validate(c); !why.empty()) {
        error = why;
        return std::nullopt;
    }
    return c;
}

sa_table::sa_table(publish_fn publish, log_fn log) : _publish(std::move(publish)), _log(std::move(log)) {}

void sa_table::set_tunnel(const std::string& uuid, std::vector<spd::policy> policies, std::uint32_t replay_window) {
    auto [it, fresh] = _tunnels.try_emplace(uuid);
    if (fresh) it->second.tag = _next_tag++;
    it->second.replay_window = replay_window;
    it->second.policies = std::move(policies);
    for (auto& p : it->second.policies) p.sa = uuid;
    republish();
}

void sa_table::remove_tunnel(const std::string& uuid) {
    if (_tunnels.erase(uuid)) republish();
}

void sa_table::set_vips(std::vector<dataplane::local_address> vips) {
    auto same = [](const dataplane::local_address& a, const dataplane::local_address& b) {
        return a.port == b.port && a.addr == b.addr;
    };
    if (vips.size() == _vips.size() && std::equal(vips.begin(), vips.end(), _vips.begin(), same)) return;
    _vips = std::move(vips);
    republish();
}

void sa_table::install_sa(const ike::esp_sa_install& sa) {
    auto it = _tunnels.find(sa.peer);
    const char* dir = dir_name(sa.direction);
    if (it == _tunnels.end()) {
        ++_install_failures;
        if (_log) _log(sa.peer, fmt::format("{} ESP SA {:08x} not installed: no such tunnel", dir, sa.spi));
        return;
    }
    auto& t = it->second;
    std::string err;
    auto cfg = to_esp_config(sa, t.replay_window, err);
    const auto name = fmt::format("{}/{}/{:08x}", sa.peer, sa.direction == ike::sa_direction::inbound ? "in" : "out", sa.spi);
    if (cfg && sa.direction == ike::sa_direction::outbound) {
        auto e = dataplane::make_out_sa_entry(name, *cfg, err);
        if (e) {
            t.out.push_back({sa.reqid, std::move(*e), sa.src_selectors, sa.dst_selectors});
            if (_log) _log(sa.peer, fmt::format("installed outbound ESP SA {:08x} reqid {} ({}{}{})", sa.spi, sa.reqid,
                                                sa.encryption, sa.integrity.empty() ? "" : "/", sa.integrity));
            return republish();
        }
    } else if (cfg) {
        bool dup = false;
        for (const auto& [u, other] : _tunnels)
            for (const auto& r : other.in) dup = dup || r.entry.spi == sa.spi;
        if (dup) {
            err = "inbound SPI already installed";
        } else if (auto e = dataplane::make_in_sa_entry(name, *cfg, err)) {
            e->policy_tag = t.tag;
            t.in.push_back({sa.reqid, std::move(*e)});
            if (_log) _log(sa.peer, fmt::format("installed inbound ESP SA {:08x} reqid {}", sa.spi, sa.reqid));
            return republish();
        }
    }
    ++_install_failures;
    if (_log) _log(sa.peer, fmt::format("{} ESP SA {:08x} not installed: {}", dir, sa.spi, err));
}

void sa_table::remove_sa(ike::sa_direction direction, std::uint32_t spi) {
    for (auto& [uuid, t] : _tunnels) {
        if (direction == ike::sa_direction::outbound) {
            auto it = std::find_if(t.out.begin(), t.out.end(), [&](const out_rec& r) { return r.entry.sa->spi() == spi; });
            if (it == t.out.end()) continue;
            t.out.erase(it);
        } else {
            auto it = std::find_if(t.in.begin(), t.in.end(), [&](const in_rec& r) { return r.entry.spi == spi; });
            if (it == t.in.end()) continue;
            t.in.erase(it);
        }
        if (_log) _log(uuid, fmt::format("removed {} ESP SA {:08x}", dir_name(direction), spi));
        return republish();
    }
}

dataplane::dynamic_entries sa_table::describe() const {
    dataplane::dynamic_entries d;
    d.vips = _vips;
    for (const auto& [uuid, t] : _tunnels) {
        const auto first_out = std::uint32_t(d.out_sas.size());
        for (const auto& r : t.out) d.out_sas.push_back(r.entry);
        for (const auto& r : t.in) d.in_sas.push_back(r.entry);
        for (auto p : t.policies) {
            if (p.act == spd::action::protect)
                p.sa_handle = p.dir == spd::direction::out ? outbound_handle(t, p, first_out) : t.tag;
            d.policies.push_back(std::move(p));
        }
    }
    return d;
}

std::uint32_t sa_table::outbound_handle(const tunnel_rec& t, const spd::policy& p, std::uint32_t first_out) {
    // Newest first: a rekeyed SA takes over from the one it replaces.
    std::uint32_t overlapping = spd::no_sa;
    for (std::size_t i = t.out.size(); i-- > 0;) {
        const auto& r = t.out[i];
        auto f = std::max(side_fit(p.src, r.src), side_fit(p.dst, r.dst));
        if (f == fit::covered) return first_out + std::uint32_t(i);
        if (f == fit::overlaps && overlapping == spd::no_sa) overlapping = first_out + std::uint32_t(i);
    }
    return overlapping;
}

std::vector<std::string> sa_table::policies_without_sa(const std::string& uuid) const {
    std::vector<std::string> out;
    auto it = _tunnels.find(uuid);
    if (it == _tunnels.end()) return out;
    for (const auto& p : it->second.policies)
        if (p.act == spd::action::protect && p.dir == spd::direction::out &&
            outbound_handle(it->second, p, 0) == spd::no_sa)
            out.push_back(p.name);
    return out;
}

void sa_table::republish() {
    _out_by_spi.clear();
    _in_by_spi.clear();
    for (const auto& [uuid, t] : _tunnels) {
        for (const auto& r : t.out) _out_by_spi[r.entry.sa->spi()] = r.entry.sa;  // install order: newest last
        for (const auto& r : t.in) _in_by_spi[r.entry.spi] = r.entry.sa;
    }
    if (_publish) _publish(describe());
}

std::vector<sa_table::sa_view> sa_table::sas_of(const std::string& uuid) const {
    std::vector<sa_view> v;
    auto it = _tunnels.find(uuid);
    if (it == _tunnels.end()) return v;
    for (const auto& r : it->second.out) {
        const auto& c = r.entry.sa->counters();
        v.push_back({uuid, ike::sa_direction::outbound, r.entry.sa->spi(), r.reqid, c.packets, c.bytes, c.drops_total()});
    }
    for (const auto& r : it->second.in) {
        const auto& c = r.entry.sa->counters();
        v.push_back({uuid, ike::sa_direction::inbound, r.entry.spi, r.reqid, c.packets, c.bytes, c.drops_total()});
    }
    return v;
}

std::optional<ike::sa_usage> sa_table::usage(ike::sa_direction direction, std::uint32_t spi) const {
    if (direction == ike::sa_direction::outbound) {
        auto it = _out_by_spi.find(spi);
        if (it == _out_by_spi.end()) return std::nullopt;
        const auto& c = it->second->counters();
        return ike::sa_usage{c.packets, c.bytes, it->second->next_seq()};
    }
    auto it = _in_by_spi.find(spi);
    if (it == _in_by_spi.end()) return std::nullopt;
    const auto& c = it->second->counters();
    return ike::sa_usage{c.packets, c.bytes, 0};
}

std::optional<sa_table::sa_view> sa_table::find(ike::sa_direction direction, std::uint32_t spi) const {
    for (const auto& [uuid, t] : _tunnels)
        for (const auto& v : sas_of(uuid))
            if (v.direction == direction && v.spi == spi) return v;
    return std::nullopt;
}

} // namespace ipsecd
