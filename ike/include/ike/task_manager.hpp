#pragma once
// Per IKE SA: message IDs (RFC 7296 2.2), window size 1, retransmission of our requests with
// exponential back-off (2.1, strongSwan's 4 s * 1.8^n, 5 tries), and byte-identical re-sending
// of the cached response when the peer retransmits its last request (2.1: "the responder MUST
// retransmit the response").
#include "ike/endpoint_clock.hpp"
#include "ike/message.hpp"
#include "ike/task.hpp"

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <span>
#include <vector>

namespace ike {

class ike_sa;

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

private:
    void send_request();
    void finish_active(task_status st, bool consumed);
    void send_response(message& response, std::span<const std::uint8_t> raw_request);

    ike_sa& _sa;
    std::deque<std::unique_ptr<task>> _queue;
    std::unique_ptr<task> _active;
    std::uint32_t _next_mid = 0;      // Message ID of our next/current request
    std::uint32_t _expected_mid = 0;  // Message ID of the peer's next request
    std::vector<std::uint8_t> _request_bytes;  // our outstanding request, as sent
    unsigned _retransmits = 0;
    std::optional<time_point> _retransmit_at;
    std::vector<std::uint8_t> _last_request_in;  // the peer's last request, to spot retransmits
    std::vector<std::uint8_t> _cached_response;  // our response to it, re-sent byte for byte
};

} // namespace ike
