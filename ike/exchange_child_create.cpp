// CREATE_CHILD_SA for an additional CHILD SA (RFC 7296 1.3.1), with optional PFS.
//
//   HDR, SK { SA, Ni, [KEi], TSi, TSr }  -->
//                       <--  HDR, SK { SA, Nr, [KEr], TSi, TSr }
//   failures:           <--  HDR, SK { N(INVALID_KE_PAYLOAD) }  (one retry with that group)
//                       <--  HDR, SK { N(NO_PROPOSAL_CHOSEN) } / { N(TS_UNACCEPTABLE) }
// A request with N(REKEY_SA) is a CHILD SA rekey (exchange_child_rekey.cpp), one with an IKE
// proposal an IKE SA rekey (exchange_ike_rekey.cpp).
#include "exchange_common.hpp"
#include "ike/task.hpp"

#include <base/reader.hpp>

#include <fmt/format.h>

namespace ike {
namespace {

using namespace detail;

// PFS: the proposals' first group, and only proposals that carry it are useful with that KE.
class child_create_task final : public task {
public:
    child_create_task(std::vector<cidr> local_ts, std::vector<cidr> peer_ts)
        : _local_ts(std::move(local_ts)), _peer_ts(std::move(peer_ts)) {}
    explicit child_create_task(child_spec recreate) : _recreate(std::move(recreate)) {}

    [[nodiscard]] exchange_type exchange() const override { return exchange_type::create_child_sa; }
    [[nodiscard]] std::string_view name() const override { return "CREATE_CHILD_SA"; }

    task_status build_request(ike_sa& sa, message& m) override {
        if (sa.state() != ike_sa_state::established) {
            sa.fail("CREATE_CHILD_SA needs an established IKE SA");
            return task_status::failed;
        }
        if (!_offer.child) {
            _offer = offer_child(sa, sa.esp_proposals, _recreate ? _recreate->reqid : 0);
            if (!_local_ts.empty()) _offer.tsi = ts_from_cidrs(_local_ts);
            if (!_peer_ts.empty()) _offer.tsr = ts_from_cidrs(_peer_ts);
            if (_recreate) {
                _offer.tsi = _recreate->ts_local;
                _offer.tsr = _recreate->ts_remote;
            }
            _nonce = random_bytes(sa, nonce_size);
        }
        if (_group == dh_group::none) _group = first_dh_group(sa.esp_proposals);
        _ke.reset();
        if (_group != dh_group::none) {
            auto ke = sa.svc.ke_factory.create(static_cast<crypto::dh_group>(_group));
            if (!ke) {
                discard_child(sa, _offer);
                sa.fail(fmt::format("cannot create a {} key exchange: {}", to_string(_group), ke.error().message()));
                return task_status::failed;
            }
            _ke = std::move(*ke);
        }
        auto& e = m.encrypted;
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
            if (r.ok() && !_retried && proposals_contain_group(sa.esp_proposals, g)) {
                sa.log(log_level::info, fmt::format("CREATE_CHILD_SA: peer requests {} for PFS, retrying", to_string(g)));
                _retried = true;
                _group = g;
                return task_status::retry;
            }
            discard_child(sa, _offer);
            sa.fail(fmt::format("CREATE_CHILD_SA failed: INVALID_KE_PAYLOAD, peer requests {}", to_string(g)));
            return task_status::failed;
        }
        if (const auto* n = first_error_notify(m)) {
            discard_child(sa, _offer);
            sa.fail(fmt::format("CHILD SA not created: peer answered {} (we proposed {}, {} === {})", to_string(n->type),
                                proposals_to_string(sa.esp_proposals), ts_list_to_string(_offer.tsi),
                                ts_list_to_string(_offer.tsr)));
            return task_status::failed;
        }
        const auto* n_p = find_payload(m, payload_type::nonce);
        if (!n_p) {
            discard_child(sa, _offer);
            sa.fail("CREATE_CHILD_SA response lacks Nr");
            return task_status::failed;
        }
        std::optional<base::secret_bytes> g_ir;
        if (auto err = initiator_pfs(m, _ke.get(), _group, g_ir)) {
            discard_child(sa, _offer);
            sa.fail("CREATE_CHILD_SA: " + *err);
            return task_status::failed;
        }
        const auto& nr = n_p->as<nonce_payload>()->data;
        auto gir_view = g_ir ? g_ir->view() : std::span<const std::uint8_t>{};
        if (auto err = accept_child(sa, _offer, m, gir_view, _nonce, nr)) {
            sa.fail("CHILD SA not created: " + *err);
            return task_status::failed;
        }
        return task_status::done;
    }

    void timed_out(ike_sa& sa) override { discard_child(sa, _offer); }

private:
    std::vector<cidr> _local_ts, _peer_ts;
    std::optional<child_spec> _recreate;  // reauthentication: selectors and reqid kept
    child_offer _offer;
    std::vector<std::uint8_t> _nonce;
    dh_group _group = dh_group::none;
    std::unique_ptr<crypto::key_exchange> _ke;
    bool _retried = false;
};

} // namespace

std::unique_ptr<task> make_child_create_task(std::vector<cidr> local_ts, std::vector<cidr> peer_ts) {
    return std::make_unique<child_create_task>(std::move(local_ts), std::move(peer_ts));
}
std::unique_ptr<task> make_child_recreate_task(child_spec spec) {
    return std::make_unique<child_create_task>(std::move(spec));
}

namespace detail {

child_sa* respond_new_child(ike_sa& sa, const message& req, message& resp, std::uint32_t reqid, bool defer_outbound) {
    auto& e = resp.encrypted;
    auto a = answer_child(sa, req, sa.esp_proposals, reqid);
    if (a.error) {
        sa.fail("CHILD SA not created: " + a.reason);
        e.push_back(make_notify(*a.error, a.error_data));
        return nullptr;
    }
    auto pfs = responder_key_exchange(sa, req, a.child->suite.dh);
    if (pfs.error) {
        child_sa_remove(sa, *a.child);
        if (pfs.error == notify_type::invalid_ke_payload) sa.log(log_level::info, "CREATE_CHILD_SA: " + pfs.reason);
        else sa.fail(pfs.reason);
        e.push_back(make_notify(*pfs.error, pfs.error_data));
        return nullptr;
    }
    const auto& ni = find_payload(req, payload_type::nonce)->as<nonce_payload>()->data;
    auto nr = random_bytes(sa, nonce_size);
    e.push_back(make_payload(sa_payload{{a.chosen}}));
    e.push_back(make_payload(nonce_payload{nr}));
    if (pfs.ke) {
        auto pub = pfs.ke->public_value();
        e.push_back(make_payload(ke_payload{a.child->suite.dh, bytes(pub.begin(), pub.end())}));
    }
    e.push_back(make_tsi(ts_payload{a.tsi}));
    e.push_back(make_tsr(ts_payload{a.tsr}));
    auto gir_view = pfs.g_ir ? pfs.g_ir->view() : std::span<const std::uint8_t>{};
    if (auto err = child_sa_install(sa, *a.child, false, gir_view, ni, nr, defer_outbound)) {
        sa.fail(*err);
        child_sa_remove(sa, *a.child);
        e.clear();
        e.push_back(make_notify(notify_type::no_proposal_chosen));
        return nullptr;
    }
    return a.child;
}

} // namespace detail

bool respond_child_create(ike_sa& sa, const message& req, message& resp) {
    auto& e = resp.encrypted;
    const auto* sa_p = find_payload(req, payload_type::sa);
    bool ike_rekey = sa_p && !sa_p->as<sa_payload>()->proposals.empty() &&
                     sa_p->as<sa_payload>()->proposals.front().protocol == protocol_id::ike;
    if (ike_rekey) return respond_ike_rekey(sa, req, resp);
    if (sa.state() == ike_sa_state::rekeying || sa.state() == ike_sa_state::rekeyed) {
        // RFC 7296 2.25: no new or rekeyed CHILD SAs on an IKE SA that is being (or has been)
        // rekeyed; the peer tries again later, on the new IKE SA.
        e.push_back(make_notify(notify_type::temporary_failure));
        return true;
    }
    if (sa.state() != ike_sa_state::established) {
        e.push_back(make_notify(notify_type::no_additional_sas));
        return true;
    }
    if (req.find_notify(notify_type::rekey_sa)) return respond_child_rekey(sa, req, resp);
    respond_new_child(sa, req, resp, 0, false);
    return true;
}

} // namespace ike
