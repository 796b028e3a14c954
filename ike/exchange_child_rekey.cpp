// CHILD SA rekey (RFC 7296 1.3.3, 2.8) with make-before-break installation, and the simultaneous
// rekey collision (2.8.1).
//
//   HDR, SK { N(REKEY_SA, ESP, SPI_old), SA, Ni, [KEi], TSi, TSr }  -->
//                         <--  HDR, SK { SA, Nr, [KEr], TSi, TSr }
//   HDR, SK { D(ESP, SPI_old) }  -->   <--  HDR, SK { D(ESP, SPI_old') }
//
// Installer order (sa_installer.hpp), so that no packet is lost or sent in clear:
//  1. responder: new inbound SA when it answers; it keeps sending on the old outbound SA
//  2. initiator, on the response: new inbound, new outbound (traffic switches), old outbound
//     removed; then DELETE of the old CHILD SA
//  3. responder, on that DELETE (the initiator has the new inbound SA by now): new outbound,
//     old inbound and outbound removed
//  4. initiator, on the DELETE response: the old inbound SA stays for rekeyed_inbound_grace
//     (packets already in flight), then it is removed
// Failures: INVALID_KE_PAYLOAD -> one retry with the requested group; TEMPORARY_FAILURE -> retry
// after a few seconds; CHILD_SA_NOT_FOUND -> the peer no longer has it, ours goes too.
// Collision (both sides rekey the same CHILD SA): each side answers the other's request; when an
// initiator's response arrives and it had answered the peer's rekey of the same SA, the exchange
// whose lower nonce is the lowest of the four loses; its initiator deletes the SA it created and
// leaves the old one to the winner's DELETE.
#include "exchange_common.hpp"
#include "ike/crypto_random.hpp"
#include "ike/task.hpp"

#include <base/reader.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace ike {
namespace {

using namespace detail;

void child_log(ike_sa& sa, const child_sa& c, std::string_view s) {
    sa.log(log_level::debug, fmt::format("CHILD reqid {} {:08x}_i: {}", c.reqid, c.spi_in, s));
}
bool child_transition(ike_sa& sa, child_sa& c, child_sa_state to) {
    return c.sm.transition(to, [&](std::string_view s) { child_log(sa, c, s); });
}

// A retry after TEMPORARY_FAILURE (RFC 7296 2.25): strongSwan waits a random few seconds.
void retry_later(ike_sa& sa, child_sa& c) {
    std::array<std::uint8_t, 1> b{};
    while (sa.svc.rng.fill(b)) {}
    c.rekey_at = sa.svc.time.now() + std::chrono::seconds(2) + std::chrono::milliseconds(20 * b[0]);
}

class child_rekey_task final : public task {
public:
    explicit child_rekey_task(std::uint32_t spi_in) : _old_spi(spi_in) {}
    [[nodiscard]] exchange_type exchange() const override { return exchange_type::create_child_sa; }
    [[nodiscard]] std::string_view name() const override { return "CREATE_CHILD_SA(rekey CHILD SA)"; }

    task_status build_request(ike_sa& sa, message& m) override {
        child_sa* old = sa.find_child_by_spi_in(_old_spi);
        if (!old || (old->sm.state() != child_sa_state::installed && old->sm.state() != child_sa_state::rekeying)) {
            sa.log(log_level::info, fmt::format("CHILD SA {:08x}_i is gone, no rekey", _old_spi));
            return task_status::failed;
        }
        if (sa.state() != ike_sa_state::established || old->pending_outbound) {
            // The IKE SA is being rekeyed or deleted (the CHILD SA moves or goes with it), or this
            // CHILD SA is the fresh result of the peer's rekey whose DELETE has not arrived yet
            // (the peer may not even have our response): later.
            retry_later(sa, *old);
            return task_status::failed;
        }
        child_transition(sa, *old, child_sa_state::rekeying);
        old->rekey_at.reset();
        if (!_offer.child) {
            _offer = offer_child(sa, sa.esp_proposals, old->reqid);
            // RFC 7296 2.8: the new CHILD SA covers what the old one did.
            _offer.tsi = old->ts_local;
            _offer.tsr = old->ts_remote;
            _offer.child->rekeys_spi = old->spi_in;
            _nonce = random_bytes(sa, nonce_size);
        }
        if (_group == dh_group::none) _group = first_dh_group(sa.esp_proposals);
        _ke.reset();
        if (_group != dh_group::none) {
            auto ke = sa.svc.ke_factory.create(static_cast<crypto::dh_group>(_group));
            if (!ke) {
                abort(sa, fmt::format("cannot create a {} key exchange: {}", to_string(_group), ke.error().message()));
                return task_status::failed;
            }
            _ke = std::move(*ke);
        }
        auto& e = m.encrypted;
        e.push_back(make_notify(notify_type::rekey_sa, {}, protocol_id::esp, spi_bytes(old->spi_in)));
        e.push_back(make_payload(sa_payload{_offer.offered}));
        e.push_back(make_payload(nonce_payload{_nonce}));
        if (_ke) {
            auto pub = _ke->public_value();
            e.push_back(make_payload(ke_payload{_group, bytes(pub.begin(), pub.end())}));
        }
        e.push_back(make_tsi(ts_payload{_offer.tsi}));
        e.push_back(make_tsr(ts_payload{_offer.tsr}));
        return task_status::done;
    }

    task_status process_response(ike_sa& sa, const message& m) override {
        if (const auto* n = find_notify(m, notify_type::invalid_ke_payload)) {
            base::reader r(n->data);
            auto g = static_cast<dh_group>(r.read_u16());
            if (r.ok() && !_retried && g != _group && proposals_contain_group(sa.esp_proposals, g)) {
                sa.log(log_level::info, fmt::format("CHILD SA rekey: peer requests {} for PFS, retrying", to_string(g)));
                _retried = true;
                _group = g;
                return task_status::retry;
            }
            abort(sa, fmt::format("CHILD SA rekey failed: INVALID_KE_PAYLOAD, peer requests {}", to_string(g)));
            return task_status::failed;
        }
        if (const auto* n = first_error_notify(m)) return peer_refused(sa, n->type);
        const auto* n_p = find_payload(m, payload_type::nonce);
        if (!n_p) {
            abort(sa, "CHILD SA rekey response lacks Nr");
            return task_status::failed;
        }
        std::optional<base::secret_bytes> g_ir;
        if (auto err = initiator_pfs(m, _ke.get(), _group, g_ir)) {
            abort(sa, "CHILD SA rekey: " + *err);
            return task_status::failed;
        }
        const auto& nr = n_p->as<nonce_payload>()->data;
        child_sa* old = sa.find_child_by_spi_in(_old_spi);
        child_sa* theirs = old && old->peer_rekey_spi ? sa.find_child_by_spi_in(old->peer_rekey_spi) : nullptr;
        if (!old) {
            // The winner's DELETE of the old CHILD SA overtook this response: the peer's rekey
            // of it is the CHILD SA that names it as the one it replaces.
            for (auto& c : sa.children)
                if (c.get() != _offer.child && c->rekeys_spi == _old_spi && c->sm.state() == child_sa_state::installed)
                    theirs = c.get();
        }
        // RFC 7296 2.8.1: of two crossing rekeys, the one with the lowest nonce is redundant.
        bool lost = false;
        if (theirs) {
            const auto& ours_min = std::min(_nonce, nr, lex_less);
            lost = lex_less(ours_min, theirs->nonce_min);
        }
        auto* fresh = _offer.child;
        auto gir_view = g_ir ? g_ir->view() : std::span<const std::uint8_t>{};
        if (auto err = accept_child(sa, _offer, m, gir_view, _nonce, nr, lost)) {
            abort(sa, "CHILD SA rekey: " + *err);
            return task_status::failed;
        }
        if (lost) {
            // The peer's new CHILD SA wins: it deletes the old one, and that DELETE installs its
            // outbound SA here (respond_informational). Ours is removed.
            sa.log(log_level::info, fmt::format("CHILD SA rekey collision lost: deleting our redundant {:08x}_i",
                                                fresh->spi_in));
            fresh->rekey_at.reset();
            fresh->expire_at.reset();
            fresh->rekeys_spi = 0;
            fresh->pending_outbound.reset();
            if (old) {
                child_transition(sa, *old, child_sa_state::rekeyed);
                old->rekey_at.reset();
            }
            sa.tasks.queue(make_child_delete_spi_task(fresh->spi_in));
            return task_status::done;
        }
        if (theirs) sa.log(log_level::info, "CHILD SA rekey collision won: the peer deletes its redundant CHILD SA");
        if (old) {
            sa.log(log_level::info, fmt::format("CHILD SA reqid {} rekeyed: {:08x}_i/{:08x}_o -> {:08x}_i/{:08x}_o",
                                                old->reqid, old->spi_in, old->spi_out, fresh->spi_in, fresh->spi_out));
            child_sa_remove_outbound(sa, *old);  // the new outbound SA carries the traffic now
            child_transition(sa, *old, child_sa_state::rekeyed);
            old->rekey_at.reset();
            old->expire_at.reset();
            sa.tasks.queue(make_child_delete_spi_task(old->spi_in));
        }
        return task_status::done;
    }

    void timed_out(ike_sa& sa) override { discard_child(sa, _offer); }

private:
    static bool lex_less(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
        return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
    }

    // Our offer is dropped; the old CHILD SA stays as it was.
    void abort(ike_sa& sa, std::string why) {
        discard_child(sa, _offer);
        if (child_sa* old = sa.find_child_by_spi_in(_old_spi); old && old->sm.state() == child_sa_state::rekeying) {
            if (old->peer_rekey_spi) {
                child_transition(sa, *old, child_sa_state::rekeyed);  // the peer's rekey stands
            } else {
                child_transition(sa, *old, child_sa_state::installed);
            }
        }
        sa.fail(std::move(why));
    }

    task_status peer_refused(ike_sa& sa, notify_type why) {
        discard_child(sa, _offer);
        child_sa* old = sa.find_child_by_spi_in(_old_spi);
        if (!old || old->sm.state() != child_sa_state::rekeying) {
            sa.log(log_level::info, fmt::format("CHILD SA rekey answered {}; the old CHILD SA is already gone",
                                                to_string(why)));
            return task_status::done;
        }
        if (old->peer_rekey_spi) {
            // Our request reached the peer after it finished its own rekey of this CHILD SA:
            // its rekey stands and its DELETE of the old CHILD SA follows.
            child_transition(sa, *old, child_sa_state::rekeyed);
            return task_status::done;
        }
        child_transition(sa, *old, child_sa_state::installed);
        if (why == notify_type::temporary_failure) {
            sa.log(log_level::info, "CHILD SA rekey: peer answered TEMPORARY_FAILURE, retrying later");
            retry_later(sa, *old);
            return task_status::done;
        }
        if (why == notify_type::child_sa_not_found) {
            // RFC 7296 2.25: the peer deleted it (perhaps its DELETE crossed our request).
            sa.log(log_level::info, fmt::format("CHILD SA rekey: peer has no CHILD SA {:08x}_o, removing ours",
                                                old->spi_out));
            child_sa_remove(sa, *old);
            return task_status::done;
        }
        sa.fail(fmt::format("CHILD SA rekey refused: peer answered {}", to_string(why)));
        return task_status::failed;
    }

    std::uint32_t _old_spi;
    child_offer _offer;
    std::vector<std::uint8_t> _nonce;
    dh_group _group = dh_group::none;
    std::unique_ptr<crypto::key_exchange> _ke;
    bool _retried = false;
};

} // namespace

std::unique_ptr<task> make_child_rekey_task(std::uint32_t spi_in) { return std::make_unique<child_rekey_task>(spi_in); }

bool respond_child_rekey(ike_sa& sa, const message& req, message& resp) {
    auto& e = resp.encrypted;
    const notify_payload* n = req.find_notify(notify_type::rekey_sa);
    auto spi = n ? spi_from(n->spi) : std::nullopt;
    child_sa* old = spi && n->protocol == protocol_id::esp ? sa.find_child_by_spi_out(*spi) : nullptr;
    if (!old) {
        // RFC 7296 2.25: CHILD_SA_NOT_FOUND carries the protocol and SPI of the request.
        sa.log(log_level::info, "peer rekeys a CHILD SA we do not have: CHILD_SA_NOT_FOUND");
        e.push_back(make_notify(notify_type::child_sa_not_found, {}, n ? n->protocol : protocol_id::esp,
                                n ? n->spi : bytes{}));
        return true;
    }
    auto st = old->sm.state();
    if (st != child_sa_state::installed && st != child_sa_state::rekeying) {
        // Already rekeyed or being deleted: the DELETE that follows settles it (2.25).
        sa.log(log_level::info, fmt::format("peer rekeys CHILD SA reqid {} that is {}: TEMPORARY_FAILURE", old->reqid,
                                            to_string(st)));
        e.push_back(make_notify(notify_type::temporary_failure));
        return true;
    }
    child_sa* fresh = respond_new_child(sa, req, resp, old->reqid, true);
    if (!fresh) return true;
    fresh->rekeys_spi = old->spi_in;
    if (st == child_sa_state::rekeying) {
        // 2.8.1: our own rekey of this CHILD SA is outstanding; its response decides.
        old->peer_rekey_spi = fresh->spi_in;
        sa.log(log_level::info, fmt::format("CHILD SA reqid {}: the peer's rekey crossed ours", old->reqid));
    } else {
        child_transition(sa, *old, child_sa_state::rekeyed);
        old->rekey_at.reset();
        old->expire_at.reset();
    }
    sa.log(log_level::info, fmt::format("CHILD SA reqid {} rekeyed by the peer: {:08x}_i/{:08x}_o -> {:08x}_i/{:08x}_o",
                                        old->reqid, old->spi_in, old->spi_out, fresh->spi_in, fresh->spi_out));
    return true;
}

} // namespace ike
