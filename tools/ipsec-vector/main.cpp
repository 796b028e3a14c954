// ipsec-vector: run the engine's ESP and SPD libraries over pcap test vectors.
#include "command.hpp"

#include <cstdio>
#include <exception>

namespace ipsec_vector {
std::vector<registrar>& registry() {
    static std::vector<registrar> r;
    return r;
}
} // namespace ipsec_vector

int main(int argc, char** argv) {
    CLI::App app{"ipsec-vector: run ESP encap/decap and SPD classification over pcap/pcapng files"};
    app.require_subcommand(1);
    int exit_code = 0;
    for (auto& reg : ipsec_vector::registry()) reg(app, exit_code);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    } catch (const ipsec_vector::usage_error& e) {
        std::fprintf(stderr, "ipsec-vector: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ipsec-vector: %s\n", e.what());
        return 2;
    }
    return exit_code;
}
