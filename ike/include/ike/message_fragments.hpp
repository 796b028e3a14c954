#pragma once
// Reassembly of IKE message fragments (RFC 7383 section 2.6). Each fragment is an IKE message with
// one SKF payload, authenticated on its own (open_skf()); only authenticated fragments are added.
// When all Total Fragments have arrived, their plaintexts are joined in fragment-number order and
// parsed as one inner payload chain whose first type is fragment 1's Next Payload.
//
// Rules (2.6.1): fragments of another Message ID start a new message; a fragment announcing more
// Total Fragments than those held replaces them (the sender re-fragmented for a smaller PMTU); one
// announcing fewer is ignored; duplicates are ignored. Limits bound memory for unauthenticated
// senders' retransmissions: at most `max_fragments` fragments and `max_bytes` of plaintext.
#include "ike/message.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>

namespace ike {

class fragment_reassembler {
public:
    enum class status : std::uint8_t { incomplete, complete, ignored, rejected };

    explicit fragment_reassembler(std::size_t max_fragments = 128, std::size_t max_bytes = 128 * 1024)
        : _max_fragments(max_fragments), _max_bytes(max_bytes) {}

    // `m` is a parsed fragment (m.skf() set) and `plaintext` what open_skf() returned for it.
    status add(const message& m, bytes plaintext);

    // After add() returned complete: the whole message — header of the fragments, payloads =
    // fragment 1's SKF payload, `encrypted` = the reassembled inner chain, opened = true; ready
    // for validate_message(). INVALID_SYNTAX when the joined chain does not parse. Resets.
    wire_result<message> take();

    void reset();
    [[nodiscard]] std::optional<std::uint32_t> message_id() const { return _message_id; }
    [[nodiscard]] std::size_t held() const { return _parts.size(); }

private:
    std::size_t _max_fragments;
    std::size_t _max_bytes;
    std::optional<std::uint32_t> _message_id;
    ike_header _header;
    std::uint16_t _total = 0;
    payload _first_skf;  // fragment 1's SKF payload: its Next Payload starts the inner chain
    std::size_t _bytes = 0;
    std::map<std::uint16_t, bytes> _parts;
};

std::string_view to_string(fragment_reassembler::status s);

} // namespace ike
