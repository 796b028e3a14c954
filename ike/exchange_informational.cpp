// INFORMATIONAL exchanges (RFC 7296 1.4, 1.5): DELETE of CHILD SAs and of the IKE SA, and the
// empty liveness check.
//
//   HDR, SK { D(ESP, SPI) }  -->          <--  HDR, SK { D(ESP, SPI') }
//   HDR, SK { D(IKE) }       -->          <--  HDR, SK { }
//   HDR, SK { }              -->          <--  HDR, SK { }
#include "exchange_common.hpp"
#include "ike/task.hpp"

#include <base/hex.hpp>

#include <fmt/format.h>

namespace ike {
namespace {

using namespace detail;

// By reqid (an API request: the newest CHILD SA of that reqid) or by inbound SPI (a rekeyed or
// redundant CHILD SA).
class child_delete_task final : public task {
public:
    child_delete_task(std::uint32_t reqid, std::uint32_t spi_in, bool removed = false)
        : _reqid(reqid), _spi(spi_in), _removed(removed) {}
    [[nodiscard]] exchange_type exchange() const override { return exchange_type::informational; }
    [[nodiscard]] std::string_view name() const override { return "INFORMATIONAL(delete CHILD SA)"; }

    task_status build_request(ike_sa& sa, message& m) override {
        if (_removed) {
            // Already gone here (hard lifetime): only the peer's half is left to delete.
            m.encrypted.push_back(make_payload(delete_payload{protocol_id::esp, 4, {spi_bytes(_spi)}}));
            return task_status::done;
        }
        child_sa* c = _spi ? sa.find_child_by_spi_in(_spi) : sa.find_child_by_reqid(_reqid);
        // By SPI a DELETE may be sent again: the first went out on an IKE SA that was rekeyed
        // (and deleted) before it was answered (move_children).
        if (!c || (c->sm.state() == child_sa_state::deleting && !_spi)) {
            sa.log(log_level::info, fmt::format("no CHILD SA {} {} to delete", _spi ? "SPI" : "reqid",
                                                _spi ? fmt::format("{:08x}", _spi) : std::to_string(_reqid)));
            return task_status::failed;
        }
        _spi = c->spi_in;
        _rekeyed = c->sm.state() == child_sa_state::rekeyed ||
                   (c->sm.state() == child_sa_state::deleting && !c->outbound_installed);
        c->rekey_at.reset();
        c->expire_at.reset();
        c->sm.transition(child_sa_state::deleting, [&](std::string_view s) {
            sa.log(log_level::debug, fmt::format("CHILD reqid {}: {}", c->reqid, s));
        });
        m.encrypted.push_back(make_payload(delete_payload{protocol_id::esp, 4, {spi_bytes(c->spi_in)}}));
        return task_status::done;
    }

    task_status process_response(ike_sa& sa, const message&) override {
        // RFC 7296 1.4.1: the response's D lists the peer's inbound SPIs of the pair; whatever it
        // says, our half of the pair is gone once we asked.
        if (_removed) return task_status::done;
        auto [owner, c] = sa.locate_child_spi_in(_spi);
        if (!c) return task_status::done;
        child_sa_remove_outbound(*owner, *c);
        if (_rekeyed && c->installed && sa.cfg.rekeyed_inbound_grace.count() > 0) {
            // The old inbound SA of a rekey stays a little for packets already on their way.
            c->remove_at = sa.svc.time.now() + sa.cfg.rekeyed_inbound_grace;
        } else {
            child_sa_remove(*owner, *c);
        }
        return task_status::done;
    }

    void timed_out(ike_sa& sa) override {
        if (_removed) return;
        if (auto [owner, c] = sa.locate_child_spi_in(_spi); c) child_sa_remove(*owner, *c);
    }

private:
    std::uint32_t _reqid;
    std::uint32_t _spi;
    bool _removed;
    bool _rekeyed = false;
};

class ike_delete_task final : public task {
public:
    [[nodiscard]] exchange_type exchange() const override { return exchange_type::informational; }
    [[nodiscard]] std::string_view name() const override { return "INFORMATIONAL(delete IKE SA)"; }
    [[nodiscard]] bool ike_level() const override { return true; }

    task_status build_request(ike_sa& sa, message& m) override {
        sa.transition(ike_sa_state::deleting);
        m.encrypted.push_back(make_payload(delete_payload{protocol_id::ike, 0, {}}));
        return task_status::done;
    }
    task_status process_response(ike_sa& sa, const message&) override {
        sa.destroy("deleted by us");
        return task_status::done;
    }
};

class liveness_task final : public task {
public:
    [[nodiscard]] exchange_type exchange() const override { return exchange_type::informational; }
    [[nodiscard]] std::string_view name() const override { return "INFORMATIONAL(liveness)"; }
    task_status build_request(ike_sa&, message&) override { return task_status::done; }
    task_status process_response(ike_sa& sa, const message&) override {
        sa.log(log_level::debug, "liveness check answered");
        return task_status::done;
    }
};

} // namespace

std::unique_ptr<task> make_child_delete_task(std::uint32_t reqid) { return std::make_unique<child_delete_task>(reqid, 0); }
std::unique_ptr<task> make_child_delete_spi_task(std::uint32_t spi_in) {
    return std::make_unique<child_delete_task>(0, spi_in);
}
std::unique_ptr<task> make_removed_child_delete_task(std::uint32_t spi_in) {
    return std::make_unique<child_delete_task>(0, spi_in, true);
}
std::unique_ptr<task> make_ike_delete_task() { return std::make_unique<ike_delete_task>(); }
std::unique_ptr<task> make_liveness_task() { return std::make_unique<liveness_task>(); }

bool respond_informational(ike_sa& sa, const message& req, message& resp) {
    bool keep = true;
    std::vector<bytes> our_spis;
    for (const auto* d : all_of<delete_payload>(req)) {
        if (d->protocol == protocol_id::ike) {
            sa.log(log_level::info, "peer deleted the IKE SA");
            move_children_to_peer_rekey(sa);
            keep = false;
            continue;
        }
        if (d->protocol != protocol_id::esp) continue;
        for (const auto& s : d->spis) {
            auto spi = spi_from(s);
            auto [owner, c] = spi ? sa.locate_child_spi_out(*spi) : std::pair<ike_sa*, child_sa*>{};
            if (!c) {
                sa.log(log_level::info, fmt::format("peer deleted unknown CHILD SA {}", base::to_hex(s)));
                continue;
            }
            sa.log(log_level::info, fmt::format("peer deleted CHILD SA reqid {} ({:08x}_i)", c->reqid, c->spi_in));
            // RFC 7296 1.4.1: our own DELETE of it crossed this one: the outbound SA goes now, the
            // inbound one with our request's response, and this response names no SPI for it.
            if (c->sm.state() == child_sa_state::deleting) {
                child_sa_remove_outbound(*owner, *c);
                continue;
            }
            our_spis.push_back(spi_bytes(c->spi_in));
            // A rekey we answered: the initiator deletes the old CHILD SA only once it has the new
            // inbound SA, so our new outbound SA may carry traffic from now on (2.8).
            for (auto& n : owner->children)
                if (n->rekeys_spi == c->spi_in && n->pending_outbound && n->sm.state() != child_sa_state::destroyed)
                    child_sa_install_outbound(*owner, *n);
            child_sa_remove(*owner, *c);
        }
    }
    for (const auto* n : all_of<notify_payload>(req)) {
        if (n->type == notify_type::authentication_failed) {
            // RFC 7296 2.21.2: the initiator could not authenticate us.
            sa.fail("peer reported AUTHENTICATION_FAILED");
            keep = false;
        } else {
            sa.log(log_level::info, "peer notified " + to_string(n->type));
        }
    }
    if (keep && !our_spis.empty())
        resp.encrypted.push_back(make_payload(delete_payload{protocol_id::esp, 4, std::move(our_spis)}));
    return keep;
}

} // namespace ike
