// The IKE_SA_INIT flood over real UDP sockets on loopback only (RFC 7296 2.6): sun and moon are
// ike::udp_transport endpoints on 127.77.<n>.1 / .2 (n from the process id, so parallel runs do
// not share addresses), and 2000 forged IKE_SA_INITs come from sockets bound to 2000 different
// 127.78.x.y source addresses, while moon rekeys its CHILD SA and then its IKE SA with sun.
// Bounded in count (2000 datagrams) and time (each wait gives up after 10 s of wall clock).
#include "dos_driver.hpp"

#include <ike/transport_udp.hpp>

#include <boost/asio/io_context.hpp>

#include <unistd.h>

using namespace exchange_test;
using ike::ike_sa_state;
using namespace std::chrono_literals;

namespace {

constexpr std::uint16_t ike_port = 15500;
constexpr std::uint16_t natt_port = 15501;

ike::peer_config udp_config(const ike::ip_address& me, const ike::ip_address& peer, bool is_moon) {
    ike::peer_config c;
    c.name = is_moon ? "sun" : "moon";
    c.local_address = me;
    c.peer_address = peer;
    c.local_port = c.peer_port = ike_port;
    c.local_natt_port = c.peer_natt_port = natt_port;
    c.local_id = *ike::peer_identity::parse(me.to_string());
    c.peer_id = *ike::peer_identity::parse(peer.to_string());
    c.psks.push_back({c.local_id, c.peer_id, base::secret_bytes(std::string_view("loopback-psk"))});
    c.local_ts = {*ike::cidr::parse(is_moon ? "10.1.0.0/16" : "10.2.0.0/16")};
    c.peer_ts = {*ike::cidr::parse(is_moon ? "10.2.0.0/16" : "10.1.0.0/16")};
    c.dpd_delay = ike::duration(0);
    c.rekeyed_inbound_grace = 1s;
    return c;
}

} // namespace

TEST_CASE("DoS flood over loopback UDP sockets from 2000 source addresses; the established SA rekeys",
          "[exchange][dos][udp]") {
    const auto n = static_cast<unsigned>(::getpid() % 250 + 1);
    const auto sun_addr = addr(("127.77." + std::to_string(n) + ".1").c_str());
    const auto moon_addr = addr(("127.77." + std::to_string(n) + ".2").c_str());

    boost::asio::io_context io;
    ike::steady_clock_source clk;
    counting_ke_factory sun_ke;
    recording_installer sun_inst, moon_inst;
    ike::udp_transport sun_net(io, {ike::udp_endpoint(sun_addr, ike_port), ike::udp_endpoint(sun_addr, natt_port)});
    ike::udp_transport moon_net(io, {ike::udp_endpoint(moon_addr, ike_port), ike::udp_endpoint(moon_addr, natt_port)});
    ike::endpoint_options sun_opts;
    sun_opts.ke_factory = &sun_ke;
    sun_opts.dos.half_open_timeout = 2s;  // so the flood's half-open SAs go within the test
    ike::endpoint sun(sun_net, clk, sun_inst, std::move(sun_opts));
    ike::endpoint moon(moon_net, clk, moon_inst);
    sun.add_peer(udp_config(sun_addr, moon_addr, false));
    auto rw = udp_config(sun_addr, addr("0.0.0.0"), false);  // the flood matches this one
    rw.name = "roadwarrior";
    rw.peer_id = *ike::peer_identity::parse("%any");
    sun.add_peer(std::move(rw));
    moon.add_peer(udp_config(moon_addr, sun_addr, true));

    auto pump_until = [&](auto done) {
        auto end = std::chrono::steady_clock::now() + 10s;
        while (!done() && std::chrono::steady_clock::now() < end) {
            io.run_for(5ms);
            sun.on_timer();
            moon.on_timer();
        }
        return done();
    };
    auto moon_sa = [&]() -> ike::ike_sa* {
        for (auto* sa : moon.sas())
            if (sa->state() == ike_sa_state::established) return sa;
        return nullptr;
    };

    /* IKE_SA_INIT --> <-- ; IKE_AUTH --> <-- over 127.77.n.2:15500 -> 127.77.n.1:15500 */
    REQUIRE(moon.initiate("sun"));
    REQUIRE(pump_until([&] { return moon_sa() && sun_inst.sas.size() == 2; }));
    const auto ke_established = sun_ke.created;
    const auto threshold = sun.dos().options().cookie_threshold;

    init_forger forge;
    ike::ike_sa* m = moon_sa();
    auto old_child = m->find_child_by_reqid(1)->spi_in;
    auto old_spi_i = m->spi_i;
    bool child_rekey_started = false, ike_rekey_started = false;
    std::size_t sent = 0;
    for (unsigned i = 0; i < 2000; ++i) {
        // IKE_SA_INIT { HDR(X,0), SAi1, KEi, Ni } --> from 127.78.x.y:15500
        boost::asio::ip::udp::socket s(io);
        s.open(boost::asio::ip::udp::v4());
        auto src = addr(("127.78." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1)).c_str());
        boost::system::error_code ec;
        s.bind(ike::udp_endpoint(src, ike_port), ec);
        if (ec) continue;
        auto bytes = forge.build(forge.spi(), forge.nonce());
        s.send_to(boost::asio::buffer(bytes), ike::udp_endpoint(sun_addr, ike_port), 0, ec);
        if (!ec) ++sent;
        if (i % 50 == 49)
            while (io.poll() > 0) {}  // drain sun's socket: no datagram lost to a full buffer
        if (i == 500 && !child_rekey_started) {
            /* CREATE_CHILD_SA { N(REKEY_SA), SA, Ni, TSi, TSr } --> in the middle of the flood */
            m->tasks.queue(ike::make_child_rekey_task(old_child));
            m->tasks.initiate();
            child_rekey_started = true;
        }
        if (i == 1200 && !ike_rekey_started) {
            REQUIRE(pump_until([&] { return !m->tasks.busy() && m->find_child_by_reqid(1)->spi_in != old_child; }));
            /* CREATE_CHILD_SA { SA(IKE), Ni, KEi } --> in the middle of the flood */
            m->tasks.queue(ike::make_ike_rekey_task());
            m->tasks.initiate();
            ike_rekey_started = true;
        }
    }
    CHECK(sent == 2000);
    REQUIRE(ike_rekey_started);
    /* <-- CREATE_CHILD_SA { SA(IKE), Nr, KEr };  INFORMATIONAL { D(IKE) } --> <-- */
    CHECK(pump_until([&] {
        auto* now = moon_sa();
        return now && now->spi_i != old_spi_i && moon.sas().size() == 1;
    }));
    // The flood's half-open SAs time out (2 s), the rekeyed CHILD SA's grace period ends (1 s).
    CHECK(pump_until([&] {
        return sun.dos().half_open() == 0 && sun.sas().size() == 1 && sun_inst.sas.size() == 2 &&
               moon_inst.sas.size() == 2;
    }));

    const auto& c = sun.dos().counters();
    INFO("cookie_sent " << c.cookie_sent << " half_open_timeout " << c.half_open_timeout);
    // DH work for the flood: at most the threshold (fewer if the kernel dropped datagrams), plus
    // the IKE rekey's KEr.
    CHECK(sun_ke.created <= ke_established + threshold + 1);
    CHECK(c.cookie_sent + c.half_open_timeout == sent);  // every forged request was answered or timed out
    CHECK(c.half_open_timeout <= threshold);
    CHECK(sun.dos().half_open() == 0);
    CHECK(sun.sas().size() == 1);
    auto* m2 = moon_sa();
    REQUIRE(m2);
    CHECK(m2->spi_i != old_spi_i);
    CHECK(moon_inst.count(ike::sa_direction::inbound) == 1);
    CHECK(moon_inst.count(ike::sa_direction::outbound) == 1);
    check_crosswise(moon_inst, sun_inst);
}
