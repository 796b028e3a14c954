// product_engine (ipsecd's control::engine) against a plain ike::endpoint peer over the in-memory
// transport: apply -> Ready with the SAs in the SA table, status reasons, disabled tunnels,
// remove_tunnel with a DELETE the peer processes. No DPDK, no root.
#include "product_engine.hpp"

#include <dataplane/config.hpp>
#include <ike/transport_memory.hpp>

#include <catch2/catch.hpp>

#include <boost/asio/ip/address.hpp>

using namespace ipsecd;

namespace {

const auto addr_a = boost::asio::ip::make_address("203.0.113.10");
const auto addr_b = boost::asio::ip::make_address("203.0.113.2");

struct counting_installer final : ike::sa_installer {
    std::size_t installed = 0, removed = 0;
    void install_sa(const ike::esp_sa_install&) override { ++installed; }
    void remove_sa(ike::sa_direction, std::uint32_t) override { ++removed; }
};

control::tunnel_plan plan_for(const std::string& uuid, const std::string& psk) {
    control::tunnel_plan p;
    auto& pc = p.peer;
    pc.tunnel_uuid = uuid;
    pc.name = "to-b";
    pc.local_address = *control::ipv4::parse("203.0.113.10");
    pc.peer_address = *control::ipv4::parse("203.0.113.2");
    pc.local_id = {control::id_type::ipv4_addr, "203.0.113.10"};
    pc.remote_id = {control::id_type::ipv4_addr, "203.0.113.2"};
    pc.psk = base::secret_bytes(std::string_view(psk));
    pc.ike = control::ike_proposal("aes-256", "sha256", 2);
    pc.esp = control::esp_proposal("aes-256", "sha256", "dh-group14");
    pc.local_cidrs = {*control::ipv4_cidr::parse("10.1.0.0/24")};
    pc.peer_cidrs = {*control::ipv4_cidr::parse("10.2.0.0/24")};
    p.policies.push_back({uuid, control::policy_direction::out, control::policy_action::protect, pc.local_cidrs[0],
                          pc.peer_cidrs[0], 16});
    p.policies.push_back({uuid, control::policy_direction::in, control::policy_action::protect, pc.peer_cidrs[0],
                          pc.local_cidrs[0], 16});
    return p;
}

ike::peer_config peer_b(const std::string& psk) {
    ike::peer_config c;
    c.name = "site-a";
    c.local_address = addr_b;
    c.peer_address = addr_a;
    c.local_id = *ike::peer_identity::parse("203.0.113.2");
    c.peer_id = *ike::peer_identity::parse("203.0.113.10");
    c.psks.push_back({c.local_id, c.peer_id, base::secret_bytes(std::string_view(psk))});
    c.ike_proposals = {"aes256-sha256-modp1024"};
    c.esp_proposals = {"aes256-sha256-modp2048"};
    c.local_ts = {*ike::cidr::parse("10.2.0.0/24")};
    c.peer_ts = {*ike::cidr::parse("10.1.0.0/24")};
    return c;
}

struct rig {
    ike::memory_network net;
    ike::memory_transport& ta = net.attach(addr_a);
    ike::memory_transport& tb = net.attach(addr_b);
    ike::fake_clock clock;
    dataplane::config cfg;
    std::unique_ptr<dataplane::tables> published;
    std::vector<std::string> daemon_log;
    counting_installer b_installer;
    std::unique_ptr<product_engine> a;
    std::unique_ptr<ike::endpoint> b;

    explicit rig(const std::string& b_psk) {
        product_engine_options o;
        o.publish = [this](const dataplane::dynamic_entries& d) { published = dataplane::build_tables(cfg, d); };
        o.port_of = [](control::ipv4) { return std::optional<std::uint16_t>(1); };
        o.log = [this](std::string_view l) { daemon_log.emplace_back(l); };
        // As ipsecd: the tunnels whose policies the workers flagged in the current snapshot.
        o.acquires = [this] {
            std::vector<std::string> uuids;
            if (published)
                for (auto i : published->take_no_sa_hits()) uuids.push_back(published->policies[i].sa);
            return uuids;
        };
        a = std::make_unique<product_engine>(ta, clock, std::move(o));
        b = std::make_unique<ike::endpoint>(tb, clock, b_installer);
        b->add_peer(peer_b(b_psk));
    }
};

} // namespace

TEST_CASE("product_engine: apply -> Ready, SAs in the snapshot, remove sends DELETE", "[product][engine]") {
    rig r("shared-secret-1");
    REQUIRE_FALSE(r.a->apply_tunnel(plan_for("t1", "shared-secret-1")));
    CHECK(r.a->query_status("t1").status == "Connecting");
    REQUIRE(r.published);
    CHECK(r.published->is_vip(0xCB00710A));  // the tunnel's local address is ours on port 1
    CHECK(r.published->owns_vip(1, 0xCB00710A));

    /* IKE_SA_INIT, IKE_AUTH with the first CHILD SA */
    r.net.flush();
    auto st = r.a->query_status("t1");
    CHECK(st.status == "Ready");
    CHECK(r.b_installer.installed == 2);
    REQUIRE(r.published->out_sas.size() == 1);
    REQUIRE(r.published->in_sas.size() == 1);

    auto sas = r.a->query_sas("t1");
    REQUIRE(sas.size() == 1);
    CHECK(sas[0].state == "ESTABLISHED");
    CHECK(sas[0].initiator);
    CHECK(sas[0].algorithms.find("modp1024") != std::string::npos);
    REQUIRE(sas[0].children.size() == 1);
    CHECK(sas[0].children[0].state == "INSTALLED");
    CHECK(sas[0].children[0].algorithms == "aes256-cbc/sha256-128");
    CHECK(sas[0].children[0].local_ts == std::vector<std::string>{"10.1.0.0/24"});
    auto c = r.a->query_counters("t1");
    CHECK(c.ike_sas == 1);
    CHECK(c.child_sas == 1);

    auto log = r.a->tunnel_log("t1", 100);
    CHECK(log.size() > 3);
    for (const auto& l : log) CHECK(l.find("shared-secret-1") == std::string::npos);
    for (const auto& l : r.daemon_log) CHECK(l.find("shared-secret-1") == std::string::npos);
    CHECK(r.a->tunnel_log("t1", 2).size() == 2);
    CHECK(r.a->tunnel_log("nope", 2).empty());
    CHECK_FALSE(r.a->udp_port_user(*control::ipv4::parse("203.0.113.10"), 500));

    // Modify without an IKE change (same plan): no renegotiation, the SA stays.
    REQUIRE_FALSE(r.a->apply_tunnel(plan_for("t1", "shared-secret-1")));
    CHECK(r.net.queued() == 0);
    CHECK(r.a->query_status("t1").status == "Ready");

    /* INFORMATIONAL { D } --> : the peer deletes its side */
    r.a->remove_tunnel("t1");
    CHECK(r.net.queued() >= 1);
    r.net.flush();
    CHECK(r.b_installer.removed == 2);
    CHECK(r.b->sas().empty());
    CHECK(r.published->out_sas.empty());
    CHECK(r.published->in_sas.empty());
    CHECK(r.published->policies.empty());
    CHECK_FALSE(r.published->is_vip(0xCB00710A));
    CHECK(r.a->query_status("t1").status == "Disconnected");
    CHECK(r.a->reconnect_tunnel("t1"));  // unknown now: an error
}

TEST_CASE("product_engine: reconnect replaces the IKE SA", "[product][engine]") {
    rig r("psk-2");
    REQUIRE_FALSE(r.a->apply_tunnel(plan_for("t1", "psk-2")));
    r.net.flush();
    REQUIRE(r.a->query_status("t1").status == "Ready");
    auto before = r.a->query_sas("t1").at(0).spi_i;
    REQUIRE_FALSE(r.a->reconnect_tunnel("t1"));
    r.net.flush();
    CHECK(r.a->query_status("t1").status == "Ready");
    auto sas = r.a->query_sas("t1");
    REQUIRE(sas.size() == 1);
    CHECK(sas[0].spi_i != before);
    CHECK(r.published->out_sas.size() == 1);
}

TEST_CASE("product_engine: PSK mismatch is the status reason; disabled negotiates nothing", "[product][engine]") {
    rig r("the-other-psk");
    REQUIRE_FALSE(r.a->apply_tunnel(plan_for("t1", "our-psk")));
    r.net.flush();
    for (int i = 0; i < 5 && r.a->query_status("t1").status == "Connecting"; ++i) {
        r.clock.advance(std::chrono::seconds(30));
        r.a->on_timer();
        r.net.flush();
    }
    auto st = r.a->query_status("t1");
    CHECK(st.status != "Ready");
    CHECK(st.reason.find("AUTHENTICATION_FAILED") != std::string::npos);
    CHECK(st.reason.find("our-psk") == std::string::npos);
    CHECK(r.published->out_sas.empty());
    // Outbound traffic of the tunnel meets PROTECT without an SA (dropped, not sent in clear).
    REQUIRE(r.published->policies.size() == 2);

    auto off = plan_for("t2", "x");
    off.peer.enabled = false;
    off.peer.peer_address = *control::ipv4::parse("198.51.100.7");
    off.policies.clear();
    r.net.clear();
    REQUIRE_FALSE(r.a->apply_tunnel(off));
    CHECK(r.net.queued() == 0);
    CHECK(r.a->query_status("t2").status == "Disconnected");
    CHECK(r.a->query_status("t2").reason == "disabled");
    CHECK(r.a->reconnect_tunnel("t2"));  // disabled: refused
    CHECK(r.a->kind() == "ipsecd");
}

TEST_CASE("product_engine: a plan the IKE side cannot take is refused before anything changes", "[product][engine]") {
    rig r("psk");
    auto bad = plan_for("t1", "psk");
    bad.peer.ike.text = "aes256-nosuchhash-modp1024";
    auto e = r.a->apply_tunnel(bad);
    REQUIRE(e);
    CHECK(e->status == 500);
    CHECK(r.a->query_status("t1").status == "Disconnected");
    auto empty_psk = plan_for("t1", "");
    CHECK(r.a->apply_tunnel(empty_psk));
    CHECK(r.net.queued() == 0);
}

namespace {
void add_pair(control::tunnel_plan& p, const char* local, const char* peer) {
    auto l = *control::ipv4_cidr::parse(local), r = *control::ipv4_cidr::parse(peer);
    p.policies.push_back({p.peer.tunnel_uuid, control::policy_direction::out, control::policy_action::protect, l, r, 16});
    p.policies.push_back({p.peer.tunnel_uuid, control::policy_direction::in, control::policy_action::protect, r, l, 16});
}
// The outbound SPI that carries the named outbound policy in what sa_table describes (0: none).
std::uint32_t out_spi_of(product_engine& e, const std::string& policy_name) {
    auto d = e.sas().describe();
    for (const auto& p : d.policies) {
        if (p.name != policy_name) continue;
        if (p.sa_handle == spd::no_sa) return 0;
        return d.out_sas.at(p.sa_handle).sa->spi();
    }
    FAIL("no policy " << policy_name);
    return 0;
}
} // namespace

TEST_CASE("product_engine: modify adding CIDRs keeps the existing CHILD SA and adds CHILD SAs for the new pairs",
          "[product][engine]") {
    rig r("psk-m");
    auto plan = plan_for("t1", "psk-m");
    REQUIRE_FALSE(r.a->apply_tunnel(plan));
    r.net.flush();
    REQUIRE(r.a->query_status("t1").status == "Ready");
    const auto before = r.a->query_sas("t1").at(0);
    REQUIRE(before.children.size() == 1);
    const auto old_out = std::stoul(before.children[0].spi_out, nullptr, 16);
    REQUIRE(out_spi_of(*r.a, "t1/out/0") == old_out);

    // Both sides add peer network 10.3.0.0/24 (site B's local side).
    r.b->update_selectors("site-a", {*ike::cidr::parse("10.2.0.0/24"), *ike::cidr::parse("10.3.0.0/24")},
                          {*ike::cidr::parse("10.1.0.0/24")});
    plan.peer.peer_cidrs.push_back(*control::ipv4_cidr::parse("10.3.0.0/24"));
    add_pair(plan, "10.1.0.0/24", "10.3.0.0/24");
    REQUIRE_FALSE(r.a->apply_tunnel(plan));
    // Until the new CHILD SA exists the new pair has no SA (dropped, never clear); the old pair
    // keeps its SA.
    CHECK(out_spi_of(*r.a, "t1/out/0") == old_out);
    CHECK(out_spi_of(*r.a, "t1/out/1") == 0);
    CHECK(r.a->query_status("t1").status == "Ready");
    CHECK(r.a->query_status("t1").reason.find("1 of the tunnel's network pairs have no CHILD SA") == 0);

    /* HDR, SK { SA, Ni, KEi, TSi(10.1.0.0/24), TSr(10.3.0.0/24) } -->
                         <-- HDR, SK { SA, Nr, KEr, TSi, TSr } */
    r.net.flush();
    auto after = r.a->query_sas("t1");
    REQUIRE(after.size() == 1);
    CHECK(after[0].spi_i == before.spi_i);  // the same IKE SA
    REQUIRE(after[0].children.size() == 2);
    CHECK(after[0].children[0].spi_in == before.children[0].spi_in);
    CHECK(after[0].children[0].spi_out == before.children[0].spi_out);
    CHECK(after[0].children[1].local_ts == std::vector<std::string>{"10.1.0.0/24"});
    CHECK(after[0].children[1].remote_ts == std::vector<std::string>{"10.3.0.0/24"});
    const auto new_out = std::stoul(after[0].children[1].spi_out, nullptr, 16);
    CHECK(out_spi_of(*r.a, "t1/out/0") == old_out);
    CHECK(out_spi_of(*r.a, "t1/out/1") == new_out);
    CHECK(r.b_installer.removed == 0);
    CHECK(r.b_installer.installed == 4);
    CHECK(r.a->query_status("t1").reason.empty());

    // A local network added: one more CHILD SA, for it with every peer CIDR.
    r.b->update_selectors("site-a", {*ike::cidr::parse("10.2.0.0/24"), *ike::cidr::parse("10.3.0.0/24")},
                          {*ike::cidr::parse("10.1.0.0/24"), *ike::cidr::parse("10.4.0.0/24")});
    plan.peer.local_cidrs.push_back(*control::ipv4_cidr::parse("10.4.0.0/24"));
    add_pair(plan, "10.4.0.0/24", "10.2.0.0/24");
    add_pair(plan, "10.4.0.0/24", "10.3.0.0/24");
    REQUIRE_FALSE(r.a->apply_tunnel(plan));
    r.net.flush();
    after = r.a->query_sas("t1");
    REQUIRE(after.size() == 1);
    CHECK(after[0].spi_i == before.spi_i);
    REQUIRE(after[0].children.size() == 3);
    CHECK(after[0].children[2].local_ts == std::vector<std::string>{"10.4.0.0/24"});
    CHECK(after[0].children[2].remote_ts == std::vector<std::string>{"10.2.0.0/24", "10.3.0.0/24"});
    const auto third_out = std::stoul(after[0].children[2].spi_out, nullptr, 16);
    CHECK(out_spi_of(*r.a, "t1/out/0") == old_out);
    CHECK(out_spi_of(*r.a, "t1/out/1") == new_out);
    CHECK(out_spi_of(*r.a, "t1/out/2") == third_out);
    CHECK(out_spi_of(*r.a, "t1/out/3") == third_out);
    CHECK(r.b_installer.removed == 0);

    // Removing a CIDR is no addition: the tunnel is renegotiated (a new IKE SA, one CHILD SA).
    r.b->update_selectors("site-a", {*ike::cidr::parse("10.2.0.0/24")}, {*ike::cidr::parse("10.1.0.0/24")});
    auto smaller = plan_for("t1", "psk-m");
    REQUIRE_FALSE(r.a->apply_tunnel(smaller));
    r.net.flush();
    after = r.a->query_sas("t1");
    REQUIRE(after.size() == 1);
    CHECK(after[0].spi_i != before.spi_i);
    CHECK(after[0].children.size() == 1);
    CHECK(r.a->query_status("t1").status == "Ready");
}

TEST_CASE("product_engine: a CHILD SA for added CIDRs that the peer refuses leaves the rest Ready, with the reason",
          "[product][engine]") {
    rig r("psk-r");
    auto plan = plan_for("t1", "psk-r");
    REQUIRE_FALSE(r.a->apply_tunnel(plan));
    r.net.flush();
    REQUIRE(r.a->query_status("t1").status == "Ready");
    const auto old_out = std::stoul(r.a->query_sas("t1").at(0).children.at(0).spi_out, nullptr, 16);
    // Only our side adds 10.3.0.0/24: the peer narrows nothing and refuses the new pair.
    plan.peer.peer_cidrs.push_back(*control::ipv4_cidr::parse("10.3.0.0/24"));
    add_pair(plan, "10.1.0.0/24", "10.3.0.0/24");
    REQUIRE_FALSE(r.a->apply_tunnel(plan));
    /* HDR, SK { SA, Ni, KEi, TSi, TSr(10.3.0.0/24) } -->  <-- HDR, SK { N(TS_UNACCEPTABLE) } */
    r.net.flush();
    auto st = r.a->query_status("t1");
    CHECK(st.status == "Ready");
    CHECK(st.reason.find("1 of the tunnel's network pairs have no CHILD SA") == 0);
    CHECK(st.reason.find("TS_UNACCEPTABLE") != std::string::npos);
    CHECK(out_spi_of(*r.a, "t1/out/0") == old_out);  // the unchanged pair still has its SA
    CHECK(out_spi_of(*r.a, "t1/out/1") == 0);        // the new one is dropped, never sent in clear
    CHECK(r.a->query_sas("t1").at(0).children.size() == 1);
    // Reconnect renegotiates everything; with the peer still refusing 10.3.0.0/24 it narrows
    // the first CHILD SA to what it allows (RFC 7296 2.9) and the pair stays without an SA.
    REQUIRE_FALSE(r.a->reconnect_tunnel("t1"));
    r.net.flush();
    CHECK(r.a->query_status("t1").status == "Ready");
    CHECK(out_spi_of(*r.a, "t1/out/1") == 0);
}

TEST_CASE("product_engine: dpd action hold: a dead peer's tunnel stays down until its traffic arrives (acquire)",
          "[product][engine]") {
    rig r("psk-h");
    // Site B neither probes nor restarts: only our side's behaviour brings the tunnel back.
    r.b->remove_peer("site-a", false);
    auto cb = peer_b("psk-h");
    cb.dpd_delay = std::chrono::seconds(0);
    r.b->add_peer(std::move(cb));
    auto plan = plan_for("t1", "psk-h");
    plan.peer.dpd_delay_s = 10;
    plan.peer.dpd = control::dpd_action::hold;
    REQUIRE_FALSE(r.a->apply_tunnel(plan));
    r.net.flush();
    REQUIRE(r.a->query_status("t1").status == "Ready");
    const auto first = r.a->query_sas("t1").at(0).spi_i;

    // The peer goes silent: INFORMATIONAL {} --> (no answer, retransmitted until given up).
    r.net.set_drop_filter([](const ike::memory_datagram&) { return true; });
    for (int i = 0; i < 120 && !r.a->query_sas("t1").empty(); ++i) {
        r.clock.advance(std::chrono::seconds(5));
        r.a->on_timer();
        r.net.flush();
    }
    REQUIRE(r.a->query_sas("t1").empty());
    CHECK(r.a->query_status("t1").status == "Disconnected");
    CHECK(r.published->out_sas.empty());  // held: policies stay, traffic dropped, not sent in clear
    r.net.set_drop_filter({});

    // No traffic: nothing is initiated however long we wait.
    for (int i = 0; i < 12; ++i) {
        r.clock.advance(std::chrono::seconds(5));
        r.a->on_timer();
        CHECK(r.net.queued() == 0);
    }
    CHECK(r.a->query_sas("t1").empty());

    // A worker meets the PROTECT policy without an SA: the acquire initiates.
    std::size_t out_policy = r.published->policies.size();
    for (std::size_t i = 0; i < r.published->policies.size(); ++i)
        if (r.published->policies[i].name == "t1/out/0") out_policy = i;
    REQUIRE(out_policy < r.published->policies.size());
    r.published->no_sa_hit[out_policy].store(1);
    r.a->on_timer();
    CHECK(r.net.queued() >= 1);  /* HDR, SAi1, KEi, Ni --> */
    r.net.flush();
    CHECK(r.a->query_status("t1").status == "Ready");
    auto sas = r.a->query_sas("t1");
    REQUIRE(sas.size() == 1);
    CHECK(sas[0].spi_i != first);
    bool logged = false;
    for (const auto& l : r.a->tunnel_log("t1", 200)) logged = logged || l.find("acquire") != std::string::npos;
    CHECK(logged);

}
