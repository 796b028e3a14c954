#pragma once
// IKEv2 messages: the IKE header (RFC 7296 section 3.1), the cleartext payload chain, and the
// payloads carried inside the Encrypted payload (3.14), which the crypto side seals/opens through
// ike::sk_codec (wire_sk_codec.hpp).
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       IKE SA Initiator's SPI                  |
// |                                                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       IKE SA Responder's SPI                  |
// |                                                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                          Message ID                           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                            Length                             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Receiving, in order:
//  1. parse_header(): 28 bytes, Length equal to the datagram (no trailing bytes, no short reads)
//  2. parse_message(): major version 2 (else INVALID_MAJOR_VERSION, data = our version), then the
//     cleartext chain; SK/SKF stays raw
//  3. validate_outer() (message_rules.hpp): exchange table check before spending crypto on it
//  4. open_sk(): sk_codec verifies + decrypts; the inner chain is parsed with the same chain code
//  5. validate_message(): per-exchange payload table, critical unknown payloads, every payload's
//     verify() — one gate before any exchange logic looks at the message
#include "ike/payload.hpp"
#include "ike/wire_error.hpp"
#include "ike/wire_sk_codec.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ike {

using ike_spi = std::array<std::uint8_t, 8>;

inline constexpr std::size_t ike_header_size = 28;
inline constexpr std::uint8_t ike_major_version = 2;

struct ike_header {
    ike_spi spi_i{};
    ike_spi spi_r{};
    payload_type next_payload = payload_type::none;
    std::uint8_t major_version = ike_major_version;
    std::uint8_t minor_version = 0;
    exchange_type exchange = exchange_type::ike_sa_init;
    bool initiator = false;  // I: sent by the original initiator of the IKE SA
    bool response = false;   // R
    bool version = false;    // V: sender can speak a higher major version
    std::uint32_t message_id = 0;
    std::uint32_t length = 0;  // as on the wire; computed by serialize_message
    friend bool operator==(const ike_header&, const ike_header&) = default;

    [[nodiscard]] std::uint8_t flags() const {
        return std::uint8_t((initiator ? flag_initiator : 0) | (response ? flag_response : 0) |
                            (version ? flag_version : 0));
    }
};

struct message {
    ike_header header;
    // Cleartext payloads in order; when protected, the last one is the SK (or SKF) payload.
    std::vector<payload> payloads;
    // The payloads inside SK: filled by open_sk() on receipt, sealed by serialize_message() when
    // sending with an sk_codec (an empty list still yields an SK payload: liveness check, 1.4).
    std::vector<payload> encrypted;
    bool opened = false;  // encrypted holds the decrypted inner payloads of a received message

    [[nodiscard]] const sk_payload* sk() const;
    [[nodiscard]] const skf_payload* skf() const;
    // First payload of a type among cleartext then inner payloads; nullptr when absent.
    [[nodiscard]] const payload* find(payload_type t) const;
    [[nodiscard]] const notify_payload* find_notify(notify_type t) const;
    [[nodiscard]] std::size_t count(payload_type t) const;
};

// One line in RFC notation for logs, like charon's "IKE_AUTH request 1 [ IDi N(INITIAL_CONTACT)
// IDr AUTH SA TSi TSr ]"; the inner payloads of an opened (or to-be-sealed) SK appear inside
// "SK { ... }", unknown payloads as "UNKNOWN_<type>" with "!" when critical.
std::string to_string(const message& m);

wire_result<ike_header> parse_header(std::span<const std::uint8_t> datagram);
void serialize_header(const ike_header& h, base::writer& w);

// Parse a whole datagram (steps 1-2 above). On INVALID_MAJOR_VERSION the caller can still read
// the SPIs with parse_header() to answer (RFC 7296 section 2.5).
wire_result<message> parse_message(std::span<const std::uint8_t> datagram);

// Step 4: verify and decrypt the SK payload of `m` (parsed from `datagram`, the exact bytes that
// were received) and parse the inner chain into m.encrypted. An ICV failure returns reason
// icv_failed_reason; the caller must drop such a message silently (RFC 7296 section 2.21.2). A
// malformed inner chain (after a good ICV) is INVALID_SYNTAX, answered in the protected exchange.
wire_check open_sk(message& m, std::span<const std::uint8_t> datagram, sk_codec& codec);

// For SKF (RFC 7383 2.5) the AAD also covers Fragment Number / Total Fragments: opens one
// fragment and returns its plaintext (reassembly is the caller's, in fragment-number order; then
// parse_payload_chain(first fragment's inner_first, joined plaintext, true)).
wire_result<bytes> open_skf(const message& m, std::span<const std::uint8_t> datagram, sk_codec& codec);
// Outcome of open_sk/open_skf when the ICV did not verify.
inline constexpr const char* icv_failed_reason = "integrity check failed";

// Serialize `m`: header (Length computed), cleartext payload chain with Next Payload chaining, and,
// when `codec` is given, an SK payload sealing m.encrypted (inner chain serialized with the same
// code; AAD per wire_sk_codec.hpp). Without a codec, m.encrypted must be empty and a raw SK
// payload in m.payloads (e.g. from a parsed message) is written as is.
wire_result<bytes> serialize_message(const message& m, sk_codec* codec = nullptr);

// RFC 7383: split the inner payloads of `m` into SKF fragments whose sealed parts hold at most
// `max_plaintext` bytes of plaintext each (the caller derives it from the path MTU). Fragments
// carry the header of `m` with the same Message ID; m.payloads must hold no cleartext payloads.
wire_result<std::vector<bytes>> serialize_fragments(const message& m, sk_codec& codec, std::size_t max_plaintext);

} // namespace ike
