#pragma once
// One IKE SA (RFC 7296 section 1): SPIs, role, state, negotiated suite and keys, IKE_SA_INIT
// data needed for AUTH, NAT-T state, its CHILD SAs and its task manager. Receive path, in order:
//   1. parse_message (bounds-checked), Message ID window / retransmission check
//   2. validate_outer (exchange table) -> open_sk (ICV before decryption) -> validate_message;
//      an SKF fragment (RFC 7383, only when negotiated, else dropped and counted): open_skf (its
//      own ICV) -> per-direction reassembler (bounded; abandoned after a timeout or when another
//      Message ID starts) -> when complete, validate_message of the whole message
//   3. task manager -> task (exchange_*.cpp); only validated content enters SA state.
#include "ike/child_sa.hpp"
#include "ike/config.hpp"
#include "ike/dh.hpp"
#include "ike/keymat.hpp"
#include "ike/message.hpp"
#include "ike/message_fragments.hpp"
#include "ike/proposal_select.hpp"
#include "ike/sa_installer.hpp"
#include "ike/sa_state.hpp"
#include "ike/task_manager.hpp"
#include "ike/transport.hpp"

#include <base/secret_bytes.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ike::crypto {
class random_source;
class key_exchange_factory;
}

namespace ike {

// RFC 7383 fragmentation on one IKE SA (status and tests: were fragments really exchanged?).
struct fragment_counters {
    std::uint64_t messages_fragmented = 0;  // messages we split (a retransmission is not counted again)
    std::uint64_t fragments_sent = 0;       // SKF datagrams put on the wire, retransmissions included
    std::uint64_t fragments_received = 0;   // authenticated SKF fragments
    std::uint64_t messages_reassembled = 0;
    std::uint64_t duplicates = 0;              // authenticated, but already held (ignored)
    std::uint64_t dropped_not_negotiated = 0;  // SKF without negotiated fragmentation
    std::uint64_t dropped_icv = 0;             // ICV did not verify: forged or corrupted
    std::uint64_t dropped_invalid = 0;         // bad padding, numbering or reassembly limits
    std::uint64_t reassembly_timeouts = 0;     // incomplete messages abandoned
};

enum class log_level { debug, info, warning, error };
using log_sink = std::function<void(log_level, std::string_view)>;

// Services an IKE SA uses, owned by the endpoint.
struct endpoint_services {
    transport& net;
    clock& time;
    sa_installer& installer;
    crypto::random_source& rng;
    crypto::key_exchange_factory& ke_factory;
    log_sink log;
    std::uint32_t next_reqid = 1;
    std::set<std::uint32_t> inbound_spis;  // ESP SPIs in use, so a new one is never a duplicate
    // RFC 7296 2.4: the peer sent INITIAL_CONTACT; the endpoint drops its older SAs with that peer.
    std::function<void(ike_sa&)> initial_contact;

    // Set by the endpoint: a new IKE SA for an IKE SA rekey (RFC 7296 1.3.2; our SPI random,
    // registered so that datagrams find it), and lookup by unique id.
    std::function<ike_sa*(const peer_config&, bool initiator)> create_sa;
    std::function<ike_sa*(std::uint32_t unique_id)> find_sa;
    // dpd_action restart: peer names the endpoint initiates anew once the dead IKE SA is gone.
    std::vector<std::string> restarts;

    std::uint32_t allocate_esp_spi();
    void release_esp_spi(std::uint32_t spi) { inbound_spis.erase(spi); }
};

class ike_sa {
public:
    ike_sa(endpoint_services& svc, const peer_config& cfg, std::uint32_t unique_id, bool initiator,
           std::vector<proposal> ike_proposals, std::vector<proposal> esp_proposals);
    ~ike_sa();
    ike_sa(const ike_sa&) = delete;
    ike_sa& operator=(const ike_sa&) = delete;

    // Entry from the endpoint: one IKE message (non-ESP marker removed) that arrived on `local`
    // from `remote`.
    void receive(std::span<const std::uint8_t> datagram, const udp_endpoint& local, const udp_endpoint& remote);
    void on_timer();
    [[nodiscard]] std::optional<time_point> next_deadline() const;

    // Serializes (SK-protected except for IKE_SA_INIT) and sends; returns the bytes sent.
    std::optional<std::vector<std::uint8_t>> encode(const message& m);
    // The datagrams for `m`: one, or its SKF fragments when fragmentation was negotiated and the
    // IP datagram would exceed cfg.fragment_size (RFC 7383 2.5; never IKE_SA_INIT).
    std::optional<std::vector<bytes>> encode_datagrams(const message& m);
    void send_bytes(std::span<const std::uint8_t> bytes);
    void send_datagrams(const std::vector<bytes>& datagrams);
    // Largest inner plaintext per fragment for cfg.fragment_size on the current path (IP and UDP
    // headers, non-ESP marker, IKE header, SKF header, IV, padding and ICV taken off); 0 when the
    // size leaves no room.
    [[nodiscard]] std::size_t fragment_plaintext_size() const;
    // The task manager's Message ID counters passed the rekey threshold (task_manager.hpp).
    void message_ids_running_out(std::uint32_t next_request, std::uint32_t expected_request);

    // Logging with the SA prefix "ike[3] 192.0.2.2: ".
    void log(log_level level, std::string_view text) const;
    // Records a failure reason for status (and logs it as an error).
    void fail(std::string reason);
    bool transition(ike_sa_state to);
    void destroy(std::string_view why);  // removes all CHILD SAs, state destroyed
    // The peer did not answer through the retransmission schedule (RFC 7296 2.4): destroyed, and
    // re-initiated when dpd_action is restart (and we know the peer's address).
    void peer_dead(std::string_view why);

    [[nodiscard]] ike_sa_state state() const { return _sm.state(); }
    [[nodiscard]] bool destroyed() const { return state() == ike_sa_state::destroyed; }

    // Called by exchange tasks once IKE_SA_INIT produced g^ir and nonces.
    // With `rekeyed_from` (IKE SA rekey, RFC 7296 2.18): SKEYSEED = prf_old(SK_d_old, g^ir | Ni | Nr).
    std::optional<std::string> derive_keys(std::span<const std::uint8_t> g_ir, const ike_sa* rekeyed_from = nullptr);
    // Evaluates NAT_DETECTION_* notifies of a received IKE_SA_INIT message (RFC 7296 2.23).
    void process_nat_detection(const message& m);
    // Adds NAT_DETECTION_SOURCE_IP / _DESTINATION_IP for the message we are about to send.
    void add_nat_detection(message& m);
    // After IKE_SA_INIT: switch to port 4500 with non-ESP marker when a NAT was detected or
    // encapsulation is forced (RFC 7296 2.23, RFC 3948).
    void float_ports_if_needed();
    [[nodiscard]] bool udp_encapsulation() const { return nat_here || nat_there || nat_faked_by_peer || cfg.force_encap; }

    // A CHILD SA by SPI here or, after an IKE SA rekey moved it, on the successor IKE SA (an
    // exchange that started on this SA may finish after the move); with the SA that owns it.
    std::pair<ike_sa*, child_sa*> locate_child_spi_in(std::uint32_t spi);
    std::pair<ike_sa*, child_sa*> locate_child_spi_out(std::uint32_t spi);
    std::uint32_t successor_id = 0;  // the IKE SA our CHILD SAs moved to (rekeyed)

    child_sa* find_child_by_reqid(std::uint32_t reqid);
    child_sa* find_child_by_spi_out(std::uint32_t spi);  // the peer's inbound SPI
    child_sa* find_child_by_spi_in(std::uint32_t spi);

    // ---- state (read by tests and status; written by tasks after validation) ----
    endpoint_services& svc;
    const peer_config& cfg;
    const std::uint32_t unique_id;
    const bool original_initiator;
    ike_spi spi_i{};
    ike_spi spi_r{};
    udp_endpoint local;   // current local endpoint
    udp_endpoint remote;  // current peer endpoint
    bool natt_ports = false;  // sending on 4500 with the non-ESP marker
    bool nat_here = false;    // our address is translated
    bool nat_there = false;   // the peer's address is translated
    bool nat_faked_by_peer = false;
    std::vector<proposal> ike_proposals;  // configured (parsed), in preference order
    std::vector<proposal> esp_proposals;
    negotiated_suite ike_suite;
    std::string ike_proposal_text;
    std::vector<std::uint8_t> nonce_i, nonce_r;
    std::vector<std::uint8_t> init_request;   // IKE_SA_INIT request bytes (RealMessage1)
    std::vector<std::uint8_t> init_response;  // IKE_SA_INIT response bytes (RealMessage2)
    std::unique_ptr<crypto::key_exchange> ke;
    crypto::ike_sa_keys keys;
    std::unique_ptr<sk_codec> sk_out;
    std::unique_ptr<sk_codec> sk_in;
    peer_identity local_id;
    std::optional<peer_identity> peer_id;  // authenticated peer identity
    std::vector<std::unique_ptr<child_sa>> children;
    task_manager tasks{*this};
    std::string last_error;
    std::vector<std::uint8_t> cookie;  // initiator: COOKIE to echo (RFC 7296 2.6)
    // RFC 7383: both sides sent N(IKEV2_FRAGMENTATION_SUPPORTED) in IKE_SA_INIT (kept by a
    // rekeyed IKE SA's successor, as strongSwan does).
    bool fragmentation = false;
    fragment_counters fragment_stats;
    // Messages dropped for their Message ID (RFC 7296 2.2): old, beyond the window, or a
    // response we do not wait for.
    std::uint64_t dropped_message_id = 0;
    time_point created_at;
    std::optional<time_point> keepalive_at;
    // Lifetime (RFC 7296 2.8): rekey at the soft lifetime, delete at the hard one.
    std::optional<time_point> rekey_at;
    std::optional<time_point> expire_at;
    // Lifetime by usage (child_usage.cpp): the last poll of the CHILD SAs' usage; the next is
    // usage_poll_interval later (at once on an IKE SA that took over polled CHILD SAs).
    time_point usage_polled_at{};
    // IKE SA rekey: the lower of Ni/Nr of the exchange that created this SA, and, on the old SA
    // while our own rekey is outstanding, the unique id of the SA the peer's crossing rekey
    // created (2.8.2: the exchange with the lowest nonce loses).
    std::vector<std::uint8_t> rekey_nonce_min;
    std::uint32_t peer_rekey_id = 0;
    // Liveness (RFC 7296 2.4): when the peer was last heard from (any authenticated message).
    time_point last_heard;
    // Reauthentication (reauth.cpp): when it is due (instead of rekey_at when cfg.reauth_seconds
    // is set); on the old IKE SA the unique id of the new one under way (0: none), on the new
    // one the id of the old IKE SA it deletes once all its CHILD SAs are up (0: none left).
    std::optional<time_point> reauth_at;
    std::uint32_t reauth_id = 0;
    std::uint32_t reauth_of = 0;

private:
    // One SKF fragment that passed the window check: authenticated, then reassembled; returns the
    // whole message once every fragment is in. `answered`: a fragment of the request we answered
    // last (RFC 7383 2.6.1: fragment 1 re-sends the cached response, the others are ignored).
    std::optional<message> receive_fragment(const message& m, std::span<const std::uint8_t> datagram, bool answered);
    void ike_timers(time_point now);    // IKE rekey at soft lifetime, hard lifetime, DPD
    void child_timers(time_point now);  // rekey at soft lifetime, hard expiry, rekey grace ends

    sa_state_machine<ike_sa_state> _sm{ike_sa_state::created};
    // Fragments of the peer's request and of the response to ours are reassembled apart (each
    // direction has its own window); bounded by the reassembler's fragment and byte limits.
    struct reassembly {
        fragment_reassembler fragments;
        std::optional<time_point> started;
    };
    reassembly _requests_in, _responses_in;
};

// Reauthentication (RFC 7296 2.8.3, reauth.cpp): starts a new IKE SA to the same peer that
// recreates `old`'s CHILD SAs (make-before-break), or deletes `old` first (break-before-make).
void ike_sa_reauthenticate(ike_sa& old);
// On the new IKE SA after a message or timer: once it is established and idle, deletes the old
// IKE SA; if it failed, the old one stays (failure logged, retried at the next soft point).
void ike_sa_reauth_progress(ike_sa& fresh);

} // namespace ike
