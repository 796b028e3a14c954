// The per-exchange payload tables and their single enforcement point (message_rules.hpp).
//
// Validation, in order:
//  1. header: non-zero SPIi (3.1), IKE_SA_INIT request with zero SPIr and Message ID 0
//  2. table for exchange + direction (unknown exchange: INVALID_SYNTAX)
//  3. unknown payloads: critical -> UNSUPPORTED_CRITICAL_PAYLOAD (data = type, 2.5), else skipped
//  4. placement: cleartext vs inside SK, per table; SK/SKF exactly once in protected exchanges
//  5. counts (min waived when the message is an error/cookie reply)
//  6. verify() of every payload
#include "ike/message_rules.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace ike {
namespace {

using pt = payload_type;
constexpr bool clear = false;
constexpr bool inside = true;

// RFC 7296 1.2: HDR, SAi1, KEi, Ni  (plus N(COOKIE), N(NAT_DETECTION_*), V ...)
constexpr std::array init_request{
    payload_rule{pt::sa, 1, 1, clear},          payload_rule{pt::ke, 1, 1, clear},
    payload_rule{pt::nonce, 1, 1, clear},       payload_rule{pt::notify, 0, unlimited, clear},
    payload_rule{pt::vendor, 0, unlimited, clear},
};
// HDR, SAr1, KEr, Nr, [CERTREQ]  or  HDR, N(COOKIE | INVALID_KE_PAYLOAD | NO_PROPOSAL_CHOSEN ...)
constexpr std::array init_response{
    payload_rule{pt::sa, 1, 1, clear},          payload_rule{pt::ke, 1, 1, clear},
    payload_rule{pt::nonce, 1, 1, clear},       payload_rule{pt::certreq, 0, unlimited, clear},
    payload_rule{pt::notify, 0, unlimited, clear}, payload_rule{pt::vendor, 0, unlimited, clear},
};
// 1.2: HDR, SK {IDi, [CERT,] [CERTREQ,] [IDr,] AUTH, SAi2, TSi, TSr}. Minimums stay 0 like
// strongSwan's tables: EAP rounds and RFC 4739 follow-ups carry only some of them, and the
// exchange checks what its step needs (a PSK IKE_AUTH without AUTH is AUTHENTICATION_FAILED,
// not a syntax error).
constexpr std::array auth_request{
    payload_rule{pt::idi, 0, 1, inside},        payload_rule{pt::cert, 0, unlimited, inside},
    payload_rule{pt::certreq, 0, unlimited, inside}, payload_rule{pt::idr, 0, 1, inside},
    payload_rule{pt::auth, 0, 1, inside},       payload_rule{pt::eap, 0, 1, inside},
    payload_rule{pt::cp, 0, 1, inside},         payload_rule{pt::sa, 0, 1, inside},
    payload_rule{pt::tsi, 0, 1, inside},        payload_rule{pt::tsr, 0, 1, inside},
    payload_rule{pt::notify, 0, unlimited, inside}, payload_rule{pt::vendor, 0, unlimited, inside},
};
// HDR, SK {IDr, [CERT,] AUTH, SAr2, TSi, TSr}
constexpr std::array auth_response{
    payload_rule{pt::idr, 0, 1, inside},        payload_rule{pt::cert, 0, unlimited, inside},
    payload_rule{pt::auth, 0, 1, inside},       payload_rule{pt::eap, 0, 1, inside},
    payload_rule{pt::cp, 0, 1, inside},         payload_rule{pt::sa, 0, 1, inside},
    payload_rule{pt::tsi, 0, 1, inside},        payload_rule{pt::tsr, 0, 1, inside},
    payload_rule{pt::notify, 0, unlimited, inside}, payload_rule{pt::vendor, 0, unlimited, inside},
};
// 1.3: HDR, SK {[N(REKEY_SA)], SA, Ni, [KEi], [TSi, TSr]} (TS absent when rekeying the IKE SA)
constexpr std::array child_request{
    payload_rule{pt::sa, 1, 1, inside},         payload_rule{pt::nonce, 1, 1, inside},
    payload_rule{pt::ke, 0, 1, inside},         payload_rule{pt::tsi, 0, 1, inside},
    payload_rule{pt::tsr, 0, 1, inside},        payload_rule{pt::notify, 0, unlimited, inside},
    payload_rule{pt::vendor, 0, unlimited, inside},
};
constexpr std::array child_response = child_request;
// 1.4: HDR, SK {[N,] [D,] [CP,] ...}; an empty SK is the liveness check.
constexpr std::array info_request{
    payload_rule{pt::notify, 0, unlimited, inside}, payload_rule{pt::del, 0, unlimited, inside},
    payload_rule{pt::cp, 0, 1, inside},         payload_rule{pt::vendor, 0, unlimited, inside},
};
constexpr std::array info_response = info_request;

constexpr std::array<exchange_rules, 8> all_rules{
    exchange_rules{exchange_type::ike_sa_init, false, init_request},
    exchange_rules{exchange_type::ike_sa_init, true, init_response},
    exchange_rules{exchange_type::ike_auth, false, auth_request},
    exchange_rules{exchange_type::ike_auth, true, auth_response},
    exchange_rules{exchange_type::create_child_sa, false, child_request},
    exchange_rules{exchange_type::create_child_sa, true, child_response},
    exchange_rules{exchange_type::informational, false, info_request},
    exchange_rules{exchange_type::informational, true, info_response},
};

std::string where(const message& m) {
    return fmt::format("{} {}", to_string(m.header.exchange), m.header.response ? "response" : "request");
}

bool is_sk(const payload& p) { return p.type == pt::sk || p.type == pt::skf; }

wire_check check_header(const message& m) {
    const auto& h = m.header;
    if (std::all_of(h.spi_i.begin(), h.spi_i.end(), [](auto b) { return b == 0; }))
        return wire_error{notify_type::invalid_ike_spi, "initiator SPI is zero", {}};
    if (h.exchange == exchange_type::ike_sa_init && !h.response) {
        if (h.message_id != 0) return wire_error::syntax(fmt::format("IKE_SA_INIT with Message ID {}", h.message_id));
        if (std::any_of(h.spi_r.begin(), h.spi_r.end(), [](auto b) { return b != 0; }))
            return wire_error::syntax("IKE_SA_INIT request with a non-zero responder SPI");
    }
    return std::nullopt;
}

wire_check check_unknown_critical(std::span<const payload> list) {
    for (const auto& p : list)
        if (auto u = p.as<unknown_payload>(); u && p.critical)
            return wire_error{notify_type::unsupported_critical_payload,
                              fmt::format("critical payload of unknown type {}", static_cast<unsigned>(u->type)),
                              {u->type}};
    return std::nullopt;
}

const payload_rule* rule_for(const exchange_rules& r, payload_type t) {
    for (const auto& rule : r.rules)
        if (rule.type == t) return &rule;
    return nullptr;
}

wire_check check_placement(const message& m, const exchange_rules& r, std::span<const payload> list, bool in_sk) {
    for (const auto& p : list) {
        if (p.as<unknown_payload>()) continue;  // non-critical unknown: skipped (2.5)
        if (is_sk(p)) continue;                 // counted separately
        const payload_rule* rule = rule_for(r, p.type);
        if (!rule) return wire_error::syntax(fmt::format("{} payload not allowed in {}", to_string(p.type), where(m)));
        if (rule->encrypted != in_sk)
            return wire_error::syntax(fmt::format("{} payload must be {} in {}", to_string(p.type),
                                                  rule->encrypted ? "inside SK" : "outside SK", where(m)));
    }
    return std::nullopt;
}

bool minimums_waived(const message& m) {
    for (const auto* list : {&m.payloads, &m.encrypted})
        for (const auto& p : *list)
            if (auto n = p.as<notify_payload>(); n && (is_error(n->type) || n->type == notify_type::cookie))
                return true;
    return false;
}

wire_check check_counts(const message& m, const exchange_rules& r, bool inner_known) {
    bool waived = minimums_waived(m);
    for (const auto& rule : r.rules) {
        if (rule.encrypted && !inner_known) continue;
        const auto& list = rule.encrypted ? m.encrypted : m.payloads;
        auto n = std::count_if(list.begin(), list.end(), [&](const payload& p) { return p.type == rule.type; });
        if (n > rule.max)
            return wire_error::syntax(fmt::format("{} {} payloads in {} (at most {})", n, to_string(rule.type), where(m),
                                                  static_cast<unsigned>(rule.max)));
        if (n < rule.min && !waived)
            return wire_error::syntax(fmt::format("{} payload missing in {}", to_string(rule.type), where(m)));
    }
    return std::nullopt;
}

wire_check validate(const message& m, bool with_inner) {
    if (auto e = check_header(m)) return e;
    const exchange_rules* r = find_rules(m.header.exchange, m.header.response);
    if (!r) return wire_error::syntax(fmt::format("unsupported exchange type {}", to_string(m.header.exchange)));
    if (auto e = check_unknown_critical(m.payloads)) return e;
    if (with_inner)
        if (auto e = check_unknown_critical(m.encrypted)) return e;

    bool is_protected = m.header.exchange != exchange_type::ike_sa_init;
    auto sk_count = std::count_if(m.payloads.begin(), m.payloads.end(), is_sk);
    if (is_protected && sk_count != 1)
        return wire_error::syntax(fmt::format("{} without an SK payload", where(m)));
    if (!is_protected && sk_count != 0) return wire_error::syntax(fmt::format("SK payload in {}", where(m)));
    if (with_inner && is_protected && !m.opened)
        return wire_error::syntax("SK payload not opened before validation");

    if (auto e = check_placement(m, *r, m.payloads, false)) return e;
    if (with_inner)
        if (auto e = check_placement(m, *r, m.encrypted, true)) return e;
    if (auto e = check_counts(m, *r, with_inner)) return e;

    for (const auto& p : m.payloads)
        if (auto e = verify(p)) return e;
    if (with_inner)
        for (const auto& p : m.encrypted)
            if (auto e = verify(p)) return e;
    return std::nullopt;
}

} // namespace

const exchange_rules* find_rules(exchange_type exchange, bool response) {
    for (const auto& r : all_rules)
        if (r.exchange == exchange && r.response == response) return &r;
    return nullptr;
}

wire_check validate_outer(const message& m) { return validate(m, false); }

wire_check validate_message(const message& m) { return validate(m, true); }

} // namespace ike
