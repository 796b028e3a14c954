// Responder DoS protection: half-open accounting, stateless cookies, blocking (see dos_guard.hpp).
#include "ike/dos_guard.hpp"

#include "ike/crypto_random.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

namespace ike {

namespace {
constexpr std::size_t secret_size = 32;

bool is_cookie_notify(const payload& p) {
    const auto* n = p.as<notify_payload>();
    return n && n->type == notify_type::cookie;
}
} // namespace

dos_guard::dos_guard(dos_options opts, bool require_cookie, crypto::random_source& rng, clock& time)
    : _opts(opts), _always_cookie(require_cookie), _rng(rng), _time(time), _rotated_at(time.now()) {
    fresh_secret(_current);
}

void dos_guard::fresh_secret(secret& s) {
    s.key = base::secret_bytes(secret_size);
    while (_rng.fill(s.key.mut())) {}
}

void dos_guard::rotate_if_due(time_point now) {
    if (_opts.cookie_secret_lifetime.count() <= 0 || now < _rotated_at + _opts.cookie_secret_lifetime) return;
    // RFC 7296 2.6: cookies made with the previous secret stay valid for one more period; after
    // two periods without use nothing older than the new secret is valid.
    auto version = static_cast<std::uint8_t>(_current.version + 1);
    if (now < _rotated_at + 2 * _opts.cookie_secret_lifetime) _previous = std::move(_current);
    else _previous.reset();
    _current = secret{};
    _current.version = version;
    fresh_secret(_current);
    _rotated_at = now;
}

std::vector<std::uint8_t> dos_guard::compute(const secret& s, std::span<const std::uint8_t> nonce_i,
                                             const ip_address& from, const ike_spi& spi_i) {
    // Ni | IPi | SPIi; the address in network byte order (4 or 16 bytes).
    std::vector<std::uint8_t> data(nonce_i.begin(), nonce_i.end());
    if (from.is_v4()) {
        auto b = from.to_v4().to_bytes();
        data.insert(data.end(), b.begin(), b.end());
    } else {
        auto b = from.to_v6().to_bytes();
        data.insert(data.end(), b.begin(), b.end());
    }
    data.insert(data.end(), spi_i.begin(), spi_i.end());
    std::vector<std::uint8_t> out(1 + EVP_MAX_MD_SIZE);
    unsigned len = 0;
    out[0] = s.version;
    HMAC(EVP_sha256(), s.key.data(), static_cast<int>(s.key.size()), data.data(), data.size(), out.data() + 1, &len);
    out.resize(1 + len);
    return out;
}

std::vector<std::uint8_t> dos_guard::make_cookie(std::span<const std::uint8_t> nonce_i, const ip_address& from,
                                                 const ike_spi& spi_i) {
    rotate_if_due(_time.now());
    return compute(_current, nonce_i, from, spi_i);
}

bool dos_guard::cookie_valid(std::span<const std::uint8_t> cookie, std::span<const std::uint8_t> nonce_i,
                             const ip_address& from, const ike_spi& spi_i) const {
    if (cookie.empty()) return false;
    const secret* s = nullptr;
    if (cookie[0] == _current.version) s = &_current;
    else if (_previous && cookie[0] == _previous->version) s = &*_previous;
    if (!s) return false;
    auto expected = compute(*s, nonce_i, from, spi_i);
    return expected.size() == cookie.size() && CRYPTO_memcmp(expected.data(), cookie.data(), cookie.size()) == 0;
}

std::size_t dos_guard::half_open_from(const ip_address& a) const {
    auto it = _per_source.find(a);
    return it == _per_source.end() ? 0 : it->second;
}

bool dos_guard::cookie_required(const ip_address& from) const {
    if (_always_cookie) return true;
    if (_opts.cookie_threshold && _half_open.size() >= _opts.cookie_threshold) return true;
    if (_calm_until && _time.now() < *_calm_until) return true;
    return _opts.cookie_threshold_ip && half_open_from(from) >= _opts.cookie_threshold_ip;
}

init_verdict dos_guard::check_init(const ike_header& h, std::span<const std::uint8_t> datagram, const ip_address& from,
                                   message& reply) {
    auto now = _time.now();
    rotate_if_due(now);
    if (_opts.cookie_threshold && _half_open.size() >= _opts.cookie_threshold) _calm_until = now + _opts.cookie_calmdown;
    if (cookie_required(from)) {
        // Only now is the message parsed further: Ni is needed to make or check the cookie.
        auto m = parse_message(datagram);
        const nonce_payload* ni = nullptr;
        if (m)
            if (const auto* p = m->find(payload_type::nonce)) ni = p->as<nonce_payload>();
        if (!ni) {
            _reason = "unparsable or without Ni while cookies are required";
            ++_counters.malformed;
            return init_verdict::drop;
        }
        // RFC 7296 2.6: the COOKIE is the first payload of the retried IKE_SA_INIT.
        const notify_payload* c = nullptr;
        if (!m->payloads.empty() && is_cookie_notify(m->payloads.front())) c = m->payloads.front().as<notify_payload>();
        if (c && cookie_valid(c->data, ni->data, from, h.spi_i)) {
            ++_counters.cookie_accepted;
        } else {
            _reason = c ? "COOKIE invalid, sending a fresh one" : "asking for a COOKIE";
            if (c) ++_counters.bad_cookie;
            ++_counters.cookie_sent;
            reply = message{};
            reply.header = h;
            reply.header.response = true;
            reply.header.initiator = false;
            reply.header.version = false;
            reply.header.spi_r = {};
            reply.payloads.push_back(make_notify(notify_type::cookie, compute(_current, ni->data, from, h.spi_i)));
            return init_verdict::send_cookie;
        }
    }
    if (_opts.block_threshold && half_open_from(from) >= _opts.block_threshold) {
        _reason = "too many half-open IKE SAs from this address, blocked";
        ++_counters.blocked_source;
        return init_verdict::drop;
    }
    if (_opts.init_limit_half_open && _half_open.size() >= _opts.init_limit_half_open) {
        _reason = "half-open IKE SA limit reached";
        ++_counters.half_open_cap;
        return init_verdict::drop;
    }
    return init_verdict::accept;
}

void dos_guard::opened(std::uint32_t ike_id, const ip_address& from) {
    _half_open[ike_id] = half_open_sa{from, _time.now()};
    ++_per_source[from];
}

void dos_guard::settle(const std::function<bool(std::uint32_t)>& still_half_open) {
    for (auto it = _half_open.begin(); it != _half_open.end();) {
        if (still_half_open(it->first)) {
            ++it;
            continue;
        }
        auto src = _per_source.find(it->second.from);
        if (src != _per_source.end() && --src->second == 0) _per_source.erase(src);
        it = _half_open.erase(it);
    }
}

std::vector<std::uint32_t> dos_guard::expired() {
    std::vector<std::uint32_t> out;
    if (_opts.half_open_timeout.count() <= 0) return out;
    auto now = _time.now();
    // Unique ids grow with creation time: the oldest come first.
    for (const auto& [id, h] : _half_open) {
        if (now < h.created + _opts.half_open_timeout) break;
        out.push_back(id);
    }
    _counters.half_open_timeout += out.size();
    return out;
}

std::optional<time_point> dos_guard::next_deadline() const {
    if (_half_open.empty() || _opts.half_open_timeout.count() <= 0) return std::nullopt;
    return _half_open.begin()->second.created + _opts.half_open_timeout;
}

} // namespace ike
