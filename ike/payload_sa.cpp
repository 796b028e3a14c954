// Security Association payload (RFC 7296 section 3.3): proposals, transforms, attributes.
//
// Proposal substructure (3.3.1):
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  | Last Substruc |   RESERVED    |         Proposal Length       |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  | Proposal Num  |  Protocol ID  |    SPI Size   |Num  Transforms|
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  ~                        SPI (variable)                         ~
//  ~                        <Transforms>                           ~
// Transform substructure (3.3.2):
//  | Last Substruc |   RESERVED    |        Transform Length       |
//  |Transform Type |   RESERVED    |          Transform ID         |
//  ~                      Transform Attributes                     ~
// Attribute (3.3.5): |A| Attribute Type (15) | AF=1: value (16) / AF=0: length (16), value |
#include "ike/payload.hpp"

#include <fmt/format.h>

namespace ike {
namespace {

constexpr std::uint8_t more_proposals = 2;
constexpr std::uint8_t more_transforms = 3;
constexpr std::uint16_t attr_format_tv = 0x8000;

wire_result<transform> parse_transform(base::reader& tr) {
    transform t;
    t.type = static_cast<transform_type>(tr.read_u8());
    tr.read_u8();
    t.id = tr.read_u16();
    if (!tr.ok()) return wire_error::syntax("transform shorter than its header");
    while (!tr.empty()) {
        std::uint16_t af_type = tr.read_u16();
        transform_attribute a;
        a.type = af_type & 0x7fff;
        a.tv = (af_type & attr_format_tv) != 0;
        if (a.tv) {
            a.value = tr.read_u16();
        } else {
            std::uint16_t len = tr.read_u16();
            auto d = tr.bytes(len);
            a.data.assign(d.begin(), d.end());
        }
        if (!tr.ok()) return wire_error::syntax("transform attribute overruns the transform");
        if (a.type == attr_key_length) {
            if (!a.tv) return wire_error::syntax("Key Length attribute must use the TV format (RFC 7296 3.3.5)");
            if (t.key_length) return wire_error::syntax("duplicate Key Length attribute");
            t.key_length = a.value;
        } else {
            t.other_attributes.push_back(std::move(a));
        }
    }
    return t;
}

wire_result<proposal> parse_proposal(base::reader& pr) {
    proposal p;
    p.number = pr.read_u8();
    p.protocol = static_cast<protocol_id>(pr.read_u8());
    std::uint8_t spi_size = pr.read_u8();
    std::uint8_t num_transforms = pr.read_u8();
    auto spi = pr.bytes(spi_size);
    if (!pr.ok()) return wire_error::syntax("proposal shorter than its header and SPI");
    p.spi.assign(spi.begin(), spi.end());
    bool last_seen = false;
    while (!pr.empty()) {
        if (last_seen) return wire_error::syntax("data after the last transform of a proposal");
        std::uint8_t more = pr.read_u8();
        pr.read_u8();
        std::uint16_t len = pr.read_u16();
        if (!pr.ok()) return wire_error::syntax("truncated transform header");
        if (more != 0 && more != more_transforms)
            return wire_error::syntax(fmt::format("bad transform Last Substruc {}", more));
        if (len < 8) return wire_error::syntax(fmt::format("transform length {} below 8", len));
        auto tr = pr.sub(len - 4u);
        if (!pr.ok()) return wire_error::syntax("transform length exceeds its proposal");
        auto t = parse_transform(tr);
        if (!t) return t.error();
        p.transforms.push_back(std::move(t.value()));
        last_seen = more == 0;
    }
    if (!p.transforms.empty() && !last_seen) return wire_error::syntax("last transform not marked last");
    if (p.transforms.size() != num_transforms)
        return wire_error::syntax(fmt::format("proposal {} announces {} transforms, carries {}", p.number,
                                              num_transforms, p.transforms.size()));
    return p;
}

void serialize_transform(const transform& t, bool last, base::writer& w) {
    std::size_t start = w.size();
    w.u8(last ? 0 : more_transforms);
    w.u8(0);
    w.u16(0);
    w.u8(static_cast<std::uint8_t>(t.type));
    w.u8(0);
    w.u16(t.id);
    if (t.key_length) {
        w.u16(attr_format_tv | attr_key_length);
        w.u16(*t.key_length);
    }
    for (const auto& a : t.other_attributes) {
        if (a.tv) {
            w.u16(attr_format_tv | a.type);
            w.u16(a.value);
        } else {
            w.u16(a.type & 0x7fff);
            w.u16(static_cast<std::uint16_t>(a.data.size()));
            w.bytes(a.data);
        }
    }
    w.patch_u16(start + 2, static_cast<std::uint16_t>(w.size() - start));
}

} // namespace

wire_result<sa_payload> parse_sa_body(base::reader& r) {
    sa_payload sa;
    bool last_seen = false;
    while (!r.empty()) {
        if (last_seen) return wire_error::syntax("data after the last proposal");
        std::uint8_t more = r.read_u8();
        r.read_u8();
        std::uint16_t len = r.read_u16();
        if (!r.ok()) return wire_error::syntax("truncated proposal header");
        if (more != 0 && more != more_proposals)
            return wire_error::syntax(fmt::format("bad proposal Last Substruc {}", more));
        if (len < 8) return wire_error::syntax(fmt::format("proposal length {} below 8", len));
        auto pr = r.sub(len - 4u);
        if (!r.ok()) return wire_error::syntax("proposal length exceeds the SA payload");
        auto p = parse_proposal(pr);
        if (!p) return p.error();
        sa.proposals.push_back(std::move(p.value()));
        last_seen = more == 0;
    }
    if (!sa.proposals.empty() && !last_seen) return wire_error::syntax("last proposal not marked last");
    return sa;
}

void serialize_sa_body(const sa_payload& v, base::writer& w) {
    for (std::size_t i = 0; i < v.proposals.size(); ++i) {
        const auto& p = v.proposals[i];
        std::size_t start = w.size();
        w.u8(i + 1 == v.proposals.size() ? 0 : more_proposals);
        w.u8(0);
        w.u16(0);
        w.u8(p.number);
        w.u8(static_cast<std::uint8_t>(p.protocol));
        w.u8(static_cast<std::uint8_t>(p.spi.size()));
        w.u8(static_cast<std::uint8_t>(p.transforms.size()));
        w.bytes(p.spi);
        for (std::size_t j = 0; j < p.transforms.size(); ++j)
            serialize_transform(p.transforms[j], j + 1 == p.transforms.size(), w);
        w.patch_u16(start + 2, static_cast<std::uint16_t>(w.size() - start));
    }
}

wire_check verify(const sa_payload& v) {
    if (v.proposals.empty()) return wire_error::syntax("SA payload without proposals");
    if (v.proposals.size() > 255) return wire_error::syntax("more than 255 proposals");
    for (std::size_t i = 0; i < v.proposals.size(); ++i) {
        const auto& p = v.proposals[i];
        // 3.3.1: numbered from one, each one more than the previous; a response carries the
        // single accepted proposal with its original number.
        if (p.number == 0) return wire_error::syntax("proposal number 0");
        if (i > 0 && p.number != v.proposals[i - 1].number + 1)
            return wire_error::syntax(fmt::format("proposal numbers not consecutive ({} after {})", p.number,
                                                  v.proposals[i - 1].number));
        if (v.proposals.size() > 1 && i == 0 && p.number != 1)
            return wire_error::syntax("first of several proposals is not number 1");
        switch (p.protocol) {
        case protocol_id::ike:
            if (!p.spi.empty() && p.spi.size() != 8)
                return wire_error::syntax(fmt::format("IKE proposal with {}-byte SPI", p.spi.size()));
            break;
        case protocol_id::esp:
        case protocol_id::ah:
            if (p.spi.size() != 4)
                return wire_error::syntax(
                    fmt::format("{} proposal with {}-byte SPI", to_string(p.protocol), p.spi.size()));
            break;
        default:
            return wire_error::syntax(fmt::format("proposal protocol {}", static_cast<unsigned>(p.protocol)));
        }
        if (p.transforms.empty()) return wire_error::syntax(fmt::format("proposal {} has no transforms", p.number));
        if (p.transforms.size() > 255) return wire_error::syntax("more than 255 transforms");
        for (const auto& t : p.transforms) {
            if (t.key_length && t.type != transform_type::encr)
                return wire_error::syntax("Key Length attribute on a non-ENCR transform");
            for (const auto& a : t.other_attributes)
                if (!a.tv && a.data.size() > 0xffff) return wire_error::syntax("oversized transform attribute");
        }
    }
    return std::nullopt;
}

} // namespace ike
