// IKE_AUTH with a pre-shared key and the first CHILD SA (RFC 7296 1.2, 2.15, 2.9).
//
//   HDR, SK { IDi, [N(INITIAL_CONTACT)], [IDr], AUTH, SAi2, TSi, TSr }  -->
//                                  <--  HDR, SK { IDr, AUTH, SAr2, TSi, TSr }
//   failures:                      <--  HDR, SK { N(AUTHENTICATION_FAILED) }          (IKE SA gone)
//                                  <--  HDR, SK { IDr, AUTH, N(NO_PROPOSAL_CHOSEN) }  (IKE SA up,
//                                  <--  HDR, SK { IDr, AUTH, N(TS_UNACCEPTABLE) }      no CHILD SA)
#include "exchange_common.hpp"
#include "ike/auth.hpp"
#include "ike/task.hpp"

#include <fmt/format.h>

namespace ike {
namespace {

using namespace detail;

std::string ids(const peer_identity& local, const peer_identity& remote) {
    return local.to_string() + " - " + remote.to_string();
}

class ike_auth_task final : public task {
public:
    [[nodiscard]] exchange_type exchange() const override { return exchange_type::ike_auth; }
    [[nodiscard]] std::string_view name() const override { return "IKE_AUTH"; }
    [[nodiscard]] bool fatal() const override { return true; }

    ike_auth_task() = default;
    ike_auth_task(std::optional<child_spec> first, bool initial_contact)
        : _first(std::move(first)), _initial_contact(initial_contact) {}

    task_status build_request(ike_sa& sa, message& m) override {
        const auto* psk = sa.cfg.find_psk(sa.local_id, sa.cfg.peer_id);
        if (!psk) {
            sa.fail("no PSK for " + ids(sa.local_id, sa.cfg.peer_id));
            return task_status::failed;
        }
        auto idi = to_id_payload(sa.local_id);
        auto auth = crypto::initiator_psk_auth(sa.ike_suite.prf, *psk, sa.init_request, sa.nonce_r, sa.keys.sk_pi,
                                               id_body(idi));
        if (!auth) {
            sa.fail("cannot compute AUTH: " + auth.error().message());
            return task_status::failed;
        }
        auto& e = m.encrypted;
        e.push_back(make_idi(idi));
        // RFC 7296 2.4: not on a reauthentication, where the peer must keep the old IKE SA
        // until we delete it.
        if (sa.cfg.send_initial_contact && _initial_contact) e.push_back(make_notify(notify_type::initial_contact));
        if (sa.cfg.peer_id.type != peer_identity::any) e.push_back(make_idr(to_id_payload(sa.cfg.peer_id)));
        e.push_back(make_payload(auth_payload{auth_method::psk, std::move(*auth)}));
        // The first CHILD SA never has its own KE: DH groups are stripped (RFC 7296 1.2).
        _offer = offer_child(sa, proposals_with_group(sa.esp_proposals, std::nullopt), _first ? _first->reqid : 0);
        if (_first) {
            _offer.tsi = _first->ts_local;
            _offer.tsr = _first->ts_remote;
        }
        add_child_payloads(_offer, e);
        sa.transition(ike_sa_state::auth_sent);
        return task_status::done;
    }

    task_status process_response(ike_sa& sa, const message& m) override {
        const auto* idr_p = find_payload(m, payload_type::idr);
        const auto* auth_p = find_payload(m, payload_type::auth);
        if (!idr_p || !auth_p) {
            discard_child(sa, _offer);
            if (const auto* n = first_error_notify(m); n && n->type == notify_type::authentication_failed)
                sa.fail("peer answered AUTHENTICATION_FAILED (PSK mismatch, or the peer has no PSK for " +
                        ids(sa.local_id, sa.cfg.peer_id) + ")");
            else if (n)
                sa.fail("IKE_AUTH failed: peer answered " + to_string(n->type));
            else
                sa.fail("IKE_AUTH response lacks IDr or AUTH");
            return task_status::failed;
        }
        const auto& idr = *idr_p->as<id_payload>();
        auto peer = to_identity(idr);
        if (!sa.cfg.peer_id.matches(peer)) {
            discard_child(sa, _offer);
            sa.fail(fmt::format("AUTHENTICATION_FAILED: peer identity {} does not match the configured {}",
                                peer.to_string(), sa.cfg.peer_id.to_string()));
            return task_status::failed;
        }
        const auto* psk = sa.cfg.find_psk(sa.local_id, peer);
        if (!psk) {
            discard_child(sa, _offer);
            sa.fail("no PSK for " + ids(sa.local_id, peer));
            return task_status::failed;
        }
        const auto& auth = *auth_p->as<auth_payload>();
        auto expected = crypto::responder_psk_auth(sa.ike_suite.prf, *psk, sa.init_response, sa.nonce_i,
                                                   sa.keys.sk_pr, id_body(idr));
        if (auth.method != auth_method::psk || !expected || !crypto::auth_data_equal(*expected, auth.data)) {
            discard_child(sa, _offer);
            sa.fail(auth.method != auth_method::psk
                        ? "AUTHENTICATION_FAILED: peer used " + to_string(auth.method) + ", we expect a PSK"
                        : "AUTHENTICATION_FAILED: PSK mismatch (AUTH of " + peer.to_string() + " does not verify)");
            return task_status::failed;
        }
        sa.peer_id = peer;
        sa.transition(ike_sa_state::established);
        sa.log(log_level::info, fmt::format("IKE SA established {}: {} === {} with {}", sa.ike_proposal_text,
                                            sa.local_id.to_string(), peer.to_string(),
                                            sa.natt_ports ? "UDP encapsulation" : "no NAT"));
        if (const auto* n = first_error_notify(m)) {
            // RFC 7296 1.2: the IKE SA stands, only the CHILD SA failed.
            discard_child(sa, _offer);
            sa.fail(fmt::format("CHILD SA not created: peer answered {} (we proposed {}, {} === {})", to_string(n->type),
                                proposals_to_string(proposals_with_group(sa.esp_proposals, std::nullopt)),
                                ts_list_to_string(configured_local_ts(sa)), ts_list_to_string(configured_peer_ts(sa))));
            return task_status::done;
        }
        if (auto err = accept_child(sa, _offer, m, {}, sa.nonce_i, sa.nonce_r)) {
            sa.fail("CHILD SA not created: " + *err);
            return task_status::done;
        }
        return task_status::done;
    }

    void timed_out(ike_sa& sa) override { discard_child(sa, _offer); }

private:
    child_offer _offer;
    std::optional<child_spec> _first;  // reauthentication: the CHILD SA to recreate
    bool _initial_contact = true;
};

} // namespace

std::unique_ptr<task> make_ike_auth_task() { return std::make_unique<ike_auth_task>(); }
std::unique_ptr<task> make_ike_auth_task(std::optional<child_spec> first, bool initial_contact) {
    return std::make_unique<ike_auth_task>(std::move(first), initial_contact);
}

bool respond_ike_auth(ike_sa& sa, const message& req, message& resp) {
    auto& e = resp.encrypted;
    auto auth_failed = [&](std::string reason) {
        sa.fail("AUTHENTICATION_FAILED: " + reason);
        e.clear();
        e.push_back(make_notify(notify_type::authentication_failed));
        return false;
    };
    if (sa.state() != ike_sa_state::init_done) return auth_failed("IKE_AUTH in state " + std::string(to_string(sa.state())));
    const auto& idi = *find_payload(req, payload_type::idi)->as<id_payload>();
    const auto& auth = *find_payload(req, payload_type::auth)->as<auth_payload>();
    auto peer = to_identity(idi);
    if (const auto* idr_p = find_payload(req, payload_type::idr)) {
        auto wanted = to_identity(*idr_p->as<id_payload>());
        if (wanted != sa.local_id)
            return auth_failed(fmt::format("peer expects us to be {}, we are {}", wanted.to_string(), sa.local_id.to_string()));
    }
    if (!sa.cfg.peer_id.matches(peer))
        return auth_failed(fmt::format("peer identity {} does not match the configured {}", peer.to_string(),
                                       sa.cfg.peer_id.to_string()));
    const auto* psk = sa.cfg.find_psk(sa.local_id, peer);
    if (!psk) return auth_failed("no PSK for " + ids(sa.local_id, peer));
    if (auth.method != auth_method::psk)
        return auth_failed("peer used " + to_string(auth.method) + ", we expect a PSK");
    auto expected = crypto::initiator_psk_auth(sa.ike_suite.prf, *psk, sa.init_request, sa.nonce_r, sa.keys.sk_pi,
                                               id_body(idi));
    if (!expected || !crypto::auth_data_equal(*expected, auth.data))
        return auth_failed("PSK mismatch (AUTH of " + peer.to_string() + " does not verify)");

    auto idr = to_id_payload(sa.local_id);
    auto our_auth = crypto::responder_psk_auth(sa.ike_suite.prf, *psk, sa.init_response, sa.nonce_i, sa.keys.sk_pr,
                                               id_body(idr));
    if (!our_auth) return auth_failed("cannot compute AUTH: " + our_auth.error().message());
    sa.peer_id = peer;
    sa.transition(ike_sa_state::established);
    sa.log(log_level::info, fmt::format("IKE SA established {}: {} === {}", sa.ike_proposal_text,
                                        sa.local_id.to_string(), peer.to_string()));
    if (req.find_notify(notify_type::initial_contact)) {
        sa.log(log_level::info, "peer sent INITIAL_CONTACT");
        if (sa.svc.initial_contact) sa.svc.initial_contact(sa);
    }
    e.push_back(make_idr(idr));
    e.push_back(make_payload(auth_payload{auth_method::psk, std::move(*our_auth)}));

    auto a = answer_child(sa, req, proposals_with_group(sa.esp_proposals, std::nullopt));
    if (a.error) {
        sa.fail("CHILD SA not created: " + a.reason);
        e.push_back(make_notify(*a.error, a.error_data));
        return true;
    }
    add_child_answer(a, e);
    if (auto err = child_sa_install(sa, *a.child, false, {}, sa.nonce_i, sa.nonce_r)) sa.fail(*err);
    return true;
}

} // namespace ike
