#pragma once
// Denial-of-service protection for the responder (RFC 7296 2.6, RFC 8019), strongSwan's receiver
// rules: half-open IKE SAs (responder SAs created by an IKE_SA_INIT that have not completed
// IKE_AUTH) are counted in total and per source address, and an IKE_SA_INIT that matches no
// existing IKE SA is decided here, before any IKE SA is allocated or any DH work is done:
//   1. cookies required (always, or half-open >= cookie_threshold, or from that source
//      >= cookie_threshold_ip, or within cookie_calmdown of the last global trip):
//      no N(COOKIE) first -> stateless HDR, N(COOKIE) reply (cookie_sent);
//      a COOKIE that does not verify with the current or the previous secret -> a fresh
//      COOKIE reply (bad_cookie + cookie_sent)
//   2. half-open from that source >= block_threshold -> dropped (blocked_source)
//   3. half-open in total >= init_limit_half_open -> dropped (half_open_cap)
//   4. accepted: the endpoint creates the responder IKE SA and registers it with opened()
// Established IKE SAs never pass through here: only IKE_SA_INIT requests with SPIr = 0 do.
//
// Cookie (RFC 7296 2.6): <VersionIDofSecret> (1 byte) | HMAC-SHA256(secret, Ni | IPi | SPIi).
// The secret is replaced every cookie_secret_lifetime (checked against the clock on use); a
// cookie made with the previous secret is still accepted until the next replacement.
#include "ike/endpoint_clock.hpp"
#include "ike/message.hpp"
#include "ike/transport.hpp"

#include <base/secret_bytes.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace ike::crypto {
class random_source;
}

namespace ike {

// Thresholds (0 = that check is off); defaults follow strongSwan's charon.* settings.
struct dos_options {
    unsigned cookie_threshold = 30;        // charon.cookie_threshold
    unsigned cookie_threshold_ip = 3;      // charon.cookie_threshold_ip
    unsigned block_threshold = 5;          // charon.block_threshold (per source address)
    unsigned init_limit_half_open = 1000;  // charon.init_limit_half_open
    duration half_open_timeout = std::chrono::seconds(30);  // charon.half_open_timeout
    // strongSwan's COOKIE_CALMDOWN_DELAY: once the global threshold was reached, cookies stay
    // required this long, so the count hovering around the threshold does not flap.
    duration cookie_calmdown = std::chrono::seconds(10);
    duration cookie_secret_lifetime = std::chrono::seconds(60);
};

// Counted drops and replies (exported by ipsecd).
struct dos_counters {
    std::uint64_t cookie_sent = 0;        // stateless N(COOKIE) replies
    std::uint64_t cookie_accepted = 0;    // IKE_SA_INIT with a valid COOKIE while cookies were required
    std::uint64_t bad_cookie = 0;         // COOKIE present but wrong (forged, old secret, other SPIi/Ni/IP)
    std::uint64_t blocked_source = 0;     // dropped: too many half-open SAs from that address
    std::uint64_t half_open_cap = 0;      // dropped: init_limit_half_open reached
    std::uint64_t half_open_timeout = 0;  // half-open SAs destroyed after half_open_timeout
    std::uint64_t malformed = 0;          // dropped: unparsable IKE_SA_INIT or no Ni while cookies required
};

enum class init_verdict { accept, send_cookie, drop };

class dos_guard {
public:
    dos_guard(dos_options opts, bool require_cookie, crypto::random_source& rng, clock& time);

    // Decides an IKE_SA_INIT request (`datagram`, the IKE message without non-ESP marker, whose
    // header is `h`) from `from` that matched no existing IKE SA. On send_cookie, `reply` is the
    // complete stateless response (HDR, N(COOKIE)) to send back.
    init_verdict check_init(const ike_header& h, std::span<const std::uint8_t> datagram, const ip_address& from,
                            message& reply);

    // Half-open bookkeeping: the endpoint registers each responder IKE SA created by an accepted
    // IKE_SA_INIT, and settle() forgets those that completed IKE_AUTH or were destroyed
    // (`still_half_open(id)` says which are still half-open).
    void opened(std::uint32_t ike_id, const ip_address& from);
    void settle(const std::function<bool(std::uint32_t)>& still_half_open);
    // Half-open SAs older than half_open_timeout (counted); the endpoint destroys them.
    std::vector<std::uint32_t> expired();
    [[nodiscard]] std::optional<time_point> next_deadline() const;

    [[nodiscard]] std::size_t half_open() const { return _half_open.size(); }
    [[nodiscard]] std::size_t half_open_from(const ip_address& a) const;
    // Whether an IKE_SA_INIT from `from` would have to carry a COOKIE now.
    [[nodiscard]] bool cookie_required(const ip_address& from) const;
    [[nodiscard]] const dos_counters& counters() const { return _counters; }
    [[nodiscard]] const dos_options& options() const { return _opts; }
    [[nodiscard]] std::uint8_t secret_version() const { return _current.version; }
    // Why the last check_init did not accept, for the log line.
    [[nodiscard]] std::string_view last_reason() const { return _reason; }

    // The cookie for these inputs under the current secret (tests, and the reply above).
    [[nodiscard]] std::vector<std::uint8_t> make_cookie(std::span<const std::uint8_t> nonce_i, const ip_address& from,
                                                        const ike_spi& spi_i);

private:
    struct secret {
        base::secret_bytes key;
        std::uint8_t version = 0;
    };
    struct half_open_sa {
        ip_address from;
        time_point created;
    };

    void rotate_if_due(time_point now);
    [[nodiscard]] bool cookie_valid(std::span<const std::uint8_t> cookie, std::span<const std::uint8_t> nonce_i,
                                    const ip_address& from, const ike_spi& spi_i) const;
    static std::vector<std::uint8_t> compute(const secret& s, std::span<const std::uint8_t> nonce_i,
                                             const ip_address& from, const ike_spi& spi_i);
    void fresh_secret(secret& s);

    dos_options _opts;
    bool _always_cookie;
    crypto::random_source& _rng;
    clock& _time;
    secret _current;
    std::optional<secret> _previous;
    time_point _rotated_at;
    std::optional<time_point> _calm_until;
    std::map<std::uint32_t, half_open_sa> _half_open;  // by IKE SA unique id (creation order)
    std::map<ip_address, std::size_t> _per_source;
    dos_counters _counters;
    std::string_view _reason;
};

} // namespace ike
