// IKEv2 message header, whole-message parse/serialize, and the SK/SKF seal/open plumbing
// (see message.hpp for the receive order).
//
// Sending, in order:
//  1. header with Length 0, cleartext payloads, then (with a codec) the SK payload whose body is
//     sized by sk_codec::sealed_size() for the serialized inner chain
//  2. Length patched into the header: now every byte before the SK body is final
//  3. sk_codec::seal(aad = bytes before the SK body, plaintext = inner chain) fills the SK body
#include "ike/message.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ike {
namespace {

constexpr std::size_t length_offset = 24;
constexpr std::size_t skf_fields_size = 4;  // Fragment Number + Total Fragments

void patch_length(bytes& buf) {
    base::store_be32(buf.data() + length_offset, static_cast<std::uint32_t>(buf.size()));
}

} // namespace

const sk_payload* message::sk() const {
    return payloads.empty() ? nullptr : payloads.back().as<sk_payload>();
}

const skf_payload* message::skf() const {
    return payloads.empty() ? nullptr : payloads.back().as<skf_payload>();
}

const payload* message::find(payload_type t) const {
    for (const auto* list : {&payloads, &encrypted})
        for (const auto& p : *list)
            if (p.type == t) return &p;
    return nullptr;
}

const notify_payload* message::find_notify(notify_type t) const {
    for (const auto* list : {&payloads, &encrypted})
        for (const auto& p : *list)
            if (auto n = p.as<notify_payload>(); n && n->type == t) return n;
    return nullptr;
}

std::size_t message::count(payload_type t) const {
    auto pred = [t](const payload& p) { return p.type == t; };
    return static_cast<std::size_t>(std::count_if(payloads.begin(), payloads.end(), pred) +
                                    std::count_if(encrypted.begin(), encrypted.end(), pred));
}

namespace {

void describe(const payload& p, std::string& out) {
    if (p.as<sk_payload>()) return;  // shown as "SK { ... }" by the caller
    out += ' ';
    if (auto n = p.as<notify_payload>()) {
        out += "N(" + to_string(n->type) + ")";
    } else if (auto u = p.as<unknown_payload>()) {
        out += fmt::format("UNKNOWN_{}{}", static_cast<unsigned>(u->type), p.critical ? "!" : "");
    } else if (auto d = p.as<delete_payload>()) {
        out += fmt::format("D({}:{})", to_string(d->protocol), d->spis.size());
    } else if (auto f = p.as<skf_payload>()) {
        out += fmt::format("SKF({}/{})", f->fragment_number, f->total_fragments);
    } else {
        out += to_string(p.type);
    }
}

} // namespace

std::string to_string(const message& m) {
    std::string out = fmt::format("{} {} {} [", to_string(m.header.exchange),
                                  m.header.response ? "response" : "request", m.header.message_id);
    for (const auto& p : m.payloads) describe(p, out);
    bool protected_ = m.sk() || !m.encrypted.empty() || m.opened;
    if (protected_ && !m.skf()) {
        out += " SK {";
        for (const auto& p : m.encrypted) describe(p, out);
        out += " }";
    } else if (m.skf() && m.opened) {
        out += " {";
        for (const auto& p : m.encrypted) describe(p, out);
        out += " }";
    }
    out += " ]";
    return out;
}

wire_result<ike_header> parse_header(std::span<const std::uint8_t> datagram) {
    base::reader r(datagram);
    ike_header h;
    auto spi_i = r.bytes(8);
    auto spi_r = r.bytes(8);
    h.next_payload = static_cast<payload_type>(r.read_u8());
    std::uint8_t version = r.read_u8();
    h.exchange = static_cast<exchange_type>(r.read_u8());
    std::uint8_t flags = r.read_u8();
    h.message_id = r.read_u32();
    h.length = r.read_u32();
    if (!r.ok()) return wire_error::syntax(fmt::format("datagram of {} bytes is shorter than an IKE header", datagram.size()));
    std::copy(spi_i.begin(), spi_i.end(), h.spi_i.begin());
    std::copy(spi_r.begin(), spi_r.end(), h.spi_r.begin());
    h.major_version = version >> 4;
    h.minor_version = version & 0x0f;
    h.initiator = (flags & flag_initiator) != 0;
    h.response = (flags & flag_response) != 0;
    h.version = (flags & flag_version) != 0;
    if (h.length != datagram.size())
        return wire_error::syntax(fmt::format("IKE header Length {} but datagram has {} bytes", h.length, datagram.size()));
    return h;
}

void serialize_header(const ike_header& h, base::writer& w) {
    w.bytes(h.spi_i);
    w.bytes(h.spi_r);
    w.u8(static_cast<std::uint8_t>(h.next_payload));
    w.u8(std::uint8_t(h.major_version << 4 | (h.minor_version & 0x0f)));
    w.u8(static_cast<std::uint8_t>(h.exchange));
    w.u8(h.flags());
    w.u32(h.message_id);
    w.u32(h.length);
}

wire_result<message> parse_message(std::span<const std::uint8_t> datagram) {
    auto h = parse_header(datagram);
    if (!h) return h.error();
    if (h->major_version != ike_major_version) {
        // 2.5: answer a higher major version with INVALID_MAJOR_VERSION (our version in the
        // reply header); anything else (IKEv1) is not ours to answer.
        return wire_error{notify_type::invalid_major_version,
                          fmt::format("IKE major version {}", static_cast<unsigned>(h->major_version)), {}};
    }
    auto chain = parse_payload_chain(h->next_payload, datagram.subspan(ike_header_size), false);
    if (!chain) return chain.error();
    message m;
    m.header = h.value();
    m.payloads = std::move(chain.value());
    return m;
}

wire_check open_sk(message& m, std::span<const std::uint8_t> datagram, sk_codec& codec) {
    const sk_payload* sk = m.sk();
    if (!sk) return wire_error::syntax("no SK payload to open");
    if (datagram.size() != m.header.length || sk->data.size() > datagram.size())
        return wire_error::syntax("datagram does not match the parsed message");
    std::size_t body_at = datagram.size() - sk->data.size();
    auto plain = codec.open(datagram.first(body_at), datagram.subspan(body_at));
    if (!plain) return wire_error::syntax(icv_failed_reason);
    auto inner = parse_payload_chain(sk->inner_first, *plain, true);
    if (!inner) return inner.error();
    m.encrypted = std::move(inner.value());
    m.opened = true;
    return std::nullopt;
}

wire_result<bytes> open_skf(const message& m, std::span<const std::uint8_t> datagram, sk_codec& codec) {
    const skf_payload* skf = m.skf();
    if (!skf) return wire_error::syntax("no SKF payload to open");
    if (datagram.size() != m.header.length || skf->data.size() > datagram.size())
        return wire_error::syntax("datagram does not match the parsed message");
    std::size_t body_at = datagram.size() - skf->data.size();
    auto plain = codec.open(datagram.first(body_at), datagram.subspan(body_at));
    if (!plain) return wire_error::syntax(icv_failed_reason);
    return std::move(*plain);
}

wire_result<bytes> serialize_message(const message& m, sk_codec* codec) {
    std::vector<payload> chain = m.payloads;
    std::size_t sealed_size = 0;
    base::writer inner;
    if (codec) {
        for (const auto& p : m.payloads)
            if (p.as<sk_payload>() || p.as<skf_payload>())
                return wire_error::syntax("cleartext payloads already contain SK/SKF");
        if (auto e = serialize_payload_chain(m.encrypted, inner)) return *e;
        sealed_size = codec->sealed_size(inner.size());
        chain.push_back(payload{payload_type::sk, false,
                                sk_payload{first_type(m.encrypted), bytes(sealed_size, 0)}});
    } else if (!m.encrypted.empty()) {
        return wire_error::syntax("encrypted payloads given without an sk_codec");
    }
    ike_header h = m.header;
    h.next_payload = first_type(chain);
    h.length = 0;
    base::writer w;
    serialize_header(h, w);
    if (auto e = serialize_payload_chain(chain, w)) return *e;
    bytes buf = w.take();
    patch_length(buf);
    if (codec) {
        std::span<std::uint8_t> all(buf);
        std::size_t body_at = buf.size() - sealed_size;
        if (!codec->seal(all.first(body_at), inner.data(), all.subspan(body_at)))
            return wire_error::syntax("sealing the SK payload failed");
    }
    return buf;
}

wire_result<std::vector<bytes>> serialize_fragments(const message& m, sk_codec& codec, std::size_t max_plaintext) {
    if (!m.payloads.empty()) return wire_error::syntax("fragmented messages carry no cleartext payloads");
    if (max_plaintext == 0) return wire_error::syntax("fragment size 0");
    base::writer inner;
    if (auto e = serialize_payload_chain(m.encrypted, inner)) return *e;
    std::span<const std::uint8_t> plain(inner.data());
    std::size_t total = std::max<std::size_t>(1, (plain.size() + max_plaintext - 1) / max_plaintext);
    if (total > 0xffff) return wire_error::syntax("too many fragments");
    std::vector<bytes> out;
    for (std::size_t i = 0; i < total; ++i) {
        auto piece = plain.subspan(i * max_plaintext, std::min(max_plaintext, plain.size() - i * max_plaintext));
        std::size_t sealed_size = codec.sealed_size(piece.size());
        ike_header h = m.header;
        h.next_payload = payload_type::skf;
        h.length = 0;
        base::writer w;
        serialize_header(h, w);
        // RFC 7383 2.5: Next Payload is the first inner payload in fragment 1 and 0 in the rest.
        w.u8(i == 0 ? static_cast<std::uint8_t>(first_type(m.encrypted)) : 0);
        w.u8(0);
        std::size_t len = 4 + skf_fields_size + sealed_size;
        if (len > 0xffff) return wire_error::syntax("fragment too large");
        w.u16(static_cast<std::uint16_t>(len));
        w.u16(static_cast<std::uint16_t>(i + 1));
        w.u16(static_cast<std::uint16_t>(total));
        w.zeros(sealed_size);
        bytes buf = w.take();
        patch_length(buf);
        std::span<std::uint8_t> all(buf);
        std::size_t body_at = buf.size() - sealed_size;
        if (!codec.seal(all.first(body_at), piece, all.subspan(body_at)))
            return wire_error::syntax("sealing an SKF payload failed");
        out.push_back(std::move(buf));
    }
    return out;
}

} // namespace ike
