#pragma once
// One exchange = one task (STYLE.md "State machines", strongSwan's task model). The task manager
// (task_manager.hpp) owns message IDs, the window and retransmission; a task only builds and
// processes payloads:
//   initiator: build_request() -> [request sent, retransmitted] -> process_response()
//   responder: respond() builds the response from a validated request.
// Messages reaching a task have passed the codec's per-exchange payload table and, for
// protected exchanges, the ICV check (ike_sa::receive).
#include "ike/config.hpp"
#include "ike/message.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace ike {

class ike_sa;

enum class task_status {
    done,      // exchange complete
    failed,    // exchange failed; the task manager destroys the IKE SA when fatal() says so
    retry,     // initiator: send a new request for this task (INVALID_KE_PAYLOAD, COOKIE)
};

class task {
public:
    virtual ~task() = default;
    [[nodiscard]] virtual exchange_type exchange() const = 0;
    [[nodiscard]] virtual std::string_view name() const = 0;

    // Initiator: fill the payloads of the request (the header is the task manager's). `failed`
    // aborts before anything is sent.
    virtual task_status build_request(ike_sa& sa, message& request) = 0;
    // Initiator: the response to our request.
    virtual task_status process_response(ike_sa& sa, const message& response) = 0;
    // Whether a failure of this task takes the IKE SA down (true for IKE_SA_INIT / IKE_AUTH).
    [[nodiscard]] virtual bool fatal() const { return false; }
    // Initiator: the request went unanswered through the whole retransmission schedule.
    virtual void timed_out(ike_sa&) {}
    // About the IKE SA itself (rekey, delete): stays with it when its CHILD SAs move to a new one.
    [[nodiscard]] virtual bool ike_level() const { return false; }
};

// Responder side: builds the response to one validated request. Returns false when the IKE SA
// must be destroyed after the response is sent (e.g. AUTHENTICATION_FAILED, IKE SA deleted).
using responder_fn = bool (*)(ike_sa& sa, const message& request, message& response);

// The exchanges (exchange_*.cpp).
std::unique_ptr<task> make_ike_init_task();
std::unique_ptr<task> make_ike_auth_task();
// Reauthentication (RFC 7296 2.8.3, reauth.cpp): a CHILD SA of the old IKE SA to recreate on the
// new one, with its traffic selectors (ours first) and its reqid (make-before-break in the
// installer, sa_installer.hpp).
struct child_spec {
    std::vector<traffic_selector> ts_local, ts_remote;
    std::uint32_t reqid = 0;
};
// IKE_AUTH whose first CHILD SA is `first` (the configured selectors when empty), with
// N(INITIAL_CONTACT) only when `initial_contact` and the configuration sends it.
std::unique_ptr<task> make_ike_auth_task(std::optional<child_spec> first, bool initial_contact);
// CREATE_CHILD_SA recreating one CHILD SA of a reauthenticated IKE SA.
std::unique_ptr<task> make_child_recreate_task(child_spec spec);
// CREATE_CHILD_SA for an additional CHILD SA; PFS when the ESP proposals carry a DH group.
// Traffic selectors: the configured ones, or `local_ts` / `peer_ts` where given (non-empty), e.g.
// only the pairs a modified configuration added (ipsecd), so existing CHILD SAs stay untouched.
std::unique_ptr<task> make_child_create_task(std::vector<cidr> local_ts = {}, std::vector<cidr> peer_ts = {});
std::unique_ptr<task> make_child_delete_task(std::uint32_t reqid);
// CREATE_CHILD_SA { N(REKEY_SA), ... } for the CHILD SA whose inbound SPI is `spi_in`.
std::unique_ptr<task> make_child_rekey_task(std::uint32_t spi_in);
// INFORMATIONAL { D(ESP) } for one CHILD SA by its inbound SPI (the old SA after a rekey, or the
// redundant one after a rekey collision); a rekeyed SA's inbound half stays for the grace period.
std::unique_ptr<task> make_child_delete_spi_task(std::uint32_t spi_in);
// INFORMATIONAL { D(ESP, spi_in) } for a CHILD SA already removed here (hard lifetime).
std::unique_ptr<task> make_removed_child_delete_task(std::uint32_t spi_in);
std::unique_ptr<task> make_ike_delete_task();
// CREATE_CHILD_SA { SA(IKE), Ni, KEi }: rekeys this IKE SA (exchange_ike_rekey.cpp).
std::unique_ptr<task> make_ike_rekey_task();
std::unique_ptr<task> make_liveness_task();

bool respond_ike_init(ike_sa& sa, const message& request, message& response);
bool respond_ike_auth(ike_sa& sa, const message& request, message& response);
bool respond_child_create(ike_sa& sa, const message& request, message& response);
bool respond_child_rekey(ike_sa& sa, const message& request, message& response);
bool respond_ike_rekey(ike_sa& sa, const message& request, message& response);
bool respond_informational(ike_sa& sa, const message& request, message& response);

} // namespace ike
