#pragma once
// Per IKE SA: message IDs (RFC 7296 2.2), window size 1, retransmission of our requests with
// exponential back-off (2.1, strongSwan's 4 s * 1.8^n, 5 tries), and byte-identical re-sending
// of the cached response when the peer retransmits its last request (2.1: "the responder MUST
// retransmit the response").
//
// A message goes out as one datagram or, with RFC 7383 fragmentation, as a set of SKF fragments
// (ike_sa::encode_datagrams): a retransmission re-sends the whole set, and the cached response is
// the set. Message IDs (2.2): a request is processed only with the next expected ID; the
// previous ID gets the cached response (unfragmented: when the request is byte-identical;
// fragmented: on an authenticated fragment 1, RFC 7383 2.6.1); older and later IDs are dropped
// (counted). Before the 32-bit space runs out the IKE SA is rekeyed (message ID counters start
// from 0 on the new SA): when our next request ID reaches message_id_rekey_threshold, or the
// peer's reaches peer_message_id_rekey_threshold (a peer that does not rekey itself; the higher
// value avoids a rekey collision with one that does). The last ID is never used: with
// 0xFFFFFFFF reached the SA is destroyed.
#include "ike/endpoint_clock.hpp"
#include "ike/message.hpp"
#include "ike/task.hpp"

#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <span>
#include <vector>

namespace ike {

class ike_sa;

inline constexpr std::uint32_t message_id_rekey_threshold = 0xFFFF0000;
inline constexpr std::uint32_t peer_message_id_rekey_threshold = 0xFFFF8000;
inline constexpr std::uint32_t last_message_id = std::numeric_limits<std::uint32_t>::max();

class task_manager {
public:
    explicit task_manager(ike_sa& sa) : _sa(sa) {}

    void queue(std::unique_ptr<task> t);
    // Starts the next queued task when the window is free.
    void initiate();
    [[nodiscard]] bool busy() const { return _active != nullptr; }
    [[nodiscard]] std::size_t queued() const { return _queue.size(); }
    // IKE SA rekey: the queued (not yet started) exchanges follow the CHILD SAs to the new SA.
    void move_queue_to(task_manager& other);

    // Receive side, called by ike_sa::receive with the raw datagram (without non-ESP marker).
    // Returns true when the request was a retransmission of the last one and the cached
    // response has been re-sent (nothing else to do).
    bool resend_if_retransmit(const ike_header& h, std::span<const std::uint8_t> raw);
    // Whether `h` is a request with the Message ID we answered last (a retransmission, e.g. of a
    // fragmented request), and re-sending that cached response (all its datagrams).
    [[nodiscard]] bool answered_last(const ike_header& h) const;
    void resend_response(const ike_header& h);
    // Whether `h` is a request with the next expected Message ID / the response to our request.
    [[nodiscard]] bool request_in_window(const ike_header& h) const;
    [[nodiscard]] bool response_expected(const ike_header& h) const;

    void on_request(const message& request, std::span<const std::uint8_t> raw);
    void on_response(const message& response);
    // Answers a request that failed validation with an error notify (INVALID_SYNTAX, ...).
    void reject_request(const message& request, std::span<const std::uint8_t> raw, const wire_error& err);
    // The response to our request failed the payload rules: the exchange failed.
    void response_invalid(const std::string& reason);

    void on_timer(time_point now);
    [[nodiscard]] std::optional<time_point> next_deadline() const;

    [[nodiscard]] std::uint32_t next_request_id() const { return _next_mid; }
    [[nodiscard]] std::uint32_t expected_request_id() const { return _expected_mid; }
    [[nodiscard]] unsigned retransmits() const { return _retransmits; }
    // Datagrams of our outstanding request / of the cached response (more than one: fragments).
    [[nodiscard]] std::size_t request_datagrams() const { return _request_datagrams.size(); }
    [[nodiscard]] std::size_t response_datagrams() const { return _cached_response.size(); }
    // Test hook: continue the Message ID counters from these values (both peers must be set
    // crosswise: our next_request == the peer's expected_request), e.g. near the 2^32 limit;
    // `no_exhaustion_rekey` plays a peer that never rekeys for it.
    void set_message_ids_for_test(std::uint32_t next_request, std::uint32_t expected_request,
                                  bool no_exhaustion_rekey = false) {
        _next_mid = next_request;
        _expected_mid = expected_request;
        _mid_rekey_requested = no_exhaustion_rekey;
    }

private:
    void send_request();
    void finish_active(task_status st, bool consumed);
    void send_response(message& response, std::span<const std::uint8_t> raw_request);
    void check_message_id_space();

    ike_sa& _sa;
    std::deque<std::unique_ptr<task>> _queue;
    std::unique_ptr<task> _active;
    std::uint32_t _next_mid = 0;      // Message ID of our next/current request
    std::uint32_t _expected_mid = 0;  // Message ID of the peer's next request
    std::vector<bytes> _request_datagrams;  // our outstanding request, as sent (1 or fragments)
    unsigned _retransmits = 0;
    std::optional<time_point> _retransmit_at;
    std::vector<std::uint8_t> _last_request_in;  // the peer's last request, to spot retransmits
    std::vector<bytes> _cached_response;  // our response to it, re-sent byte for byte
    bool _mid_rekey_requested = false;    // message ID exhaustion rekey asked for once
};

} // namespace ike
