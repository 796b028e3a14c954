// One IKE SA: receive path, encoding, keys, NAT detection, timers (see ike_sa.hpp).
#include "ike/ike_sa.hpp"

#include "ike/crypto_nat.hpp"
#include "ike/crypto_random.hpp"
#include "ike/message_rules.hpp"
#include "ike/sk.hpp"
#include "ike/task.hpp"

#include <base/reader.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace ike {

namespace {

// The crypto suite's SK cipher behind the codec's seam (wire_sk_codec.hpp).
class sk_cipher_codec final : public sk_codec {
public:
    explicit sk_cipher_codec(crypto::sk_cipher c) : _c(std::move(c)) {}
    [[nodiscard]] std::size_t sealed_size(std::size_t n) const override { return _c.sealed_size(n); }
    bool seal(std::span<const std::uint8_t> aad, std::span<const std::uint8_t> plaintext,
              std::span<std::uint8_t> out) override {
        return !_c.seal(aad, plaintext, out);
    }
    std::optional<std::vector<std::uint8_t>> open(std::span<const std::uint8_t> aad,
                                                  std::span<const std::uint8_t> sealed) override {
        auto r = _c.open(aad, sealed);
        if (!r) return std::nullopt;
        return std::move(*r);
    }

private:
    crypto::sk_cipher _c;
};

std::uint64_t spi_u64(const ike_spi& s) {
    base::reader r(s);
    return r.read_u64();
}

bytes address_bytes(const ip_address& a) {
    if (a.is_v4()) { auto b = a.to_v4().to_bytes(); return {b.begin(), b.end()}; }
    auto b = a.to_v6().to_bytes();
    return {b.begin(), b.end()};
}

std::optional<crypto::nat_hash> nat_hash_of(const ike_header& h, const udp_endpoint& ep) {
    auto ip = address_bytes(ep.address());
    auto r = crypto::nat_detection_hash(spi_u64(h.spi_i), spi_u64(h.spi_r), ip, ep.port());
    if (!r) return std::nullopt;
    return *r;
}

// A new IKE SA of a reauthentication: whatever a message or timer changed may complete or end it.
struct reauth_check {
    ike_sa& sa;
    ~reauth_check() {
        if (sa.reauth_of) ike_sa_reauth_progress(sa);
    }
};

} // namespace

std::uint32_t endpoint_services::allocate_esp_spi() {
    for (;;) {
        std::array<std::uint8_t, 4> b{};
        if (rng.fill(b)) continue;
        base::reader r(b);
        std::uint32_t spi = r.read_u32();
        // SPIs 1..255 are reserved by IANA (RFC 4303 section 2.1), 0 means "none".
        if (spi < 256 || inbound_spis.count(spi)) continue;
        inbound_spis.insert(spi);
        return spi;
    }
}

ike_sa::ike_sa(endpoint_services& s, const peer_config& c, std::uint32_t id, bool initiator,
               std::vector<proposal> ike_props, std::vector<proposal> esp_props)
    : svc(s), cfg(c), unique_id(id), original_initiator(initiator), ike_proposals(std::move(ike_props)),
      esp_proposals(std::move(esp_props)) {
    local = udp_endpoint(cfg.local_address, cfg.local_port);
    remote = udp_endpoint(cfg.peer_address, cfg.peer_port);
    local_id = cfg.effective_local_id();
    created_at = svc.time.now();
}

ike_sa::~ike_sa() {
    for (auto& c : children)
        if (c->installed || c->outbound_installed) child_sa_remove(*this, *c);
}

void ike_sa::log(log_level level, std::string_view text) const {
    if (svc.log) svc.log(level, fmt::format("ike[{}] {}: {}", unique_id, remote.address().to_string(), text));
}

void ike_sa::fail(std::string reason) {
    log(log_level::error, reason);
    last_error = std::move(reason);
}

bool ike_sa::transition(ike_sa_state to) {
    bool ok = _sm.transition(to, [this](std::string_view s) { log(log_level::info, s); });
    // RFC 3948 section 2.3 keepalives while the NAT mapping matters to us (strongSwan sends
    // them when behind a NAT; we also send them when encapsulation is forced).
    if (ok && to == ike_sa_state::established && natt_ports && (nat_here || cfg.force_encap) &&
        cfg.keepalive_interval.count() > 0)
        keepalive_at = svc.time.now() + cfg.keepalive_interval;
    if (ok && to == ike_sa_state::established && !expire_at && cfg.ike_lifetime_seconds > 0) {
        auto life = std::chrono::duration_cast<duration>(std::chrono::seconds(cfg.ike_lifetime_seconds));
        expire_at = svc.time.now() + life;
        rekey_at = svc.time.now() + rekey_delay(*this, life);
    }
    if (ok && to == ike_sa_state::established) last_heard = svc.time.now();
    // Reauthentication replaces the rekey; its soft point comes from reauth_seconds (reauth.cpp).
    if (ok && to == ike_sa_state::established && cfg.reauth_seconds > 0 && !reauth_at && !reauth_id) {
        rekey_at.reset();
        reauth_at = svc.time.now() + rekey_delay(*this, std::chrono::seconds(cfg.reauth_seconds));
    }
    if (ok && (to == ike_sa_state::rekeyed || to == ike_sa_state::deleting)) {
        rekey_at.reset();
        reauth_at.reset();
        keepalive_at.reset();
    }
    return ok;
}

void ike_sa::destroy(std::string_view why) {
    if (destroyed()) return;
    for (auto& c : children)
        if (c->installed || c->outbound_installed || c->sm.state() != child_sa_state::destroyed)
            child_sa_remove(*this, *c);
    log(log_level::info, fmt::format("IKE SA destroyed: {}", why));
    transition(ike_sa_state::destroyed);
}

void ike_sa::peer_dead(std::string_view why) {
    if (destroyed()) return;
    // A tunnel was up here: an IKE SA that still held CHILD SAs (not one they moved away from).
    bool was_up = (state() == ike_sa_state::established || state() == ike_sa_state::rekeying) &&
                  std::any_of(children.begin(), children.end(),
                              [](const auto& c) { return c->sm.state() != child_sa_state::destroyed; });
    destroy(why);
    using action = peer_config::dead_peer_action;
    // A rekeyed, deleted or half-open SA has nothing to restart; a responder for %any cannot
    // reach the peer.
    if (cfg.dpd_action == action::restart && was_up && !cfg.peer_address.is_unspecified()) {
        log(log_level::info, "dead peer action restart: initiating a new IKE SA");
        svc.restarts.push_back(cfg.name);
    } else {
        log(log_level::info, fmt::format("dead peer action {}: CHILD SAs removed",
                                         cfg.dpd_action == action::hold ? "hold" : "clear"));
    }
}

child_sa* ike_sa::find_child_by_reqid(std::uint32_t reqid) {
    // A rekeyed CHILD SA shares its reqid with its successor until it is gone: prefer the newest.
    child_sa* found = nullptr;
    for (auto& c : children) {
        if (c->reqid != reqid || c->sm.state() == child_sa_state::destroyed) continue;
        if (!found || c->sm.state() == child_sa_state::installed || c->sm.state() == child_sa_state::rekeying)
            found = c.get();
    }
    return found;
}
std::pair<ike_sa*, child_sa*> ike_sa::locate_child_spi_in(std::uint32_t spi) {
    ike_sa* s = this;
    for (int hops = 0; s && hops < 4; ++hops) {
        if (child_sa* c = s->find_child_by_spi_in(spi)) return {s, c};
        s = s->successor_id && svc.find_sa ? svc.find_sa(s->successor_id) : nullptr;
    }
    return {nullptr, nullptr};
}

std::pair<ike_sa*, child_sa*> ike_sa::locate_child_spi_out(std::uint32_t spi) {
    ike_sa* s = this;
    for (int hops = 0; s && hops < 4; ++hops) {
        if (child_sa* c = s->find_child_by_spi_out(spi)) return {s, c};
        s = s->successor_id && svc.find_sa ? svc.find_sa(s->successor_id) : nullptr;
    }
    return {nullptr, nullptr};
}

child_sa* ike_sa::find_child_by_spi_out(std::uint32_t spi) {
    for (auto& c : children)
        if (c->spi_out == spi && c->sm.state() != child_sa_state::destroyed) return c.get();
    return nullptr;
}
child_sa* ike_sa::find_child_by_spi_in(std::uint32_t spi) {
    for (auto& c : children)
        if (c->spi_in == spi && c->sm.state() != child_sa_state::destroyed) return c.get();
    return nullptr;
}

std::optional<std::vector<std::uint8_t>> ike_sa::encode(const message& m) {
    sk_codec* codec = nullptr;
    if (m.header.exchange != exchange_type::ike_sa_init) {
        if (!sk_out) {
            log(log_level::error, "no keys to protect " + to_string(m.header.exchange));
            return std::nullopt;
        }
        codec = sk_out.get();
    }
    auto r = serialize_message(m, codec);
    if (!r) {
        log(log_level::error, "cannot encode " + to_string(m.header.exchange) + ": " + r.error().reason);
        return std::nullopt;
    }
    return std::move(r).value();
}

std::size_t ike_sa::fragment_plaintext_size() const {
    // RFC 7383 2.5.1: fragment_size bounds the whole IP datagram.
    constexpr std::size_t udp_header = 8, non_esp_marker = 4, skf_header = 4 + 4;
    std::size_t ip_header = remote.address().is_v4() ? 20 : 40;
    std::size_t overhead = ip_header + udp_header + (natt_ports ? non_esp_marker : 0) + ike_header_size + skf_header;
    if (!sk_out || cfg.fragment_size <= overhead) return 0;
    std::size_t room = cfg.fragment_size - overhead;
    if (room <= sk_out->sealed_size(0)) return 0;
    // sealed_size(p) > p and grows with p in block steps: walk down from `room` to the largest p
    // that fits (at most IV + ICV + one block of steps).
    std::size_t p = room;
    while (p > 0 && sk_out->sealed_size(p) > room) --p;
    return p;
}

std::optional<std::vector<bytes>> ike_sa::encode_datagrams(const message& m) {
    auto whole = encode(m);
    if (!whole) return std::nullopt;
    std::vector<bytes> out;
    std::size_t ip_udp = (remote.address().is_v4() ? 20 : 40) + 8 + (natt_ports ? 4 : 0);
    // RFC 7383 2.5: only SK messages, never IKE_SA_INIT, and only what would not fit.
    if (!fragmentation || m.header.exchange == exchange_type::ike_sa_init || !m.payloads.empty() ||
        ip_udp + whole->size() <= cfg.fragment_size) {
        out.push_back(std::move(*whole));
        return out;
    }
    std::size_t max_plaintext = fragment_plaintext_size();
    if (max_plaintext == 0) {
        log(log_level::warning, fmt::format("fragment size {} leaves no room for data, sending {} bytes unfragmented",
                                            cfg.fragment_size, whole->size()));
        out.push_back(std::move(*whole));
        return out;
    }
    auto fragments = serialize_fragments(m, *sk_out, max_plaintext);
    if (!fragments) {
        log(log_level::error, "cannot fragment " + to_string(m.header.exchange) + ": " + fragments.error().reason);
        return std::nullopt;
    }
    ++fragment_stats.messages_fragmented;
    log(log_level::debug, fmt::format("{} {} {} ({} bytes) split into {} fragments", to_string(m.header.exchange),
                                      m.header.response ? "response" : "request", m.header.message_id, whole->size(),
                                      fragments->size()));
    return std::move(fragments).value();
}

void ike_sa::send_datagrams(const std::vector<bytes>& datagrams) {
    if (datagrams.size() > 1) fragment_stats.fragments_sent += datagrams.size();
    for (const auto& d : datagrams) send_bytes(d);
}

void ike_sa::message_ids_running_out(std::uint32_t next_request, std::uint32_t expected_request) {
    // RFC 7296 2.2: "In the unlikely event that Message IDs grow too large to fit in 32 bits, the
    // IKE SA MUST be closed or rekeyed." Rekeyed: the new IKE SA counts from 0 again. Due at once
    // through the soft-lifetime path (ike_timers), which also retries a failed rekey.
    log(log_level::warning, fmt::format("Message IDs near the 32-bit limit (next request {:#x}, peer's {:#x}), "
                                        "rekeying the IKE SA",
                                        next_request, expected_request));
    if (state() == ike_sa_state::established || state() == ike_sa_state::rekeying) rekey_at = svc.time.now();
}

void ike_sa::send_bytes(std::span<const std::uint8_t> data) {
    if (!natt_ports) {
        svc.net.send(local, remote, data);
        return;
    }
    // RFC 3948 section 2.2: IKE on port 4500 is preceded by the 4-byte non-ESP marker.
    std::vector<std::uint8_t> framed(4 + data.size(), 0);
    std::copy(data.begin(), data.end(), framed.begin() + 4);
    svc.net.send(local, remote, framed);
}

void ike_sa::receive(std::span<const std::uint8_t> datagram, const udp_endpoint& at, const udp_endpoint& from) {
    if (destroyed()) return;
    reauth_check check{*this};
    auto parsed = parse_message(datagram);
    if (!parsed) {
        log(log_level::warning, "dropped malformed message: " + parsed.error().reason);
        return;
    }
    message m = std::move(parsed).value();
    const ike_header& h = m.header;
    // A fragment of the request we answered last: authenticated first (receive_fragment).
    bool answered = false;
    if (h.response) {
        if (!tasks.response_expected(h)) {
            ++dropped_message_id;
            log(log_level::debug, fmt::format("dropped unexpected {} response with Message ID {}",
                                              to_string(h.exchange), h.message_id));
            return;
        }
    } else {
        if (!m.skf() && tasks.resend_if_retransmit(h, datagram)) return;
        answered = m.skf() && tasks.answered_last(h);
        if (!answered && !tasks.request_in_window(h)) {
            ++dropped_message_id;
            log(log_level::debug, fmt::format("dropped {} request with Message ID {} (expected {})",
                                              to_string(h.exchange), h.message_id, tasks.expected_request_id()));
            return;
        }
    }
    // The exchange table before any crypto is spent on the message.
    if (auto err = validate_outer(m)) {
        log(log_level::warning, fmt::format("invalid {} {}: {}", to_string(h.exchange),
                                            h.response ? "response" : "request", err->reason));
        // Only IKE_SA_INIT can be answered unauthenticated; for protected exchanges an
        // unauthenticated message gets no answer (RFC 7296 2.21.2).
        if (!h.response && h.exchange == exchange_type::ike_sa_init) tasks.reject_request(m, datagram, *err);
        return;
    }
    if (h.exchange != exchange_type::ike_sa_init) {
        if (!sk_in) {
            log(log_level::debug, "dropped protected message before keys exist");
            return;
        }
        if (m.skf()) {
            auto whole = receive_fragment(m, datagram, answered);
            if (!whole) return;
            m = std::move(*whole);
            datagram = {};  // no single raw form (task_manager::send_response)
        } else if (auto err = open_sk(m, datagram, *sk_in)) {
            if (err->reason == icv_failed_reason) {
                log(log_level::warning, fmt::format("dropped {} with Message ID {}: {}", to_string(h.exchange),
                                                    h.message_id, err->reason));
                return;
            }
            if (!h.response) tasks.reject_request(m, datagram, *err);
            else log(log_level::warning, "malformed encrypted payloads in response: " + err->reason);
            return;
        }
    }
    if (auto err = validate_message(m)) {
        log(log_level::warning, fmt::format("invalid {} {}: {}", to_string(h.exchange),
                                            h.response ? "response" : "request", err->reason));
        if (!h.response) tasks.reject_request(m, datagram, *err);
        else tasks.response_invalid(err->reason);
        return;
    }
    if (h.exchange == exchange_type::ike_sa_init) {
        if (h.response) init_response.assign(datagram.begin(), datagram.end());
        else init_request.assign(datagram.begin(), datagram.end());
    } else if (from != remote || at != local) {
        // An authenticated message from a new address/port: the initiator floated to 4500 or a
        // NAT mapping changed (RFC 7296 2.23). Follow it.
        log(log_level::info, fmt::format("peer moved to {}:{} (local {}:{})", from.address().to_string(), from.port(),
                                         at.address().to_string(), at.port()));
        remote = from;
        local = at;
        natt_ports = at.port() == cfg.local_natt_port;
    }
    last_heard = svc.time.now();  // authenticated (or IKE_SA_INIT): the peer is alive
    if (h.response) tasks.on_response(m);
    else tasks.on_request(m, datagram);
}

std::optional<message> ike_sa::receive_fragment(const message& m, std::span<const std::uint8_t> datagram,
                                                bool answered) {
    const ike_header& h = m.header;
    const skf_payload& f = *m.skf();
    if (!fragmentation) {
        // RFC 7383 2.3: fragments are only used once both sides announced support.
        ++fragment_stats.dropped_not_negotiated;
        log(log_level::warning, fmt::format("dropped {} {} {} fragment {}/{}: fragmentation not negotiated",
                                            to_string(h.exchange), h.response ? "response" : "request", h.message_id,
                                            f.fragment_number, f.total_fragments));
        return std::nullopt;
    }
    // RFC 7383 2.6: each fragment's ICV is verified before it is kept or acted on.
    auto plain = open_skf(m, datagram, *sk_in);
    if (!plain) {
        bool icv = plain.error().reason == icv_failed_reason;
        ++(icv ? fragment_stats.dropped_icv : fragment_stats.dropped_invalid);
        log(log_level::warning, fmt::format("dropped {} {} {} fragment {}/{}: {}", to_string(h.exchange),
                                            h.response ? "response" : "request", h.message_id, f.fragment_number,
                                            f.total_fragments, plain.error().reason));
        return std::nullopt;
    }
    ++fragment_stats.fragments_received;
    last_heard = svc.time.now();
    if (answered) {
        // RFC 7383 2.6.1: a retransmitted fragmented request gets the (possibly fragmented) response
        // again only on its fragment 1; the other fragments must not trigger it as well.
        if (f.fragment_number == 1) tasks.resend_response(h);
        else ++fragment_stats.duplicates;
        return std::nullopt;
    }
    reassembly& r = h.response ? _responses_in : _requests_in;
    auto st = r.fragments.add(m, std::move(plain).value());
    switch (st) {
    case fragment_reassembler::status::incomplete:
        // The first fragment of a message (or of one re-fragmented smaller) starts the clock.
        if (r.fragments.held() == 1) r.started = svc.time.now();
        return std::nullopt;
    case fragment_reassembler::status::ignored:
        ++fragment_stats.duplicates;
        return std::nullopt;
    case fragment_reassembler::status::rejected:
        ++fragment_stats.dropped_invalid;
        if (r.fragments.held() == 0) r.started.reset();
        log(log_level::warning, fmt::format("dropped {} {} {} fragment {}/{}: beyond the reassembly limits",
                                            to_string(h.exchange), h.response ? "response" : "request", h.message_id,
                                            f.fragment_number, f.total_fragments));
        return std::nullopt;
    case fragment_reassembler::status::complete: break;
    }
    r.started.reset();
    auto whole = r.fragments.take();
    if (!whole) {
        // Authenticated, but the joined inner chain is malformed: as for an SK message.
        log(log_level::warning, "malformed reassembled message: " + whole.error().reason);
        if (!h.response) tasks.reject_request(m, {}, whole.error());
        return std::nullopt;
    }
    ++fragment_stats.messages_reassembled;
    log(log_level::debug, fmt::format("reassembled {} {} {} from {} fragments", to_string(h.exchange),
                                      h.response ? "response" : "request", h.message_id, f.total_fragments));
    return std::move(whole).value();
}

std::optional<std::string> ike_sa::derive_keys(std::span<const std::uint8_t> g_ir, const ike_sa* rekeyed_from) {
    crypto::ike_suite s{ike_suite.prf, ike_suite.encr, ike_suite.integ};
    auto seed = rekeyed_from ? crypto::rekey_skeyseed(rekeyed_from->ike_suite.prf, rekeyed_from->keys.sk_d.view(), g_ir,
                                                      nonce_i, nonce_r)
                             : crypto::skeyseed(s.prf, nonce_i, nonce_r, g_ir);
    if (!seed) return "SKEYSEED: " + seed.error().message();
    auto k = crypto::derive_ike_sa_keys(s, seed->view(), nonce_i, nonce_r, spi_i, spi_r);
    if (!k) return "key derivation: " + k.error().message();
    keys = std::move(*k);
    // Negotiated in IKE_SA_INIT, the extension carries over to the rekeyed IKE SA (strongSwan
    // keeps its extensions the same way).
    if (rekeyed_from) fragmentation = rekeyed_from->fragmentation;
    auto make = [&](const base::secret_bytes& e, const base::secret_bytes& a) -> std::unique_ptr<sk_codec> {
        auto c = crypto::sk_cipher::create(s.encr, s.integ, e.view(), a.view(), svc.rng);
        if (!c) return nullptr;
        return std::make_unique<sk_cipher_codec>(std::move(*c));
    };
    if (original_initiator) {
        sk_out = make(keys.sk_ei, keys.sk_ai);
        sk_in = make(keys.sk_er, keys.sk_ar);
    } else {
        sk_out = make(keys.sk_er, keys.sk_ar);
        sk_in = make(keys.sk_ei, keys.sk_ai);
    }
    if (!sk_out || !sk_in) return "cannot set up the SK cipher";
    return std::nullopt;
}

void ike_sa::add_nat_detection(message& m) {
    auto dst = nat_hash_of(m.header, remote);
    std::optional<crypto::nat_hash> src;
    if (cfg.force_encap) {
        // strongSwan's encap=yes: a source hash that cannot match makes the peer see a NAT.
        crypto::nat_hash fake{};
        if (!svc.rng.fill(fake)) src = fake;
    } else {
        src = nat_hash_of(m.header, local);
    }
    if (!src || !dst) return;
    m.payloads.push_back(make_notify(notify_type::nat_detection_source_ip, bytes(src->begin(), src->end())));
    m.payloads.push_back(make_notify(notify_type::nat_detection_destination_ip, bytes(dst->begin(), dst->end())));
}

void ike_sa::process_nat_detection(const message& m) {
    const notify_payload* dst = m.find_notify(notify_type::nat_detection_destination_ip);
    bool have_src = false, src_match = false;
    auto expected_src = nat_hash_of(m.header, remote);
    for (const auto& p : m.payloads) {
        auto* n = p.as<notify_payload>();
        if (!n || n->type != notify_type::nat_detection_source_ip) continue;
        have_src = true;
        if (expected_src && n->data.size() == expected_src->size() &&
            std::equal(n->data.begin(), n->data.end(), expected_src->begin()))
            src_match = true;
    }
    if (!dst || !have_src) {
        log(log_level::info, "peer does not support NAT detection");
        return;
    }
    auto expected_dst = nat_hash_of(m.header, local);
    nat_here = !(expected_dst && dst->data.size() == expected_dst->size() &&
                 std::equal(dst->data.begin(), dst->data.end(), expected_dst->begin()));
    nat_there = !src_match;
    if (nat_here || nat_there)
        log(log_level::info, fmt::format("NAT detected: {}{}", nat_here ? "local host is behind NAT " : "",
                                         nat_there ? "remote host is behind NAT (or faking it)" : ""));
}

void ike_sa::float_ports_if_needed() {
    if (natt_ports || !udp_encapsulation()) return;
    local = udp_endpoint(local.address(), cfg.local_natt_port);
    remote = udp_endpoint(remote.address(), cfg.peer_natt_port);
    natt_ports = true;
    log(log_level::info, fmt::format("switching to port {} with non-ESP marker", cfg.local_natt_port));
}

std::optional<time_point> ike_sa::next_deadline() const {
    auto d = tasks.next_deadline();
    auto consider = [&](std::optional<time_point> t) {
        if (t && (!d || *t < *d)) d = t;
    };
    // Half-open: only before IKE_AUTH completed (a rekeyed or deleting SA is not half-open, and a
    // deadline on_timer would not act on would stall whoever waits for it).
    if (!original_initiator && state() < ike_sa_state::established) consider(created_at + cfg.half_open_timeout);
    consider(keepalive_at);
    for (const auto* r : {&_requests_in, &_responses_in})
        if (r->started) consider(*r->started + cfg.fragment_reassembly_timeout);
    if (state() == ike_sa_state::established) {
        consider(rekey_at);
        consider(reauth_at);
        consider(expire_at);
        if (cfg.dpd_delay.count() > 0 && !tasks.busy()) consider(last_heard + cfg.dpd_delay);
    }
    if ((state() == ike_sa_state::established || state() == ike_sa_state::rekeying) && child_usage_wanted(*this))
        consider(usage_polled_at + cfg.usage_poll_interval);
    for (const auto& c : children) {
        if (c->sm.state() == child_sa_state::destroyed) continue;
        consider(c->rekey_at);
        consider(c->expire_at);
        consider(c->remove_at);
    }
    return d;
}

void ike_sa::ike_timers(time_point now) {
    if (expire_at && now >= *expire_at) {
        // Hard lifetime: every rekey attempt failed. Delete it; dpd_action decides what follows.
        log(log_level::warning, "IKE SA reached its hard lifetime");
        expire_at.reset();
        rekey_at.reset();
        tasks.queue(make_ike_delete_task());
        return;
    }
    if (reauth_at && now >= *reauth_at) {
        reauth_at.reset();
        if (!reauth_id) ike_sa_reauthenticate(*this);
        return;
    }
    if (rekey_at && now >= *rekey_at) {
        rekey_at.reset();
        log(log_level::info, "IKE SA soft lifetime reached, rekeying");
        tasks.queue(make_ike_rekey_task());
        return;
    }
    if (cfg.dpd_delay.count() > 0 && !tasks.busy() && tasks.queued() == 0 && now >= last_heard + cfg.dpd_delay) {
        // RFC 7296 2.4: nothing heard for dpd_delay: an empty INFORMATIONAL; no answer through the
        // retransmission schedule means the peer is dead.
        log(log_level::debug, "no message from the peer for the DPD delay, checking liveness");
        last_heard = now;  // one check per delay
        tasks.queue(make_liveness_task());
    }
}

void ike_sa::child_timers(time_point now) {
    // Index loop: tasks queued here never add CHILD SAs, but keep it obviously safe.
    for (std::size_t i = 0; i < children.size(); ++i) {
        child_sa& c = *children[i];
        if (c.sm.state() == child_sa_state::destroyed) continue;
        if (c.remove_at && now >= *c.remove_at) {
            log(log_level::info, fmt::format("grace period of rekeyed CHILD SA {:08x}_i over", c.spi_in));
            child_sa_remove(*this, c);
            continue;
        }
        if (c.expire_at && now >= *c.expire_at) {
            // Hard lifetime (RFC 7296 2.8): the SA must not be used any longer.
            log(log_level::info, fmt::format("CHILD SA reqid {} {:08x}_i reached its hard lifetime", c.reqid, c.spi_in));
            auto spi = c.spi_in;
            child_sa_remove(*this, c);
            tasks.queue(make_removed_child_delete_task(spi));
            if (cfg.child_recreate_on_expire) tasks.queue(make_child_create_task());
            continue;
        }
        if (c.rekey_at && now >= *c.rekey_at && c.sm.state() == child_sa_state::installed) {
            c.rekey_at.reset();
            c.rekey_requested = true;
            log(log_level::info, fmt::format("CHILD SA reqid {} {:08x}_i: soft lifetime reached, rekeying", c.reqid,
                                             c.spi_in));
            tasks.queue(make_child_rekey_task(c.spi_in));
        }
    }
}

void ike_sa::on_timer() {
    if (destroyed()) return;
    reauth_check check{*this};
    auto now = svc.time.now();
    tasks.on_timer(now);
    if (destroyed()) return;
    for (auto* r : {&_requests_in, &_responses_in}) {
        if (!r->started || now < *r->started + cfg.fragment_reassembly_timeout) continue;
        ++fragment_stats.reassembly_timeouts;
        log(log_level::info, fmt::format("abandoned the reassembly of {} {}: {} fragments held for {} s",
                                         r == &_requests_in ? "request" : "response",
                                         r->fragments.message_id().value_or(0), r->fragments.held(),
                                         std::chrono::duration_cast<std::chrono::seconds>(
                                             cfg.fragment_reassembly_timeout).count()));
        r->fragments.reset();
        r->started.reset();
    }
    if (!original_initiator && state() < ike_sa_state::established && now >= created_at + cfg.half_open_timeout) {
        fail("half-open IKE SA timed out");
        destroy("half-open timeout");
        return;
    }
    if (state() == ike_sa_state::established) ike_timers(now);
    if (state() == ike_sa_state::established || state() == ike_sa_state::rekeying) {
        child_timers(now);
        if (child_usage_wanted(*this) && now >= usage_polled_at + cfg.usage_poll_interval) child_usage_poll(*this, now);
        tasks.initiate();
        if (destroyed()) return;
    }
    if (keepalive_at && now >= *keepalive_at) {
        // RFC 3948 section 2.3: a single 0xFF byte keeps the NAT mapping alive.
        const std::uint8_t ka[1] = {0xff};
        svc.net.send(local, remote, ka);
        keepalive_at = now + cfg.keepalive_interval;
    }
}

} // namespace ike
