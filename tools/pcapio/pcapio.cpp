#include "pcapio/pcapio.hpp"

#include <pcap/pcap.h>

#include <memory>
#include <stdexcept>

namespace pcapio {
namespace {
struct pcap_closer { void operator()(pcap_t* p) const { pcap_close(p); } };
struct dumper_closer { void operator()(pcap_dumper_t* d) const { pcap_dump_close(d); } };
constexpr int dlt_en10mb = 1, dlt_raw_a = 12, dlt_raw_b = 14, dlt_raw = 101, dlt_sll = 113,
              dlt_ipv4 = 228, dlt_ipv6 = 229;
} // namespace

bool linktype_supported(int lt) {
    return lt == dlt_en10mb || lt == dlt_raw || lt == dlt_raw_a || lt == dlt_raw_b || lt == dlt_sll ||
           lt == dlt_ipv4 || lt == dlt_ipv6;
}

std::optional<std::size_t> ip_offset(int lt, const std::vector<std::uint8_t>& f) {
    auto ethertype_ok = [](std::uint16_t et) { return et == 0x0800 || et == 0x86dd; };
    switch (lt) {
    case dlt_raw: case dlt_raw_a: case dlt_raw_b: case dlt_ipv4: case dlt_ipv6:
        return f.empty() ? std::nullopt : std::optional<std::size_t>(0);
    case dlt_sll: {
        if (f.size() < 16) return std::nullopt;
        std::uint16_t et = std::uint16_t(f[14] << 8 | f[15]);
        return ethertype_ok(et) ? std::optional<std::size_t>(16) : std::nullopt;
    }
    case dlt_en10mb: {
        std::size_t off = 12;
        for (int tags = 0; tags < 3; ++tags) {
            if (f.size() < off + 2) return std::nullopt;
            std::uint16_t et = std::uint16_t(f[off] << 8 | f[off + 1]);
            if (et == 0x8100 || et == 0x88a8) { off += 4; continue; }
            if (!ethertype_ok(et)) return std::nullopt;
            return off + 2 < f.size() ? std::optional<std::size_t>(off + 2) : std::nullopt;
        }
        return std::nullopt;
    }
    default:
        return std::nullopt;
    }
}

capture read_file(const std::string& path) {
    char err[PCAP_ERRBUF_SIZE] = {};
    std::unique_ptr<pcap_t, pcap_closer> p(pcap_open_offline_with_tstamp_precision(
        path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, err));
    if (!p) throw std::runtime_error("cannot read capture " + path + ": " + err);
    capture cap;
    cap.linktype = pcap_datalink(p.get());
    if (!linktype_supported(cap.linktype))
        throw std::runtime_error(path + ": unsupported link type " + std::to_string(cap.linktype) +
                                 " (need Ethernet or raw IP)");
    pcap_pkthdr* hdr = nullptr;
    const u_char* data = nullptr;
    int rc;
    while ((rc = pcap_next_ex(p.get(), &hdr, &data)) == 1) {
        frame fr;
        fr.bytes.assign(data, data + hdr->caplen);
        fr.ts_usec = std::uint64_t(hdr->ts.tv_sec) * 1000000u + std::uint64_t(hdr->ts.tv_usec);
        cap.frames.push_back(std::move(fr));
    }
    if (rc == -1) throw std::runtime_error(path + ": " + pcap_geterr(p.get()));
    return cap;
}

void write_file(const std::string& path, const capture& cap) {
    std::unique_ptr<pcap_t, pcap_closer> p(pcap_open_dead_with_tstamp_precision(
        cap.linktype, 262144, PCAP_TSTAMP_PRECISION_MICRO));
    if (!p) throw std::runtime_error("cannot create capture handle for " + path);
    std::unique_ptr<pcap_dumper_t, dumper_closer> d(pcap_dump_open(p.get(), path.c_str()));
    if (!d) throw std::runtime_error("cannot write capture " + path + ": " + pcap_geterr(p.get()));
    for (const auto& fr : cap.frames) {
        pcap_pkthdr hdr{};
        hdr.ts.tv_sec = static_cast<time_t>(fr.ts_usec / 1000000u);
        hdr.ts.tv_usec = static_cast<suseconds_t>(fr.ts_usec % 1000000u);
        hdr.caplen = hdr.len = static_cast<bpf_u_int32>(fr.bytes.size());
        pcap_dump(reinterpret_cast<u_char*>(d.get()), &hdr, fr.bytes.data());
    }
}

} // namespace pcapio
