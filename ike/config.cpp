// Parsing and lookups for peer_config (see config.hpp).
#include "ike/config.hpp"

#include <base/hex.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace ike {

std::optional<cidr> cidr::parse(std::string_view s) {
    auto slash = s.find('/');
    std::string addr_s(s.substr(0, slash));
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(addr_s, ec);
    if (ec) return std::nullopt;
    unsigned max = addr.is_v4() ? 32 : 128;
    unsigned prefix = max;
    if (slash != std::string_view::npos) {
        auto p = s.substr(slash + 1);
        auto [ptr, err] = std::from_chars(p.data(), p.data() + p.size(), prefix);
        if (err != std::errc() || ptr != p.data() + p.size() || p.empty() || prefix > max) return std::nullopt;
    }
    cidr c{addr, static_cast<std::uint8_t>(prefix)};
    c.address = c.first();
    return c;
}

namespace {
template <class Bytes>
void mask_bits(Bytes& b, unsigned prefix, bool set_host) {
    for (unsigned i = 0; i < b.size(); ++i) {
        unsigned bit0 = i * 8;
        std::uint8_t host_mask = 0;
        if (prefix <= bit0) host_mask = 0xff;
        else if (prefix < bit0 + 8) host_mask = static_cast<std::uint8_t>(0xff >> (prefix - bit0));
        b[i] = set_host ? static_cast<std::uint8_t>(b[i] | host_mask) : static_cast<std::uint8_t>(b[i] & ~host_mask);
    }
}
ip_address with_host_bits(const ip_address& a, unsigned prefix, bool set) {
    if (a.is_v4()) {
        auto b = a.to_v4().to_bytes();
        mask_bits(b, prefix, set);
        return boost::asio::ip::address_v4(b);
    }
    auto b = a.to_v6().to_bytes();
    mask_bits(b, prefix, set);
    return boost::asio::ip::address_v6(b);
}
} // namespace

ip_address cidr::first() const { return with_host_bits(address, prefix, false); }
ip_address cidr::last() const { return with_host_bits(address, prefix, true); }
std::string cidr::to_string() const { return address.to_string() + "/" + std::to_string(prefix); }

std::optional<peer_identity> peer_identity::parse(std::string_view s) {
    peer_identity id;
    auto starts = [&](std::string_view p) { return s.substr(0, p.size()) == p; };
    auto ip_of = [](std::string_view v, std::uint8_t want) -> std::optional<peer_identity> {
        boost::system::error_code ec;
        auto a = boost::asio::ip::make_address(std::string(v), ec);
        if (ec) return std::nullopt;
        peer_identity r;
        if (a.is_v4()) { auto b = a.to_v4().to_bytes(); r.type = ipv4; r.data.assign(b.begin(), b.end()); }
        else { auto b = a.to_v6().to_bytes(); r.type = ipv6; r.data.assign(b.begin(), b.end()); }
        if (want != any && r.type != want) return std::nullopt;
        return r;
    };
    auto text = [&](std::uint8_t t, std::string_view v) -> std::optional<peer_identity> {
        if (v.empty()) return std::nullopt;
        id.type = t;
        id.data.assign(v.begin(), v.end());
        return id;
    };
    auto keyid = [&](std::string_view v) -> std::optional<peer_identity> {
        auto b = base::from_hex(v);
        if (!b || b->empty()) return std::nullopt;
        id.type = key_id;
        id.data = std::move(*b);
        return id;
    };
    if (s.empty()) return std::nullopt;
    if (s == "%any" || s == "%any6") return id;
    if (starts("ipv4:")) return ip_of(s.substr(5), ipv4);
    if (starts("ipv6:")) return ip_of(s.substr(5), ipv6);
    if (starts("fqdn:")) return text(fqdn, s.substr(5));
    if (starts("email:")) return text(rfc822, s.substr(6));
    if (starts("keyid:")) return keyid(s.substr(6));
    if (starts("@#")) return keyid(s.substr(2));
    if (starts("@")) return text(fqdn, s.substr(1));
    if (auto ip = ip_of(s, any)) return ip;
    if (s.find('@') != std::string_view::npos) return text(rfc822, s);
    return text(fqdn, s);
}

std::string peer_identity::to_string() const {
    switch (type) {
    case any: return "%any";
    case ipv4:
        if (data.size() == 4) {
            boost::asio::ip::address_v4::bytes_type b{};
            std::copy(data.begin(), data.end(), b.begin());
            return boost::asio::ip::address_v4(b).to_string();
        }
        break;
    case ipv6:
        if (data.size() == 16) {
            boost::asio::ip::address_v6::bytes_type b{};
            std::copy(data.begin(), data.end(), b.begin());
            return boost::asio::ip::address_v6(b).to_string();
        }
        break;
    case fqdn:
    case rfc822: {
        // Printable ASCII only: an ID comes from the wire and goes into logs.
        std::string out;
        for (auto c : data) out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
        return out;
    }
    default: break;
    }
    return "@#" + base::to_hex(data);
}

duration retransmit_config::timeout_for(unsigned attempt) const {
    double f = std::pow(base, static_cast<double>(attempt));
    return std::chrono::duration_cast<duration>(std::chrono::duration<double>(timeout) * f);
}

peer_identity peer_config::effective_local_id() const {
    if (local_id.type != peer_identity::any) return local_id;
    return *peer_identity::parse(local_address.to_string());
}

const base::secret_bytes* peer_config::find_psk(const peer_identity& local, const peer_identity& remote) const {
    const psk_entry* best = nullptr;
    int best_score = -1;
    for (const auto& e : psks) {
        if (!e.local.matches(local) || !e.remote.matches(remote)) continue;
        int score = (e.local.type != peer_identity::any ? 2 : 0) + (e.remote.type != peer_identity::any ? 1 : 0);
        if (score > best_score) { best = &e; best_score = score; }
    }
    return best ? &best->secret : nullptr;
}

} // namespace ike
