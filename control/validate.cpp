// Field-level and whole-model validation of networks, VIPs and tunnels (issue 7).
#include "control/validate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <set>

namespace control {

using nlohmann::json;

namespace {

constexpr std::array<std::string_view, 5> auth_algorithms{"md5", "sha1", "sha256", "sha384", "sha512"};
constexpr std::array<std::string_view, 6> encryption_algorithms{"3des",    "aes-128",     "aes-192",
                                                                "aes-256", "aes-128-gcm", "aes-256-gcm"};
constexpr std::array<std::string_view, 3> id_types{"ip", "name", "fqdn"};
constexpr std::array<std::string_view, 3> dpd_actions{"restart", "clear", "hold"};
constexpr std::array<std::string_view, 2> nat_modes{"auto", "force"};

// Fields a client may send besides the tunnel's own: ZStack's envelope fields, ignored.
constexpr std::array<std::string_view, 2> ignored_fields{"systemTags", "userTags"};
constexpr std::array<std::string_view, 6> read_only_fields{"uuid",       "state",      "status",
                                                           "statusReason", "createDate", "lastOpDate"};

template <std::size_t N>
bool in(const std::array<std::string_view, N>& list, std::string_view v) {
    return std::find(list.begin(), list.end(), v) != list.end();
}

template <std::size_t N>
std::string one_of(const std::array<std::string_view, N>& list) {
    std::string s = "one of ";
    for (std::size_t i = 0; i < N; ++i) s += fmt::format("{}\"{}\"", i ? ", " : "", list[i]);
    return s;
}

bool valid_dh_group(int g) { return g == 2 || g == 5 || (g >= 14 && g <= 26) || g == 31; }
constexpr std::string_view dh_groups_allowed = "2, 5, 14..26 or 31";

// Printable text without control characters (names, descriptions); UTF-8 passes through.
bool printable_text(std::string_view s) {
    return std::none_of(s.begin(), s.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
    });
}

// Printable ASCII without whitespace (IDs).
bool printable_token(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

bool valid_fqdn(std::string_view s) {
    if (s.empty() || s.front() == '.' || s.back() == '.' || s.front() == '-') return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
               c == '.' || c == '@';
    });
}

bool valid_uuid_text(std::string_view s) {
    return s.size() == 32 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

result<std::string> get_string(const json& j, std::string_view field, std::size_t min, std::size_t max) {
    if (!j.is_string()) return api_error::invalid(std::string(field), "must be a string");
    auto s = j.get<std::string>();
    if (s.size() < min || s.size() > max)
        return api_error::invalid(std::string(field), fmt::format("length must be {}..{} characters", min, max));
    if (!printable_text(s)) return api_error::invalid(std::string(field), "control characters are not allowed");
    return s;
}

result<int> get_int(const json& j, std::string_view field, long lo, long hi) {
    if (!j.is_number_integer())
        return api_error::invalid(std::string(field), fmt::format("must be an integer in {}..{}", lo, hi));
    auto v = j.get<long long>();
    if (v < lo || v > hi) return api_error::invalid(std::string(field), fmt::format("must be in {}..{}", lo, hi));
    return int(v);
}

template <std::size_t N>
result<std::string> get_enum(const json& j, std::string_view field, const std::array<std::string_view, N>& list) {
    if (!j.is_string() || !in(list, j.get<std::string>()))
        return api_error::invalid(std::string(field), "must be " + one_of(list));
    return j.get<std::string>();
}

result<ipv4> get_ipv4(const json& j, std::string_view field) {
    if (!j.is_string()) return api_error::invalid(std::string(field), "must be an IPv4 address string");
    auto a = ipv4::parse(j.get<std::string>());
    if (!a) return api_error::invalid(std::string(field), "must be an IPv4 address (a.b.c.d)");
    return *a;
}

// Algorithm fields: DES and group 1 are refused by name so the error says why.
result<std::string> get_encryption(const json& j, std::string_view field) {
    if (j.is_string() && (j.get<std::string>() == "des" || j.get<std::string>() == "DES"))
        return api_error::invalid(std::string(field), "DES is refused (broken); use " + one_of(encryption_algorithms));
    return get_enum(j, field, encryption_algorithms);
}

result<int> get_dh_group(const json& j, std::string_view field) {
    if (j.is_number_integer() && j.get<long long>() == 1)
        return api_error::invalid(std::string(field), fmt::format("group 1 (MODP-768) is refused; allowed: {}", dh_groups_allowed));
    if (!j.is_number_integer() || !valid_dh_group(int(std::clamp<long long>(j.get<long long>(), -1, 1000))))
        return api_error::invalid(std::string(field), fmt::format("must be a DH group number: {}", dh_groups_allowed));
    return int(j.get<long long>());
}

result<std::string> get_pfs(const json& j) {
    std::string_view field = "pfs";
    constexpr std::string_view allowed = "\"none\", \"dh-group2\", \"dh-group5\", \"dh-group14\"..\"dh-group26\" or \"dh-group31\"";
    if (!j.is_string()) return api_error::invalid(std::string(field), fmt::format("must be {}", allowed));
    auto s = j.get<std::string>();
    if (s == "none") return s;
    if (s == "dh-group1") return api_error::invalid(std::string(field), fmt::format("dh-group1 (MODP-768) is refused; allowed: {}", allowed));
    if (s.rfind("dh-group", 0) == 0) {
        auto num = s.substr(8);
        if (!num.empty() && num.size() <= 2 && std::all_of(num.begin(), num.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
            num[0] != '0' && valid_dh_group(std::stoi(num)))
            return s;
    }
    return api_error::invalid(std::string(field), fmt::format("must be {}", allowed));
}

// authKey: printable ASCII without ", space, `, \ or ' (those break the peer's config files
// and the shells of people who paste them; issue 7).
status check_auth_key(std::string_view k) {
    if (k.empty() || k.size() > 255) return api_error::invalid("authKey", "length must be 1..255 characters");
    for (char c : k) {
        if (c == '"' || c == ' ' || c == '`' || c == '\\' || c == '\'')
            return api_error::invalid("authKey", "must not contain \", space, `, \\ or '");
        if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e)
            return api_error::invalid("authKey", "only printable ASCII characters are allowed");
    }
    return std::nullopt;
}

} // namespace

result<std::vector<ipv4_cidr>> parse_cidr_list(const json& j, std::string_view field) {
    if (!j.is_array()) return api_error::invalid(std::string(field), "must be a list of IPv4 CIDRs");
    std::vector<ipv4_cidr> out;
    for (const auto& e : j) {
        if (!e.is_string()) return api_error::invalid(std::string(field), "must be a list of IPv4 CIDR strings");
        auto c = ipv4_cidr::parse(e.get<std::string>());
        if (!c) {
            ipv4 host;
            if (auto loose = ipv4_cidr::parse_host(e.get<std::string>(), &host))
                return api_error::invalid(std::string(field), fmt::format("\"{}\" has host bits set; did you mean {}?",
                                                                          e.get<std::string>(), loose->str()));
            return api_error::invalid(std::string(field),
                                      fmt::format("\"{}\" is not an IPv4 CIDR (a.b.c.d/n)", e.get<std::string>()));
        }
        out.push_back(*c);
    }
    return out;
}

result<std::vector<std::string>> parse_string_list(const json& j, std::string_view field) {
    if (!j.is_array()) return api_error::invalid(std::string(field), "must be a list of strings");
    std::vector<std::string> out;
    for (const auto& e : j) {
        if (!e.is_string() || e.get<std::string>().empty() || e.get<std::string>().size() > 255)
            return api_error::invalid(std::string(field), "must be a list of non-empty strings");
        out.push_back(e.get<std::string>());
    }
    return out;
}

status check_peer_cidr_list(const std::vector<ipv4_cidr>& cidrs, std::string_view field) {
    if (cidrs.empty()) return api_error::invalid(std::string(field), "at least one peer CIDR is required");
    if (cidrs.size() > 256) return api_error::invalid(std::string(field), "at most 256 peer CIDRs");
    for (std::size_t i = 0; i < cidrs.size(); ++i)
        for (std::size_t k = i + 1; k < cidrs.size(); ++k) {
            if (cidrs[i] == cidrs[k])
                return api_error::invalid(std::string(field), fmt::format("{} is listed twice; peer CIDRs must be unique", cidrs[i].str()));
            if (cidrs[i].overlaps(cidrs[k]))
                return api_error::invalid(std::string(field), fmt::format("{} overlaps {}; peer CIDRs must not overlap each other",
                                                                          cidrs[i].str(), cidrs[k].str()));
        }
    return std::nullopt;
}

// ---- networks ---------------------------------------------------------------------------

result<network> parse_network(const json& j, bool from_config) {
    if (!j.is_object()) return api_error::invalid("network", "must be a JSON object");
    static const std::set<std::string> known{"uuid", "name", "category", "port", "cidr", "gateway",
                                             "portIp", "ipRanges", "addressPools", "source"};
    for (const auto& [k, v] : j.items())
        if (!known.count(k)) return api_error::invalid(k, "unknown field of a network");
    network n;
    n.from_config = from_config;
    if (!j.contains("name")) return api_error::invalid("name", "required");
    auto name = get_string(j["name"], "name", 1, 255);
    if (!name) return name.error();
    n.name = *name;
    if (j.contains("uuid")) {
        if (!j["uuid"].is_string() || !valid_uuid_text(j["uuid"].get<std::string>()))
            return api_error::invalid("uuid", "must be 32 lowercase hex characters");
        n.uuid = j["uuid"].get<std::string>();
    } else {
        n.uuid = derived_uuid("network:" + n.name);
    }
    if (!j.contains("category")) return api_error::invalid("category", "required: \"public\", \"private\" or \"management\"");
    auto cat = j["category"].is_string() ? category_from_string(j["category"].get<std::string>()) : std::nullopt;
    if (!cat) return api_error::invalid("category", "must be \"public\", \"private\" or \"management\"");
    n.category = *cat;
    if (j.contains("port")) {
        auto port = get_string(j["port"], "port", 0, 64);
        if (!port) return port.error();
        n.port = *port;
    }
    if (!j.contains("cidr") || !j["cidr"].is_string() || !ipv4_cidr::parse(j["cidr"].get<std::string>()))
        return api_error::invalid("cidr", "required: an IPv4 CIDR without host bits (a.b.c.d/n)");
    n.cidr = *ipv4_cidr::parse(j["cidr"].get<std::string>());
    if (j.contains("gateway")) {
        auto g = get_ipv4(j["gateway"], "gateway");
        if (!g) return g.error();
        if (!n.cidr.contains(*g)) return api_error::invalid("gateway", fmt::format("must be inside {}", n.cidr.str()));
        n.gateway = *g;
    }
    if (j.contains("portIp")) {
        auto p = get_ipv4(j["portIp"], "portIp");
        if (!p) return p.error();
        if (!n.cidr.contains(*p)) return api_error::invalid("portIp", fmt::format("must be inside {}", n.cidr.str()));
        n.port_ip = *p;
    }
    if (j.contains("ipRanges")) {
        if (!j["ipRanges"].is_array()) return api_error::invalid("ipRanges", "must be a list of {\"name\", \"start\", \"end\"}");
        for (const auto& r : j["ipRanges"]) {
            if (!r.is_object() || !r.contains("start") || !r.contains("end"))
                return api_error::invalid("ipRanges", "each range needs \"start\" and \"end\"");
            ip_range range;
            auto s = get_ipv4(r["start"], "ipRanges.start");
            auto e = get_ipv4(r["end"], "ipRanges.end");
            if (!s) return s.error();
            if (!e) return e.error();
            if (!n.cidr.contains(*s) || !n.cidr.contains(*e) || *e < *s)
                return api_error::invalid("ipRanges", fmt::format("{}-{} must be an ascending range inside {}",
                                                                  s->str(), e->str(), n.cidr.str()));
            range.start = *s;
            range.end = *e;
            range.name = r.contains("name") && r["name"].is_string() ? r["name"].get<std::string>()
                                                                      : s->str() + "-" + e->str();
            range.uuid = r.contains("uuid") && r["uuid"].is_string() && valid_uuid_text(r["uuid"].get<std::string>())
                             ? r["uuid"].get<std::string>()
                             : derived_uuid("range:" + n.uuid + ":" + s->str() + "-" + e->str());
            n.ip_ranges.push_back(range);
        }
    }
    if (j.contains("addressPools")) {
        if (!j["addressPools"].is_array()) return api_error::invalid("addressPools", "must be a list of {\"name\", \"cidr\"}");
        for (const auto& p : j["addressPools"]) {
            if (!p.is_object() || !p.contains("cidr") || !p["cidr"].is_string() ||
                !ipv4_cidr::parse(p["cidr"].get<std::string>()))
                return api_error::invalid("addressPools", "each pool needs \"cidr\": an IPv4 CIDR without host bits");
            address_pool pool;
            pool.cidr = *ipv4_cidr::parse(p["cidr"].get<std::string>());
            if (pool.cidr.prefix < n.cidr.prefix || !n.cidr.contains(pool.cidr.network))
                return api_error::invalid("addressPools", fmt::format("{} must be inside {}", pool.cidr.str(), n.cidr.str()));
            pool.name = p.contains("name") && p["name"].is_string() ? p["name"].get<std::string>() : pool.cidr.str();
            pool.uuid = p.contains("uuid") && p["uuid"].is_string() && valid_uuid_text(p["uuid"].get<std::string>())
                            ? p["uuid"].get<std::string>()
                            : derived_uuid("pool:" + n.uuid + ":" + pool.cidr.str());
            n.address_pools.push_back(pool);
        }
    }
    // Ranges and pools of one network must not share addresses (a VIP could be handed out twice).
    std::vector<std::pair<ipv4, ipv4>> spans;
    for (const auto& r : n.ip_ranges) spans.emplace_back(r.start, r.end);
    for (const auto& p : n.address_pools) spans.emplace_back(p.cidr.first(), p.cidr.last());
    for (std::size_t i = 0; i < spans.size(); ++i)
        for (std::size_t k = i + 1; k < spans.size(); ++k)
            if (!(spans[i].second < spans[k].first || spans[k].second < spans[i].first))
                return api_error::invalid("ipRanges", fmt::format("{}-{} overlaps {}-{}", spans[i].first.str(),
                                                                  spans[i].second.str(), spans[k].first.str(), spans[k].second.str()));
    return n;
}

status check_new_network(const network& n, const model_state& m) {
    for (const auto& o : m.networks) {
        if (o.uuid == n.uuid) return api_error::conflict(fmt::format("network uuid {} already exists", n.uuid));
        if (o.name == n.name) return api_error::conflict(fmt::format("network name \"{}\" already exists", n.name));
        if (o.cidr.overlaps(n.cidr))
            return api_error::invalid("cidr", fmt::format("{} overlaps network \"{}\" ({})", n.cidr.str(), o.name, o.cidr.str()));
    }
    for (const auto& t : m.tunnels)
        for (const auto& c : t.peer_cidrs)
            if (c.overlaps(n.cidr))
                return api_error::invalid("cidr", fmt::format("{} overlaps peer CIDR {} of tunnel \"{}\"", n.cidr.str(), c.str(), t.name));
    return std::nullopt;
}

// ---- VIPs -------------------------------------------------------------------------------

result<vip_request> parse_vip_request(const json& p) {
    if (!p.is_object()) return api_error::malformed("expected {\"params\": {...}} with a JSON object");
    static const std::set<std::string> known{"name", "description", "l3NetworkUuid", "ipRangeUuid", "requiredIp",
                                             "resourceUuid", "systemTags", "userTags"};
    for (const auto& [k, v] : p.items())
        if (!known.count(k)) return api_error::invalid(k, "unknown field of a VIP");
    vip_request r;
    if (!p.contains("name")) return api_error::invalid("name", "required (1..255 characters)");
    auto name = get_string(p["name"], "name", 1, 255);
    if (!name) return name.error();
    r.name = *name;
    if (p.contains("description")) {
        auto d = get_string(p["description"], "description", 0, 2048);
        if (!d) return d.error();
        r.description = *d;
    }
    if (!p.contains("l3NetworkUuid") || !p["l3NetworkUuid"].is_string())
        return api_error::invalid("l3NetworkUuid", "required: the uuid of a public network");
    r.l3_network_uuid = p["l3NetworkUuid"].get<std::string>();
    if (p.contains("ipRangeUuid")) {
        if (!p["ipRangeUuid"].is_string()) return api_error::invalid("ipRangeUuid", "must be the uuid of an ip range or address pool");
        r.ip_range_uuid = p["ipRangeUuid"].get<std::string>();
    }
    if (p.contains("requiredIp")) {
        auto a = get_ipv4(p["requiredIp"], "requiredIp");
        if (!a) return a.error();
        r.required_ip = *a;
    }
    if (p.contains("resourceUuid")) {
        if (!p["resourceUuid"].is_string() || !valid_uuid_text(p["resourceUuid"].get<std::string>()))
            return api_error::invalid("resourceUuid", "must be 32 lowercase hex characters");
        r.uuid = p["resourceUuid"].get<std::string>();
    }
    return r;
}

result<ipv4> allocate_vip_address(const vip_request& r, const model_state& m) {
    const network* net = m.find_network(r.l3_network_uuid);
    if (!net) return api_error::invalid("l3NetworkUuid", fmt::format("no network with uuid \"{}\"", r.l3_network_uuid));
    if (net->category != network_category::public_net)
        return api_error::invalid("l3NetworkUuid", fmt::format("network \"{}\" is {}; VIPs are created on public networks",
                                                               net->name, to_string(net->category)));
    // Candidate spans [first, last]: one chosen range/pool, or every normal range.
    std::vector<std::pair<ipv4, ipv4>> spans;
    bool from_pool = false;
    if (!r.ip_range_uuid.empty()) {
        for (const auto& rg : net->ip_ranges)
            if (rg.uuid == r.ip_range_uuid) spans.emplace_back(rg.start, rg.end);
        for (const auto& p : net->address_pools)
            if (p.uuid == r.ip_range_uuid) {
                from_pool = true;
                // Never the pool's first or last address (network and broadcast of the pool).
                if (p.cidr.prefix <= 30) spans.emplace_back(ipv4{p.cidr.first().value + 1}, ipv4{p.cidr.last().value - 1});
                else return api_error::invalid("ipRangeUuid", fmt::format("pool {} has no address besides its first and last", p.cidr.str()));
            }
        if (spans.empty())
            return api_error::invalid("ipRangeUuid", fmt::format("no ip range or address pool \"{}\" in network \"{}\"",
                                                                 r.ip_range_uuid, net->name));
    } else {
        for (const auto& rg : net->ip_ranges) spans.emplace_back(rg.start, rg.end);
        if (spans.empty() && !r.required_ip)
            return api_error::invalid("l3NetworkUuid", fmt::format("network \"{}\" has no ip range; pass ipRangeUuid of an address pool", net->name));
    }
    auto taken = [&](ipv4 a) {
        if (net->gateway && *net->gateway == a) return true;
        if (net->port_ip && *net->port_ip == a) return true;
        return std::any_of(m.vips.begin(), m.vips.end(), [&](const vip& v) { return v.ip == a; });
    };
    if (r.required_ip) {
        auto a = *r.required_ip;
        bool inside = std::any_of(spans.begin(), spans.end(), [&](auto& s) { return !(a < s.first) && !(s.second < a); });
        if (!inside) {
            if (r.ip_range_uuid.empty())
                return api_error::invalid("requiredIp", fmt::format("{} is not in a normal ip range of network \"{}\" (pool addresses need ipRangeUuid)",
                                                                    a.str(), net->name));
            return api_error::invalid("requiredIp", fmt::format("{} is not in the chosen {}{}", a.str(),
                                                                from_pool ? "address pool" : "ip range",
                                                                from_pool ? " (its first and last addresses are excluded)" : ""));
        }
        if (taken(a)) return api_error::conflict(fmt::format("requiredIp {} is already in use", a.str()));
        return a;
    }
    for (const auto& [first, last] : spans)
        for (std::uint64_t v = first.value; v <= last.value; ++v)
            if (!taken(ipv4{std::uint32_t(v)})) return ipv4{std::uint32_t(v)};
    return api_error::conflict(fmt::format("no free address left in network \"{}\"{}", net->name,
                                           r.ip_range_uuid.empty() ? "" : " for the chosen range"));
}

// ---- tunnels ----------------------------------------------------------------------------

status apply_tunnel_fields(tunnel& t, const json& p, field_mode mode) {
    if (!p.is_object()) return api_error::malformed("tunnel parameters must be a JSON object");
    for (const auto& [k, v] : p.items()) {
        if (in(ignored_fields, k)) continue;
        if (in(read_only_fields, k)) {
            if (mode == field_mode::record) continue;
            return api_error::invalid(k, "is read-only");
        }
        if (k == "resourceUuid") {
            if (mode != field_mode::create) return api_error::invalid(k, "only allowed on create");
            if (!v.is_string() || !valid_uuid_text(v.get<std::string>()))
                return api_error::invalid(k, "must be 32 lowercase hex characters");
            t.uuid = v.get<std::string>();
        } else if (k == "name") {
            auto s = get_string(v, k, 1, 255);
            if (!s) return s.error();
            t.name = *s;
        } else if (k == "description") {
            auto s = get_string(v, k, 0, 2048);
            if (!s) return s.error();
            t.description = *s;
        } else if (k == "vipUuid") {
            if (!v.is_string() || v.get<std::string>().empty()) return api_error::invalid(k, "must be the uuid of a VIP");
            t.vip_uuid = v.get<std::string>();
        } else if (k == "peerAddress") {
            auto a = get_ipv4(v, k);
            if (!a) return a.error();
            if (!is_unicast_endpoint(*a)) return api_error::invalid(k, fmt::format("{} is not a unicast host address", a->str()));
            t.peer_address = *a;
        } else if (k == "l3NetworkUuids") {
            auto l = parse_string_list(v, k);
            if (!l) return l.error();
            t.l3_network_uuids = *l;
        } else if (k == "l3NetworkUuid") { // ZStack's older single-network form
            if (!v.is_string() || v.get<std::string>().empty()) return api_error::invalid(k, "must be the uuid of a private network");
            t.l3_network_uuids = {v.get<std::string>()};
        } else if (k == "peerCidrs") {
            auto l = parse_cidr_list(v, k);
            if (!l) return l.error();
            t.peer_cidrs = *l;
        } else if (k == "authMode") {
            if (!v.is_string() || v.get<std::string>() != "psk") return api_error::invalid(k, "must be \"psk\"");
        } else if (k == "authKey") {
            if (!v.is_string()) return api_error::invalid(k, "must be a string");
            auto s = v.get<std::string>();
            if (auto e = check_auth_key(s)) return e;
            t.auth_key = base::secret_bytes(std::string_view(s));
            std::fill(s.begin(), s.end(), '\0');
        } else if (k == "idType") {
            auto s = get_enum(v, k, id_types);
            if (!s) return s.error();
            t.id_type = *s;
        } else if (k == "localId" || k == "remoteId") {
            auto s = get_string(v, k, 1, 255);
            if (!s) return s.error();
            if (!printable_token(*s)) return api_error::invalid(k, "only printable ASCII without spaces");
            (k == "localId" ? t.local_id : t.remote_id) = *s;
        } else if (k == "ikeVersion") {
            if (!v.is_string()) return api_error::invalid(k, "must be \"ikev2\"");
            auto s = v.get<std::string>();
            if (s == "ike" || s == "ikev1") return api_error::not_supported(k, fmt::format("\"{}\" is not supported yet; use \"ikev2\"", s));
            if (s != "ikev2") return api_error::invalid(k, "must be \"ikev2\" (\"ike\"/\"ikev1\" are not supported yet)");
            t.ike_version = s;
        } else if (k == "ikeAuthAlgorithm" || k == "policyAuthAlgorithm") {
            auto s = get_enum(v, k, auth_algorithms);
            if (!s) return s.error();
            (k == "ikeAuthAlgorithm" ? t.ike_auth_algorithm : t.policy_auth_algorithm) = *s;
        } else if (k == "ikeEncryptionAlgorithm" || k == "policyEncryptionAlgorithm") {
            auto s = get_encryption(v, k);
            if (!s) return s.error();
            (k == "ikeEncryptionAlgorithm" ? t.ike_encryption_algorithm : t.policy_encryption_algorithm) = *s;
        } else if (k == "ikeDhGroup") {
            auto g = get_dh_group(v, k);
            if (!g) return g.error();
            t.ike_dh_group = *g;
        } else if (k == "ikeLifeTime") {
            auto n = get_int(v, k, 60, 604800);
            if (!n) return n.error();
            t.ike_lifetime = *n;
        } else if (k == "lifeTime") {
            auto n = get_int(v, k, 30, 604800);
            if (!n) return n.error();
            t.lifetime = *n;
        } else if (k == "pfs") {
            auto s = get_pfs(v);
            if (!s) return s.error();
            t.pfs = *s;
        } else if (k == "policyMode") {
            if (!v.is_string() || v.get<std::string>() != "tunnel") return api_error::invalid(k, "must be \"tunnel\" (transport mode is not offered)");
        } else if (k == "transformProtocol") {
            if (!v.is_string() || v.get<std::string>() != "esp") return api_error::invalid(k, "must be \"esp\" (AH is not offered)");
        } else if (k == "dpd") {
            if (!v.is_object()) return api_error::invalid(k, "must be {\"delay\": seconds, \"action\": \"restart\"|\"clear\"|\"hold\"}");
            for (const auto& [dk, dv] : v.items()) {
                if (dk == "delay") {
                    auto n = get_int(dv, "dpd.delay", 0, 3600);
                    if (!n) return n.error();
                    t.dpd.delay = *n;
                } else if (dk == "action") {
                    auto s = get_enum(dv, "dpd.action", dpd_actions);
                    if (!s) return s.error();
                    t.dpd.action = *s;
                } else {
                    return api_error::invalid("dpd." + dk, "unknown field; dpd has \"delay\" and \"action\"");
                }
            }
        } else if (k == "natTraversal") {
            auto s = get_enum(v, k, nat_modes);
            if (!s) return s.error();
            t.nat_traversal = *s;
        } else if (k == "replayWindow") {
            auto n = get_int(v, k, 0, 4096);
            if (!n) return n.error();
            t.replay_window = *n;
        } else {
            return api_error::invalid(k, "unknown field of an IPsec connection");
        }
    }
    if (mode == field_mode::record) {
        if (p.contains("uuid") && p["uuid"].is_string()) t.uuid = p["uuid"].get<std::string>();
        if (p.contains("state") && p["state"].is_string()) t.enabled = p["state"].get<std::string>() != "Disabled";
        if (p.contains("createDate") && p["createDate"].is_string()) t.create_date = p["createDate"].get<std::string>();
        if (p.contains("lastOpDate") && p["lastOpDate"].is_string()) t.last_op_date = p["lastOpDate"].get<std::string>();
    }
    return std::nullopt;
}

status check_tunnel(tunnel& t, const model_state& m) {
    if (t.name.empty()) return api_error::invalid("name", "required (1..255 characters)");
    if (t.auth_key.empty()) return api_error::invalid("authKey", "required (pre-shared key, 1..255 printable characters)");
    if (t.peer_address.value == 0) return api_error::invalid("peerAddress", "required: the peer's public IPv4 address");
    if (t.vip_uuid.empty()) return api_error::invalid("vipUuid", "required: the uuid of a VIP on a public network");

    const vip* v = m.find_vip(t.vip_uuid);
    if (!v) return api_error::invalid("vipUuid", fmt::format("no VIP with uuid \"{}\"", t.vip_uuid));
    const network* vnet = m.find_network(v->l3_network_uuid);
    if (!vnet || vnet->category != network_category::public_net)
        return api_error::invalid("vipUuid", "the VIP must be on a public network");
    if (t.peer_address == v->ip)
        return api_error::invalid("peerAddress", fmt::format("{} is the VIP's own address; give the peer's address", v->ip.str()));
    for (const auto& o : m.tunnels)
        if (o.uuid != t.uuid && o.peer_address == t.peer_address)
            return api_error::invalid("peerAddress", fmt::format("tunnel \"{}\" already connects to {}; one tunnel per peer address",
                                                                 o.name, t.peer_address.str()));

    // Local networks: the router's private networks; the only one by default.
    std::vector<const network*> privates;
    for (const auto& n : m.networks)
        if (n.category == network_category::private_net) privates.push_back(&n);
    if (t.l3_network_uuids.empty()) {
        if (privates.size() != 1)
            return api_error::invalid("l3NetworkUuids", fmt::format("required: the router has {} private networks, choose the local ones",
                                                                    privates.size()));
        t.l3_network_uuids = {privates.front()->uuid};
    }
    std::set<std::string> seen;
    for (const auto& u : t.l3_network_uuids) {
        if (!seen.insert(u).second) return api_error::invalid("l3NetworkUuids", fmt::format("\"{}\" is listed twice", u));
        const network* n = m.find_network(u);
        if (!n) return api_error::invalid("l3NetworkUuids", fmt::format("no network with uuid \"{}\"", u));
        if (n->category != network_category::private_net)
            return api_error::invalid("l3NetworkUuids", fmt::format("network \"{}\" is {}; only private networks are allowed",
                                                                    n->name, to_string(n->category)));
    }

    if (auto e = check_peer_cidr_list(t.peer_cidrs, "peerCidrs")) return e;
    for (const auto& c : t.peer_cidrs) {
        for (const auto& n : m.networks)
            if (c.overlaps(n.cidr))
                return api_error::invalid("peerCidrs", fmt::format("{} overlaps the router's {} network \"{}\" ({})", c.str(),
                                                                   to_string(n.category), n.name, n.cidr.str()));
        // Two tunnels claiming the same remote addresses would make the outbound policy ambiguous.
        for (const auto& o : m.tunnels)
            if (o.uuid != t.uuid)
                for (const auto& oc : o.peer_cidrs)
                    if (c.overlaps(oc))
                        return api_error::invalid("peerCidrs", fmt::format("{} overlaps peer CIDR {} of tunnel \"{}\"", c.str(),
                                                                           oc.str(), o.name));
    }

    // IDs: an "ip" ID must be an address; names and FQDNs have no sensible default.
    if (t.id_type == "ip") {
        for (auto [id, field] : {std::pair{&t.local_id, "localId"}, std::pair{&t.remote_id, "remoteId"}})
            if (!id->empty() && !ipv4::parse(*id))
                return api_error::invalid(field, "must be an IPv4 address when idType is \"ip\"");
    } else {
        for (auto [id, field] : {std::pair{&t.local_id, "localId"}, std::pair{&t.remote_id, "remoteId"}}) {
            if (id->empty()) return api_error::invalid(field, fmt::format("required when idType is \"{}\"", t.id_type));
            if (t.id_type == "fqdn" && !valid_fqdn(*id))
                return api_error::invalid(field, "must be a domain name (letters, digits, '-', '.') when idType is \"fqdn\"");
        }
    }
    return std::nullopt;
}

std::vector<std::string> weak_warnings(const tunnel& t) {
    std::vector<std::string> w;
    if (t.ike_dh_group == 2 || t.ike_dh_group == 5)
        w.push_back(fmt::format("weak: ikeDhGroup {} ({}) is below 2048-bit strength", t.ike_dh_group,
                                t.ike_dh_group == 2 ? "MODP-1024" : "MODP-1536"));
    if (t.pfs == "dh-group2" || t.pfs == "dh-group5") w.push_back(fmt::format("weak: pfs {} is below 2048-bit strength", t.pfs));
    if (t.ike_auth_algorithm == "md5") w.push_back("weak: ikeAuthAlgorithm md5");
    if (t.policy_auth_algorithm == "md5") w.push_back("weak: policyAuthAlgorithm md5");
    if (t.ike_encryption_algorithm == "3des") w.push_back("weak: ikeEncryptionAlgorithm 3des (64-bit block)");
    if (t.policy_encryption_algorithm == "3des") w.push_back("weak: policyEncryptionAlgorithm 3des (64-bit block)");
    auto k = t.auth_key.view();
    std::set<std::uint8_t> distinct(k.begin(), k.end());
    if (!k.empty() && (k.size() < 16 || distinct.size() < 6))
        w.push_back("weak: authKey is guessable (use at least 16 characters with variety)");
    return w;
}

} // namespace control
