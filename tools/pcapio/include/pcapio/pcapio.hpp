#pragma once
// Packet capture files for vectors and tests: read pcap or pcapng (libpcap), write pcap with
// the input's link type. Knows where the IP header starts for the link types we accept.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pcapio {

struct frame {
    std::vector<std::uint8_t> bytes;  // the whole captured frame (link header included)
    std::uint64_t ts_usec = 0;        // capture time, microseconds since the epoch
};

struct capture {
    int linktype = 0;                 // DLT_* value of the file
    std::vector<frame> frames;
};

// Link types: 1 Ethernet, 101/12/14 raw IP, 228 raw IPv4, 229 raw IPv6, 113 Linux SLL.
// Returns the offset of the IP header in a frame, or nullopt when the frame carries no IP
// (e.g. ARP) or is too short. Ethernet: one or two 802.1Q/802.1ad tags are skipped.
std::optional<std::size_t> ip_offset(int linktype, const std::vector<std::uint8_t>& frame);
bool linktype_supported(int linktype);

// Throws std::runtime_error with a one-line message on any failure.
capture read_file(const std::string& path);
void write_file(const std::string& path, const capture& cap);

} // namespace pcapio
