// IKEv2 payload bodies and payload chains (see payload.hpp). SA lives in payload_sa.cpp, TS and
// the textual ID/selector helpers in payload_ts.cpp.
//
// Chain parsing, in order:
//  1. read the 4-byte generic header; Payload Length must cover the header and fit what remains
//  2. SK/SKF: body kept raw, its Next Payload is the inner first type, and it must end the chain
//  3. known types: body parsed through its own bounded reader (nothing can read past the body)
//  4. unknown types: kept as unknown_payload with the critical bit (validator decides)
//  5. after Next Payload 0 nothing may remain
#include "ike/payload.hpp"

#include <fmt/format.h>

#include <type_traits>

namespace ike {
namespace {

constexpr std::size_t generic_header_size = 4;
constexpr std::uint8_t critical_bit = 0x80;

bytes rest(base::reader& r) {
    auto s = r.rest();
    r.skip(s.size());
    return bytes(s.begin(), s.end());
}

// "<type> <reserved x3>" bodies: ID and AUTH.
template <class T, class E>
wire_result<payload> parse_type_then_data(payload_type pt, bool critical, base::reader& r, const char* what) {
    E e = static_cast<E>(r.read_u8());
    r.skip(3);
    if (!r.ok()) return wire_error::syntax(fmt::format("{} payload shorter than its header", what));
    T v;
    if constexpr (std::is_same_v<T, id_payload>) v.type = e; else v.method = e;
    v.data = rest(r);
    return payload{pt, critical, std::move(v)};
}

wire_result<payload> parse_known(payload_type pt, bool critical, std::uint8_t next, base::reader& r) {
    switch (pt) {
    case payload_type::sa: {
        auto v = parse_sa_body(r);
        if (!v) return v.error();
        return payload{pt, critical, std::move(v.value())};
    }
    case payload_type::ke: {
        ke_payload v;
        v.group = static_cast<dh_group>(r.read_u16());
        r.skip(2);
        if (!r.ok()) return wire_error::syntax("KE payload shorter than its header");
        v.data = rest(r);
        return payload{pt, critical, std::move(v)};
    }
    case payload_type::idi:
    case payload_type::idr: return parse_type_then_data<id_payload, id_type>(pt, critical, r, "ID");
    case payload_type::auth: return parse_type_then_data<auth_payload, auth_method>(pt, critical, r, "AUTH");
    case payload_type::cert:
    case payload_type::certreq: {
        cert_payload v;
        v.encoding = static_cast<cert_encoding>(r.read_u8());
        if (!r.ok()) return wire_error::syntax("CERT/CERTREQ payload without encoding");
        v.data = rest(r);
        return payload{pt, critical, std::move(v)};
    }
    case payload_type::nonce: return payload{pt, critical, nonce_payload{rest(r)}};
    case payload_type::notify: {
        notify_payload v;
        v.protocol = static_cast<protocol_id>(r.read_u8());
        std::uint8_t spi_size = r.read_u8();
        v.type = static_cast<notify_type>(r.read_u16());
        auto spi = r.bytes(spi_size);
        if (!r.ok()) return wire_error::syntax("Notify payload shorter than its header and SPI");
        v.spi.assign(spi.begin(), spi.end());
        v.data = rest(r);
        return payload{pt, critical, std::move(v)};
    }
    case payload_type::del: {
        delete_payload v;
        v.protocol = static_cast<protocol_id>(r.read_u8());
        v.spi_size = r.read_u8();
        std::uint16_t count = r.read_u16();
        if (!r.ok()) return wire_error::syntax("Delete payload shorter than its header");
        if (std::size_t(count) * v.spi_size != r.remaining())
            return wire_error::syntax(fmt::format("Delete payload: {} SPIs of {} bytes but {} bytes follow", count,
                                                  v.spi_size, r.remaining()));
        if (v.spi_size == 0 && count != 0) return wire_error::syntax("Delete payload: SPIs of size 0");
        for (std::uint16_t i = 0; i < count; ++i) {
            auto s = r.bytes(v.spi_size);
            v.spis.emplace_back(s.begin(), s.end());
        }
        return payload{pt, critical, std::move(v)};
    }
    case payload_type::vendor: return payload{pt, critical, vendor_payload{rest(r)}};
    case payload_type::tsi:
    case payload_type::tsr: {
        auto v = parse_ts_body(r);
        if (!v) return v.error();
        return payload{pt, critical, std::move(v.value())};
    }
    case payload_type::sk: return payload{pt, critical, sk_payload{static_cast<payload_type>(next), rest(r)}};
    case payload_type::skf: {
        skf_payload v;
        v.inner_first = static_cast<payload_type>(next);
        v.fragment_number = r.read_u16();
        v.total_fragments = r.read_u16();
        if (!r.ok()) return wire_error::syntax("SKF payload shorter than its header");
        v.data = rest(r);
        return payload{pt, critical, std::move(v)};
    }
    case payload_type::cp: {
        cp_payload v;
        v.type = static_cast<cfg_type>(r.read_u8());
        r.skip(3);
        if (!r.ok()) return wire_error::syntax("CP payload shorter than its header");
        while (!r.empty()) {
            cp_attribute a;
            a.type = r.read_u16() & 0x7fff;
            std::uint16_t len = r.read_u16();
            auto val = r.bytes(len);
            if (!r.ok()) return wire_error::syntax("configuration attribute overruns the CP payload");
            a.value.assign(val.begin(), val.end());
            v.attributes.push_back(std::move(a));
        }
        return payload{pt, critical, std::move(v)};
    }
    case payload_type::eap: return payload{pt, critical, eap_payload{rest(r)}};
    case payload_type::none: break;
    }
    return wire_error::syntax("not a known payload type");
}

template <class T>
payload tagged(payload_type t, T v) {
    return payload{t, false, std::move(v)};
}

} // namespace

wire_result<payload> parse_payload_body(std::uint8_t type, bool critical, std::uint8_t next_payload,
                                        std::span<const std::uint8_t> body) {
    if (!is_known_payload(type)) return payload{static_cast<payload_type>(type), critical,
                                                unknown_payload{type, bytes(body.begin(), body.end())}};
    base::reader r(body);
    auto p = parse_known(static_cast<payload_type>(type), critical, next_payload, r);
    if (!p) {
        auto e = p.error();
        e.reason = to_string(static_cast<payload_type>(type)) + ": " + e.reason;
        return e;
    }
    if (!r.ok() || !r.empty())
        return wire_error::syntax(fmt::format("{}: trailing bytes in payload body", to_string(p->type)));
    return p;
}

void serialize_payload_body(const payload& p, base::writer& w) {
    std::visit(
        [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, sa_payload>) {
                serialize_sa_body(v, w);
            } else if constexpr (std::is_same_v<T, ke_payload>) {
                w.u16(static_cast<std::uint16_t>(v.group));
                w.u16(0);
                w.bytes(v.data);
            } else if constexpr (std::is_same_v<T, nonce_payload> || std::is_same_v<T, vendor_payload> ||
                                 std::is_same_v<T, eap_payload> || std::is_same_v<T, sk_payload> ||
                                 std::is_same_v<T, unknown_payload>) {
                w.bytes(v.data);
            } else if constexpr (std::is_same_v<T, id_payload>) {
                w.u8(static_cast<std::uint8_t>(v.type));
                w.zeros(3);
                w.bytes(v.data);
            } else if constexpr (std::is_same_v<T, auth_payload>) {
                w.u8(static_cast<std::uint8_t>(v.method));
                w.zeros(3);
                w.bytes(v.data);
            } else if constexpr (std::is_same_v<T, cert_payload>) {
                w.u8(static_cast<std::uint8_t>(v.encoding));
                w.bytes(v.data);
            } else if constexpr (std::is_same_v<T, notify_payload>) {
                w.u8(static_cast<std::uint8_t>(v.protocol));
                w.u8(static_cast<std::uint8_t>(v.spi.size()));
                w.u16(static_cast<std::uint16_t>(v.type));
                w.bytes(v.spi);
                w.bytes(v.data);
            } else if constexpr (std::is_same_v<T, delete_payload>) {
                w.u8(static_cast<std::uint8_t>(v.protocol));
                w.u8(v.spi_size);
                w.u16(static_cast<std::uint16_t>(v.spis.size()));
                for (const auto& s : v.spis) w.bytes(s);
            } else if constexpr (std::is_same_v<T, ts_payload>) {
                serialize_ts_body(v, w);
            } else if constexpr (std::is_same_v<T, skf_payload>) {
                w.u16(v.fragment_number);
                w.u16(v.total_fragments);
                w.bytes(v.data);
            } else if constexpr (std::is_same_v<T, cp_payload>) {
                w.u8(static_cast<std::uint8_t>(v.type));
                w.zeros(3);
                for (const auto& a : v.attributes) {
                    w.u16(a.type & 0x7fff);
                    w.u16(static_cast<std::uint16_t>(a.value.size()));
                    w.bytes(a.value);
                }
            }
        },
        p.body);
}

// ---- verify --------------------------------------------------------------------------------------

wire_check verify(const ke_payload& v) {
    if (v.group == dh_group::none) return wire_error::syntax("KE payload with DH group 0");
    if (v.data.empty()) return wire_error::syntax("KE payload without key exchange data");
    std::size_t want = dh_public_length(v.group);
    if (want != 0 && v.data.size() != want)
        return wire_error::syntax(fmt::format("KE payload for {} carries {} bytes, expected {}", to_string(v.group),
                                              v.data.size(), want));
    return std::nullopt;
}

wire_check verify(const nonce_payload& v) {
    if (v.data.size() < nonce_min || v.data.size() > nonce_max)
        return wire_error::syntax(fmt::format("nonce of {} bytes (RFC 7296 2.10: {}..{})", v.data.size(), nonce_min,
                                              nonce_max));
    return std::nullopt;
}

wire_check verify(const id_payload& v) {
    switch (v.type) {
    case id_type::ipv4_addr:
        if (v.data.size() != 4) return wire_error::syntax(fmt::format("ID_IPV4_ADDR of {} bytes", v.data.size()));
        break;
    case id_type::ipv6_addr:
        if (v.data.size() != 16) return wire_error::syntax(fmt::format("ID_IPV6_ADDR of {} bytes", v.data.size()));
        break;
    case id_type::fqdn:
    case id_type::rfc822_addr:
        // 3.5: a string without terminator; any NUL would let two names compare differently.
        if (v.data.empty()) return wire_error::syntax("empty " + to_string(v.type));
        for (auto c : v.data)
            if (c == 0) return wire_error::syntax(to_string(v.type) + " with a NUL byte");
        break;
    case id_type::der_asn1_dn:
    case id_type::der_asn1_gn:
    case id_type::key_id:
    case id_type::fc_name:
        if (v.data.empty()) return wire_error::syntax("empty " + to_string(v.type));
        break;
    default: return wire_error::syntax(fmt::format("unknown ID type {}", static_cast<unsigned>(v.type)));
    }
    return std::nullopt;
}

wire_check verify(const auth_payload& v) {
    if (v.data.empty()) return wire_error::syntax("AUTH payload without authentication data");
    return std::nullopt;
}

wire_check verify(const cert_payload&) { return std::nullopt; }  // opaque, checked by its user

wire_check verify(const notify_payload& v) {
    // 3.10: an SPI identifies an ESP/AH SA (4 bytes) or, rarely, the IKE SA (8); an empty SPI
    // makes the protocol field meaningless, so it is not checked then.
    if (!v.spi.empty()) {
        bool ok = ((v.protocol == protocol_id::esp || v.protocol == protocol_id::ah) && v.spi.size() == 4) ||
                  (v.protocol == protocol_id::ike && v.spi.size() == 8);
        if (!ok)
            return wire_error::syntax(fmt::format("{} with a {}-byte SPI for protocol {}", to_string(v.type),
                                                  v.spi.size(), static_cast<unsigned>(v.protocol)));
    }
    auto need = [&](bool cond, const char* what) -> wire_check {
        if (cond) return std::nullopt;
        return wire_error::syntax(fmt::format("{}: {} ({} data bytes)", to_string(v.type), what, v.data.size()));
    };
    switch (v.type) {
    case notify_type::nat_detection_source_ip:
    case notify_type::nat_detection_destination_ip:
        return need(v.data.size() == 20, "SHA-1 digest expected");  // 2.23
    case notify_type::cookie: return need(!v.data.empty() && v.data.size() <= 64, "1..64 bytes expected");  // 2.6
    case notify_type::invalid_ke_payload: return need(v.data.size() == 2, "DH group number expected");  // 1.3
    case notify_type::unsupported_critical_payload: return need(v.data.size() == 1, "payload type octet expected");
    case notify_type::set_window_size: return need(v.data.size() == 4, "32-bit window size expected");
    case notify_type::signature_hash_algorithms:
        return need(!v.data.empty() && v.data.size() % 2 == 0, "16-bit hash identifiers expected");  // RFC 7427
    case notify_type::rekey_sa:
        if ((v.protocol != protocol_id::esp && v.protocol != protocol_id::ah) || v.spi.size() != 4)
            return wire_error::syntax("REKEY_SA without an ESP/AH SPI");  // 1.3.3
        return std::nullopt;
    default: return std::nullopt;
    }
}

wire_check verify(const delete_payload& v) {
    switch (v.protocol) {
    case protocol_id::ike:  // 3.11: deleting the IKE SA itself, no SPIs
        if (v.spi_size != 0 || !v.spis.empty()) return wire_error::syntax("IKE SA Delete must carry no SPIs");
        break;
    case protocol_id::esp:
    case protocol_id::ah:
        if (v.spi_size != 4) return wire_error::syntax(fmt::format("ESP/AH Delete with SPI size {}", v.spi_size));
        if (v.spis.empty()) return wire_error::syntax("ESP/AH Delete without SPIs");
        break;
    default: return wire_error::syntax(fmt::format("Delete for protocol {}", static_cast<unsigned>(v.protocol)));
    }
    for (const auto& s : v.spis)
        if (s.size() != v.spi_size) return wire_error::syntax("Delete SPI size mismatch");
    return std::nullopt;
}

wire_check verify(const vendor_payload&) { return std::nullopt; }

wire_check verify(const sk_payload& v) {
    if (v.data.empty()) return wire_error::syntax("empty SK payload");
    return std::nullopt;
}

wire_check verify(const skf_payload& v) {
    // RFC 7383 2.5: fragments numbered from 1, never beyond Total Fragments; only the first
    // fragment names the inner first payload.
    if (v.fragment_number == 0 || v.total_fragments == 0 || v.fragment_number > v.total_fragments)
        return wire_error::syntax(fmt::format("SKF fragment {}/{}", v.fragment_number, v.total_fragments));
    if (v.fragment_number != 1 && v.inner_first != payload_type::none)
        return wire_error::syntax("SKF: Next Payload set in a non-first fragment");
    if (v.data.empty()) return wire_error::syntax("empty SKF payload");
    return std::nullopt;
}

wire_check verify(const cp_payload& v) {
    if (static_cast<std::uint8_t>(v.type) < 1 || static_cast<std::uint8_t>(v.type) > 4)
        return wire_error::syntax(fmt::format("CFG type {}", static_cast<unsigned>(v.type)));
    return std::nullopt;
}

wire_check verify(const eap_payload& v) {
    if (v.data.size() < 4) return wire_error::syntax("EAP payload shorter than an EAP header");
    return std::nullopt;
}

wire_check verify(const unknown_payload&) { return std::nullopt; }

wire_check verify(const payload& p) {
    auto r = std::visit([](const auto& v) { return verify(v); }, p.body);
    if (r) r->reason = to_string(p.type) + ": " + r->reason;
    return r;
}

// ---- chains --------------------------------------------------------------------------------------

wire_result<std::vector<payload>> parse_payload_chain(std::uint8_t first, std::span<const std::uint8_t> data,
                                                      bool inside_sk) {
    std::vector<payload> out;
    base::reader r(data);
    std::uint8_t type = first;
    while (type != 0) {
        if (r.remaining() < generic_header_size)
            return wire_error::syntax(fmt::format("{} payload header truncated ({} bytes left)",
                                                  to_string(static_cast<payload_type>(type)), r.remaining()));
        std::uint8_t next = r.read_u8();
        bool critical = (r.read_u8() & critical_bit) != 0;
        std::uint16_t len = r.read_u16();
        if (len < generic_header_size)
            return wire_error::syntax(
                fmt::format("{} payload length {} below 4", to_string(static_cast<payload_type>(type)), len));
        auto body = r.bytes(len - generic_header_size);
        if (!r.ok())
            return wire_error::syntax(fmt::format("{} payload length {} exceeds the {} bytes left",
                                                  to_string(static_cast<payload_type>(type)), len,
                                                  body.size() + generic_header_size));
        bool encrypted = type == static_cast<std::uint8_t>(payload_type::sk) ||
                         type == static_cast<std::uint8_t>(payload_type::skf);
        if (encrypted && inside_sk) return wire_error::syntax("SK/SKF payload inside an SK payload");
        auto p = parse_payload_body(type, critical, next, body);
        if (!p) return p.error();
        out.push_back(std::move(p.value()));
        if (encrypted) {
            // 3.14: the Encrypted payload is the last one; its Next Payload names the first inner.
            if (!r.empty()) return wire_error::syntax("payloads after the SK payload");
            return out;
        }
        type = next;
    }
    if (!r.empty()) return wire_error::syntax(fmt::format("{} bytes after the last payload", r.remaining()));
    return out;
}

wire_result<std::vector<payload>> parse_payload_chain(payload_type first, std::span<const std::uint8_t> data,
                                                      bool inside_sk) {
    return parse_payload_chain(static_cast<std::uint8_t>(first), data, inside_sk);
}

payload_type first_type(std::span<const payload> payloads) {
    return payloads.empty() ? payload_type::none : payloads.front().type;
}

wire_check serialize_payload_chain(std::span<const payload> payloads, base::writer& w) {
    for (std::size_t i = 0; i < payloads.size(); ++i) {
        const auto& p = payloads[i];
        std::uint8_t next = i + 1 < payloads.size() ? static_cast<std::uint8_t>(payloads[i + 1].type) : 0;
        if (auto sk = p.as<sk_payload>()) next = static_cast<std::uint8_t>(sk->inner_first);
        if (auto skf = p.as<skf_payload>()) next = static_cast<std::uint8_t>(skf->inner_first);
        if ((p.as<sk_payload>() || p.as<skf_payload>()) && i + 1 != payloads.size())
            return wire_error::syntax("SK/SKF must be the last payload");
        std::size_t start = w.size();
        w.u8(next);
        w.u8(p.critical ? critical_bit : 0);
        w.u16(0);
        serialize_payload_body(p, w);
        std::size_t len = w.size() - start;
        if (len > 0xffff) return wire_error::syntax(fmt::format("{} payload of {} bytes", to_string(p.type), len));
        w.patch_u16(start + 2, static_cast<std::uint16_t>(len));
    }
    return std::nullopt;
}

// ---- builders ------------------------------------------------------------------------------------

payload make_payload(sa_payload v) { return tagged(payload_type::sa, std::move(v)); }
payload make_payload(ke_payload v) { return tagged(payload_type::ke, std::move(v)); }
payload make_payload(nonce_payload v) { return tagged(payload_type::nonce, std::move(v)); }
payload make_payload(auth_payload v) { return tagged(payload_type::auth, std::move(v)); }
payload make_payload(notify_payload v) { return tagged(payload_type::notify, std::move(v)); }
payload make_payload(delete_payload v) { return tagged(payload_type::del, std::move(v)); }
payload make_payload(vendor_payload v) { return tagged(payload_type::vendor, std::move(v)); }
payload make_payload(cp_payload v) { return tagged(payload_type::cp, std::move(v)); }
payload make_payload(eap_payload v) { return tagged(payload_type::eap, std::move(v)); }
payload make_idi(id_payload v) { return tagged(payload_type::idi, std::move(v)); }
payload make_idr(id_payload v) { return tagged(payload_type::idr, std::move(v)); }
payload make_tsi(ts_payload v) { return tagged(payload_type::tsi, std::move(v)); }
payload make_tsr(ts_payload v) { return tagged(payload_type::tsr, std::move(v)); }
payload make_cert(cert_payload v) { return tagged(payload_type::cert, std::move(v)); }
payload make_certreq(cert_payload v) { return tagged(payload_type::certreq, std::move(v)); }
payload make_notify(notify_type type, bytes data, protocol_id protocol, bytes spi) {
    return make_payload(notify_payload{protocol, std::move(spi), type, std::move(data)});
}

} // namespace ike
