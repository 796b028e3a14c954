// Message IDs, window size 1, retransmission and response caching (see task_manager.hpp).
#include "ike/task_manager.hpp"

#include "ike/ike_sa.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ike {

void task_manager::queue(std::unique_ptr<task> t) { _queue.push_back(std::move(t)); }

void task_manager::move_queue_to(task_manager& other) {
    std::deque<std::unique_ptr<task>> keep;
    while (!_queue.empty()) {
        auto t = std::move(_queue.front());
        _queue.pop_front();
        if (t->ike_level()) keep.push_back(std::move(t));
        else other._queue.push_back(std::move(t));
    }
    _queue = std::move(keep);
}

void task_manager::initiate() {
    if (_active || _queue.empty() || _sa.destroyed()) return;
    _active = std::move(_queue.front());
    _queue.pop_front();
    send_request();
}

void task_manager::send_request() {
    message m;
    m.header.exchange = _active->exchange();
    m.header.initiator = _sa.original_initiator;
    m.header.response = false;
    m.header.message_id = _next_mid;
    m.header.spi_i = _sa.spi_i;
    m.header.spi_r = _sa.spi_r;
    if (_next_mid == last_message_id) {
        // RFC 7296 2.2: the Message ID space is used up (the exhaustion rekey did not happen).
        _sa.fail("Message ID space exhausted");
        _queue.clear();
        _active.reset();
        _sa.destroy("Message ID space exhausted");
        return;
    }
    auto st = _active->build_request(_sa, m);
    if (st == task_status::failed) {
        finish_active(st, false);
        return;
    }
    auto datagrams = _sa.encode_datagrams(m);
    if (!datagrams || datagrams->empty()) {
        _sa.fail(fmt::format("cannot build {} request", to_string(m.header.exchange)));
        finish_active(task_status::failed, false);
        return;
    }
    if (m.header.exchange == exchange_type::ike_sa_init) _sa.init_request = datagrams->front();
    _request_datagrams = std::move(*datagrams);
    _retransmits = 0;
    _retransmit_at = _sa.svc.time.now() + _sa.cfg.retransmit.timeout_for(0);
    std::size_t size = 0;
    for (const auto& d : _request_datagrams) size += d.size();
    _sa.log(log_level::debug, fmt::format("sending {} request {} ({} bytes{})", to_string(m.header.exchange),
                                          _next_mid, size,
                                          _request_datagrams.size() > 1
                                              ? fmt::format(" in {} fragments", _request_datagrams.size())
                                              : std::string()));
    _sa.send_datagrams(_request_datagrams);
}

void task_manager::check_message_id_space() {
    if (_mid_rekey_requested) return;
    if (_next_mid < message_id_rekey_threshold && _expected_mid < peer_message_id_rekey_threshold) return;
    _mid_rekey_requested = true;
    _sa.message_ids_running_out(_next_mid, _expected_mid);
}

void task_manager::finish_active(task_status st, bool consumed) {
    auto t = std::move(_active);
    _retransmit_at.reset();
    _request_datagrams.clear();
    if (consumed) {
        ++_next_mid;
        check_message_id_space();
    }
    if (st == task_status::failed && t && t->fatal()) {
        _queue.clear();
        _sa.destroy(fmt::format("{} failed", t->name()));
        return;
    }
    initiate();
}

bool task_manager::response_expected(const ike_header& h) const {
    return _active && !_request_datagrams.empty() && h.message_id == _next_mid &&
           h.exchange == _active->exchange();
}

bool task_manager::request_in_window(const ike_header& h) const { return h.message_id == _expected_mid; }

bool task_manager::resend_if_retransmit(const ike_header& h, std::span<const std::uint8_t> raw) {
    if (_cached_response.empty() || h.message_id + 1 != _expected_mid) return false;
    if (!std::equal(raw.begin(), raw.end(), _last_request_in.begin(), _last_request_in.end())) return false;
    resend_response(h);
    return true;
}

bool task_manager::answered_last(const ike_header& h) const {
    return !h.response && !_cached_response.empty() && h.message_id + 1 == _expected_mid;
}

void task_manager::resend_response(const ike_header& h) {
    if (!answered_last(h)) return;
    _sa.log(log_level::info, fmt::format("peer retransmitted {} request {}, re-sending our response",
                                         to_string(h.exchange), h.message_id));
    _sa.send_datagrams(_cached_response);
}

void task_manager::on_response(const message& response) {
    auto st = _active->process_response(_sa, response);
    if (st == task_status::retry) {
        // RFC 7296 1.2/2.6: after INVALID_KE_PAYLOAD or COOKIE the IKE_SA_INIT is sent again,
        // still with Message ID 0; any other exchange retried is a new exchange with a new ID.
        if (_active->exchange() != exchange_type::ike_sa_init) ++_next_mid;
        send_request();
        return;
    }
    finish_active(st, true);
}

void task_manager::response_invalid(const std::string& reason) {
    _sa.fail(fmt::format("invalid {} response: {}", _active ? std::string(_active->name()) : "?", reason));
    finish_active(task_status::failed, true);
}

void task_manager::send_response(message& response, std::span<const std::uint8_t> raw_request) {
    auto datagrams = _sa.encode_datagrams(response);
    ++_expected_mid;
    check_message_id_space();
    if (datagrams && !datagrams->empty()) {
        if (response.header.exchange == exchange_type::ike_sa_init) _sa.init_response = datagrams->front();
        // A reassembled (fragmented) request has no single raw form: its retransmissions are
        // recognized by their authenticated fragment 1 instead (ike_sa::receive).
        _last_request_in.assign(raw_request.begin(), raw_request.end());
        _cached_response = std::move(*datagrams);
        _sa.send_datagrams(_cached_response);
    } else {
        _cached_response.clear();  // never answer a retransmission with an older response
        _last_request_in.clear();
    }
    // The peer used Message ID 0xFFFFFFFF: nothing is left (RFC 7296 2.2).
    if (_expected_mid == 0) _sa.destroy("peer exhausted the Message ID space");
}

namespace {
message response_to(const ike_sa& sa, const message& request) {
    message r;
    r.header.exchange = request.header.exchange;
    r.header.initiator = sa.original_initiator;
    r.header.response = true;
    r.header.message_id = request.header.message_id;
    r.header.spi_i = sa.spi_i;
    r.header.spi_r = sa.spi_r;
    return r;
}
} // namespace

void task_manager::on_request(const message& request, std::span<const std::uint8_t> raw) {
    message response = response_to(_sa, request);
    bool keep = true;
    switch (request.header.exchange) {
    case exchange_type::ike_sa_init: keep = respond_ike_init(_sa, request, response); break;
    case exchange_type::ike_auth: keep = respond_ike_auth(_sa, request, response); break;
    case exchange_type::create_child_sa: keep = respond_child_create(_sa, request, response); break;
    case exchange_type::informational: keep = respond_informational(_sa, request, response); break;
    default: return;  // validate_outer only lets the exchanges above through
    }
    send_response(response, raw);
    if (!keep) _sa.destroy(fmt::format("after {} response", to_string(request.header.exchange)));
}

void task_manager::reject_request(const message& request, std::span<const std::uint8_t> raw, const wire_error& err) {
    message response = response_to(_sa, request);
    auto n = make_notify(err.notify, err.data);
    bool init = request.header.exchange == exchange_type::ike_sa_init;
    if (init) {
        response.header.spi_r = {};
        response.payloads.push_back(std::move(n));
    } else {
        response.encrypted.push_back(std::move(n));
    }
    _sa.log(log_level::warning, fmt::format("answering {} request {} with {}", to_string(request.header.exchange),
                                            request.header.message_id, to_string(err.notify)));
    send_response(response, raw);
    if (init) _sa.destroy("invalid IKE_SA_INIT request");
}

std::optional<time_point> task_manager::next_deadline() const { return _retransmit_at; }

void task_manager::on_timer(time_point now) {
    if (!_retransmit_at || now < *_retransmit_at || !_active) return;
    if (_retransmits >= _sa.cfg.retransmit.tries) {
        _sa.fail(fmt::format("giving up after {} retransmits of {} request {}", _retransmits, _active->name(),
                             _next_mid));
        _active->timed_out(_sa);
        _queue.clear();
        _active.reset();
        _retransmit_at.reset();
        _sa.peer_dead("peer not responding");
        return;
    }
    ++_retransmits;
    _retransmit_at = now + _sa.cfg.retransmit.timeout_for(_retransmits);
    _sa.log(log_level::info, fmt::format("retransmit {} of {} request {}{}", _retransmits, _active->name(), _next_mid,
                                         _request_datagrams.size() > 1
                                             ? fmt::format(" ({} fragments)", _request_datagrams.size())
                                             : std::string()));
    _sa.send_datagrams(_request_datagrams);
}

} // namespace ike
