// ipsec-vector esp-encap / esp-decap: run one ESP SA (esp/) over the packets of a capture.
//
//   esp-encap --sa SPEC --in IN --out OUT    inner IP packets -> ESP tunnel-mode packets
//   esp-decap --sa SPEC --in IN --out OUT    ESP / UDP-encapsulated ESP -> inner IP packets
//
// What happens to a capture, in order:
//   1. SPEC -> esp::sa_config (esp::parse_sa_spec); the SA is created (bad SPEC: exit 2).
//   2. The capture is read (pcap or pcapng; Ethernet, raw IP or Linux SLL); each frame's IP
//      packet is located and trimmed to its IP length. Frames without IP count as not_ip.
//   3. decap only: UDP datagrams to the SA's encapsulation ports (and 4500) that are
//      NAT-keepalives or IKE (non-ESP marker) are skipped and counted (natt_keepalive, ike);
//      UDP on any other port is not ESP (not_esp).
//   4. The rest is copied into buffers with the SA's head/tailroom and handed to the library's
//      burst API in input order; each packet comes back ok or with one drop reason.
//   5. Output frames: the input's link header (EtherType set for the new IP version) + the
//      packet, the input's timestamp; written with the input's link type.
//   6. Stdout: {"packets_in":N,"packets_out":M,"drops":{every reason, zeros included}}, where
//      packets_in = packets_out + the sum of drops. Exit 0 (drops are not errors).
#if __has_include(<esp/sa.hpp>)
#include "command.hpp"
#include "esp_frames.hpp"

#include <esp/drop.hpp>
#include <esp/sa.hpp>
#include <esp/spec.hpp>
#include <pcapio/pcapio.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace ipsec_vector {
namespace {

// A bad SPEC is a usage error of the command line (exit 2, one line).
esp::sa_spec parse_spec(const std::string& text) {
    try {
        return esp::parse_sa_spec(text);
    } catch (const esp::spec_error& e) {
        throw usage_error(std::string("bad SPEC: ") + e.what());
    }
}

struct esp_options {
    std::string spec;
    std::string in;
    std::string out;
};

// Drop counters: the library's reasons (indexed by esp::drop_reason) plus what the tool skips.
struct tally {
    std::uint64_t in = 0;
    std::uint64_t out = 0;
    std::array<std::uint64_t, esp::drop_reason_count> drops{};
    std::uint64_t natt_keepalive = 0;
    std::uint64_t ike = 0;

    void drop(esp::drop_reason r) { ++drops[esp::index(r)]; }

    [[nodiscard]] std::string json() const {
        nlohmann::ordered_json d = nlohmann::ordered_json::object();
        for (std::size_t i = 1; i < esp::drop_reason_count; ++i)
            d[std::string(esp::drop_reason_names[i])] = drops[i];
        d["natt_keepalive"] = natt_keepalive;
        d["ike"] = ike;
        nlohmann::ordered_json j;
        j["packets_in"] = in;
        j["packets_out"] = out;
        j["drops"] = d;
        return j.dump();
    }
};

// One packet on its way through the library: a buffer with room around the IP packet.
struct work_item {
    std::size_t frame = 0;           // index into the input capture
    std::vector<std::uint8_t> buf;
    esp::pkt p;
};

// The packet view points into the vector's heap buffer, which moves with the vector.
work_item make_item(std::size_t frame, std::span<const std::uint8_t> ip, std::uint32_t headroom,
                    std::uint32_t tailroom) {
    work_item w;
    w.frame = frame;
    w.buf.assign(std::size_t(headroom) + ip.size() + tailroom, 0);
    std::copy(ip.begin(), ip.end(), w.buf.begin() + headroom);
    w.p = esp::pkt{w.buf.data(), std::uint32_t(w.buf.size()), headroom, std::uint32_t(ip.size())};
    return w;
}

// Runs the whole capture through the library's burst API (it chunks internally), input order.
template <class Fn>
std::vector<esp::drop_reason> run_burst(std::vector<work_item>& items, Fn&& burst) {
    std::vector<esp::pkt> pkts(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) pkts[i] = items[i].p;
    std::vector<esp::drop_reason> results(items.size(), esp::drop_reason::ok);
    if (!items.empty()) burst(std::span<esp::pkt>(pkts), std::span<esp::drop_reason>(results));
    for (std::size_t i = 0; i < items.size(); ++i) items[i].p = pkts[i];
    return results;
}

pcapio::capture read_capture(const std::string& path) {
    try {
        return pcapio::read_file(path);
    } catch (const std::exception& e) {
        throw usage_error(e.what());
    }
}

void write_capture(const std::string& path, const pcapio::capture& cap) {
    try {
        pcapio::write_file(path, cap);
    } catch (const std::exception& e) {
        throw usage_error(e.what());
    }
}

// Output frame: the input frame's link header (EtherType for `ip_version`), then the packet.
void append_frame(pcapio::capture& out, const pcapio::frame& src, std::size_t l2_len, std::uint8_t ip_version,
                  const esp::pkt& p) {
    pcapio::frame fr;
    fr.ts_usec = src.ts_usec;
    fr.bytes = link_header_for(std::span<const std::uint8_t>(src.bytes).first(l2_len), ip_version);
    fr.bytes.insert(fr.bytes.end(), p.data(), p.data() + p.data_len);
    out.frames.push_back(std::move(fr));
}

int run_encap(const esp_options& o) {
    const esp::sa_spec spec = parse_spec(o.spec);
    auto created = esp::outbound_sa::create(spec.cfg);
    if (!created) throw usage_error("cannot create SA: " + created.error);
    esp::outbound_sa& sa = *created.sa;
    const pcapio::capture in = read_capture(o.in);

    tally t;
    t.in = in.frames.size();
    std::vector<work_item> items;
    std::vector<ip_frame> where(in.frames.size());
    for (std::size_t i = 0; i < in.frames.size(); ++i) {
        const auto f = locate_ip(in.linktype, in.frames[i].bytes);
        if (!f) {
            t.drop(esp::drop_reason::not_ip);
            continue;
        }
        where[i] = *f;
        auto ip = std::span<const std::uint8_t>(in.frames[i].bytes).subspan(f->l2_len, f->ip_len);
        items.push_back(make_item(i, ip, sa.headroom(), sa.tailroom()));
    }
    auto results = run_burst(items,
                             [&](std::span<esp::pkt> p, std::span<esp::drop_reason> r) { sa.encap(p, r); });

    pcapio::capture out;
    const std::uint8_t outer_v = spec.cfg.src.is_v6() ? 6 : 4;
    out.linktype = output_linktype(in.linktype, outer_v == 4, outer_v == 6);
    for (std::size_t k = 0; k < items.size(); ++k) {
        if (results[k] != esp::drop_reason::ok) {
            t.drop(results[k]);
            continue;
        }
        const auto& w = items[k];
        append_frame(out, in.frames[w.frame], where[w.frame].l2_len, outer_v, w.p);
        ++t.out;
    }
    write_capture(o.out, out);
    std::printf("%s\n", t.json().c_str());
    return 0;
}

int run_decap(const esp_options& o) {
    const esp::sa_spec spec = parse_spec(o.spec);
    auto created = esp::inbound_sa::create(spec.cfg);
    if (!created) throw usage_error("cannot create SA: " + created.error);
    esp::inbound_sa& sa = *created.sa;
    // seq=N on the receiving side (the same SPEC serves both ends): the first packets carry N.
    // Without ESN a fresh window takes any first 32-bit number. With ESN the inbound SA starts its
    // window just below N (esp honours sa_config::initial_seq), so the high half is inferred
    // right (RFC 4303 A2.2) even past 2^32; this check only guards that promise.
    if (spec.seq_given && sa.window().top() != spec.cfg.initial_seq - 1 && spec.cfg.esn &&
        spec.cfg.initial_seq > 0xffffffffULL - esp::replay_window::max_size)
        throw usage_error("bad SPEC: seq: esp-decap cannot start an ESN receive window at " +
                          std::to_string(spec.cfg.initial_seq) + " (the ESP library starts inbound windows at 0;"
                          " use seq below 2^32 - 4096)");
    const pcapio::capture in = read_capture(o.in);
    const std::uint16_t port_a = spec.cfg.natt ? spec.cfg.natt->sport : 4500;
    const std::uint16_t port_b = spec.cfg.natt ? spec.cfg.natt->dport : 4500;

    tally t;
    t.in = in.frames.size();
    std::vector<work_item> items;
    std::vector<ip_frame> where(in.frames.size());
    for (std::size_t i = 0; i < in.frames.size(); ++i) {
        const auto f = locate_ip(in.linktype, in.frames[i].bytes);
        if (!f) {
            t.drop(esp::drop_reason::not_ip);
            continue;
        }
        where[i] = *f;
        auto ip = std::span<const std::uint8_t>(in.frames[i].bytes).subspan(f->l2_len, f->ip_len);
        switch (classify_udp(ip, port_a, port_b)) {
        case udp_non_esp::keepalive: ++t.natt_keepalive; continue;
        case udp_non_esp::ike: ++t.ike; continue;
        case udp_non_esp::other_port: t.drop(esp::drop_reason::not_esp); continue;
        case udp_non_esp::esp_or_other: break;
        }
        items.push_back(make_item(i, ip, 0, 0));
    }
    auto results = run_burst(items,
                             [&](std::span<esp::pkt> p, std::span<esp::drop_reason> r) { sa.decap(p, r); });

    pcapio::capture out;
    bool saw_v4 = false, saw_v6 = false;
    for (std::size_t k = 0; k < items.size(); ++k) {
        if (results[k] != esp::drop_reason::ok) {
            t.drop(results[k]);
            continue;
        }
        const auto& w = items[k];
        // The library checked the inner header (next header 4/41 matches the version).
        const std::uint8_t v = w.p.data_len > 0 ? std::uint8_t(w.p.data()[0] >> 4) : 0;
        (v == 6 ? saw_v6 : saw_v4) = true;
        append_frame(out, in.frames[w.frame], where[w.frame].l2_len, v, w.p);
        ++t.out;
    }
    out.linktype = output_linktype(in.linktype, saw_v4, saw_v6);
    write_capture(o.out, out);
    std::printf("%s\n", t.json().c_str());
    return 0;
}

void add_esp_command(CLI::App& app, int& exit_code, const char* name, const char* what,
                     int (*run)(const esp_options&)) {
    auto* sub = app.add_subcommand(name, what);
    auto opts = std::make_shared<esp_options>();
    sub->add_option("--sa", opts->spec,
                    "SA: spi=,enc=,enc-key=,integ=,integ-key=,src=,dst=[,natt=SPORT:DPORT][,esn=0|1]"
                    "[,seq=N][,window=N][,backend=ipsecmb|openssl]")
        ->required();
    sub->add_option("--in", opts->in, "input capture (pcap or pcapng; Ethernet or raw IP)")->required();
    sub->add_option("--out", opts->out, "output capture (pcap, same link type)")->required();
    sub->callback([opts, &exit_code, run] { exit_code = run(*opts); });
}

const command_registration esp_encap_registration{[](CLI::App& app, int& exit_code) {
    add_esp_command(app, exit_code, "esp-encap", "ESP tunnel-mode encapsulation of the inner IP packets of a capture",
                    run_encap);
}};

const command_registration esp_decap_registration{[](CLI::App& app, int& exit_code) {
    add_esp_command(app, exit_code, "esp-decap",
                    "ESP (or UDP-encapsulated ESP) decapsulation: writes the inner IP packets", run_decap);
}};

} // namespace
} // namespace ipsec_vector
#endif
