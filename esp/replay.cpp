// RFC 6479 anti-replay ring with RFC 4303 Appendix A2 ESN inference.
#include "esp/replay.hpp"

#include <algorithm>

namespace esp {

replay_window::replay_window(std::uint32_t size, bool esn, std::uint64_t first)
    : _top(first == 0 ? 0 : first - 1), _size(size), _esn(esn) {}

std::uint64_t replay_window::infer_esn(std::uint32_t seq_lo, std::uint64_t assumed_top) const {
    // RFC 4303 A2.2: decide whether seq_lo lies in the window's subspace, the next or the previous.
    const std::uint32_t w = _size ? _size : min_size;
    const std::uint32_t tl = std::uint32_t(assumed_top);
    const std::uint32_t th = std::uint32_t(assumed_top >> 32);
    std::uint32_t sh;
    if (tl >= w - 1) {                        // Case A: window within one subspace
        sh = seq_lo >= tl - w + 1 ? th : th + 1;
    } else {                                  // Case B: window spans two subspaces
        // mod 2^32 comparison as in the RFC; in subspace 0 there is no previous subspace (th - 1
        // would wrap to 2^32-1), so the only candidate is subspace 0 itself.
        sh = (seq_lo >= tl - w + 1 && th != 0) ? th - 1 : th;
    }
    return (std::uint64_t(sh) << 32) | seq_lo;
}

} // namespace esp
