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

class child_delete_task final : public task {
public:
    explicit child_delete_task(std::uint32_t reqid) : _reqid(reqid) {}
    [[nodiscard]] exchange_type exchange() const override { return exchange_type::informational; }
    [[nodiscard]] std::string_view name() const override { return "INFORMATIONAL(delete CHILD SA)"; }

    task_status build_request(ike_sa& sa, message& m) override {
        child_sa* c = sa.find_child_by_reqid(_reqid);
        if (!c) {
            sa.log(log_level::warning, fmt::format("no CHILD SA with reqid {} to delete", _reqid));
            return task_status::failed;
        }
        c->sm.transition(child_sa_state::deleting, [&](std::string_view s) {
            sa.log(log_level::debug, fmt::format("CHILD reqid {}: {}", _reqid, s));
        });
        m.encrypted.push_back(make_payload(delete_payload{protocol_id::esp, 4, {spi_bytes(c->spi_in)}}));
        return task_status::done;
    }

    task_status process_response(ike_sa& sa, const message&) override {
        // RFC 7296 1.4.1: the response's D lists the peer's inbound SPIs of the pair; whatever it
        // says, our half of the pair is gone once we asked.
        if (child_sa* c = sa.find_child_by_reqid(_reqid)) child_sa_remove(sa, *c);
        return task_status::done;
    }

    void timed_out(ike_sa& sa) override {
        if (child_sa* c = sa.find_child_by_reqid(_reqid)) child_sa_remove(sa, *c);
    }

private:
    std::uint32_t _reqid;
};

class ike_delete_task final : public task {
public:
    [[nodiscard]] exchange_type exchange() const override { return exchange_type::informational; }
    [[nodiscard]] std::string_view name() const override { return "INFORMATIONAL(delete IKE SA)"; }

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

std::unique_ptr<task> make_child_delete_task(std::uint32_t reqid) { return std::make_unique<child_delete_task>(reqid); }
std::unique_ptr<task> make_ike_delete_task() { return std::make_unique<ike_delete_task>(); }
std::unique_ptr<task> make_liveness_task() { return std::make_unique<liveness_task>(); }

bool respond_informational(ike_sa& sa, const message& req, message& resp) {
    bool keep = true;
    std::vector<bytes> our_spis;
    for (const auto* d : all_of<delete_payload>(req)) {
        if (d->protocol == protocol_id::ike) {
            sa.log(log_level::info, "peer deleted the IKE SA");
            keep = false;
            continue;
        }
        if (d->protocol != protocol_id::esp) continue;
        for (const auto& s : d->spis) {
            auto spi = spi_from(s);
            child_sa* c = spi ? sa.find_child_by_spi_out(*spi) : nullptr;
            if (!c) {
                sa.log(log_level::info, fmt::format("peer deleted unknown CHILD SA {}", base::to_hex(s)));
                continue;
            }
            sa.log(log_level::info, fmt::format("peer deleted CHILD SA reqid {}", c->reqid));
            our_spis.push_back(spi_bytes(c->spi_in));
            child_sa_remove(sa, *c);
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
