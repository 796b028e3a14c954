#pragma once
// IKEv2 payloads (RFC 7296 section 3.2-3.16, RFC 7383 section 2.5): one struct per payload body,
// and for each: parse (structure, from a bounds-checked base::reader over exactly the body),
// serialize (into a base::writer) and verify (meaning-level limits: nonce 16..256 bytes, SPI
// sizes by protocol, address lengths by ID/TS type, ...).
//
// The generic payload header (RFC 7296 section 3.2) is handled by the chain functions at the end:
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The same chain parser reads the cleartext payloads after the IKE header and the inner payloads
// of a decrypted SK payload (whose first type is the SK payload's Next Payload field).
#include "ike/wire_error.hpp"
#include "ike/wire_types.hpp"

#include <base/reader.hpp>
#include <base/writer.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ike {

using bytes = std::vector<std::uint8_t>;

// ---- SA (RFC 7296 section 3.3) ----------------------------------------------------------------

// A transform attribute (3.3.5): TV when `tv` (value in `value`), else TLV (value in `data`).
struct transform_attribute {
    std::uint16_t type = 0;  // without the AF bit
    bool tv = true;
    std::uint16_t value = 0;
    bytes data;
    friend bool operator==(const transform_attribute&, const transform_attribute&) = default;
};

struct transform {
    transform_type type = transform_type::encr;
    std::uint16_t id = 0;
    std::optional<std::uint16_t> key_length;     // the Key Length attribute (type 14), in bits
    std::vector<transform_attribute> other_attributes;  // unknown attributes, kept for round trips
    friend bool operator==(const transform&, const transform&) = default;
};

struct proposal {
    std::uint8_t number = 1;  // preserved: the response echoes the accepted number (3.3.1)
    protocol_id protocol = protocol_id::ike;
    bytes spi;                // 0 bytes (initial IKE), 8 (IKE rekey) or 4 (ESP/AH)
    std::vector<transform> transforms;
    friend bool operator==(const proposal&, const proposal&) = default;
};

struct sa_payload {
    std::vector<proposal> proposals;
    friend bool operator==(const sa_payload&, const sa_payload&) = default;
};

// ---- KE, Nonce, ID, AUTH, CERT, CERTREQ --------------------------------------------------------

struct ke_payload {  // 3.4
    dh_group group = dh_group::none;
    bytes data;
    friend bool operator==(const ke_payload&, const ke_payload&) = default;
};

struct nonce_payload {  // 3.9
    bytes data;
    friend bool operator==(const nonce_payload&, const nonce_payload&) = default;
};

struct id_payload {  // 3.5, used for IDi and IDr
    id_type type = id_type::fqdn;
    bytes data;  // address bytes, name octets, key id or DER (kept raw)
    friend bool operator==(const id_payload&, const id_payload&) = default;

    // "192.0.2.1" / "2001:db8::1" -> ipv4/ipv6; "user@example.com" -> rfc822; "@name" or any
    // other name -> fqdn (strongSwan's leading '@' forces FQDN); "keyid:hex" -> key_id.
    // nullopt for an empty string or bad hex.
    static std::optional<id_payload> from_string(std::string_view s);
    // Inverse of from_string for ip/fqdn/rfc822/key_id; other types print as "<TYPE>:hex".
    [[nodiscard]] std::string to_string() const;
};

struct auth_payload {  // 3.8
    auth_method method = auth_method::psk;
    bytes data;
    friend bool operator==(const auth_payload&, const auth_payload&) = default;
};

struct cert_payload {  // 3.6 (CERT) and 3.7 (CERTREQ): encoding + opaque data
    cert_encoding encoding = cert_encoding::x509_signature;
    bytes data;
    friend bool operator==(const cert_payload&, const cert_payload&) = default;
};

// ---- Notify, Delete, Vendor ID ------------------------------------------------------------------

struct notify_payload {  // 3.10
    protocol_id protocol = protocol_id::none;
    bytes spi;
    notify_type type = notify_type::invalid_syntax;
    bytes data;
    friend bool operator==(const notify_payload&, const notify_payload&) = default;
};

struct delete_payload {  // 3.11
    protocol_id protocol = protocol_id::esp;
    std::uint8_t spi_size = 4;  // explicit: an IKE SA delete has size 0 and no SPIs
    std::vector<bytes> spis;
    friend bool operator==(const delete_payload&, const delete_payload&) = default;
};

struct vendor_payload {  // 3.12
    bytes data;
    friend bool operator==(const vendor_payload&, const vendor_payload&) = default;
};

// ---- Traffic selectors (3.13) ------------------------------------------------------------------

struct traffic_selector {
    ts_type type = ts_type::ipv4_addr_range;
    std::uint8_t ip_protocol = 0;  // 0 = any
    std::uint16_t start_port = 0;
    std::uint16_t end_port = 65535;
    bytes start_address;  // 4 bytes (IPv4) or 16 (IPv6)
    bytes end_address;
    friend bool operator==(const traffic_selector&, const traffic_selector&) = default;

    // "10.0.0.0/24", "2001:db8::/64" or "192.0.2.1" (host); nullopt when malformed.
    static std::optional<traffic_selector> from_cidr(std::string_view cidr, std::uint8_t protocol = 0,
                                                     std::uint16_t start_port = 0, std::uint16_t end_port = 65535);
    // "10.0.0.0/24", "10.0.0.1..10.0.0.9" when not a prefix, plus "[proto/port]" when narrowed,
    // as strongSwan prints selectors: "10.0.0.0/24[tcp/80-81]".
    [[nodiscard]] std::string to_string() const;
};

struct ts_payload {  // TSi and TSr
    std::vector<traffic_selector> selectors;
    friend bool operator==(const ts_payload&, const ts_payload&) = default;
};

// ---- Encrypted (3.14), Encrypted Fragment (RFC 7383 2.5), CP (3.15), EAP (3.16) ---------------

// The SK payload body, kept raw for the crypto layer: IV || ciphertext || ICV. The first inner
// payload type is the SK payload's Next Payload field.
struct sk_payload {
    payload_type inner_first = payload_type::none;
    bytes data;
    friend bool operator==(const sk_payload&, const sk_payload&) = default;
};

struct skf_payload {
    payload_type inner_first = payload_type::none;  // set in fragment 1 only (RFC 7383 2.5)
    std::uint16_t fragment_number = 1;
    std::uint16_t total_fragments = 1;
    bytes data;  // IV || ciphertext || ICV of this fragment
    friend bool operator==(const skf_payload&, const skf_payload&) = default;
};

struct cp_attribute {
    std::uint16_t type = 0;  // without the reserved bit
    bytes value;
    friend bool operator==(const cp_attribute&, const cp_attribute&) = default;
};

struct cp_payload {
    cfg_type type = cfg_type::request;
    std::vector<cp_attribute> attributes;  // values kept raw
    friend bool operator==(const cp_payload&, const cp_payload&) = default;
};

struct eap_payload {
    bytes data;  // the EAP message, raw (RFC 3748 header included)
    friend bool operator==(const eap_payload&, const eap_payload&) = default;
};

// A payload type this codec does not implement: kept so the validator can answer
// UNSUPPORTED_CRITICAL_PAYLOAD when `critical` is set (RFC 7296 section 2.5), skipped otherwise.
struct unknown_payload {
    std::uint8_t type = 0;
    bytes data;
    friend bool operator==(const unknown_payload&, const unknown_payload&) = default;
};

using payload_body = std::variant<sa_payload, ke_payload, nonce_payload, id_payload, auth_payload, cert_payload,
                                  notify_payload, delete_payload, vendor_payload, ts_payload, sk_payload,
                                  skf_payload, cp_payload, eap_payload, unknown_payload>;

struct payload {
    payload_type type = payload_type::none;  // for unknown_payload: its raw type
    bool critical = false;
    payload_body body;
    friend bool operator==(const payload&, const payload&) = default;

    template <class T>
    [[nodiscard]] const T* as() const { return std::get_if<T>(&body); }
    template <class T>
    [[nodiscard]] T* as() { return std::get_if<T>(&body); }
};

// Helpers to build payloads with the right type tag.
payload make_payload(sa_payload v);
payload make_payload(ke_payload v);
payload make_payload(nonce_payload v);
payload make_payload(auth_payload v);
payload make_payload(notify_payload v);
payload make_payload(delete_payload v);
payload make_payload(vendor_payload v);
payload make_payload(cp_payload v);
payload make_payload(eap_payload v);
payload make_idi(id_payload v);
payload make_idr(id_payload v);
payload make_tsi(ts_payload v);
payload make_tsr(ts_payload v);
payload make_cert(cert_payload v);
payload make_certreq(cert_payload v);
payload make_notify(notify_type type, bytes data = {}, protocol_id protocol = protocol_id::none, bytes spi = {});

// ---- per-payload parse / serialize / verify -----------------------------------------------------

// Internal pieces of parse_payload_body, shared with payload_sa.cpp / payload_ts.cpp.
wire_result<sa_payload> parse_sa_body(base::reader& r);
void serialize_sa_body(const sa_payload& v, base::writer& w);
wire_result<ts_payload> parse_ts_body(base::reader& r);
void serialize_ts_body(const ts_payload& v, base::writer& w);

// Parse the body of one payload (everything after the generic header). `type` selects the layout;
// `next_payload` is the generic header's Next Payload (the inner first type for SK/SKF). Unknown
// types become unknown_payload. Fails with INVALID_SYNTAX when the body is malformed (length
// fields inconsistent, truncated, trailing bytes in a fixed-layout body).
wire_result<payload> parse_payload_body(std::uint8_t type, bool critical, std::uint8_t next_payload,
                                        std::span<const std::uint8_t> body);

// Append the body (not the generic header) of `p` to `w`.
void serialize_payload_body(const payload& p, base::writer& w);

// Meaning-level checks beyond structure; empty when fine.
wire_check verify(const sa_payload& v);
wire_check verify(const ke_payload& v);
wire_check verify(const nonce_payload& v);
wire_check verify(const id_payload& v);
wire_check verify(const auth_payload& v);
wire_check verify(const cert_payload& v);
wire_check verify(const notify_payload& v);
wire_check verify(const delete_payload& v);
wire_check verify(const vendor_payload& v);
wire_check verify(const ts_payload& v);
wire_check verify(const sk_payload& v);
wire_check verify(const skf_payload& v);
wire_check verify(const cp_payload& v);
wire_check verify(const eap_payload& v);
wire_check verify(const unknown_payload& v);
wire_check verify(const payload& p);  // dispatches on the body

// RFC 7296 section 2.10 limits.
inline constexpr std::size_t nonce_min = 16;
inline constexpr std::size_t nonce_max = 256;

// ---- payload chains -----------------------------------------------------------------------------

// Walk a chain of payloads starting with `first` over exactly `data`. SK/SKF must be the last
// payload of a chain (RFC 7296 3.14) and may not appear inside SK (`inside_sk`). The result lists
// every payload in order, unknown ones included (as unknown_payload).
wire_result<std::vector<payload>> parse_payload_chain(payload_type first, std::span<const std::uint8_t> data,
                                                      bool inside_sk);
wire_result<std::vector<payload>> parse_payload_chain(std::uint8_t first, std::span<const std::uint8_t> data,
                                                      bool inside_sk);

// Type of the first payload of a chain as written in the preceding Next Payload field.
[[nodiscard]] payload_type first_type(std::span<const payload> payloads);

// Write the payloads with generic headers, computing each Payload Length and chaining Next
// Payload (0 after the last one; an SK/SKF payload's Next Payload is its inner_first, and it must
// be last). Fails when a body exceeds 65535 - 4 bytes or SK/SKF is not last.
wire_check serialize_payload_chain(std::span<const payload> payloads, base::writer& w);

} // namespace ike
