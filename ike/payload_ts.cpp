// Traffic Selector payloads (RFC 7296 section 3.13) and the textual forms of selectors and
// identities used in configuration and diagnostics.
//
// TS payload body:      | Number of TSs |                 RESERVED                      |
// Traffic Selector (3.13.1):
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |   TS Type     |IP Protocol ID*|       Selector Length         |
//  |           Start Port*         |           End Port*           |
//  ~                         Starting Address*                     ~
//  ~                         Ending Address*                       ~
#include "ike/payload.hpp"

#include <base/hex.hpp>

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace ike {
namespace {

constexpr std::size_t ts_header_size = 8;

std::size_t address_size(ts_type t) {
    switch (t) {
    case ts_type::ipv4_addr_range: return 4;
    case ts_type::ipv6_addr_range: return 16;
    }
    return 0;
}

std::string address_to_string(std::span<const std::uint8_t> a) {
    // Only 4- or 16-byte values are addresses; anything else (an ID_IPV4_ADDR of the wrong size
    // from the wire) prints as hex instead of being copied into the fixed buffer.
    int family = a.size() == 4 ? AF_INET : a.size() == 16 ? AF_INET6 : -1;
    if (family < 0) return "?" + base::to_hex(a);
    std::array<char, INET6_ADDRSTRLEN> buf{};
    std::array<std::uint8_t, 16> tmp{};
    std::copy(a.begin(), a.end(), tmp.begin());
    if (!inet_ntop(family, tmp.data(), buf.data(), buf.size())) return "?" + base::to_hex(a);
    return buf.data();
}

std::optional<bytes> address_from_string(std::string_view s) {
    std::string z(s);
    std::array<std::uint8_t, 16> tmp{};
    if (inet_pton(AF_INET, z.c_str(), tmp.data()) == 1) return bytes(tmp.begin(), tmp.begin() + 4);
    if (inet_pton(AF_INET6, z.c_str(), tmp.data()) == 1) return bytes(tmp.begin(), tmp.end());
    return std::nullopt;
}

// Prefix length when [start, end] is exactly one CIDR block, else -1.
int prefix_of_range(const bytes& start, const bytes& end) {
    std::size_t bits = start.size() * 8;
    for (std::size_t p = 0; p <= bits; ++p) {
        bool ok = true;
        for (std::size_t i = 0; i < bits && ok; ++i) {
            std::uint8_t m = std::uint8_t(0x80 >> (i % 8));
            bool s = (start[i / 8] & m) != 0, e = (end[i / 8] & m) != 0;
            ok = i < p ? s == e : (!s && e);
        }
        if (ok) return static_cast<int>(p);
    }
    return -1;
}

std::string protocol_name(std::uint8_t p) {
    switch (p) {
    case 1: return "icmp";
    case 6: return "tcp";
    case 17: return "udp";
    case 58: return "ipv6-icmp";
    default: return std::to_string(p);
    }
}

} // namespace

wire_result<ts_payload> parse_ts_body(base::reader& r) {
    ts_payload ts;
    std::uint8_t count = r.read_u8();
    r.skip(3);
    if (!r.ok()) return wire_error::syntax("TS payload shorter than its header");
    while (!r.empty()) {
        traffic_selector s;
        std::uint8_t type = r.read_u8();
        s.ip_protocol = r.read_u8();
        std::uint16_t len = r.read_u16();
        if (!r.ok()) return wire_error::syntax("truncated traffic selector header");
        s.type = static_cast<ts_type>(type);
        std::size_t asz = address_size(s.type);
        if (asz == 0) return wire_error::syntax(fmt::format("unsupported TS type {}", type));
        if (len != ts_header_size + 2 * asz)
            return wire_error::syntax(fmt::format("{} selector length {} (expected {})", to_string(s.type), len,
                                                  ts_header_size + 2 * asz));
        auto sr = r.sub(len - 4u);
        if (!r.ok()) return wire_error::syntax("selector length exceeds the TS payload");
        s.start_port = sr.read_u16();
        s.end_port = sr.read_u16();
        auto a = sr.bytes(asz);
        s.start_address.assign(a.begin(), a.end());
        auto b = sr.bytes(asz);
        s.end_address.assign(b.begin(), b.end());
        if (!sr.ok()) return wire_error::syntax("truncated traffic selector");
        ts.selectors.push_back(std::move(s));
    }
    if (ts.selectors.size() != count)
        return wire_error::syntax(
            fmt::format("TS payload announces {} selectors, carries {}", count, ts.selectors.size()));
    return ts;
}

void serialize_ts_body(const ts_payload& v, base::writer& w) {
    w.u8(static_cast<std::uint8_t>(v.selectors.size()));
    w.zeros(3);
    for (const auto& s : v.selectors) {
        w.u8(static_cast<std::uint8_t>(s.type));
        w.u8(s.ip_protocol);
        w.u16(static_cast<std::uint16_t>(ts_header_size + s.start_address.size() + s.end_address.size()));
        w.u16(s.start_port);
        w.u16(s.end_port);
        w.bytes(s.start_address);
        w.bytes(s.end_address);
    }
}

wire_check verify(const ts_payload& v) {
    if (v.selectors.empty()) return wire_error::syntax("TS payload without selectors");
    if (v.selectors.size() > 255) return wire_error::syntax("more than 255 traffic selectors");
    for (const auto& s : v.selectors) {
        std::size_t asz = address_size(s.type);
        if (asz == 0) return wire_error::syntax("unsupported TS type");
        if (s.start_address.size() != asz || s.end_address.size() != asz)
            return wire_error::syntax(fmt::format("{} with {}/{}-byte addresses", to_string(s.type),
                                                  s.start_address.size(), s.end_address.size()));
        // 3.13.1: start > end is only meaningful as the OPAQUE port range 65535..0.
        bool opaque = s.start_port == 65535 && s.end_port == 0;
        if (s.start_port > s.end_port && !opaque)
            return wire_error::syntax(fmt::format("port range {}-{} inverted", s.start_port, s.end_port));
        if (s.start_address > s.end_address) return wire_error::syntax("address range inverted");
    }
    return std::nullopt;
}

std::optional<traffic_selector> traffic_selector::from_cidr(std::string_view cidr, std::uint8_t protocol,
                                                            std::uint16_t start_port, std::uint16_t end_port) {
    auto slash = cidr.find('/');
    auto addr = address_from_string(cidr.substr(0, slash));
    if (!addr) return std::nullopt;
    std::size_t bits = addr->size() * 8;
    std::size_t prefix = bits;
    if (slash != std::string_view::npos) {
        auto p = cidr.substr(slash + 1);
        auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
        if (ec != std::errc{} || ptr != p.data() + p.size() || p.empty() || prefix > bits) return std::nullopt;
    }
    traffic_selector s;
    s.type = addr->size() == 4 ? ts_type::ipv4_addr_range : ts_type::ipv6_addr_range;
    s.ip_protocol = protocol;
    s.start_port = start_port;
    s.end_port = end_port;
    s.start_address = *addr;
    s.end_address = *addr;
    for (std::size_t i = prefix; i < bits; ++i) {
        std::uint8_t m = std::uint8_t(0x80 >> (i % 8));
        s.start_address[i / 8] &= std::uint8_t(~m);
        s.end_address[i / 8] |= m;
    }
    return s;
}

std::string traffic_selector::to_string() const {
    std::string out;
    if (start_address.size() == end_address.size() && (start_address.size() == 4 || start_address.size() == 16)) {
        int prefix = prefix_of_range(start_address, end_address);
        if (prefix >= 0)
            out = fmt::format("{}/{}", address_to_string(start_address), prefix);
        else
            out = fmt::format("{}..{}", address_to_string(start_address), address_to_string(end_address));
    } else {
        out = fmt::format("{}..{}", base::to_hex(start_address), base::to_hex(end_address));
    }
    bool all_ports = start_port == 0 && end_port == 65535;
    if (ip_protocol != 0 || !all_ports) {
        out += "[" + (ip_protocol ? protocol_name(ip_protocol) : std::string("0"));
        if (start_port == 65535 && end_port == 0)
            out += "/OPAQUE";
        else if (!all_ports)
            out += start_port == end_port ? fmt::format("/{}", start_port)
                                          : fmt::format("/{}-{}", start_port, end_port);
        out += "]";
    }
    return out;
}

std::optional<id_payload> id_payload::from_string(std::string_view s) {
    if (s.empty()) return std::nullopt;
    id_payload id;
    if (s.starts_with("keyid:")) {
        auto h = base::from_hex(s.substr(6));
        if (!h || h->empty()) return std::nullopt;
        id.type = id_type::key_id;
        id.data = std::move(*h);
        return id;
    }
    if (auto a = address_from_string(s)) {
        id.type = a->size() == 4 ? id_type::ipv4_addr : id_type::ipv6_addr;
        id.data = std::move(*a);
        return id;
    }
    if (s.front() == '@') {
        s.remove_prefix(1);
        if (s.empty()) return std::nullopt;
        id.type = id_type::fqdn;
    } else {
        id.type = s.find('@') != std::string_view::npos ? id_type::rfc822_addr : id_type::fqdn;
    }
    id.data.assign(s.begin(), s.end());
    return id;
}

std::string id_payload::to_string() const {
    switch (type) {
    case id_type::ipv4_addr:
    case id_type::ipv6_addr: return address_to_string(data);
    case id_type::fqdn:
    case id_type::rfc822_addr: {
        std::string s;
        for (auto c : data) s.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
        return s;
    }
    case id_type::key_id: return "keyid:" + base::to_hex(data);
    default: return ike::to_string(type) + ":" + base::to_hex(data);
    }
}

} // namespace ike
