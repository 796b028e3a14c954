#pragma once
// Configuration of one IKE peer (what control/ compiles a tunnel into, and what tools/ike-peer
// reads): addresses and ports, identities, PSKs, proposals in strongSwan syntax, local/peer
// CIDRs, NAT-T and retransmission settings. Parsed once at load; the state machines only read it.
#include "ike/endpoint_clock.hpp"
#include "ike/transport.hpp"

#include <base/secret_bytes.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ike {

// An address block, "10.1.0.0/16" or "2001:db8::/32"; the host bits are cleared on parse.
struct cidr {
    ip_address address;
    std::uint8_t prefix = 0;

    static std::optional<cidr> parse(std::string_view s);
    [[nodiscard]] std::string to_string() const;
    [[nodiscard]] ip_address first() const;
    [[nodiscard]] ip_address last() const;
    friend bool operator==(const cidr&, const cidr&) = default;
};

// IKE identity (RFC 7296 section 3.5) written the strongSwan way:
//   192.0.2.1 / 2001:db8::1   -> ID_IPV4_ADDR / ID_IPV6_ADDR
//   @vpn.example.com          -> ID_FQDN ("vpn.example.com" without '@' also FQDN)
//   user@example.com          -> ID_RFC822_ADDR
//   @#0a0b0c                  -> ID_KEY_ID (hex)
//   %any                      -> matches any peer identity (peer side only)
// and with explicit prefixes ipv4:, ipv6:, fqdn:, email:, keyid: (hex).
struct peer_identity {
    enum type_t : std::uint8_t {
        ipv4 = 1, fqdn = 2, rfc822 = 3, ipv6 = 5, der_asn1_dn = 9, der_asn1_gn = 10, key_id = 11,
        any = 0,  // wildcard, never on the wire
    };
    std::uint8_t type = any;
    std::vector<std::uint8_t> data;

    static std::optional<peer_identity> parse(std::string_view s);
    // Printable form in the same syntax (key ids as @#hex); used in logs and status.
    [[nodiscard]] std::string to_string() const;
    [[nodiscard]] bool matches(const peer_identity& actual) const { return type == any || *this == actual; }
    friend bool operator==(const peer_identity&, const peer_identity&) = default;
};

// RFC 7296 section 2.1 retransmission, strongSwan defaults (retransmit_timeout, _base, _tries):
// timeout_n = timeout * base^n for n = 0..tries, the SA is given up after the last one expires.
struct retransmit_config {
    duration timeout = std::chrono::seconds(4);
    double base = 1.8;
    unsigned tries = 5;
    [[nodiscard]] duration timeout_for(unsigned attempt) const;
};

struct psk_entry {
    peer_identity local;   // may be %any
    peer_identity remote;  // may be %any
    base::secret_bytes secret;
};

struct peer_config {
    std::string name = "peer";
    ip_address local_address;
    ip_address peer_address;       // unspecified (0.0.0.0 / ::) on a responder = any peer
    std::uint16_t local_port = 500;
    std::uint16_t local_natt_port = 4500;
    std::uint16_t peer_port = 500;
    std::uint16_t peer_natt_port = 4500;

    peer_identity local_id;        // defaults to local_address when type == any
    peer_identity peer_id;         // %any accepts whatever IDi/IDr the PSK table accepts
    std::vector<psk_entry> psks;

    std::vector<std::string> ike_proposals{"aes256-sha256-modp2048"};
    std::vector<std::string> esp_proposals{"aes256-sha256"};  // add a group for PFS
    std::vector<cidr> local_ts;    // empty = the local tunnel address /32 (/128)
    std::vector<cidr> peer_ts;     // empty = the peer tunnel address

    bool force_encap = false;      // strongSwan encap=yes: fake NAT_DETECTION_SOURCE_IP
    duration keepalive_interval = std::chrono::seconds(20);
    duration half_open_timeout = std::chrono::seconds(30);
    retransmit_config retransmit;
    bool send_initial_contact = true;
    // Lifetimes (product fields lifeTime / ikeLifeTime). The hard lifetime ends the SA; the
    // rekey starts at the soft lifetime, strongSwan's rekey_time - random(rand_time): by default
    // rekey_percent (90 %) of the lifetime minus a random share of up to jitter_percent (10 %),
    // so two peers with equal lifetimes rarely rekey at the same moment (RFC 7296 2.8.1).
    std::uint64_t child_lifetime_seconds = 3600;
    std::uint64_t ike_lifetime_seconds = 86400;
    unsigned rekey_percent = 90;
    unsigned rekey_jitter_percent = 10;
    bool child_recreate_on_expire = true;  // hard CHILD lifetime: delete, then negotiate a new one
    // Volume lifetimes of a CHILD SA (issue 5), in strongSwan's terms; 0 = off. They count the
    // larger of the inbound and the outbound ESP SA (inner bytes, packets), as the kernel counts
    // each SA of the pair. Soft: rekey (no jitter: both peers may cross at once, which 2.8.1's
    // collision handling settles). Hard: delete the CHILD SA, recreate when
    // child_recreate_on_expire. Only with an installer that reports sa_installer::usage.
    std::uint64_t child_rekey_bytes = 0;    // rekey_bytes
    std::uint64_t child_rekey_packets = 0;  // rekey_packets
    std::uint64_t child_life_bytes = 0;     // life_bytes
    std::uint64_t child_life_packets = 0;   // life_packets
    // Sequence-number exhaustion (RFC 4303 3.3.3: a sender must not cycle its counter; a new SA
    // is needed): rekey when the outbound SA's next sequence number reaches this, 2^32 - 2^30
    // without ESN / 2^64 - 2^62 with ESN (a quarter of the space left: at 10 Mpps that is still
    // 107 s of 32-bit numbers for the rekey). 0 = off. Hard: at 2^32 - 1 (2^64 - 1) the last
    // number is next; the CHILD SA is deleted (and recreated as above) instead of having the data
    // plane drop everything as seq_cycled.
    std::uint64_t child_rekey_seq = 0xC0000000ULL;
    std::uint64_t child_rekey_seq_esn = 0xC000000000000000ULL;
    // How often the usage of each CHILD SA is read from the installer; zero = never.
    duration usage_poll_interval = std::chrono::seconds(1);
    // A rekeyed CHILD SA's old inbound SA stays this long after its DELETE (strongSwan's
    // delete_rekeyed_delay), for packets the peer sent before it switched.
    duration rekeyed_inbound_grace = std::chrono::seconds(5);
    // Liveness (RFC 7296 2.4, product dpdDelay / dpdAction): an empty INFORMATIONAL after this
    // long without a message from the peer; zero = off. A peer that does not answer through the
    // retransmission schedule is dead, and dpd_action says what happens then.
    enum class dead_peer_action : std::uint8_t { clear, hold, restart };
    duration dpd_delay = std::chrono::seconds(30);
    dead_peer_action dpd_action = dead_peer_action::restart;
    // IKE fragmentation (RFC 7383, strongSwan fragmentation=yes): offered and accepted with
    // N(IKEV2_FRAGMENTATION_SUPPORTED) in IKE_SA_INIT. Once negotiated, an SK message whose IP
    // datagram (IP + UDP [+ non-ESP marker] + IKE) would exceed fragment_size goes out as SKF
    // fragments no larger than that. RFC 7383 2.5.1 suggests 576 (IPv4) / 1280 (IPv6) as safe
    // sizes; like strongSwan's charon.fragment_size we use 1280 for both. A partly received
    // fragmented message is abandoned after fragment_reassembly_timeout.
    bool fragmentation = true;
    std::size_t fragment_size = 1280;
    duration fragment_reassembly_timeout = std::chrono::seconds(30);
    // Reauthentication (RFC 7296 2.8.3, strongSwan reauth_time; reauth.cpp). 0 = off: the IKE SA
    // is rekeyed. Otherwise it is not rekeyed at its soft point, which is computed from
    // reauth_seconds like the rekey time (rekey_percent minus up to rekey_jitter_percent), but
    // replaced by a new IKE SA with full IKE_SA_INIT + IKE_AUTH (a changed PSK or identity takes
    // effect) that recreates every CHILD SA with the same traffic selectors and reqids.
    // ike_lifetime_seconds stays the hard limit. Make-before-break (strongSwan
    // make_before_break=yes): the old IKE SA and its CHILD SAs stay until the new ones are up,
    // then INFORMATIONAL { D } deletes it; false: the old one is deleted first.
    std::uint64_t reauth_seconds = 0;
    bool reauth_make_before_break = true;

    [[nodiscard]] peer_identity effective_local_id() const;
    // The PSK for this pair of identities: an exact match beats a wildcard (strongSwan's rule).
    [[nodiscard]] const base::secret_bytes* find_psk(const peer_identity& local, const peer_identity& remote) const;
};

} // namespace ike
