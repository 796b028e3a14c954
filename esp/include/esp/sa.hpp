#pragma once
// Runtime ESP SAs (tunnel mode) and the burst API.
//
// Outbound (encap), per burst:
//   1. validate each inner IPv4/IPv6 packet (not_ip), check head/tailroom (no_room), size (too_big)
//   2. hard lifetime (lifetime); reserve sequence numbers for all survivors at once (seq_cycled)
//   3. one iv_source call for the burst's CBC IVs; write outer IP [+UDP], ESP header, IV,
//      padding 1,2,3,..., pad length, next header (4 or 41)
//   4. one crypto call for the burst (encrypt + ICV); counters, soft/hard lifetime callbacks
// Inbound (decap), per burst, RFC 4303 3.4.3 order:
//   1. outer IPv4/IPv6 [+UDP 4500] parse (not_ip, not_esp), SPI match (no_sa), length and
//      block alignment (runt, bad_length), hard lifetime (lifetime)
//   2. replay pre-check (replay), sequence 0 refused
//   3. one crypto call for the burst: ICV verify (CRYPTO_memcmp) / AEAD open (icv)
//   4. window update (replay, for a duplicate within the same burst), then padding 1,2,3,...
//      (pad), next header 4/41 matching the inner version (next_header), 59 (dummy)
//   5. the inner packet is left in place: data_off/data_len describe it
//
// results[i] is the outcome of pkts[i] (ok or a drop reason); both spans keep input order.
// Neither path allocates, locks, logs, throws or makes per-packet virtual calls. Each SA is owned
// by one thread; objects are neither copyable nor movable (workers hold pointers to them).
#include "esp/algorithms.hpp"
#include "esp/crypto.hpp"
#include "esp/drop.hpp"
#include "esp/pkt.hpp"
#include "esp/replay.hpp"
#include "esp/sa_config.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace esp {

// Largest burst processed in one internal pass; longer spans are processed in chunks.
inline constexpr std::size_t max_burst = 64;

struct sa_counters {
    std::uint64_t packets = 0;  // packets successfully processed
    std::uint64_t bytes = 0;    // inner (plaintext) bytes of those packets
    std::array<std::uint64_t, drop_reason_count> drops{};  // indexed by drop_reason

    [[nodiscard]] std::uint64_t drop(drop_reason r) const { return drops[index(r)]; }
    [[nodiscard]] std::uint64_t drops_total() const {
        std::uint64_t t = 0;
        for (std::size_t i = 1; i < drops.size(); ++i) t += drops[i];
        return t;
    }
};

template <class T>
struct sa_result {
    std::unique_ptr<T> sa;
    std::string error;  // set when sa is null
    explicit operator bool() const { return sa != nullptr; }
};

// Fixed outer overhead of an SA in front of the inner packet (outer IP [+UDP] + ESP hdr + IV).
[[nodiscard]] std::uint32_t encap_headroom(const sa_config& c);
// Worst-case bytes needed after an inner packet (padding + 2-byte trailer + ICV).
[[nodiscard]] std::uint32_t encap_tailroom(const sa_config& c);

class outbound_sa {
public:
    static sa_result<outbound_sa> create(const sa_config& cfg);
    ~outbound_sa();
    outbound_sa(const outbound_sa&) = delete;
    outbound_sa& operator=(const outbound_sa&) = delete;

    // pkts: inner IP packets; on ok they become complete outer packets. Returns the ok count.
    std::size_t encap(std::span<pkt> pkts, std::span<drop_reason> results);

    [[nodiscard]] std::uint32_t spi() const;
    [[nodiscard]] std::uint64_t next_seq() const;   // next sequence number to be used
    [[nodiscard]] const sa_counters& counters() const;
    [[nodiscard]] bool hard_expired() const;
    [[nodiscard]] std::uint32_t headroom() const;   // = encap_headroom(cfg)
    [[nodiscard]] std::uint32_t tailroom() const;   // = encap_tailroom(cfg)
    [[nodiscard]] enc_alg enc() const;
    [[nodiscard]] integ_alg integ() const;
    [[nodiscard]] backend_kind backend() const;

    struct impl;

private:
    friend class encap_batch;
    outbound_sa() = default;
    std::unique_ptr<impl> _impl;
};

// Encap of many SAs' packets with one crypto pass: for a burst spread over many tunnels (a
// few packets per SA), one encap() per SA would flush the multi-buffer manager each time and
// leave its lanes nearly empty. add() runs steps 1-4 for an SA's packets at once (sequence
// numbers, framing); run() queues every op on the thread's manager, completes them together
// and finishes each packet (step 6). The outcome equals one encap() per add() in that order.
// Until run() returns, the packets' buffers and the spans given to add() must stay valid; add()
// runs the batch itself first when max_burst packets are already waiting. One thread only;
// holds about 20 KB of scratch (allocated once, in the constructor).
class encap_batch {
public:
    encap_batch();
    ~encap_batch();
    encap_batch(const encap_batch&) = delete;
    encap_batch& operator=(const encap_batch&) = delete;

    void add(outbound_sa& sa, std::span<pkt> pkts, std::span<drop_reason> results);
    void run();
    [[nodiscard]] std::size_t pending() const;  // packets added and not yet run

    struct state;

private:
    std::unique_ptr<state> _s;
};

class inbound_sa {
public:
    static sa_result<inbound_sa> create(const sa_config& cfg);
    ~inbound_sa();
    inbound_sa(const inbound_sa&) = delete;
    inbound_sa& operator=(const inbound_sa&) = delete;

    // pkts: outer IPv4/IPv6 packets carrying ESP (protocol 50) or UDP-encapsulated ESP.
    // On ok each describes the inner IP packet (trimmed to its IP length; TFC padding dropped).
    std::size_t decap(std::span<pkt> pkts, std::span<drop_reason> results);

    [[nodiscard]] std::uint32_t spi() const;
    [[nodiscard]] const sa_counters& counters() const;
    [[nodiscard]] const replay_window& window() const;
    [[nodiscard]] bool hard_expired() const;
    [[nodiscard]] enc_alg enc() const;
    [[nodiscard]] integ_alg integ() const;
    [[nodiscard]] backend_kind backend() const;

    struct impl;

private:
    friend class decap_batch;
    inbound_sa() = default;
    std::unique_ptr<impl> _impl;
};

// Decap of many SAs' packets with one crypto pass, the mirror of encap_batch: add() runs steps
// 1-2 for an SA's packets (framing checks, replay pre-check), run() decrypts the ops of all of
// them at once (crypto_ctx::decrypt_many: CBC+HMAC packets of different SAs share the SIMD
// lanes) and finishes each packet (window update, trailer, inner header). The outcome equals one
// decap() per add() in that order: add() runs the batch itself first when the same SA is
// already waiting (its window must advance before the next pre-check) or max_burst packets are.
// Until run() returns, the packets' buffers and the spans given to add() must stay valid. One
// thread only; holds about 20 KB of scratch (allocated once, in the constructor).
class decap_batch {
public:
    decap_batch();
    ~decap_batch();
    decap_batch(const decap_batch&) = delete;
    decap_batch& operator=(const decap_batch&) = delete;

    void add(inbound_sa& sa, std::span<pkt> pkts, std::span<drop_reason> results);
    void run();
    [[nodiscard]] std::size_t pending() const;  // packets added and not yet run

    struct state;

private:
    std::unique_ptr<state> _s;
};

// Where the ESP header of an outer packet is, for the SAD lookup before decap (the data plane)
// and for tools. Returns ok, not_ip, not_esp (incl. an IKE packet on UDP 4500: non-ESP marker)
// or runt; on ok fills info.
struct esp_location {
    std::uint32_t spi = 0;
    std::uint32_t seq = 0;         // low 32 bits as on the wire
    std::uint32_t esp_offset = 0;  // from pkt.data() to the SPI field
    std::uint8_t ip_version = 0;
    bool udp = false;              // RFC 3948 encapsulated
    std::uint32_t esp_len = 0;     // ESP header .. ICV, bounded by the outer IP (and UDP) length
    std::uint8_t outer_tos = 0;    // IPv4 TOS / IPv6 traffic class (DSCP + ECN)
};
[[nodiscard]] drop_reason locate_esp(const pkt& p, esp_location& info);

} // namespace esp
