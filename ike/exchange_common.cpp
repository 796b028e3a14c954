// Helpers shared by the exchange tasks (see exchange_common.hpp).
#include "exchange_common.hpp"

#include "ike/crypto_random.hpp"
#include "ike/ts_narrow.hpp"

#include <base/reader.hpp>
#include <base/writer.hpp>

#include <fmt/format.h>

namespace ike::detail {

std::vector<std::uint8_t> random_bytes(ike_sa& sa, std::size_t n) {
    std::vector<std::uint8_t> b(n);
    while (sa.svc.rng.fill(b)) {}
    return b;
}

std::vector<const payload*> all_payloads(const message& m) {
    std::vector<const payload*> out;
    for (const auto& p : m.payloads)
        if (p.type != payload_type::sk && p.type != payload_type::skf) out.push_back(&p);
    for (const auto& p : m.encrypted) out.push_back(&p);
    return out;
}

const payload* find_payload(const message& m, payload_type t) {
    for (const auto* p : all_payloads(m))
        if (p->type == t) return p;
    return nullptr;
}

const notify_payload* first_error_notify(const message& m) {
    for (const auto* n : all_of<notify_payload>(m))
        if (is_error(n->type)) return n;
    return nullptr;
}

id_payload to_id_payload(const peer_identity& id) {
    return id_payload{static_cast<id_type>(id.type), id.data};
}

peer_identity to_identity(const id_payload& id) {
    peer_identity p;
    p.type = static_cast<std::uint8_t>(id.type);
    p.data = id.data;
    return p;
}

std::vector<std::uint8_t> id_body(const id_payload& id) {
    base::writer w;
    serialize_payload_body(make_idi(id), w);
    return w.take();
}

namespace {
std::vector<traffic_selector> ts_or_host(const std::vector<cidr>& configured, const ip_address& host) {
    if (!configured.empty()) return ts_from_cidrs(configured);
    return {ts_from_cidr(cidr{host, static_cast<std::uint8_t>(host.is_v4() ? 32 : 128)})};
}
} // namespace

std::vector<traffic_selector> configured_local_ts(const ike_sa& sa) { return ts_or_host(sa.cfg.local_ts, sa.local.address()); }
std::vector<traffic_selector> configured_peer_ts(const ike_sa& sa) { return ts_or_host(sa.cfg.peer_ts, sa.remote.address()); }

std::vector<std::uint8_t> spi_bytes(std::uint32_t spi) {
    return {std::uint8_t(spi >> 24), std::uint8_t(spi >> 16), std::uint8_t(spi >> 8), std::uint8_t(spi)};
}

std::optional<std::uint32_t> spi_from(const std::vector<std::uint8_t>& b) {
    if (b.size() != 4) return std::nullopt;
    base::reader r(b);
    return r.read_u32();
}

child_offer offer_child(ike_sa& sa, const std::vector<proposal>& proposals, std::uint32_t reqid) {
    child_offer o;
    auto c = std::make_unique<child_sa>();
    c->reqid = reqid ? reqid : sa.svc.next_reqid++;
    c->spi_in = sa.svc.allocate_esp_spi();
    o.offered = proposals;
    for (auto& p : o.offered) p.spi = spi_bytes(c->spi_in);
    o.tsi = configured_local_ts(sa);
    o.tsr = configured_peer_ts(sa);
    o.child = c.get();
    sa.children.push_back(std::move(c));
    return o;
}

void add_child_payloads(const child_offer& o, std::vector<payload>& out) {
    out.push_back(make_payload(sa_payload{o.offered}));
    out.push_back(make_tsi(ts_payload{o.tsi}));
    out.push_back(make_tsr(ts_payload{o.tsr}));
}

void discard_child(ike_sa& sa, child_offer& o) {
    if (!o.child) return;
    child_sa_remove(sa, *o.child);
    o.child = nullptr;
}

std::optional<std::string> accept_child(ike_sa& sa, child_offer& o, const message& response,
                                        std::span<const std::uint8_t> g_ir, std::span<const std::uint8_t> ni,
                                        std::span<const std::uint8_t> nr, bool defer_outbound) {
    auto fail = [&](std::string why) -> std::optional<std::string> {
        discard_child(sa, o);
        return why;
    };
    const auto* sa_p = find_payload(response, payload_type::sa);
    const auto* tsi_p = find_payload(response, payload_type::tsi);
    const auto* tsr_p = find_payload(response, payload_type::tsr);
    if (!sa_p || !tsi_p || !tsr_p) return fail("response lacks SA, TSi or TSr");
    const auto& props = sa_p->as<sa_payload>()->proposals;
    if (props.size() != 1) return fail("responder returned " + std::to_string(props.size()) + " proposals");
    const proposal& chosen = props.front();
    if (chosen.protocol != protocol_id::esp) return fail("responder chose a non-ESP proposal");
    if (auto err = check_selected_proposal(chosen, o.offered)) return fail(*err);
    std::string why;
    auto suite = suite_of(chosen, &why);
    if (!suite) return fail(why);
    auto spi = spi_from(chosen.spi);
    if (!spi || *spi == 0) return fail("responder's ESP SPI is not 4 bytes");
    const auto& tsi = tsi_p->as<ts_payload>()->selectors;
    const auto& tsr = tsr_p->as<ts_payload>()->selectors;
    // RFC 7296 2.9: the responder may only narrow what we proposed.
    if (!ts_subset(tsi, o.tsi) || !ts_subset(tsr, o.tsr))
        return fail(fmt::format("responder's traffic selectors {} === {} are not within ours {} === {}",
                                ts_list_to_string(tsi), ts_list_to_string(tsr), ts_list_to_string(o.tsi),
                                ts_list_to_string(o.tsr)));
    o.child->suite = *suite;
    o.child->spi_out = *spi;
    o.child->ts_local = tsi;
    o.child->ts_remote = tsr;
    if (auto err = child_sa_install(sa, *o.child, true, g_ir, ni, nr, defer_outbound)) return fail(*err);
    o.child = nullptr;  // installed: owned by the IKE SA for good
    return std::nullopt;
}

child_answer answer_child(ike_sa& sa, const message& request, const std::vector<proposal>& acceptable,
                          std::uint32_t reqid) {
    child_answer a;
    const auto* sa_p = find_payload(request, payload_type::sa);
    const auto* tsi_p = find_payload(request, payload_type::tsi);
    const auto* tsr_p = find_payload(request, payload_type::tsr);
    if (!sa_p || !tsi_p || !tsr_p) {
        a.error = notify_type::invalid_syntax;
        a.reason = "request lacks SA, TSi or TSr";
        return a;
    }
    const auto& offered = sa_p->as<sa_payload>()->proposals;
    auto chosen = select_proposal(acceptable, offered);
    std::string why;
    std::optional<negotiated_suite> suite;
    if (chosen) suite = suite_of(*chosen, &why);
    if (!chosen || !suite) {
        a.error = notify_type::no_proposal_chosen;
        a.reason = fmt::format("NO_PROPOSAL_CHOSEN for CHILD SA: peer offered {}, we accept {}{}",
                               proposals_to_string(offered), proposals_to_string(acceptable),
                               why.empty() ? "" : " (" + why + ")");
        return a;
    }
    auto peer_spi = spi_from(chosen->spi);
    if (!peer_spi || *peer_spi == 0) {
        a.error = notify_type::invalid_syntax;
        a.reason = "peer's ESP SPI is not 4 bytes";
        return a;
    }
    // RFC 7296 2.9: TSi is the initiator's (peer's) side, TSr ours.
    const auto& tsi = tsi_p->as<ts_payload>()->selectors;
    const auto& tsr = tsr_p->as<ts_payload>()->selectors;
    auto our_peer = configured_peer_ts(sa);
    auto our_local = configured_local_ts(sa);
    a.tsi = ts_narrow(tsi, our_peer);
    a.tsr = ts_narrow(tsr, our_local);
    if (a.tsi.empty() || a.tsr.empty()) {
        a.error = notify_type::ts_unacceptable;
        a.reason = fmt::format("TS_UNACCEPTABLE: peer proposed {} === {}, we allow {} === {}", ts_list_to_string(tsi),
                               ts_list_to_string(tsr), ts_list_to_string(our_peer), ts_list_to_string(our_local));
        return a;
    }
    auto c = std::make_unique<child_sa>();
    c->reqid = reqid ? reqid : sa.svc.next_reqid++;
    c->spi_in = sa.svc.allocate_esp_spi();
    c->spi_out = *peer_spi;
    c->suite = *suite;
    c->ts_local = a.tsr;
    c->ts_remote = a.tsi;
    a.chosen = *chosen;
    a.chosen.spi = spi_bytes(c->spi_in);
    a.child = c.get();
    sa.children.push_back(std::move(c));
    return a;
}

void add_child_answer(const child_answer& a, std::vector<payload>& out) {
    out.push_back(make_payload(sa_payload{{a.chosen}}));
    out.push_back(make_tsi(ts_payload{a.tsi}));
    out.push_back(make_tsr(ts_payload{a.tsr}));
}

const notify_payload* find_notify(const message& m, notify_type t) {
    for (const auto* n : all_of<notify_payload>(m))
        if (n->type == t) return n;
    return nullptr;
}

std::optional<std::string> initiator_pfs(const message& m, crypto::key_exchange* ke, dh_group group,
                                         std::optional<base::secret_bytes>& g_ir) {
    const auto* sa_p = find_payload(m, payload_type::sa);
    if (!sa_p || sa_p->as<sa_payload>()->proposals.size() != 1) return std::nullopt;  // accept_child reports it
    auto suite = suite_of(sa_p->as<sa_payload>()->proposals.front());
    if (!suite || suite->dh == dh_group::none) return std::nullopt;
    const auto* ke_p = find_payload(m, payload_type::ke);
    if (!ke || !ke_p || ke_p->as<ke_payload>()->group != group || suite->dh != group)
        return "responder's PFS group/KE does not match ours";
    auto s = ke->shared_secret(ke_p->as<ke_payload>()->data);
    if (!s) return "responder's KE value rejected: " + s.error().message();
    g_ir = std::move(*s);
    return std::nullopt;
}

responder_pfs responder_key_exchange(ike_sa& sa, const message& req, dh_group group) {
    responder_pfs r;
    if (group == dh_group::none) return r;
    const auto* ke_p = find_payload(req, payload_type::ke);
    if (!ke_p || ke_p->as<ke_payload>()->group != group) {
        base::writer w;
        w.u16(static_cast<std::uint16_t>(group));
        r.error = notify_type::invalid_ke_payload;
        r.error_data = w.take();
        r.reason = fmt::format("PFS group {} required, INVALID_KE_PAYLOAD", to_string(group));
        return r;
    }
    auto k = sa.svc.ke_factory.create(static_cast<crypto::dh_group>(group));
    if (!k) {
        r.error = notify_type::no_proposal_chosen;
        r.reason = "cannot create key exchange: " + k.error().message();
        return r;
    }
    auto s = (*k)->shared_secret(ke_p->as<ke_payload>()->data);
    if (!s) {
        r.error = notify_type::no_proposal_chosen;
        r.reason = "peer's KE value rejected: " + s.error().message();
        return r;
    }
    r.g_ir = std::move(*s);
    r.ke = std::move(*k);
    return r;
}

} // namespace ike::detail
