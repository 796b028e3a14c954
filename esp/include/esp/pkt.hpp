#pragma once
// A packet view with no DPDK types: the data plane fills it from an mbuf (buf_addr, buf_len,
// data_off, data_len), tests and tools from plain vectors. Encap grows the packet into the
// headroom (outer IP [+UDP] + ESP header + IV) and tailroom (padding, trailer, ICV); decap
// shrinks it to the inner IP packet in place. Only data_off/data_len change; buf never moves.
#include <cstdint>

namespace esp {

struct pkt {
    std::uint8_t* buf = nullptr;   // start of the whole buffer
    std::uint32_t buf_len = 0;     // buffer is [buf, buf + buf_len)
    std::uint32_t data_off = 0;    // packet starts at buf + data_off
    std::uint32_t data_len = 0;    // packet is [buf + data_off, buf + data_off + data_len)

    [[nodiscard]] std::uint8_t* data() const { return buf + data_off; }
    [[nodiscard]] std::uint32_t headroom() const { return data_off; }
    [[nodiscard]] std::uint32_t tailroom() const { return buf_len - data_off - data_len; }
    // A view is valid when the packet lies inside the buffer (checked before any use).
    [[nodiscard]] bool valid() const {
        return buf != nullptr && data_off <= buf_len && data_len <= buf_len - data_off;
    }
};

} // namespace esp
