#pragma once
// Result of parsing/verifying untrusted IKE bytes. A wire_error names the notify a responder
// answers with (RFC 7296 section 2.21: INVALID_SYNTAX, UNSUPPORTED_CRITICAL_PAYLOAD,
// INVALID_MAJOR_VERSION, ...), the notification data that goes with it (the payload type, the
// version), and a reason for the log. Parsing never throws and never reads out of bounds.
#include "ike/wire_types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace ike {

struct wire_error {
    notify_type notify = notify_type::invalid_syntax;
    std::string reason;
    std::vector<std::uint8_t> data;  // Notification Data for the error response, if any

    static wire_error syntax(std::string why) { return {notify_type::invalid_syntax, std::move(why), {}}; }
};

// Empty when the check passed.
using wire_check = std::optional<wire_error>;

template <class T>
class wire_result {
public:
    wire_result(T v) : _v(std::in_place_index<0>, std::move(v)) {}            // NOLINT: implicit on purpose
    wire_result(wire_error e) : _v(std::in_place_index<1>, std::move(e)) {}    // NOLINT

    [[nodiscard]] bool ok() const { return _v.index() == 0; }
    explicit operator bool() const { return ok(); }
    [[nodiscard]] T& value() & { return std::get<0>(_v); }
    [[nodiscard]] const T& value() const& { return std::get<0>(_v); }
    [[nodiscard]] T&& value() && { return std::get<0>(std::move(_v)); }
    [[nodiscard]] const wire_error& error() const { return std::get<1>(_v); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

private:
    std::variant<T, wire_error> _v;
};

} // namespace ike
