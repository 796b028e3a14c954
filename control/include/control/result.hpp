#pragma once
// The control plane's error vocabulary: every failed operation is an api_error that the API
// server turns into {"error": {"code", "description"}} with its HTTP status (STYLE.md:
// "control plane returns results", no exceptions past start-up and config load).
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace control {

struct api_error {
    int status = 400;        // HTTP status: 400, 401, 404, 405, 409, 413, 500
    std::string code;        // stable machine-readable code, e.g. "InvalidArgument"
    std::string description; // for people: names the field and what is allowed

    static api_error invalid(std::string field, std::string what) {
        return {400, "InvalidArgument", field + ": " + what};
    }
    static api_error not_supported(std::string field, std::string what) {
        return {400, "NotSupported", field + ": " + what};
    }
    static api_error malformed(std::string what) { return {400, "MalformedRequest", std::move(what)}; }
    static api_error not_found(std::string what) { return {404, "NotFound", std::move(what)}; }
    static api_error conflict(std::string what) { return {409, "Conflict", std::move(what)}; }
};

template <class T>
class result {
public:
    result(T v) : _v(std::move(v)) {}
    result(api_error e) : _v(std::move(e)) {}
    [[nodiscard]] bool ok() const { return _v.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() { return std::get<0>(_v); }
    const T& value() const { return std::get<0>(_v); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }
    [[nodiscard]] const api_error& error() const { return std::get<1>(_v); }

private:
    std::variant<T, api_error> _v;
};

// result<void>: an optional error.
using status = std::optional<api_error>;

} // namespace control
