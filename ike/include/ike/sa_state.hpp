#pragma once
// IKE SA and CHILD SA states (RFC 7296 section 2, strongSwan's ike_sa/child_sa state sets).
// States change only through sa_state_machine::transition(), which checks one allowed-transition
// table per SA kind and logs `a -> b`; a disallowed transition is refused and logged.
// Rekey states are here already for the lifecycle work (rekeying/rekeyed, issue 5).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace ike {

enum class ike_sa_state : std::uint8_t {
    created,      // allocated, nothing sent or received
    init_sent,    // initiator: IKE_SA_INIT request sent
    init_done,    // IKE_SA_INIT completed (keys derived), IKE_AUTH not yet done
    auth_sent,    // initiator: IKE_AUTH request sent
    established,  // IKE_AUTH completed, peer authenticated
    rekeying,     // IKE SA rekey in progress (issue 5)
    rekeyed,      // replaced by a new IKE SA, waiting for delete (issue 5)
    deleting,     // INFORMATIONAL { D } sent or being answered
    destroyed,    // final: state dropped, SAs removed
};

enum class child_sa_state : std::uint8_t {
    created,    // SPI allocated, negotiation under way
    installed,  // inbound + outbound ESP SAs handed to the installer
    rekeying,   // CREATE_CHILD_SA { N(REKEY_SA) } in progress (issue 5)
    rekeyed,    // replaced; old inbound kept for a grace period (issue 5)
    deleting,   // INFORMATIONAL { D } sent
    destroyed,  // final: removed from the installer
};

std::string_view to_string(ike_sa_state s);
std::string_view to_string(child_sa_state s);

bool transition_allowed(ike_sa_state from, ike_sa_state to);
bool transition_allowed(child_sa_state from, child_sa_state to);

using sa_log_fn = std::function<void(std::string_view)>;

// One owner per SA; `log` receives lines like "created -> init_sent" (the caller prefixes the SA).
template <class State>
class sa_state_machine {
public:
    explicit sa_state_machine(State initial) : _state(initial) {}
    [[nodiscard]] State state() const { return _state; }

    // Returns false (and logs) when the table forbids from -> to; the state is then unchanged.
    bool transition(State to, const sa_log_fn& log) {
        if (to == _state) return true;
        if (!transition_allowed(_state, to)) {
            if (log) log(std::string("refused state change ") + std::string(to_string(_state)) + " -> " +
                         std::string(to_string(to)));
            return false;
        }
        if (log) log(std::string(to_string(_state)) + " -> " + std::string(to_string(to)));
        _state = to;
        return true;
    }

private:
    State _state;
};

} // namespace ike
