#pragma once
// Frame handling for esp-encap / esp-decap: where the IP packet of a captured frame starts and
// ends (link padding trimmed), the link header to copy to the output with its EtherType set for
// the IP version it now carries, and the UDP-4500 traffic that is not ESP (RFC 3948 2.2:
// NAT-keepalive 0xFF, IKE behind the 4-byte non-ESP marker), which decap skips and counts.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace ipsec_vector {

struct ip_frame {
    std::size_t l2_len = 0;   // bytes of link header before the IP header
    std::size_t ip_len = 0;   // the IP packet: the IP length field when it fits the capture,
                              // else everything captured (the ESP library judges it)
    std::uint8_t version = 0; // 4 or 6 (0 = neither: the library reports not_ip)
};

// nullopt when the frame carries no IP (e.g. ARP) or is too short for a link header.
std::optional<ip_frame> locate_ip(int linktype, const std::vector<std::uint8_t>& frame);

// Copy of the link header for a packet of the given IP version: for link types whose header
// ends in an EtherType / protocol field (Ethernet incl. VLAN tags, Linux SLL) that field is set
// to 0x0800 or 0x86DD; raw-IP link types have no header.
std::vector<std::uint8_t> link_header_for(std::span<const std::uint8_t> l2, std::uint8_t ip_version);

// Link type of the output: the input's, except DLT_IPV4 / DLT_IPV6 (228/229) files that end up
// holding the other IP version become DLT_RAW (LINKTYPE_RAW 101 in the file), which carries both.
int output_linktype(int in_linktype, bool saw_v4, bool saw_v6);

enum class udp_non_esp : std::uint8_t { esp_or_other, keepalive, ike, other_port };

// Classifies an outer IP packet carrying UDP: to or from a port other than 4500 and the SA's
// encapsulation ports it is not ESP (other_port); on those ports a one-byte 0xFF payload is a
// NAT-keepalive, a payload starting with four zero bytes is IKE (non-ESP marker). Everything
// else (ESP, UDP-encapsulated ESP, other protocols, fragments) goes to the ESP library.
udp_non_esp classify_udp(std::span<const std::uint8_t> ip, std::uint16_t port_a, std::uint16_t port_b);

} // namespace ipsec_vector
