#pragma once
// Subcommands of ipsec-vector register themselves here: each cmd_*.cpp defines a static
// `command_registration` that adds its CLI11 subcommand and sets the callback that runs it.
// Exit codes: 0 ran (drops are counted, not fatal), 2 bad arguments / bad input file.
#include <CLI/CLI.hpp>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ipsec_vector {

// Thrown by a subcommand for a bad SPEC, bad JSON or unreadable file: printed as one line, exit 2.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

using registrar = std::function<void(CLI::App& app, int& exit_code)>;
std::vector<registrar>& registry();

struct command_registration {
    explicit command_registration(registrar r) { registry().push_back(std::move(r)); }
};

} // namespace ipsec_vector
