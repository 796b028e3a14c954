// Snapshot construction from the static configuration.
#include "dataplane/tables.hpp"

#include "dataplane/sa_spec.hpp"

#include <spd/policy_json.hpp>
#include <spd/types.hpp>

namespace dataplane {

using nlohmann::json;

std::vector<spd::policy> parse_policy_object(const json& obj, spd::action& default_action) {
    // One parser for the format, spd's (shared with ipsec-vector spd-classify).
    try {
        auto set = spd::parse_policy_value(obj);
        default_action = set.default_action;
        return std::move(set.policies);
    } catch (const spd::policy_error& e) {
        throw config_error("static.policies", e.what());
    }
}

namespace {
ipv4 v4_of(const esp::ip_address& a) {
    return ipv4(a.bytes[0]) << 24 | ipv4(a.bytes[1]) << 16 | ipv4(a.bytes[2]) << 8 | a.bytes[3];
}
constexpr const char* outer_v4_only = "outer addresses must be IPv4 (IPv6 outer not handled by the data plane yet)";
} // namespace

std::optional<out_sa_entry> make_out_sa_entry(const std::string& name, const esp::sa_config& sc, std::string& error) {
    if (!sc.src.is_v4() || !sc.dst.is_v4()) {
        error = outer_v4_only;
        return std::nullopt;
    }
    auto r = esp::outbound_sa::create(sc);
    if (!r) {
        error = r.error;
        return std::nullopt;
    }
    out_sa_entry e;
    e.name = name;
    e.local = v4_of(sc.src);
    e.peer = v4_of(sc.dst);
    e.headroom = std::uint16_t(r.sa->headroom());
    e.overhead = r.sa->headroom() + r.sa->tailroom();
    e.block = esp::params(sc.enc).block_size;
    e.icv = esp::icv_len(sc.enc, sc.integ);
    e.sa = std::shared_ptr<esp::outbound_sa>(std::move(r.sa));
    return e;
}

std::optional<in_sa_entry> make_in_sa_entry(const std::string& name, const esp::sa_config& sc, std::string& error) {
    if (!sc.src.is_v4() || !sc.dst.is_v4()) {
        error = outer_v4_only;
        return std::nullopt;
    }
    auto r = esp::inbound_sa::create(sc);
    if (!r) {
        error = r.error;
        return std::nullopt;
    }
    in_sa_entry e;
    e.name = name;
    e.spi = sc.spi;
    e.local = v4_of(sc.dst);
    e.sa = std::shared_ptr<esp::inbound_sa>(std::move(r.sa));
    return e;
}

std::unique_ptr<tables> build_tables(const config& c) { return build_tables(c, dynamic_entries{}); }

std::unique_ptr<tables> build_tables(const config& c, const dynamic_entries& d) {
    auto t = std::make_unique<tables>();
    t->routes = build_routes(c);

    std::unordered_map<std::string, std::pair<sa_direction, std::uint32_t>> by_name;
    for (std::size_t i = 0; i < c.sas.size(); ++i) {
        const auto& s = c.sas[i];
        auto key = "static.sas[" + std::to_string(i) + "].spec";
        esp::sa_config sc;
        try {
            sc = parse_sa_spec(s.spec);
        } catch (const spec_error& e) {
            throw config_error(key, e.what());
        }
        std::string err;
        if (s.direction == sa_direction::out) {
            auto e = make_out_sa_entry(s.name, sc, err);
            if (!e) throw config_error(key, err);
            by_name[s.name] = {sa_direction::out, std::uint32_t(t->out_sas.size())};
            t->out_sas.push_back(std::move(*e));
        } else {
            auto e = make_in_sa_entry(s.name, sc, err);
            if (!e) throw config_error(key, err);
            if (t->sad.contains(sc.spi)) throw config_error(key, "inbound SPI used twice");
            e->policy_tag = std::uint32_t(t->in_sas.size());
            t->sad[sc.spi] = std::uint32_t(t->in_sas.size());
            by_name[s.name] = {sa_direction::in, std::uint32_t(t->in_sas.size())};
            t->in_sas.push_back(std::move(*e));
        }
    }

    spd::action def = spd::action::bypass;
    if (!c.policies.is_null()) t->policies = parse_policy_object(c.policies, def);
    for (std::size_t i = 0; i < t->policies.size(); ++i) {
        auto& p = t->policies[i];
        auto key = "static.policies.policies[" + std::to_string(i) + "].sa";
        if (p.act != spd::action::protect) {
            if (!p.sa.empty()) throw config_error(key, "only protect policies name an SA");
            continue;
        }
        if (p.sa.empty()) throw config_error(key, "missing (protect needs an SA)");
        auto it = by_name.find(p.sa);
        if (it == by_name.end()) throw config_error(key, "no SA named '" + p.sa + "'");
        auto want = p.dir == spd::direction::out ? sa_direction::out : sa_direction::in;
        if (it->second.first != want)
            throw config_error(key, "SA '" + p.sa + "' has the other direction than the policy");
        p.sa_handle = it->second.second;
    }
    // Run-time entries after the static ones: out handles shifted by the static SA count, in
    // tags kept above dynamic_tag_base so they never meet a static SA's index.
    const auto out_base = std::uint32_t(t->out_sas.size());
    for (std::size_t i = 0; i < d.in_sas.size(); ++i) {
        auto key = "dynamic.in_sas[" + std::to_string(i) + "]";
        const auto& e = d.in_sas[i];
        if (e.policy_tag >= dynamic_tag_base) throw config_error(key, "policy tag out of range");
        if (t->sad.contains(e.spi)) throw config_error(key, "inbound SPI used twice");
        t->sad[e.spi] = std::uint32_t(t->in_sas.size());
        t->in_sas.push_back(e);
        t->in_sas.back().policy_tag += dynamic_tag_base;
    }
    for (const auto& e : d.out_sas) t->out_sas.push_back(e);
    // The per-packet SPI lookup: a flat open-addressing table (the map above checks duplicates).
    std::vector<spd::sad_entry> spis;
    spis.reserve(t->sad.size());
    for (const auto& [spi, index] : t->sad) spis.push_back({spi, std::nullopt, index});
    try {
        t->spi_index = spd::sad(spis);
    } catch (const std::invalid_argument& e) {
        throw config_error("sas", e.what());  // SPI 0 (RFC 4303 2.1): the spec parser rejects it first
    }
    for (std::size_t i = 0; i < d.policies.size(); ++i) {
        auto p = d.policies[i];
        auto key = "dynamic.policies[" + std::to_string(i) + "]";
        if (p.act == spd::action::protect && p.sa_handle != spd::no_sa) {
            if (p.dir == spd::direction::out) {
                if (p.sa_handle >= d.out_sas.size()) throw config_error(key, "no such outbound SA");
                p.sa_handle += out_base;
            } else {
                if (p.sa_handle >= dynamic_tag_base) throw config_error(key, "policy tag out of range");
                p.sa_handle += dynamic_tag_base;
            }
        }
        t->policies.push_back(std::move(p));
    }
    t->vips = d.vips;
    for (const auto& v : t->vips) t->vip_filter.add(v.addr);
    t->no_sa_hit = std::make_unique<std::atomic<std::uint8_t>[]>(t->policies.size());
    t->spd_out = std::make_unique<spd::classifier>(t->policies, spd::direction::out, def);
    t->spd_in = std::make_unique<spd::classifier>(t->policies, spd::direction::in, def);
    return t;
}

} // namespace dataplane
