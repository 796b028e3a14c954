#pragma once
// RFC 4303 3.4.3 anti-replay window as an RFC 6479 block ring: no bit shifting, advancing the
// window clears whole 64-bit blocks. With ESN the high 32 bits are inferred per RFC 4303
// Appendix A2.2 from the low 32 bits on the wire.
#include <array>
#include <cstdint>

namespace esp {

class replay_window {
public:
    static constexpr std::uint32_t min_size = 64;
    static constexpr std::uint32_t max_size = 4096;
    // Ring of 128 blocks (power of two >= max_size / 64 + 1): 8 KiB bits, 1 KiB.
    static constexpr std::uint32_t blocks = 128;

    // size 0 = anti-replay off (sequence numbers are still tracked for ESN inference).
    // first = the first sequence number the peer sends: the window starts just below it (top =
    // first - 1, nothing marked), so that ESN inference (RFC 4303 A2.2) finds the right 2^32
    // subspace from the first packet, e.g. for an SA that starts near or beyond 2^32.
    explicit replay_window(std::uint32_t size = 64, bool esn = false, std::uint64_t first = 1);

    // Full 64-bit sequence number for the 32 bits on the wire (identity without ESN).
    [[nodiscard]] std::uint64_t infer(std::uint32_t seq_lo) const { return infer(seq_lo, _top); }
    // The same inference against an assumed highest sequence number (used within a burst).
    [[nodiscard]] std::uint64_t infer(std::uint32_t seq_lo, std::uint64_t assumed_top) const {
        return _esn ? infer_esn(seq_lo, assumed_top) : seq_lo;
    }
    // Pre-check before the ICV: false for 0, for anything left of the window, and duplicates.
    // Inline: it runs for every received packet.
    [[nodiscard]] bool check(std::uint64_t seq) const {
        if (seq == 0) return false;  // never sent (RFC 4303 3.3.3): first packet is 1
        if (_size == 0 || seq > _top) return true;
        if (_top - seq >= _size) return false;  // left of the window
        const std::uint64_t block = (seq >> 6) & (blocks - 1);
        return ((_bits[block] >> (seq & 63)) & 1) == 0;
    }
    // After the ICV verified: re-check (another packet of the burst may have taken it) and mark.
    bool update(std::uint64_t seq) {
        if (!check(seq)) return false;
        if (seq > _top) {
            // Clear the blocks the window moves into; never more than the whole ring.
            const std::uint64_t from = _top >> 6;
            const std::uint64_t n = (seq >> 6) - from < blocks ? (seq >> 6) - from : blocks;
            for (std::uint64_t i = 1; i <= n; ++i) _bits[(from + i) & (blocks - 1)] = 0;
            _top = seq;
        }
        if (_size != 0) _bits[(seq >> 6) & (blocks - 1)] |= std::uint64_t(1) << (seq & 63);
        return true;
    }

    [[nodiscard]] std::uint64_t top() const { return _top; }
    [[nodiscard]] std::uint32_t size() const { return _size; }

private:
    [[nodiscard]] std::uint64_t infer_esn(std::uint32_t seq_lo, std::uint64_t assumed_top) const;

    std::uint64_t _top = 0;   // highest authenticated sequence number (0: none yet)
    std::uint32_t _size = 64;
    bool _esn = false;
    std::array<std::uint64_t, blocks> _bits{};
};

} // namespace esp
