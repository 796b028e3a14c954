#pragma once
// Output of the IKE side (ARCHITECTURE.md "The IKE side"): what a negotiated CHILD SA becomes in
// the data plane. The IKE module does not know esp/ or the dataplane; they implement this
// interface. Algorithm names are strongSwan's ESP names, which esp/ parses: "aes256-cbc",
// "aes128gcm16" (encryption; GCM keys include the 4-byte salt, RFC 4106 section 8.1),
// "sha256-128", "sha1-96" (integrity; empty for AEAD).
#include <base/secret_bytes.hpp>

#include <boost/asio/ip/address.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ike {

enum class sa_direction : std::uint8_t { inbound, outbound };

// One traffic selector range (RFC 7296 section 3.13.1), inclusive bounds; protocol 0 = any.
struct esp_selector {
    boost::asio::ip::address start;
    boost::asio::ip::address end;
    std::uint8_t protocol = 0;
    std::uint16_t start_port = 0;
    std::uint16_t end_port = 65535;
    friend bool operator==(const esp_selector&, const esp_selector&) = default;
};

// UDP encapsulation of ESP (RFC 3948): source and destination ports of the outer UDP header as
// seen from this SA's sender.
struct esp_udp_encap {
    std::uint16_t src_port = 4500;
    std::uint16_t dst_port = 4500;
    friend bool operator==(const esp_udp_encap&, const esp_udp_encap&) = default;
};

struct esp_sa_install {
    sa_direction direction = sa_direction::inbound;
    std::uint32_t spi = 0;                 // the SPI on the wire for this direction
    std::uint32_t reqid = 0;               // groups the in/out pair of one CHILD SA; a rekeyed
                                           // CHILD SA keeps the reqid of the one it replaces
    std::string peer;                      // peer_config::name of the IKE SA (ipsecd: tunnel uuid)
    std::string encryption;                // e.g. "aes256-cbc", "aes256gcm16"
    std::string integrity;                 // e.g. "sha256-128"; empty for AEAD
    base::secret_bytes encryption_key;     // includes the salt for GCM
    base::secret_bytes integrity_key;
    bool esn = false;
    boost::asio::ip::address tunnel_src;   // outer source address of packets on this SA
    boost::asio::ip::address tunnel_dst;   // outer destination address
    std::optional<esp_udp_encap> encap;
    std::vector<esp_selector> src_selectors;  // inner source addresses allowed on this SA
    std::vector<esp_selector> dst_selectors;  // inner destination addresses
    std::uint64_t lifetime_soft_seconds = 0;  // 0 = none (rekey is driven by IKE, issue 5)
    std::uint64_t lifetime_hard_seconds = 0;
};

// What an installed ESP SA has carried so far (issue 5: rekey by volume and by sequence number).
// Counted by the data plane from the SA's installation: a rekeyed CHILD SA's successor has new
// SPIs and so starts from zero.
struct sa_usage {
    std::uint64_t packets = 0;   // packets processed successfully
    std::uint64_t bytes = 0;     // inner (plaintext) bytes of those packets
    std::uint64_t next_seq = 0;  // outbound: the next ESP sequence number to be sent; 0 inbound
};

// Semantics an installer must provide for make-before-break rekeying (RFC 7296 2.8, issue 5):
//  - install_sa(inbound): adds the SA to the SAD; older inbound SAs of the same reqid stay
//    valid until their remove_sa (the grace period of a rekey).
//  - install_sa(outbound): from now on traffic of this reqid's selectors uses this SA; an older
//    outbound SA of the same reqid is no longer used for new packets but exists until remove_sa.
//  - remove_sa: forgets that one SA; removing an outbound SA that is no longer the newest of its
//    reqid changes nothing for traffic.
class sa_installer {
public:
    virtual ~sa_installer() = default;
    virtual void install_sa(const esp_sa_install& sa) = 0;
    // Removes the SA with this SPI in that direction (destination for outbound: the peer).
    virtual void remove_sa(sa_direction direction, std::uint32_t spi) = 0;
    // Optional: the usage of an installed SA, or nullopt when unknown (the default: an installer
    // that does not count, an SA it does not have). The IKE SA asks once when a CHILD SA is
    // installed; if the answer for its inbound SA is nullopt, that CHILD SA is never polled and
    // only its time lifetimes apply. Otherwise both directions are asked every
    // peer_config::usage_poll_interval on the IKE thread, so this must be cheap and must not
    // block the data plane (reading counters a worker updates is fine; a slightly stale value
    // only delays a rekey by one poll).
    [[nodiscard]] virtual std::optional<sa_usage> usage(sa_direction direction, std::uint32_t spi) const {
        (void)direction;
        (void)spi;
        return std::nullopt;
    }
};

} // namespace ike
