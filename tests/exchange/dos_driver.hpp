#pragma once
// DoS tests (RFC 7296 2.6, RFC 8019): an attacker that puts IKE_SA_INIT requests on the wire from
// any source address it likes, a key exchange factory that counts the DH work a responder does,
// a third endpoint ("star", a road warrior that sun accepts through a %any configuration) and a
// driver that fires the timers of every endpoint in deadline order.
#include "rekey_driver.hpp"

#include <ike/dh.hpp>
#include <ike/proposal_select.hpp>

#include <random>

namespace exchange_test {

// Every key pair the endpoint asks for (IKE_SA_INIT response, IKE rekey, PFS) is counted.
struct counting_ke_factory final : ike::crypto::key_exchange_factory {
    std::size_t created = 0;
    ike::crypto::result<std::unique_ptr<ike::crypto::key_exchange>> create(ike::crypto::dh_group g) override {
        ++created;
        return ike::crypto::system_key_exchange_factory().create(g);
    }
};

// Forges IKE_SA_INIT requests { HDR(SPIi, 0), [N(COOKIE),] SAi1, KEi, Ni } with a well-formed
// MODP-2048 public value (so an accepted one really costs the responder a DH computation).
class init_forger {
public:
    init_forger() {
        _props = *ike::parse_proposals({"aes256-sha256-modp2048"}, ike::protocol_id::ike);
        auto ke = ike::crypto::generate_key_exchange(ike::crypto::dh_group::modp2048);
        auto pub = (*ke)->public_value();
        _ke_pub.assign(pub.begin(), pub.end());
    }
    ike::ike_spi spi() {
        ike::ike_spi s{};
        for (auto& b : s) b = static_cast<std::uint8_t>(_rng());
        s[0] |= 1;  // never zero
        return s;
    }
    std::vector<std::uint8_t> nonce() {
        std::vector<std::uint8_t> n(32);
        for (auto& b : n) b = static_cast<std::uint8_t>(_rng());
        return n;
    }
    std::vector<std::uint8_t> build(const ike::ike_spi& spi_i, const std::vector<std::uint8_t>& ni,
                                    const std::vector<std::uint8_t>& cookie = {}) const {
        ike::message m;
        m.header.exchange = ike::exchange_type::ike_sa_init;
        m.header.initiator = true;
        m.header.spi_i = spi_i;
        if (!cookie.empty()) m.payloads.push_back(ike::make_notify(ike::notify_type::cookie, cookie));
        m.payloads.push_back(ike::make_payload(ike::sa_payload{_props}));
        m.payloads.push_back(ike::make_payload(ike::ke_payload{ike::dh_group::modp2048, _ke_pub}));
        m.payloads.push_back(ike::make_payload(ike::nonce_payload{ni}));
        return *ike::serialize_message(m);
    }

private:
    std::vector<ike::proposal> _props;
    std::vector<std::uint8_t> _ke_pub;
    std::mt19937_64 _rng{20260527};
};

// One forged request from `from` to sun's port 500.
struct forged_init {
    ike::ip_address from;
    ike::ike_spi spi_i;
    std::vector<std::uint8_t> nonce;
};

inline void inject(two_peers& t, const init_forger& f, const forged_init& i, const std::vector<std::uint8_t>& cookie = {}) {
    t.net.inject({ike::udp_endpoint(i.from, 500), ike::udp_endpoint(t.sun.address, 500), f.build(i.spi_i, i.nonce, cookie)});
}

// The COOKIE of the last IKE_SA_INIT response sun sent to `to` for `spi_i` (empty if none).
inline std::vector<std::uint8_t> cookie_sent_to(const two_peers& t, const ike::ip_address& to, const ike::ike_spi& spi_i) {
    for (auto it = t.wire.rbegin(); it != t.wire.rend(); ++it) {
        if (it->d.to.address() != to || !it->header || !it->header->response || it->header->spi_i != spi_i ||
            it->header->exchange != ike::exchange_type::ike_sa_init)
            continue;
        auto m = ike::parse_message(it->d.data);
        if (!m) return {};
        const auto* c = m->find_notify(ike::notify_type::cookie);
        return c ? c->data : std::vector<std::uint8_t>{};
    }
    return {};
}

inline std::size_t full_responses_to(const two_peers& t, const ike::ip_address& to) {
    std::size_t n = 0;
    for (const auto& w : t.wire)
        if (w.d.to.address() == to && w.header && w.header->response &&
            w.header->exchange == ike::exchange_type::ike_sa_init && w.header->spi_r != ike::ike_spi{})
            ++n;
    return n;
}

// sun's road-warrior configuration: any peer address, any IP identity, one PSK for all of them.
inline ike::peer_config any_peer_config(two_peers& t) {
    ike::peer_config c;
    c.name = "roadwarrior";
    c.local_address = t.sun.address;
    c.peer_address = addr("0.0.0.0");
    c.local_id = *ike::peer_identity::parse(t.sun.address.to_string());
    c.peer_id = *ike::peer_identity::parse("%any");
    c.psks.push_back({c.local_id, c.peer_id, base::secret_bytes(std::string_view("rw-psk"))});
    c.local_ts = {*ike::cidr::parse("10.2.0.0/16")};
    c.peer_ts = {*ike::cidr::parse("10.3.0.0/16")};
    return c;
}

// A third endpoint on the same network: star (203.0.113.7) configured towards sun.
inline void start_star(two_peers& t, side& star, ike::endpoint_options opts = {}) {
    star.name = "star";
    star.address = addr("203.0.113.7");
    opts.log = [&star](ike::log_level, std::string_view l) { star.log.emplace_back(l); };
    star.ep = std::make_unique<ike::endpoint>(t.net.attach(star.address), t.clock, star.installer, std::move(opts));
    ike::peer_config c;
    c.name = "sun";
    c.local_address = star.address;
    c.peer_address = t.sun.address;
    c.local_id = *ike::peer_identity::parse(star.address.to_string());
    c.peer_id = *ike::peer_identity::parse(t.sun.address.to_string());
    c.psks.push_back({c.local_id, c.peer_id, base::secret_bytes(std::string_view("rw-psk"))});
    c.local_ts = {*ike::cidr::parse("10.3.0.0/16")};
    c.peer_ts = {*ike::cidr::parse("10.2.0.0/16")};
    star.ep->add_peer(std::move(c));
}

// Delivers everything queued and fires every endpoint's timers in deadline order until `total`
// has passed (like drive() in rekey_driver.hpp, for any number of endpoints).
inline void drive_all(two_peers& t, std::vector<side*> sides, ike::duration total) {
    auto end = t.clock.now() + total;
    for (int guard = 0; guard < 200000; ++guard) {
        t.net.flush(std::size_t(-1));
        std::optional<ike::time_point> next;
        for (auto* s : sides) {
            auto d = s->ep->next_deadline();
            if (d && (!next || *d < *next)) next = d;
        }
        if (!next || *next > end) break;
        t.clock.set(std::max(*next, t.clock.now()));
        for (auto* s : sides) s->ep->on_timer();
    }
    t.clock.set(std::max(end, t.clock.now()));
    for (auto* s : sides) s->ep->on_timer();
    t.net.flush(std::size_t(-1));
}

} // namespace exchange_test
