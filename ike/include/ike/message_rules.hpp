#pragma once
// Per-exchange payload rules (RFC 7296 sections 1.2-1.5, 2.6, 2.21): one table per exchange type
// and direction saying which payloads may appear, how often, and whether inside SK. Enforced in
// one place, validate_message(), before any exchange logic reads the message (STYLE.md
// "Untrusted bytes"). Minimum counts are waived when the message carries an error notify, or a
// COOKIE/INVALID_KE_PAYLOAD-only IKE_SA_INIT response, because those replace the normal content.
#include "ike/message.hpp"
#include "ike/wire_error.hpp"

#include <cstdint>
#include <span>

namespace ike {

inline constexpr std::uint8_t unlimited = 255;

struct payload_rule {
    payload_type type;
    std::uint8_t min;
    std::uint8_t max;  // `unlimited` for N, V, CERT, ...
    bool encrypted;    // true: only inside SK; false: only in cleartext
};

struct exchange_rules {
    exchange_type exchange;
    bool response;
    std::span<const payload_rule> rules;
};

// Table for an exchange/direction; nullptr for exchanges we do not implement.
const exchange_rules* find_rules(exchange_type exchange, bool response);

// Before decryption (receive step 3): header sanity, the cleartext payloads against the table,
// and SK (or SKF) present exactly when the exchange is protected. Unknown critical payloads in
// cleartext already fail here with UNSUPPORTED_CRITICAL_PAYLOAD (data = the payload type).
wire_check validate_outer(const message& m);

// After open_sk (or for IKE_SA_INIT right after parsing): everything validate_outer checks plus
// the inner payloads, counts over both, unknown critical payloads, and verify() of every payload.
wire_check validate_message(const message& m);

} // namespace ike
