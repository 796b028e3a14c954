// Allowed-transition tables for IKE and CHILD SAs. Every change goes through these tables;
// anything else is a bug in a task and is refused (see sa_state_machine::transition).
#include "ike/sa_state.hpp"

#include <array>
#include <utility>

namespace ike {

std::string_view to_string(ike_sa_state s) {
    switch (s) {
    case ike_sa_state::created: return "created";
    case ike_sa_state::init_sent: return "init_sent";
    case ike_sa_state::init_done: return "init_done";
    case ike_sa_state::auth_sent: return "auth_sent";
    case ike_sa_state::established: return "established";
    case ike_sa_state::rekeying: return "rekeying";
    case ike_sa_state::rekeyed: return "rekeyed";
    case ike_sa_state::deleting: return "deleting";
    case ike_sa_state::destroyed: return "destroyed";
    }
    return "?";
}

std::string_view to_string(child_sa_state s) {
    switch (s) {
    case child_sa_state::created: return "created";
    case child_sa_state::installed: return "installed";
    case child_sa_state::rekeying: return "rekeying";
    case child_sa_state::rekeyed: return "rekeyed";
    case child_sa_state::deleting: return "deleting";
    case child_sa_state::destroyed: return "destroyed";
    }
    return "?";
}

namespace {
using I = ike_sa_state;
// Every state may go to destroyed (fatal error, timeout, peer delete); listed explicitly anyway.
constexpr std::array<std::pair<I, I>, 23> ike_table{{
    {I::created, I::init_sent},      // initiator sends IKE_SA_INIT
    {I::created, I::init_done},      // responder answered IKE_SA_INIT
    {I::created, I::destroyed},
    {I::created, I::established},    // IKE SA rekey: keys from the old SA's SK_d (2.18)
    {I::init_sent, I::init_sent},    // retry after INVALID_KE_PAYLOAD / COOKIE
    {I::init_sent, I::init_done},    // initiator processed IKE_SA_INIT response
    {I::init_sent, I::destroyed},
    {I::init_done, I::auth_sent},    // initiator sends IKE_AUTH
    {I::init_done, I::established},  // responder verified IKE_AUTH
    {I::init_done, I::destroyed},
    {I::auth_sent, I::established},  // initiator verified IKE_AUTH response
    {I::auth_sent, I::destroyed},
    {I::established, I::rekeying},
    {I::established, I::rekeyed},    // IKE SA rekey responder: the peer replaced it
    {I::established, I::deleting},
    {I::established, I::destroyed},  // peer deleted us / liveness failed
    {I::rekeying, I::established},   // rekey failed or collision lost, SA kept
    {I::rekeying, I::rekeyed},
    {I::rekeying, I::deleting},
    {I::rekeying, I::destroyed},     // deleted by the peer / peer dead while our rekey ran
    {I::rekeyed, I::deleting},
    {I::rekeyed, I::destroyed},
    {I::deleting, I::destroyed},
}};

using C = child_sa_state;
constexpr std::array<std::pair<C, C>, 13> child_table{{
    {C::created, C::installed},
    {C::created, C::destroyed},
    {C::installed, C::rekeying},
    {C::installed, C::rekeyed},     // rekey responder: the peer replaced it
    {C::installed, C::deleting},
    {C::installed, C::destroyed},   // peer deleted it, IKE SA gone
    {C::rekeying, C::installed},    // rekey failed / lost the collision
    {C::rekeying, C::rekeyed},
    {C::rekeying, C::deleting},
    {C::rekeying, C::destroyed},
    {C::rekeyed, C::deleting},
    {C::rekeyed, C::destroyed},
    {C::deleting, C::destroyed},
}};

template <class T, std::size_t N>
bool in_table(const std::array<std::pair<T, T>, N>& t, T from, T to) {
    for (const auto& [a, b] : t)
        if (a == from && b == to) return true;
    return false;
}
} // namespace

bool transition_allowed(ike_sa_state from, ike_sa_state to) { return in_table(ike_table, from, to); }
bool transition_allowed(child_sa_state from, child_sa_state to) { return in_table(child_table, from, to); }

} // namespace ike
