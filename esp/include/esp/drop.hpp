#pragma once
// Every packet the ESP engine refuses gets exactly one reason from this table; the same table
// yields the per-SA counter index and the text used in logs, JSON and statistics.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace esp {

// X(name, text): order is the counter index; `ok` (index 0) is not a drop.
#define ESP_DROP_REASONS(X)                                                                    \
    X(ok, "ok")                     /* processed, not dropped */                              \
    X(no_sa, "no_sa")               /* SPI does not match the SA (incl. reserved SPIs 0..255) */ \
    X(runt, "runt")                 /* too short for outer header + ESP header + IV + ICV */   \
    X(bad_length, "bad_length")     /* lengths inconsistent or ciphertext not block aligned */ \
    X(replay, "replay")             /* duplicate, left of the window, or sequence number 0 */  \
    X(icv, "icv")                   /* integrity check / AEAD tag failed */                    \
    X(pad, "pad")                   /* padding bytes not 1,2,3,... or pad length too large */  \
    X(next_header, "next_header")   /* next header not 4 (IPv4) or 41 (IPv6), or mismatch */   \
    X(dummy, "dummy")               /* next header 59: dummy packet (RFC 4303 2.6), counted */ \
    X(seq_cycled, "seq_cycled")     /* outbound sequence number space exhausted */             \
    X(lifetime, "lifetime")         /* hard lifetime (bytes or packets) reached */             \
    X(no_room, "no_room")           /* not enough head- or tailroom in the buffer */           \
    X(not_ip, "not_ip")             /* inner (encap) / outer (decap) packet is not valid IP */ \
    X(not_esp, "not_esp")           /* outer packet is neither ESP nor UDP-encapsulated ESP */ \
    X(too_big, "too_big")           /* result would exceed the IP length field */              \
    X(crypto, "crypto")             /* crypto backend reported an internal failure */          \
    X(fragment, "fragment")         /* outer packet is an IP fragment (reassemble first) */     \
    X(ecn, "ecn")                   /* outer CE over a Not-ECT inner packet (RFC 6040 4.2) */

enum class drop_reason : std::uint8_t {
#define ESP_DROP_ENUM(name, text) name,
    ESP_DROP_REASONS(ESP_DROP_ENUM)
#undef ESP_DROP_ENUM
};

inline constexpr std::size_t drop_reason_count = 0
#define ESP_DROP_COUNT(name, text) +1
    ESP_DROP_REASONS(ESP_DROP_COUNT)
#undef ESP_DROP_COUNT
    ;

inline constexpr std::array<std::string_view, drop_reason_count> drop_reason_names = {
#define ESP_DROP_TEXT(name, text) std::string_view{text},
    ESP_DROP_REASONS(ESP_DROP_TEXT)
#undef ESP_DROP_TEXT
};

[[nodiscard]] constexpr std::string_view to_string(drop_reason r) {
    return drop_reason_names[static_cast<std::size_t>(r)];
}
[[nodiscard]] constexpr std::size_t index(drop_reason r) { return static_cast<std::size_t>(r); }

} // namespace esp
