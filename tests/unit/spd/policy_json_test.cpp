// The policy JSON format (ipsec-vector spd-classify, ipsecd static config): values, defaults,
// and error messages that name the policy and the field.
#include "spd_test_util.hpp"

#include <spd/policy_json.hpp>

#include <catch2/catch.hpp>

using namespace spd;
using Catch::Matchers::Contains;

TEST_CASE("policy JSON: the documented example parses with every field", "[spd][json]") {
    auto set = parse_policy_json(R"({"default": "discard", "policies": [
        {"name": "p1", "priority": 100, "direction": "out", "src": ["10.1.0.0/24"],
         "dst": ["10.2.0.0/16", "2001:db8:2::/48"], "proto": "tcp", "sport": "0-65535", "dport": "443",
         "action": "protect", "sa": "out5"},
        {"name": "p2", "direction": "in", "proto": 47, "action": "bypass"},
        {"name": "p3", "proto": "udp", "dport": "1000-2000", "sport": 53, "action": "discard"},
        {"name": "p4", "src": "192.0.2.0/24", "proto": "17", "action": "protect", "sa": 12}]})");
    CHECK(set.default_action == action::discard);
    REQUIRE(set.policies.size() == 4);
    const auto& p1 = set.policies[0];
    CHECK(p1.name == "p1");
    CHECK(p1.priority == 100);
    CHECK(p1.dir == direction::out);
    CHECK(p1.src == std::vector<ip_prefix>{spd_test::pfx("10.1.0.0/24")});
    CHECK(p1.dst.size() == 2);
    CHECK(p1.proto == proto_tcp);
    CHECK(p1.sport.is_any());
    CHECK(p1.dport == port_range{443, 443});
    CHECK(p1.act == action::protect);
    CHECK(p1.sa == "out5");
    CHECK(p1.sa_handle == no_sa);
    const auto& p2 = set.policies[1];
    CHECK(p2.priority == 0);
    CHECK(p2.dir == direction::in);
    CHECK(p2.src.empty());
    CHECK(p2.proto == 47);
    const auto& p3 = set.policies[2];
    CHECK(p3.dir == direction::out);
    CHECK(p3.dport == port_range{1000, 2000});
    CHECK(p3.sport == port_range{53, 53});
    CHECK(set.policies[3].src.size() == 1);
    CHECK(set.policies[3].proto == proto_udp);
    CHECK(set.policies[3].sa_handle == 12);
    CHECK(parse_policy_json(R"({"policies": []})").default_action == action::bypass);
}

TEST_CASE("policy JSON: errors name the policy and the field", "[spd][json]") {
    struct bad { const char* json; const char* expect1; const char* expect2; };
    const bad cases[] = {
        {R"({"policies": [{"name": "p1", "src": ["10.1.0.0/33"], "action": "bypass"}]})", "\"p1\"", "\"src\""},
        {R"({"policies": [{"name": "p1", "dst": ["10.1.0.1/24"], "action": "bypass"}]})", "\"p1\"", "\"dst\""},
        {R"({"policies": [{"name": "a", "action": "bypass"}, {"name": "web", "dst": "2001:db8::/129", "action": "bypass"}]})", "\"web\"", "\"dst\""},
        {R"({"policies": [{"name": "p1", "src": [], "action": "bypass"}]})", "\"p1\"", "\"src\""},
        {R"({"policies": [{"name": "p1", "src": [17], "action": "bypass"}]})", "\"p1\"", "\"src\""},
        {R"({"policies": [{"name": "p1", "proto": "tcpp", "action": "bypass"}]})", "\"p1\"", "\"proto\""},
        {R"({"policies": [{"name": "p1", "proto": 256, "action": "bypass"}]})", "\"p1\"", "\"proto\""},
        {R"({"policies": [{"name": "p1", "dport": "2000-1000", "action": "bypass"}]})", "\"p1\"", "\"dport\""},
        {R"({"policies": [{"name": "p1", "sport": 70000, "action": "bypass"}]})", "\"p1\"", "\"sport\""},
        {R"({"policies": [{"name": "p1", "proto": "icmp", "dport": "80", "action": "bypass"}]})", "\"p1\"", "\"dport\""},
        {R"({"policies": [{"name": "p1", "action": "encrypt"}]})", "\"p1\"", "\"action\""},
        {R"({"policies": [{"name": "p1"}]})", "\"p1\"", "\"action\""},
        {R"({"policies": [{"name": "p1", "direction": "both", "action": "bypass"}]})", "\"p1\"", "\"direction\""},
        {R"({"policies": [{"name": "p1", "priority": -1, "action": "bypass"}]})", "\"p1\"", "\"priority\""},
        {R"({"policies": [{"name": "p1", "priority": 1.5, "action": "bypass"}]})", "\"p1\"", "\"priority\""},
        {R"({"policies": [{"name": "p1", "dports": "80", "action": "bypass"}]})", "\"p1\"", "\"dports\""},
        {R"({"policies": [{"name": "p1", "action": "bypass", "sa": "x"}]})", "\"p1\"", "\"sa\""},
        {R"({"policies": [{"name": "p1", "action": "bypass"}, {"name": "p1", "action": "discard"}]})", "\"p1\"", "\"name\""},
        {R"({"policies": [{"action": "bypass"}]})", "policy #0", "\"name\""},
        {R"({"policies": [{"name": "", "action": "bypass"}]})", "policy #0", "\"name\""},
        {R"({"policies": [3]})", "policy #0", "object"},
        {R"({"default": "protect", "policies": []})", "policies", "\"default\""},
        {R"({"policies": {}})", "policies", "\"policies\""},
        {R"({"policy": []})", "policies", "policy"},
        {R"({})", "policies", "\"policies\""},
        {R"([])", "policies", "object"},
        {R"({"policies": [{"name": "p1", "action": "bypass"})", "policies", "bad JSON"},
        {"", "policies", "bad JSON"},
    };
    for (const auto& c : cases) {
        INFO(c.json);
        try {
            parse_policy_json(std::string_view(c.json));
            FAIL("accepted");
        } catch (const policy_error& e) {
            CHECK_THAT(e.what(), Contains(c.expect1) && Contains(c.expect2));
        }
    }
}
