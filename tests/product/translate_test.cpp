// tools/ipsecd translation: tunnel plan -> ike::peer_config / spd policies, and the SA installer
// (sa_table) -> data-plane snapshot (dataplane::build_tables), including bad input.
#include "sa_table.hpp"
#include "tunnel_compile.hpp"

#include <dataplane/config.hpp>
#include <esp/pkt.hpp>
#include <esp/sa.hpp>
#include <ike/endpoint.hpp>
#include <ike/transport_memory.hpp>

#include <catch2/catch.hpp>

#include <boost/asio/ip/address_v4.hpp>

using namespace ipsecd;

namespace {

control::ipv4 ip(const char* s) { return *control::ipv4::parse(s); }
control::ipv4_cidr cidr(const char* s) { return *control::ipv4_cidr::parse(s); }

control::tunnel_plan sample_plan(const std::string& uuid = "t1") {
    control::tunnel_plan p;
    auto& pc = p.peer;
    pc.tunnel_uuid = uuid;
    pc.name = "to-b";
    pc.local_address = ip("203.0.113.10");
    pc.peer_address = ip("203.0.113.2");
    pc.local_id = {control::id_type::ipv4_addr, "203.0.113.10"};
    pc.remote_id = {control::id_type::fqdn, "sun.example.org"};
    pc.psk = base::secret_bytes(std::string_view("sekrit-psk"));
    pc.ike = control::ike_proposal("aes-256", "sha256", 2);
    pc.esp = control::esp_proposal("aes-256", "sha256", "dh-group14");
    pc.ike_lifetime_s = 7200;
    pc.child_lifetime_s = 1800;
    pc.nat_t = control::nat_t_mode::force;
    pc.dpd_delay_s = 45;
    pc.dpd = control::dpd_action::clear;
    pc.local_cidrs = {cidr("10.1.0.0/24")};
    pc.peer_cidrs = {cidr("10.2.0.0/24"), cidr("10.3.0.0/16")};
    for (const auto& l : pc.local_cidrs)
        for (const auto& r : pc.peer_cidrs) {
            auto prio = std::uint32_t(64 - l.prefix - r.prefix);
            p.policies.push_back({uuid, control::policy_direction::out, control::policy_action::protect, l, r, prio});
            p.policies.push_back({uuid, control::policy_direction::in, control::policy_action::protect, r, l, prio});
        }
    return p;
}

spd::flow_key flow(const char* src, const char* dst) {
    spd::flow_key k;
    auto s = boost::asio::ip::make_address_v4(src).to_bytes(), d = boost::asio::ip::make_address_v4(dst).to_bytes();
    std::copy(s.begin(), s.end(), k.src.begin());
    std::copy(d.begin(), d.end(), k.dst.begin());
    k.proto = 1;
    return k;
}

ike::esp_sa_install sa(const std::string& peer, ike::sa_direction d, std::uint32_t spi, std::uint32_t reqid = 1) {
    ike::esp_sa_install s;
    s.direction = d;
    s.spi = spi;
    s.reqid = reqid;
    s.peer = peer;
    s.encryption = "aes256-cbc";
    s.integrity = "sha256-128";
    s.encryption_key = base::secret_bytes(std::vector<std::uint8_t>(32, 0x11));
    s.integrity_key = base::secret_bytes(std::vector<std::uint8_t>(32, 0x22));
    auto us = boost::asio::ip::make_address("203.0.113.10"), them = boost::asio::ip::make_address("203.0.113.2");
    s.tunnel_src = d == ike::sa_direction::outbound ? us : them;
    s.tunnel_dst = d == ike::sa_direction::outbound ? them : us;
    s.encap = ike::esp_udp_encap{4500, 4500};
    return s;
}

} // namespace

TEST_CASE("plan -> ike::peer_config", "[product][translate]") {
    auto plan = sample_plan();
    std::string err;
    auto c = to_ike_peer(plan.peer, err);
    REQUIRE(c);
    CHECK(c->name == "t1");  // the tunnel uuid: esp_sa_install::peer attributes SAs to it
    CHECK(c->local_address.to_string() == "203.0.113.10");
    CHECK(c->peer_address.to_string() == "203.0.113.2");
    CHECK(c->local_id.to_string() == "203.0.113.10");
    CHECK(c->peer_id.type == ike::peer_identity::fqdn);
    CHECK(c->peer_id.to_string() == "sun.example.org");
    CHECK(c->ike_proposals == std::vector<std::string>{"aes256-sha256-modp1024"});
    CHECK(c->esp_proposals == std::vector<std::string>{"aes256-sha256-modp2048"});
    REQUIRE(c->psks.size() == 1);
    CHECK(c->psks[0].secret.size() == 10);
    CHECK(c->force_encap);
    CHECK(c->ike_lifetime_seconds == 7200);
    CHECK(c->child_lifetime_seconds == 1800);
    CHECK(c->dpd_delay == std::chrono::seconds(45));
    CHECK(c->dpd_action == ike::peer_config::dead_peer_action::clear);
    REQUIRE(c->local_ts.size() == 1);
    CHECK(c->local_ts[0].to_string() == "10.1.0.0/24");
    REQUIRE(c->peer_ts.size() == 2);
    CHECK(c->peer_ts[1].to_string() == "10.3.0.0/16");

    // The endpoint accepts it as it is (proposal texts parse), and forgets it again.
    ike::memory_network net;
    auto& t = net.attach(boost::asio::ip::make_address("203.0.113.10"));
    ike::fake_clock clock;
    sa_table table(nullptr, nullptr);
    ike::endpoint ep(t, clock, table);
    REQUIRE_NOTHROW(ep.add_peer(*c));
    CHECK(ep.remove_peer("t1"));
    CHECK_FALSE(ep.remove_peer("t1"));
    CHECK(ep.peers().empty());
}

TEST_CASE("plan -> ike::peer_config: key-id names and bad plans", "[product][translate]") {
    auto plan = sample_plan();
    plan.peer.local_id = {control::id_type::key_id, "site-a"};
    std::string err;
    auto c = to_ike_peer(plan.peer, err);
    REQUIRE(c);
    CHECK(c->local_id.type == ike::peer_identity::key_id);
    CHECK(std::string(c->local_id.data.begin(), c->local_id.data.end()) == "site-a");

    auto no_psk = sample_plan();
    no_psk.peer.psk = base::secret_bytes();
    CHECK_FALSE(to_ike_peer(no_psk.peer, err));
    CHECK(err.find("pre-shared key") != std::string::npos);
    CHECK(err.find("sekrit") == std::string::npos);

    auto no_uuid = sample_plan("");
    CHECK_FALSE(to_ike_peer(no_uuid.peer, err));

    auto no_prop = sample_plan();
    no_prop.peer.esp.text.clear();
    CHECK_FALSE(to_ike_peer(no_prop.peer, err));
}

TEST_CASE("plan policies -> spd policies", "[product][translate]") {
    auto ps = to_spd_policies(sample_plan().policies);
    REQUIRE(ps.size() == 4);
    CHECK(ps[0].dir == spd::direction::out);
    CHECK(ps[0].act == spd::action::protect);
    CHECK(ps[0].src[0].to_string() == "10.1.0.0/24");
    CHECK(ps[0].dst[0].to_string() == "10.2.0.0/24");
    CHECK(ps[0].priority == 64 - 24 - 24);
    CHECK(ps[1].dir == spd::direction::in);
    CHECK(ps[1].src[0].to_string() == "10.2.0.0/24");
    CHECK(ps[0].sa_handle == spd::no_sa);
    CHECK(ps[0].name != ps[2].name);
}

TEST_CASE("sa_table: protect without an SA never bypasses, SAs join the snapshot", "[product][sa_table]") {
    dataplane::config cfg;  // no static entries
    std::unique_ptr<dataplane::tables> published;
    int publishes = 0;
    std::vector<std::string> log;
    sa_table table(
        [&](const dataplane::dynamic_entries& d) {
            published = dataplane::build_tables(cfg, d);
            ++publishes;
        },
        [&](const std::string& t, std::string_view l) { log.push_back(t + ": " + std::string(l)); });
    auto plan = sample_plan();
    table.set_tunnel("t1", to_spd_policies(plan.policies), 64);
    REQUIRE(published);

    // 1. before IKE: the tunnel's traffic hits PROTECT with no SA -> the pipeline drops it
    //    (policy_no_sa); unrelated traffic bypasses.
    auto v = published->spd_out->classify(flow("10.1.0.5", "10.2.0.7"));
    CHECK(v.act == spd::action::protect);
    CHECK(v.sa_handle >= published->out_sas.size());
    CHECK(published->spd_out->classify(flow("10.1.0.5", "8.8.8.8")).act == spd::action::bypass);

    // 2. CHILD SA installed (in then out, as the IKE side does)
    table.install_sa(sa("t1", ike::sa_direction::inbound, 0xc0000001));
    table.install_sa(sa("t1", ike::sa_direction::outbound, 0x50000001));
    REQUIRE(published->out_sas.size() == 1);
    REQUIRE(published->in_sas.size() == 1);
    v = published->spd_out->classify(flow("10.1.0.5", "10.3.1.1"));
    REQUIRE(v.act == spd::action::protect);
    REQUIRE(v.sa_handle < published->out_sas.size());
    CHECK(published->out_sas[v.sa_handle].sa->spi() == 0x50000001);
    CHECK(published->out_sas[v.sa_handle].peer == 0xCB007102);
    std::uint32_t idx = 0;
    const auto* in = published->find_inbound(0xc0000001, idx);
    REQUIRE(in);
    CHECK(in->local == 0xCB00710A);
    // the inbound check: decrypted 10.2/24 -> 10.1/24 hits a policy tagged with this SA's tag
    auto iv = published->spd_in->classify(flow("10.2.0.7", "10.1.0.5"));
    CHECK(iv.act == spd::action::protect);
    CHECK(iv.sa_handle == in->policy_tag);
    CHECK(published->spd_in->classify(flow("10.9.0.7", "10.1.0.5")).sa_handle != in->policy_tag);

    // 3. make-before-break (sa_installer.hpp): a newer outbound SA of the reqid takes over; the
    //    older inbound stays valid until removed
    table.install_sa(sa("t1", ike::sa_direction::inbound, 0xc0000002));
    table.install_sa(sa("t1", ike::sa_direction::outbound, 0x50000002));
    v = published->spd_out->classify(flow("10.1.0.5", "10.2.0.7"));
    CHECK(published->out_sas[v.sa_handle].sa->spi() == 0x50000002);
    CHECK(published->find_inbound(0xc0000001, idx));
    CHECK(published->find_inbound(0xc0000002, idx));
    CHECK(published->in_sas[idx].policy_tag == iv.sa_handle);  // both inbound SAs pass the tunnel's policy
    table.remove_sa(ike::sa_direction::outbound, 0x50000001);  // the older one: no traffic change
    v = published->spd_out->classify(flow("10.1.0.5", "10.2.0.7"));
    CHECK(published->out_sas[v.sa_handle].sa->spi() == 0x50000002);
    table.remove_sa(ike::sa_direction::inbound, 0xc0000001);
    CHECK_FALSE(published->find_inbound(0xc0000001, idx));
    // removing the newest falls back to none: PROTECT without SA again (drop, not clear)
    table.remove_sa(ike::sa_direction::outbound, 0x50000002);
    v = published->spd_out->classify(flow("10.1.0.5", "10.2.0.7"));
    CHECK(v.act == spd::action::protect);
    CHECK(v.sa_handle >= published->out_sas.size());

    // 4. counters come from the SA objects shared with the snapshot
    auto views = table.sas_of("t1");
    REQUIRE(views.size() == 1);
    CHECK(views[0].spi == 0xc0000002);
    CHECK(views[0].packets == 0);

    // 5. remove the tunnel: policies and SAs go
    table.remove_tunnel("t1");
    CHECK(published->policies.empty());
    CHECK(published->in_sas.empty());
    CHECK(publishes >= 8);
    for (const auto& l : log) CHECK(l.find("1111") == std::string::npos);  // no key bytes in logs
}

TEST_CASE("sa_table: bad installs are refused and counted, never published", "[product][sa_table]") {
    dataplane::config cfg;
    std::unique_ptr<dataplane::tables> published;
    sa_table table([&](const dataplane::dynamic_entries& d) { published = dataplane::build_tables(cfg, d); }, nullptr);
    table.set_tunnel("t1", to_spd_policies(sample_plan().policies), 64);

    table.install_sa(sa("nope", ike::sa_direction::outbound, 0x1000));  // unknown tunnel
    auto bad_alg = sa("t1", ike::sa_direction::outbound, 0x1001);
    bad_alg.encryption = "rot13";
    table.install_sa(bad_alg);
    auto short_key = sa("t1", ike::sa_direction::inbound, 0x1002);
    short_key.encryption_key = base::secret_bytes(std::vector<std::uint8_t>(5, 1));
    table.install_sa(short_key);
    auto v6 = sa("t1", ike::sa_direction::inbound, 0x1003);
    v6.tunnel_src = boost::asio::ip::make_address("2001:db8::1");
    table.install_sa(v6);
    CHECK(table.install_failures() == 4);
    CHECK(published->out_sas.empty());
    CHECK(published->in_sas.empty());

    table.install_sa(sa("t1", ike::sa_direction::inbound, 0x2000));
    table.install_sa(sa("t1", ike::sa_direction::inbound, 0x2000));  // duplicate SPI
    CHECK(table.install_failures() == 5);
    CHECK(published->in_sas.size() == 1);
    table.remove_sa(ike::sa_direction::inbound, 0xdead);  // unknown: nothing happens
    CHECK(published->in_sas.size() == 1);
}

TEST_CASE("sa_table: run-time VIPs are in the snapshot", "[product][sa_table]") {
    dataplane::config cfg;
    std::unique_ptr<dataplane::tables> published;
    sa_table table([&](const dataplane::dynamic_entries& d) { published = dataplane::build_tables(cfg, d); }, nullptr);
    table.set_vips({{1, 0xCB00710A}});
    REQUIRE(published);
    CHECK(published->owns_vip(1, 0xCB00710A));
    CHECK_FALSE(published->owns_vip(0, 0xCB00710A));
    CHECK(published->is_vip(0xCB00710A));
    CHECK_FALSE(published->is_vip(0xCB00710B));
    table.set_vips({});
    CHECK_FALSE(published->is_vip(0xCB00710A));
}

TEST_CASE("build_tables: inconsistent dynamic entries are refused", "[product][sa_table]") {
    dataplane::config cfg;
    dataplane::dynamic_entries d;
    spd::policy p;
    p.dir = spd::direction::out;
    p.act = spd::action::protect;
    p.sa_handle = 3;  // no such outbound SA
    d.policies.push_back(p);
    CHECK_THROWS_AS(dataplane::build_tables(cfg, d), dataplane::config_error);
}

TEST_CASE("sa_table: usage of an SA is the esp SA's counters and next sequence number", "[product][sa_table]") {
    dataplane::config cfg;
    std::unique_ptr<dataplane::tables> published;
    sa_table table([&](const dataplane::dynamic_entries& d) { published = dataplane::build_tables(cfg, d); }, nullptr);
    table.set_tunnel("t1", to_spd_policies(sample_plan().policies), 64);
    const ike::sa_installer& installer = table;
    CHECK_FALSE(installer.usage(ike::sa_direction::outbound, 0x50000001));  // not installed
    table.install_sa(sa("t1", ike::sa_direction::inbound, 0xc0000001));
    table.install_sa(sa("t1", ike::sa_direction::outbound, 0x50000001));
    auto out = installer.usage(ike::sa_direction::outbound, 0x50000001);
    REQUIRE(out);
    CHECK(out->packets == 0);
    CHECK(out->bytes == 0);
    CHECK(out->next_seq == 1);  // RFC 4303 3.3.3: the first packet carries 1
    auto in = installer.usage(ike::sa_direction::inbound, 0xc0000001);
    REQUIRE(in);
    CHECK(in->packets == 0);
    CHECK_FALSE(installer.usage(ike::sa_direction::inbound, 0x50000001));  // direction matters

    // Three 100-byte inner IPv4 packets through the published outbound SA (what a worker does).
    REQUIRE(published->out_sas.size() == 1);
    auto& esp_out = *published->out_sas[0].sa;
    std::vector<std::vector<std::uint8_t>> bufs(3, std::vector<std::uint8_t>(512));
    std::vector<esp::pkt> pkts;
    for (auto& b : bufs) {
        esp::pkt p{b.data(), std::uint32_t(b.size()), 128, 100};
        const std::uint8_t hdr[20] = {0x45, 0, 0, 100, 0, 0, 0, 0, 64, 1, 0, 0, 10, 1, 0, 5, 10, 2, 0, 7};
        std::copy(std::begin(hdr), std::end(hdr), p.data());
        pkts.push_back(p);
    }
    std::vector<esp::drop_reason> results(pkts.size());
    REQUIRE(esp_out.encap(pkts, results) == 3);
    out = installer.usage(ike::sa_direction::outbound, 0x50000001);
    REQUIRE(out);
    CHECK(out->packets == 3);
    CHECK(out->bytes == 300);
    CHECK(out->next_seq == 4);
    // A republish (another SA installed) keeps the SA object and so its counters.
    table.install_sa(sa("t1", ike::sa_direction::inbound, 0xc0000002));
    CHECK(installer.usage(ike::sa_direction::outbound, 0x50000001)->packets == 3);
    table.remove_sa(ike::sa_direction::outbound, 0x50000001);
    CHECK_FALSE(installer.usage(ike::sa_direction::outbound, 0x50000001));
}
