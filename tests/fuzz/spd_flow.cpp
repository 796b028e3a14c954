// Fuzz target: 5-tuple extraction from arbitrary bytes as an IP packet. It must never read out
// of bounds (ASan), and a successful extraction must be self-consistent.
#include <spd/flow.hpp>

#include <cstdint>
#include <cstdlib>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    spd::flow_key k;
    auto st = spd::extract_flow(std::span<const std::uint8_t>(data, size), k);
    if (st != spd::extract_status::ok) return 0;
    if (k.ports_known && !spd::has_ports(k.proto)) std::abort();
    if (!k.ports_known && (k.sport != 0 || k.dport != 0)) std::abort();
    if (k.family == spd::ip_family::v4 && (size < 20 || (data[0] >> 4) != 4)) std::abort();
    if (k.family == spd::ip_family::v6 && (size < 40 || (data[0] >> 4) != 6)) std::abort();
    return 0;
}
