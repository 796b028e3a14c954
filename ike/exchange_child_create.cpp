// CREATE_CHILD_SA for an additional CHILD SA (RFC 7296 1.3.1), with optional PFS.
//
//   HDR, SK { SA, Ni, [KEi], TSi, TSr }  -->
//                       <--  HDR, SK { SA, Nr, [KEr], TSi, TSr }
//   failures:           <--  HDR, SK { N(INVALID_KE_PAYLOAD) }  (one retry with that group)
//                       <--  HDR, SK { N(NO_PROPOSAL_CHOSEN) } / { N(TS_UNACCEPTABLE) }
// Rekeying (N(REKEY_SA), IKE SA rekey) is issue 5: such requests are declined for now with
// NO_ADDITIONAL_SAS, which leaves the existing SAs untouched.
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
    [[nodiscard]] exchange_type exchange() const override { return exchange_type::create_child_sa; }
    [[nodiscard]] std::string_view name() const override { return "CREATE_CHILD_SA"; }

    task_status build_request(ike_sa& sa, message& m) override {
        if (sa.state() != ike_sa_state::established) {
            sa.fail("CREATE_CHILD_SA needs an established IKE SA");
            return task_status::failed;
        }
        if (!_offer.child) {
            _offer = offer_child(sa, sa.esp_proposals);
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
        const auto* sa_p = find_payload(m, payload_type::sa);
        std::optional<base::secret_bytes> g_ir;
        if (sa_p && sa_p->as<sa_payload>()->proposals.size() == 1) {
            auto suite = suite_of(sa_p->as<sa_payload>()->proposals.front());
            if (suite && suite->dh != dh_group::none) {
                const auto* ke_p = find_payload(m, payload_type::ke);
                if (!_ke || !ke_p || ke_p->as<ke_payload>()->group != _group || suite->dh != _group) {
                    discard_child(sa, _offer);
                    sa.fail("CREATE_CHILD_SA: responder's PFS group/KE does not match ours");
                    return task_status::failed;
                }
                auto s = _ke->shared_secret(ke_p->as<ke_payload>()->data);
                if (!s) {
                    discard_child(sa, _offer);
                    sa.fail("responder's KE value rejected: " + s.error().message());
                    return task_status::failed;
                }
                g_ir = std::move(*s);
            }
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
    static const notify_payload* find_notify(const message& m, notify_type t) {
        for (const auto* n : all_of<notify_payload>(m))
            if (n->type == t) return n;
        return nullptr;
    }
    child_offer _offer;
    std::vector<std::uint8_t> _nonce;
    dh_group _group = dh_group::none;
    std::unique_ptr<crypto::key_exchange> _ke;
    bool _retried = false;
};

} // namespace

std::unique_ptr<task> make_child_create_task() { return std::make_unique<child_create_task>(); }

bool respond_child_create(ike_sa& sa, const message& req, message& resp) {
    auto& e = resp.encrypted;
    if (sa.state() != ike_sa_state::established) {
        e.push_back(make_notify(notify_type::no_additional_sas));
        return true;
    }
    bool rekey = req.find_notify(notify_type::rekey_sa) != nullptr;
    const auto* sa_p = find_payload(req, payload_type::sa);
    bool ike_rekey = sa_p && !sa_p->as<sa_payload>()->proposals.empty() &&
                     sa_p->as<sa_payload>()->proposals.front().protocol == protocol_id::ike;
    if (rekey || ike_rekey) {
        sa.log(log_level::warning, std::string(ike_rekey ? "IKE SA" : "CHILD SA") +
                                       " rekeying is not implemented yet: answering NO_ADDITIONAL_SAS");
        e.push_back(make_notify(notify_type::no_additional_sas));
        return true;
    }
    auto a = answer_child(sa, req, sa.esp_proposals);
    if (a.error) {
        sa.fail("CHILD SA not created: " + a.reason);
        e.push_back(make_notify(*a.error, a.error_data));
        return true;
    }
    const auto* ke_p = find_payload(req, payload_type::ke);
    std::optional<base::secret_bytes> g_ir;
    std::unique_ptr<crypto::key_exchange> ke;
    if (a.child->suite.dh != dh_group::none) {
        if (!ke_p || ke_p->as<ke_payload>()->group != a.child->suite.dh) {
            base::writer w;
            w.u16(static_cast<std::uint16_t>(a.child->suite.dh));
            sa.log(log_level::info, fmt::format("CREATE_CHILD_SA: PFS group {} required, INVALID_KE_PAYLOAD",
                                                to_string(a.child->suite.dh)));
            child_sa_remove(sa, *a.child);
            e.push_back(make_notify(notify_type::invalid_ke_payload, w.take()));
            return true;
        }
        auto k = sa.svc.ke_factory.create(static_cast<crypto::dh_group>(a.child->suite.dh));
        std::optional<std::string> err;
        if (k) {
            auto s = (*k)->shared_secret(ke_p->as<ke_payload>()->data);
            if (s) g_ir = std::move(*s);
            else err = "peer's KE value rejected: " + s.error().message();
        } else {
            err = "cannot create key exchange: " + k.error().message();
        }
        if (err) {
            child_sa_remove(sa, *a.child);
            sa.fail(*err);
            e.push_back(make_notify(notify_type::no_proposal_chosen));
            return true;
        }
        ke = std::move(*k);
    }
    const auto& ni = find_payload(req, payload_type::nonce)->as<nonce_payload>()->data;
    auto nr = random_bytes(sa, nonce_size);
    e.push_back(make_payload(sa_payload{{a.chosen}}));
    e.push_back(make_payload(nonce_payload{nr}));
    if (ke) {
        auto pub = ke->public_value();
        e.push_back(make_payload(ke_payload{a.child->suite.dh, bytes(pub.begin(), pub.end())}));
    }
    e.push_back(make_tsi(ts_payload{a.tsi}));
    e.push_back(make_tsr(ts_payload{a.tsr}));
    auto gir_view = g_ir ? g_ir->view() : std::span<const std::uint8_t>{};
    if (auto err = child_sa_install(sa, *a.child, false, gir_view, ni, nr)) sa.fail(*err);
    return true;
}

} // namespace ike
