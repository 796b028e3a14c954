// IKE_SA_INIT (RFC 7296 1.2, 2.6, 2.23): proposal selection, KE/nonce exchange, COOKIE echo,
// INVALID_KE_PAYLOAD retry, NAT detection. Ends with SKEYSEED and SK_* derived. The responder's
// COOKIE check is the endpoint's (dos_guard.hpp), before this IKE SA exists.
//
//   HDR, SAi1, KEi, Ni, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP)
//        [, N(IKEV2_FRAGMENTATION_SUPPORTED)]  -->
//                          <--  HDR, SAr1, KEr, Nr, N(NAT_DETECTION_*) [, CERTREQ]
//                               [, N(IKEV2_FRAGMENTATION_SUPPORTED)]   (RFC 7383 2.3)
//   or                     <--  HDR, N(COOKIE)            (resend with N(COOKIE) first)
//   or                     <--  HDR, N(INVALID_KE_PAYLOAD) (resend with the requested group)
//   or                     <--  HDR, N(NO_PROPOSAL_CHOSEN)
#include "exchange_common.hpp"
#include "ike/task.hpp"

#include <base/reader.hpp>

#include <fmt/format.h>

namespace ike {
namespace {

using namespace detail;

constexpr int max_cookie_retries = 3;

class ike_init_task final : public task {
public:
    [[nodiscard]] exchange_type exchange() const override { return exchange_type::ike_sa_init; }
    [[nodiscard]] std::string_view name() const override { return "IKE_SA_INIT"; }
    [[nodiscard]] bool fatal() const override { return true; }

    task_status build_request(ike_sa& sa, message& m) override {
        if (_group == dh_group::none) _group = first_dh_group(sa.ike_proposals);
        if (sa.nonce_i.empty()) sa.nonce_i = random_bytes(sa, nonce_size);
        if (!sa.ke || static_cast<dh_group>(sa.ke->group()) != _group) {
            auto ke = sa.svc.ke_factory.create(static_cast<crypto::dh_group>(_group));
            if (!ke) {
                sa.fail(fmt::format("cannot create a {} key exchange: {}", to_string(_group), ke.error().message()));
                return task_status::failed;
            }
            sa.ke = std::move(*ke);
        }
        // RFC 7296 2.6: the COOKIE notify comes first.
        if (!sa.cookie.empty()) m.payloads.push_back(make_notify(notify_type::cookie, sa.cookie));
        m.payloads.push_back(make_payload(sa_payload{sa.ike_proposals}));
        auto pub = sa.ke->public_value();
        m.payloads.push_back(make_payload(ke_payload{_group, bytes(pub.begin(), pub.end())}));
        m.payloads.push_back(make_payload(nonce_payload{sa.nonce_i}));
        sa.add_nat_detection(m);
        if (sa.cfg.fragmentation) m.payloads.push_back(make_notify(notify_type::ikev2_fragmentation_supported));
        sa.transition(ike_sa_state::init_sent);
        return task_status::done;
    }

    task_status process_response(ike_sa& sa, const message& m) override {
        if (const auto* c = m.find_notify(notify_type::cookie)) {
            if (++_cookie_retries > max_cookie_retries) {
                sa.fail("responder keeps asking for a COOKIE");
                return task_status::failed;
            }
            sa.log(log_level::info, "responder requested a COOKIE, sending IKE_SA_INIT again");
            sa.cookie = c->data;
            return task_status::retry;
        }
        if (const auto* n = m.find_notify(notify_type::invalid_ke_payload)) {
            base::reader r(n->data);
            auto g = static_cast<dh_group>(r.read_u16());
            if (!r.ok() || _ke_retried || g == _group || !proposals_contain_group(sa.ike_proposals, g)) {
                sa.fail(fmt::format("INVALID_KE_PAYLOAD: peer requests {}, {}", to_string(g),
                                    _ke_retried   ? "after we already retried"
                                    : g == _group ? "the group we sent (peer cannot compute it?)"
                                                  : "which we did not propose"));
                return task_status::failed;
            }
            sa.log(log_level::info, fmt::format("peer requests DH group {} instead of {}, retrying", to_string(g),
                                                to_string(_group)));
            _ke_retried = true;
            _group = g;
            return task_status::retry;
        }
        if (const auto* e = first_error_notify(m)) {
            if (e->type == notify_type::no_proposal_chosen)
                sa.fail("NO_PROPOSAL_CHOSEN: peer accepted none of our IKE proposals " +
                        proposals_to_string(sa.ike_proposals));
            else
                sa.fail("IKE_SA_INIT failed: peer answered " + to_string(e->type));
            return task_status::failed;
        }
        const auto* sa_p = m.find(payload_type::sa);
        const auto* ke_p = m.find(payload_type::ke);
        const auto* n_p = m.find(payload_type::nonce);
        if (!sa_p || !ke_p || !n_p) {
            sa.fail("IKE_SA_INIT response lacks SA, KE or Nonce");
            return task_status::failed;
        }
        const auto& props = sa_p->as<sa_payload>()->proposals;
        if (props.size() != 1 || props.front().protocol != protocol_id::ike) {
            sa.fail("IKE_SA_INIT response must carry exactly one IKE proposal");
            return task_status::failed;
        }
        if (auto err = check_selected_proposal(props.front(), sa.ike_proposals)) {
            sa.fail("IKE_SA_INIT: " + *err);
            return task_status::failed;
        }
        std::string why;
        auto suite = suite_of(props.front(), &why);
        if (!suite) {
            sa.fail("IKE_SA_INIT: " + why);
            return task_status::failed;
        }
        const auto& ke = *ke_p->as<ke_payload>();
        if (ke.group != suite->dh || ke.group != _group) {
            sa.fail(fmt::format("IKE_SA_INIT: responder's KE is {} but the chosen group is {}", to_string(ke.group),
                                to_string(suite->dh)));
            return task_status::failed;
        }
        bool zero_spi = std::all_of(m.header.spi_r.begin(), m.header.spi_r.end(), [](auto b) { return b == 0; });
        if (zero_spi) {
            sa.fail("IKE_SA_INIT response with a zero responder SPI");
            return task_status::failed;
        }
        auto g_ir = sa.ke->shared_secret(ke.data);
        if (!g_ir) {
            sa.fail("responder's KE value rejected: " + g_ir.error().message());
            return task_status::failed;
        }
        // Validated: now it enters the SA.
        sa.spi_r = m.header.spi_r;
        sa.nonce_r = n_p->as<nonce_payload>()->data;
        sa.ike_suite = *suite;
        sa.ike_proposal_text = proposal_to_string(props.front());
        if (auto err = sa.derive_keys(g_ir->view())) {
            sa.fail(*err);
            return task_status::failed;
        }
        sa.ke.reset();
        sa.process_nat_detection(m);
        sa.fragmentation = sa.cfg.fragmentation && m.find_notify(notify_type::ikev2_fragmentation_supported);
        sa.float_ports_if_needed();
        report_weak_group(sa);
        sa.transition(ike_sa_state::init_done);
        return task_status::done;
    }

    static void report_weak_group(ike_sa& sa) {
        if (const auto* info = crypto::find_dh_group(static_cast<std::uint16_t>(sa.ike_suite.dh)); info && info->weak)
            sa.log(log_level::warning, fmt::format("IKE SA uses weak DH group {}", info->name));
    }

private:
    dh_group _group = dh_group::none;
    bool _ke_retried = false;
    int _cookie_retries = 0;
};

} // namespace

std::unique_ptr<task> make_ike_init_task() { return std::make_unique<ike_init_task>(); }

bool respond_ike_init(ike_sa& sa, const message& req, message& resp) {
    auto refuse = [&](notify_type t, bytes data, std::string reason) {
        sa.fail(std::move(reason));
        resp.header.spi_r = {};
        resp.payloads.push_back(make_notify(t, std::move(data)));
        return false;  // nothing kept for a refused IKE_SA_INIT
    };
    const auto& offered = req.find(payload_type::sa)->as<sa_payload>()->proposals;
    auto chosen = select_proposal(sa.ike_proposals, offered);
    std::string why;
    std::optional<negotiated_suite> suite;
    if (chosen) suite = suite_of(*chosen, &why);
    if (!chosen || !suite)
        return refuse(notify_type::no_proposal_chosen, {},
                      fmt::format("NO_PROPOSAL_CHOSEN: peer offered {}, we accept {}{}", proposals_to_string(offered),
                                  proposals_to_string(sa.ike_proposals), why.empty() ? "" : " (" + why + ")"));
    const auto& ke = *req.find(payload_type::ke)->as<ke_payload>();
    if (ke.group != suite->dh) {
        base::writer w;
        w.u16(static_cast<std::uint16_t>(suite->dh));
        sa.log(log_level::info, fmt::format("peer sent KE {} but we chose {}: INVALID_KE_PAYLOAD", to_string(ke.group),
                                            to_string(suite->dh)));
        resp.header.spi_r = {};
        resp.payloads.push_back(make_notify(notify_type::invalid_ke_payload, w.take()));
        return false;
    }
    auto our_ke = sa.svc.ke_factory.create(static_cast<crypto::dh_group>(suite->dh));
    if (!our_ke) return refuse(notify_type::no_proposal_chosen, {}, "cannot create key exchange: " + our_ke.error().message());
    auto g_ir = (*our_ke)->shared_secret(ke.data);
    if (!g_ir) return refuse(notify_type::invalid_syntax, {}, "peer's KE value rejected: " + g_ir.error().message());

    sa.nonce_i = req.find(payload_type::nonce)->as<nonce_payload>()->data;
    sa.nonce_r = random_bytes(sa, nonce_size);
    sa.ike_suite = *suite;
    sa.ike_proposal_text = proposal_to_string(*chosen);
    if (auto err = sa.derive_keys(g_ir->view())) return refuse(notify_type::no_proposal_chosen, {}, *err);
    sa.process_nat_detection(req);

    proposal reply = *chosen;
    reply.spi.clear();
    resp.payloads.push_back(make_payload(sa_payload{{reply}}));
    auto pub = (*our_ke)->public_value();
    resp.payloads.push_back(make_payload(ke_payload{suite->dh, bytes(pub.begin(), pub.end())}));
    resp.payloads.push_back(make_payload(nonce_payload{sa.nonce_r}));
    sa.add_nat_detection(resp);
    // RFC 7383 2.3: answered only when offered (and wanted here).
    sa.fragmentation = sa.cfg.fragmentation && req.find_notify(notify_type::ikev2_fragmentation_supported);
    if (sa.fragmentation) resp.payloads.push_back(make_notify(notify_type::ikev2_fragmentation_supported));
    if (const auto* info = crypto::find_dh_group(static_cast<std::uint16_t>(suite->dh)); info && info->weak)
        sa.log(log_level::warning, fmt::format("IKE SA uses weak DH group {}", info->name));
    sa.log(log_level::info, "IKE_SA_INIT answered with " + sa.ike_proposal_text);
    sa.transition(ike_sa_state::init_done);
    return true;
}

} // namespace ike
