#pragma once
// Test helpers for the IKE crypto suite: hex conversion and the independent Python oracle
// (crypto_oracle.py, run with /usr/bin/python3 over a command file in a fresh temp dir).
#include <base/hex.hpp>
#include <base/secret_bytes.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>
#include <string>
#include <vector>

namespace ike_crypto_test {

using bytes = std::vector<std::uint8_t>;

inline bytes hex(std::string_view s) {
    auto b = base::from_hex(s);
    REQUIRE(b.has_value());
    return *b;
}
inline std::string to_hex(std::span<const std::uint8_t> b) { return base::to_hex(b); }
inline std::string to_hex(const base::secret_bytes& b) { return base::to_hex(b.view()); }
// Oracle argument form: "-" for empty.
inline std::string arg(std::span<const std::uint8_t> b) { return b.empty() ? "-" : base::to_hex(b); }
inline std::string arg(const base::secret_bytes& b) { return arg(b.view()); }
inline std::string unarg(const std::string& s) { return s == "-" ? "" : s; }

inline bytes ascii(std::string_view s) { return bytes(s.begin(), s.end()); }

// Runs every command through crypto_oracle.py in one process; one output line per command.
inline std::vector<std::string> oracle(const std::vector<std::string>& commands) {
    namespace fs = std::filesystem;
    std::string tmpl = (fs::temp_directory_path() / "ike-crypto-oracle-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    const fs::path dir(tmpl);
    const fs::path in = dir / "commands.txt";
    {
        std::ofstream f(in);
        for (const auto& c : commands) f << c << '\n';
    }
    const std::string script = std::string(IPSEC_SOURCE_DIR) + "/tests/unit/ike/crypto_oracle.py";
    const std::string cmd = "/usr/bin/python3 '" + script + "' < '" + in.string() + "'";
    std::vector<std::string> lines;
    FILE* p = popen(cmd.c_str(), "r");
    if (p != nullptr) {
        std::string cur;
        for (int c = std::fgetc(p); c != EOF; c = std::fgetc(p)) {
            if (c == '\n') { lines.push_back(cur); cur.clear(); } else { cur.push_back(static_cast<char>(c)); }
        }
        const int rc = pclose(p);
        CHECK(rc == 0);
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    REQUIRE(lines.size() == commands.size());
    return lines;
}

inline std::vector<std::string> split(const std::string& s) {
    std::istringstream is(s);
    std::vector<std::string> out;
    for (std::string w; is >> w;) out.push_back(w);
    return out;
}

// Deterministic filler so failures reproduce.
inline bytes pattern(std::size_t n, std::uint8_t seed) {
    bytes b(n);
    std::uint32_t v = seed * 2654435761u + 1;
    for (auto& x : b) { v = v * 1103515245u + 12345u; x = static_cast<std::uint8_t>(v >> 16); }
    return b;
}

} // namespace ike_crypto_test
