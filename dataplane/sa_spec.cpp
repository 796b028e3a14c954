// SPEC string parsing for static SAs. ipsec-vector's cmd_esp.cpp parses the same grammar for
// its command line; this copy lives here because esp/ exposes no SPEC parser and the data
// plane may not link the tool.
#include "dataplane/sa_spec.hpp"

#include <base/hex.hpp>

#include <charconv>
#include <set>
#include <string>

namespace dataplane {

namespace {

std::uint64_t parse_number(std::string_view key, std::string_view v) {
    int base = 10;
    if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
        base = 16;
        v.remove_prefix(2);
    }
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n, base);
    if (v.empty() || ec != std::errc{} || p != v.data() + v.size())
        throw spec_error(std::string(key) + ": not a number");
    return n;
}

base::secret_bytes parse_key(std::string_view key, std::string_view v) {
    auto b = base::from_hex(v);
    if (!b) throw spec_error(std::string(key) + ": not hex");
    base::secret_bytes s{std::span<const std::uint8_t>(*b)};
    if (!b->empty()) OPENSSL_cleanse(b->data(), b->size());
    return s;
}

} // namespace

esp::sa_config parse_sa_spec(std::string_view spec) {
    esp::sa_config c;
    std::set<std::string, std::less<>> seen;
    bool have_integ = false;
    while (!spec.empty()) {
        auto comma = spec.find(',');
        auto item = spec.substr(0, comma);
        spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
        auto eq = item.find('=');
        if (eq == std::string_view::npos) throw spec_error("'" + std::string(item.substr(0, 32)) + "': want key=value");
        auto k = item.substr(0, eq);
        auto v = item.substr(eq + 1);
        if (!seen.insert(std::string(k)).second) throw spec_error(std::string(k) + ": given twice");
        if (k == "spi") {
            auto n = parse_number(k, v);
            if (n > 0xffffffffu) throw spec_error("spi: out of range");
            c.spi = std::uint32_t(n);
        } else if (k == "enc") {
            auto a = esp::parse_enc(v);
            if (!a) throw spec_error("enc: unknown algorithm '" + std::string(v) + "'");
            c.enc = *a;
        } else if (k == "enc-key") {
            c.enc_key = parse_key(k, v);
        } else if (k == "integ") {
            auto a = esp::parse_integ(v);
            if (!a) throw spec_error("integ: unknown algorithm '" + std::string(v) + "'");
            c.integ = *a;
            have_integ = true;
        } else if (k == "integ-key") {
            c.integ_key = parse_key(k, v);
        } else if (k == "src" || k == "dst") {
            auto a = esp::ip_address::parse(v);
            if (!a) throw spec_error(std::string(k) + ": bad IP address '" + std::string(v) + "'");
            (k == "src" ? c.src : c.dst) = *a;
        } else if (k == "natt") {
            auto colon = v.find(':');
            if (colon == std::string_view::npos) throw spec_error("natt: want SPORT:DPORT");
            auto sp = parse_number(k, v.substr(0, colon));
            auto dp = parse_number(k, v.substr(colon + 1));
            if (sp == 0 || dp == 0 || sp > 65535 || dp > 65535) throw spec_error("natt: ports 1-65535");
            c.natt = esp::udp_encap{std::uint16_t(sp), std::uint16_t(dp)};
        } else if (k == "esn") {
            if (v != "0" && v != "1") throw spec_error("esn: 0 or 1");
            c.esn = v == "1";
        } else if (k == "seq") {
            c.initial_seq = parse_number(k, v);
        } else if (k == "window") {
            auto n = parse_number(k, v);
            if (n > 65536) throw spec_error("window: too large");
            c.replay_window = std::uint32_t(n);
        } else if (k == "backend") {
            auto b = esp::parse_backend(v);
            if (!b) throw spec_error("backend: ipsecmb or openssl");
            c.backend = *b;
        } else {
            throw spec_error(std::string(k) + ": unknown SPEC key");
        }
    }
    for (auto req : {"spi", "enc", "enc-key", "src", "dst"})
        if (!seen.contains(std::string_view(req))) throw spec_error(std::string(req) + ": missing");
    if (!have_integ && esp::params(c.enc).aead) c.integ = esp::integ_alg::none;
    if (!have_integ && !esp::params(c.enc).aead) throw spec_error("integ: missing");
    if (auto err = esp::validate(c); !err.empty()) throw spec_error(err);
    return c;
}

} // namespace dataplane
