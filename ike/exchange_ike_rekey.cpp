// IKE SA rekey (RFC 7296 1.3.2, 2.18) and the simultaneous IKE rekey collision (2.8.2).
//
//   HDR(old SA), SK { SA(IKE, SPIi'), Ni, KEi }  -->
//                       <--  HDR(old SA), SK { SA(IKE, SPIr'), Nr, KEr }
//   new IKE SA: SPIi' / SPIr', SKEYSEED = prf_old(SK_d_old, g^ir | Ni | Nr), Message IDs from 0,
//               the rekey's initiator is its original initiator; the CHILD SAs move to it
//   HDR(old SA), SK { D(IKE) }  -->   <--  HDR(old SA), SK { }
//
// The responder moves the CHILD SAs when it answers and waits for the DELETE of the old SA.
// Failures: INVALID_KE_PAYLOAD -> one retry with the requested group; TEMPORARY_FAILURE or
// NO_ADDITIONAL_SAS -> the old SA stays and the rekey is retried later.
// Collision: both sides rekey the old SA at once; each answers the other's request (creating an
// IKE SA, still without CHILD SAs) and, when its own response arrives, compares nonces: the
// exchange whose lower nonce is the lowest of the four loses. The loser deletes the IKE SA it
// initiated and moves the CHILD SAs to the one it answered; the winner deletes the old SA.
#include "exchange_common.hpp"
#include "ike/crypto_random.hpp"
#include "ike/task.hpp"

#include <base/reader.hpp>
#include <base/writer.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace ike {
namespace {

using namespace detail;

bool lex_less(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

std::optional<ike_spi> spi8(const std::vector<std::uint8_t>& b) {
    if (b.size() != 8 || std::all_of(b.begin(), b.end(), [](auto x) { return x == 0; })) return std::nullopt;
    ike_spi s{};
    std::copy(b.begin(), b.end(), s.begin());
    return s;
}

void retry_rekey_later(ike_sa& sa) {
    std::array<std::uint8_t, 1> b{};
    while (sa.svc.rng.fill(b)) {}
    sa.rekey_at = sa.svc.time.now() + std::chrono::seconds(2) + std::chrono::milliseconds(20 * b[0]);
}

// The new SA takes over what the old one negotiated outside IKE_SA_INIT's keys.
std::optional<std::string> set_up(ike_sa& old, ike_sa& fresh, const negotiated_suite& suite, std::string text,
                                  std::span<const std::uint8_t> g_ir, const bytes& ni, const bytes& nr) {
    fresh.local = old.local;
    fresh.remote = old.remote;
    fresh.natt_ports = old.natt_ports;
    fresh.nat_here = old.nat_here;
    fresh.nat_there = old.nat_there;
    fresh.nat_faked_by_peer = old.nat_faked_by_peer;
    fresh.local_id = old.local_id;
    fresh.peer_id = old.peer_id;
    fresh.ike_suite = suite;
    fresh.ike_proposal_text = std::move(text);
    fresh.nonce_i = ni;
    fresh.nonce_r = nr;
    fresh.rekey_nonce_min = std::min(ni, nr, lex_less);
    if (auto err = fresh.derive_keys(g_ir, &old)) return err;
    fresh.transition(ike_sa_state::established);
    return std::nullopt;
}

// RFC 7296 2.18: the CHILD SAs belong to the new IKE SA from now on.
void move_children(ike_sa& old, ike_sa& fresh) {
    for (auto& c : old.children) {
        if (c->sm.state() == child_sa_state::destroyed) continue;
        // A rekey queued on the old SA will not find it there any more: due again at once.
        if (c->sm.state() == child_sa_state::installed && !c->rekey_at && c->expire_at)
            c->rekey_at = old.svc.time.now();
        // Its DELETE is in flight on the old SA, which may go before the answer comes: again on
        // the new one (the peer finds it there; a duplicate names an SPI it no longer has).
        if (c->sm.state() == child_sa_state::deleting && !c->remove_at)
            fresh.tasks.queue(make_child_delete_spi_task(c->spi_in));
        fresh.children.push_back(std::move(c));
    }
    old.children.clear();
    old.successor_id = fresh.unique_id;
    old.tasks.move_queue_to(fresh.tasks);
    fresh.tasks.initiate();
    old.log(log_level::info, fmt::format("IKE SA rekeyed to ike[{}] ({} CHILD SAs moved)", fresh.unique_id,
                                         fresh.children.size()));
}

} // namespace

namespace detail {
bool move_children_to_peer_rekey(ike_sa& old) {
    ike_sa* theirs = old.peer_rekey_id && old.svc.find_sa ? old.svc.find_sa(old.peer_rekey_id) : nullptr;
    if (!theirs || theirs->destroyed()) return false;
    move_children(old, *theirs);
    old.peer_rekey_id = 0;
    return true;
}
} // namespace detail

namespace {

class ike_rekey_task final : public task {
public:
    [[nodiscard]] exchange_type exchange() const override { return exchange_type::create_child_sa; }
    [[nodiscard]] std::string_view name() const override { return "CREATE_CHILD_SA(rekey IKE SA)"; }
    [[nodiscard]] bool ike_level() const override { return true; }

    task_status build_request(ike_sa& sa, message& m) override {
        if (sa.state() != ike_sa_state::established && sa.state() != ike_sa_state::rekeying) {
            sa.log(log_level::info, fmt::format("IKE SA is {}, no rekey", to_string(sa.state())));
            return task_status::failed;
        }
        sa.transition(ike_sa_state::rekeying);
        if (_spi == ike_spi{}) {
            do {
                while (sa.svc.rng.fill(_spi)) {}
            } while (_spi == ike_spi{});
            _nonce = random_bytes(sa, nonce_size);
        }
        if (_group == dh_group::none)
            _group = proposals_contain_group(sa.ike_proposals, sa.ike_suite.dh) ? sa.ike_suite.dh
                                                                                : first_dh_group(sa.ike_proposals);
        auto ke = sa.svc.ke_factory.create(static_cast<crypto::dh_group>(_group));
        if (!ke) {
            sa.transition(ike_sa_state::established);
            sa.fail(fmt::format("cannot create a {} key exchange: {}", to_string(_group), ke.error().message()));
            return task_status::failed;
        }
        _ke = std::move(*ke);
        _offered = sa.ike_proposals;
        for (auto& p : _offered) p.spi.assign(_spi.begin(), _spi.end());
        auto& e = m.encrypted;
        e.push_back(make_payload(sa_payload{_offered}));
        e.push_back(make_payload(nonce_payload{_nonce}));
        auto pub = _ke->public_value();
        e.push_back(make_payload(ke_payload{_group, bytes(pub.begin(), pub.end())}));
        return task_status::done;
    }

    task_status process_response(ike_sa& sa, const message& m) override {
        if (const auto* n = find_notify(m, notify_type::invalid_ke_payload)) {
            base::reader r(n->data);
            auto g = static_cast<dh_group>(r.read_u16());
            if (r.ok() && !_retried && g != _group && proposals_contain_group(sa.ike_proposals, g)) {
                sa.log(log_level::info, fmt::format("IKE SA rekey: peer requests {}, retrying", to_string(g)));
                _retried = true;
                _group = g;
                return task_status::retry;
            }
            return give_up(sa, fmt::format("IKE SA rekey failed: INVALID_KE_PAYLOAD, peer requests {}", to_string(g)));
        }
        if (const auto* n = first_error_notify(m)) {
            if (peer_rekey_stands(sa)) return task_status::done;
            sa.log(log_level::info, fmt::format("IKE SA rekey: peer answered {}, retrying later", to_string(n->type)));
            sa.transition(ike_sa_state::established);
            retry_rekey_later(sa);
            return task_status::done;
        }
        const auto* sa_p = find_payload(m, payload_type::sa);
        const auto* ke_p = find_payload(m, payload_type::ke);
        const auto* n_p = find_payload(m, payload_type::nonce);
        if (!sa_p || !ke_p || !n_p) return give_up(sa, "IKE SA rekey response lacks SA, KE or Nr");
        const auto& props = sa_p->as<sa_payload>()->proposals;
        if (props.size() != 1 || props.front().protocol != protocol_id::ike)
            return give_up(sa, "IKE SA rekey response must carry exactly one IKE proposal");
        if (auto err = check_selected_proposal(props.front(), _offered)) return give_up(sa, "IKE SA rekey: " + *err);
        std::string why;
        auto suite = suite_of(props.front(), &why);
        auto spi_r = spi8(props.front().spi);
        if (!suite) return give_up(sa, "IKE SA rekey: " + why);
        if (!spi_r) return give_up(sa, "IKE SA rekey: responder's SPI is not 8 non-zero bytes");
        const auto& ke = *ke_p->as<ke_payload>();
        if (ke.group != suite->dh || ke.group != _group) return give_up(sa, "IKE SA rekey: responder's KE group mismatch");
        auto g_ir = _ke->shared_secret(ke.data);
        if (!g_ir) return give_up(sa, "IKE SA rekey: responder's KE value rejected: " + g_ir.error().message());
        const auto& nr = n_p->as<nonce_payload>()->data;

        ike_sa* fresh = sa.svc.create_sa ? sa.svc.create_sa(sa.cfg, true) : nullptr;
        if (!fresh) return give_up(sa, "IKE SA rekey: cannot create the new IKE SA");
        fresh->spi_i = _spi;
        fresh->spi_r = *spi_r;
        if (auto err = set_up(sa, *fresh, *suite, proposal_to_string(props.front()), g_ir->view(), _nonce, nr)) {
            fresh->destroy("key derivation failed");
            return give_up(sa, "IKE SA rekey: " + *err);
        }
        ike_sa* theirs = sa.peer_rekey_id && sa.svc.find_sa ? sa.svc.find_sa(sa.peer_rekey_id) : nullptr;
        if (theirs && !theirs->destroyed() && lex_less(fresh->rekey_nonce_min, theirs->rekey_nonce_min)) {
            // 2.8.2: our exchange had the lowest nonce: the peer's new SA stands, ours goes.
            sa.log(log_level::info, fmt::format("IKE SA rekey collision lost: deleting our redundant ike[{}]",
                                                fresh->unique_id));
            move_children(sa, *theirs);
            sa.peer_rekey_id = 0;
            sa.transition(ike_sa_state::rekeyed);
            fresh->rekey_at.reset();
            fresh->tasks.queue(make_ike_delete_task());
            fresh->tasks.initiate();
            return task_status::done;
        }
        if (theirs) sa.log(log_level::info, "IKE SA rekey collision won: the peer deletes its redundant IKE SA");
        sa.peer_rekey_id = 0;  // the peer deletes that one
        move_children(sa, *fresh);
        sa.transition(ike_sa_state::rekeyed);
        sa.tasks.queue(make_ike_delete_task());
        return task_status::done;
    }

    void timed_out(ike_sa& sa) override { peer_rekey_stands(sa); }

private:
    // After a crossing rekey of the peer that we answered, that SA takes the CHILD SAs when ours
    // does not complete.
    static bool peer_rekey_stands(ike_sa& sa) {
        if (!move_children_to_peer_rekey(sa)) return false;
        sa.transition(ike_sa_state::rekeyed);
        return true;
    }

    task_status give_up(ike_sa& sa, std::string why) {
        if (!peer_rekey_stands(sa)) {
            sa.transition(ike_sa_state::established);
            retry_rekey_later(sa);
        }
        sa.fail(std::move(why));
        return task_status::failed;
    }

    ike_spi _spi{};
    std::vector<std::uint8_t> _nonce;
    dh_group _group = dh_group::none;
    std::unique_ptr<crypto::key_exchange> _ke;
    std::vector<proposal> _offered;
    bool _retried = false;
};

} // namespace

std::unique_ptr<task> make_ike_rekey_task() { return std::make_unique<ike_rekey_task>(); }

bool respond_ike_rekey(ike_sa& sa, const message& req, message& resp) {
    auto& e = resp.encrypted;
    bool collision = sa.state() == ike_sa_state::rekeying;
    // RFC 7296 2.25: not while we create or rekey a CHILD SA on it (that exchange would end on
    // an SA that lost its CHILD SAs), nor when it is on its way out. Deletes and liveness checks
    // in flight are fine: they find moved CHILD SAs through the successor.
    bool child_busy = std::any_of(sa.children.begin(), sa.children.end(), [](const auto& c) {
        return c->sm.state() == child_sa_state::created || c->sm.state() == child_sa_state::rekeying;
    });
    if (!collision && (sa.state() != ike_sa_state::established || child_busy)) {
        sa.log(log_level::info, fmt::format("peer rekeys the IKE SA while it is {}{}: TEMPORARY_FAILURE",
                                            to_string(sa.state()), child_busy ? " with a CHILD SA exchange" : ""));
        e.push_back(make_notify(notify_type::temporary_failure));
        return true;
    }
    const auto& offered = find_payload(req, payload_type::sa)->as<sa_payload>()->proposals;
    auto chosen = select_proposal(sa.ike_proposals, offered);
    std::string why;
    std::optional<negotiated_suite> suite;
    if (chosen) suite = suite_of(*chosen, &why);
    auto spi_i = chosen ? spi8(chosen->spi) : std::nullopt;
    if (!chosen || !suite || !spi_i) {
        sa.fail(fmt::format("IKE SA rekey: NO_PROPOSAL_CHOSEN: peer offered {}, we accept {}{}",
                            proposals_to_string(offered), proposals_to_string(sa.ike_proposals),
                            chosen && suite ? " (bad SPI)" : why.empty() ? "" : " (" + why + ")"));
        e.push_back(make_notify(notify_type::no_proposal_chosen));
        return true;
    }
    const auto* ke_p = find_payload(req, payload_type::ke);
    if (!ke_p || ke_p->as<ke_payload>()->group != suite->dh) {
        base::writer w;
        w.u16(static_cast<std::uint16_t>(suite->dh));
        sa.log(log_level::info, fmt::format("IKE SA rekey: {} required, INVALID_KE_PAYLOAD", to_string(suite->dh)));
        e.push_back(make_notify(notify_type::invalid_ke_payload, w.take()));
        return true;
    }
    auto our_ke = sa.svc.ke_factory.create(static_cast<crypto::dh_group>(suite->dh));
    if (!our_ke) {
        sa.fail("IKE SA rekey: cannot create key exchange: " + our_ke.error().message());
        e.push_back(make_notify(notify_type::no_proposal_chosen));
        return true;
    }
    auto g_ir = (*our_ke)->shared_secret(ke_p->as<ke_payload>()->data);
    if (!g_ir) {
        sa.fail("IKE SA rekey: peer's KE value rejected: " + g_ir.error().message());
        e.push_back(make_notify(notify_type::no_proposal_chosen));
        return true;
    }
    ike_sa* fresh = sa.svc.create_sa ? sa.svc.create_sa(sa.cfg, false) : nullptr;
    if (!fresh) {
        e.push_back(make_notify(notify_type::temporary_failure));
        return true;
    }
    fresh->spi_i = *spi_i;
    const auto& ni = find_payload(req, payload_type::nonce)->as<nonce_payload>()->data;
    auto nr = random_bytes(sa, nonce_size);
    if (auto err = set_up(sa, *fresh, *suite, proposal_to_string(*chosen), g_ir->view(), ni, nr)) {
        fresh->destroy("key derivation failed");
        sa.fail("IKE SA rekey: " + *err);
        e.push_back(make_notify(notify_type::no_proposal_chosen));
        return true;
    }
    proposal reply = *chosen;
    reply.spi.assign(fresh->spi_r.begin(), fresh->spi_r.end());
    e.push_back(make_payload(sa_payload{{reply}}));
    e.push_back(make_payload(nonce_payload{nr}));
    auto pub = (*our_ke)->public_value();
    e.push_back(make_payload(ke_payload{suite->dh, bytes(pub.begin(), pub.end())}));
    if (collision) {
        // 2.8.2: our own rekey is outstanding; its response decides which new SA stays.
        sa.peer_rekey_id = fresh->unique_id;
        sa.log(log_level::info, fmt::format("the peer's IKE SA rekey crossed ours (its SA is ike[{}])", fresh->unique_id));
        return true;
    }
    sa.log(log_level::info, fmt::format("IKE SA rekeyed by the peer to ike[{}]", fresh->unique_id));
    move_children(sa, *fresh);
    sa.transition(ike_sa_state::rekeyed);
    return true;
}

} // namespace ike
