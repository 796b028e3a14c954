#include <ike/sa_state.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

TEST_CASE("IKE SA state changes follow the transition table and are logged", "[ike][sa_state]") {
    std::vector<std::string> log;
    auto sink = [&](std::string_view s) { log.emplace_back(s); };
    ike::sa_state_machine<ike::ike_sa_state> sm(ike::ike_sa_state::created);
    CHECK(sm.transition(ike::ike_sa_state::init_sent, sink));
    CHECK(sm.transition(ike::ike_sa_state::init_done, sink));
    CHECK(sm.transition(ike::ike_sa_state::auth_sent, sink));
    CHECK(sm.transition(ike::ike_sa_state::established, sink));
    REQUIRE(log.size() == 4);
    CHECK(log[0] == "created -> init_sent");
    CHECK(log[3] == "auth_sent -> established");
    // established -> init_sent is not in the table: refused, state kept, refusal logged.
    CHECK_FALSE(sm.transition(ike::ike_sa_state::init_sent, sink));
    CHECK(sm.state() == ike::ike_sa_state::established);
    CHECK(log.back() == "refused state change established -> init_sent");
    CHECK(sm.transition(ike::ike_sa_state::deleting, sink));
    CHECK(sm.transition(ike::ike_sa_state::destroyed, sink));
    // destroyed is final.
    for (auto s : {ike::ike_sa_state::created, ike::ike_sa_state::established, ike::ike_sa_state::deleting})
        CHECK_FALSE(ike::transition_allowed(ike::ike_sa_state::destroyed, s));
}

TEST_CASE("CHILD SA states: only installed SAs can be rekeyed or deleted", "[ike][sa_state]") {
    using C = ike::child_sa_state;
    CHECK(ike::transition_allowed(C::created, C::installed));
    CHECK_FALSE(ike::transition_allowed(C::created, C::rekeying));
    CHECK(ike::transition_allowed(C::installed, C::deleting));
    CHECK_FALSE(ike::transition_allowed(C::destroyed, C::installed));
    CHECK(ike::to_string(C::rekeyed) == "rekeyed");
}
