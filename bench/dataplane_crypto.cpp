// The bare ESP rate for the data-plane benchmark harness (bench/dataplane/run.py): the same
// encap or decap operation the engine performs, on the same burst size (32), with no DPDK and
// no I/O, so the harness can print "engine rate / crypto rate" from one run.
//
//   bench_dataplane_crypto out|in cbc|gcm FRAME_BYTES [SECONDS]
//
// Prints one JSON line {"op":..,"alg":..,"frame":..,"mpps":..}. Never asserts a time.
#include <dataplane/sa_spec.hpp>

#include <esp/sa.hpp>

#include <fmt/core.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

constexpr std::size_t burst = 32;
constexpr std::uint32_t buf_size = 2048;
constexpr std::uint32_t headroom = 128;

std::string spec_for(const std::string& alg, bool inbound) {
    std::string s = "spi=0x3001,src=172.16.1.1,dst=172.16.2.1";
    if (inbound) s += ",window=0";  // the same packets are decrypted again and again
    if (alg == "gcm") return s + ",enc=aes256gcm16,enc-key=" + std::string(72, '7');
    return s + ",enc=aes256-cbc,enc-key=" + std::string(64, '1') + ",integ=sha256-128,integ-key=" + std::string(64, '2');
}

// An inner IPv4/UDP packet whose Ethernet frame would be `frame` bytes.
std::uint32_t make_inner(std::uint8_t* p, std::uint32_t frame) {
    std::uint32_t len = frame > 14 + 28 ? frame - 14 : 28;
    std::fill(p, p + len, std::uint8_t(0x5a));
    p[0] = 0x45;
    p[1] = 0;
    p[2] = std::uint8_t(len >> 8);
    p[3] = std::uint8_t(len);
    p[6] = p[7] = 0;
    p[8] = 64;
    p[9] = 17;
    p[10] = p[11] = 0;
    const std::uint8_t src[4] = {10, 1, 0, 5}, dst[4] = {10, 2, 0, 7};
    std::copy(src, src + 4, p + 12);
    std::copy(dst, dst + 4, p + 16);
    std::uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2) sum += std::uint32_t(p[i] << 8 | p[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    p[10] = std::uint8_t(~sum >> 8);
    p[11] = std::uint8_t(~sum);
    return len;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        fmt::print(stderr, "usage: {} out|in cbc|gcm FRAME_BYTES [SECONDS]\n", argv[0]);
        return 2;
    }
    const std::string op = argv[1], alg = argv[2];
    const auto frame = std::uint32_t(std::atoi(argv[3]));
    const double seconds = argc > 4 ? std::atof(argv[4]) : 1.0;
    const bool inbound = op == "in";

    auto out_sa = esp::outbound_sa::create(dataplane::parse_sa_spec(spec_for(alg, false)));
    auto in_sa = esp::inbound_sa::create(dataplane::parse_sa_spec(spec_for(alg, true)));
    if (!out_sa || !in_sa) {
        fmt::print(stderr, "SA: {}{}\n", out_sa.error, in_sa.error);
        return 1;
    }
    std::vector<std::uint8_t> mem(burst * buf_size);
    std::vector<esp::pkt> pk(burst), templ(burst);
    std::vector<esp::drop_reason> res(burst);
    for (std::size_t i = 0; i < burst; ++i) {
        auto* b = mem.data() + i * buf_size;
        templ[i] = {b, buf_size, headroom, make_inner(b + headroom, frame)};
    }
    std::vector<std::uint8_t> pristine;
    if (inbound) {  // encrypt once; every round decrypts a fresh copy of these
        pk = templ;
        out_sa.sa->encap(pk, res);
        templ = pk;
    }
    pristine = mem;

    std::uint64_t packets = 0;
    auto t0 = std::chrono::steady_clock::now();
    auto until = t0 + std::chrono::duration<double>(seconds);
    std::chrono::steady_clock::time_point now;
    do {
        for (int r = 0; r < 64; ++r) {
            // Both operations rewrite the packet in place: restore it first (a copy of the
            // packet, comparable to what an RX would have written).
            pk = templ;
            for (std::size_t i = 0; i < burst; ++i)
                std::copy_n(pristine.data() + i * buf_size + templ[i].data_off, templ[i].data_len, templ[i].data());
            packets += inbound ? in_sa.sa->decap(pk, res) : out_sa.sa->encap(pk, res);
        }
        now = std::chrono::steady_clock::now();
    } while (now < until);
    double secs = std::chrono::duration<double>(now - t0).count();
    fmt::print("{{\"op\":\"{}\",\"alg\":\"{}\",\"frame\":{},\"mpps\":{:.3f}}}\n", op, alg, frame, packets / secs / 1e6);
    return 0;
}
