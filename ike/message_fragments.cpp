// RFC 7383 fragment reassembly (see message_fragments.hpp).
//
// add(), in order:
//  1. only SKF messages with 1 <= Fragment Number <= Total Fragments are considered
//  2. another Message ID or direction: drop what is held, start over
//  3. Total Fragments larger than held: start over; smaller: ignore the fragment
//  4. duplicate numbers are ignored; limits on count and bytes reject
//  5. complete when every number 1..Total is held
#include "ike/message_fragments.hpp"

namespace ike {

std::string_view to_string(fragment_reassembler::status s) {
    switch (s) {
    case fragment_reassembler::status::incomplete: return "incomplete";
    case fragment_reassembler::status::complete: return "complete";
    case fragment_reassembler::status::ignored: return "ignored";
    case fragment_reassembler::status::rejected: return "rejected";
    }
    return "?";
}

void fragment_reassembler::reset() {
    _message_id.reset();
    _total = 0;
    _first_skf = payload{};
    _bytes = 0;
    _parts.clear();
}

fragment_reassembler::status fragment_reassembler::add(const message& m, bytes plaintext) {
    const skf_payload* f = m.skf();
    if (!f || f->fragment_number == 0 || f->fragment_number > f->total_fragments) return status::rejected;
    if (f->total_fragments > _max_fragments) return status::rejected;

    bool same_message = _message_id && *_message_id == m.header.message_id &&
                        _header.response == m.header.response && _header.exchange == m.header.exchange;
    if (!same_message || f->total_fragments > _total) {
        reset();
        _message_id = m.header.message_id;
        _header = m.header;
        _total = f->total_fragments;
    } else if (f->total_fragments < _total) {
        return status::ignored;
    }
    if (_parts.count(f->fragment_number)) return status::ignored;
    if (_bytes + plaintext.size() > _max_bytes) {
        reset();
        return status::rejected;
    }
    if (f->fragment_number == 1) _first_skf = m.payloads.back();
    _bytes += plaintext.size();
    _parts.emplace(f->fragment_number, std::move(plaintext));
    return _parts.size() == _total ? status::complete : status::incomplete;
}

wire_result<message> fragment_reassembler::take() {
    if (!_message_id || _parts.size() != _total || _total == 0) {
        reset();
        return wire_error::syntax("fragments incomplete");
    }
    bytes joined;
    joined.reserve(_bytes);
    for (const auto& [n, part] : _parts) joined.insert(joined.end(), part.begin(), part.end());
    auto inner = parse_payload_chain(_first_skf.as<skf_payload>()->inner_first, joined, true);
    message m;
    m.header = _header;
    m.header.next_payload = payload_type::skf;
    m.payloads.push_back(std::move(_first_skf));
    reset();
    if (!inner) return inner.error();
    m.encrypted = std::move(inner.value());
    m.opened = true;
    return m;
}

} // namespace ike
