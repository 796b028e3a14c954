#pragma once
// Two IKE endpoints in one process: "moon" (192.0.2.1, initiator by default) and "sun"
// (198.51.100.2), joined by an ike::memory_network and driven by one ike::fake_clock.
// recording_installer keeps what each side installs so tests can check SAs crosswise.
#include <ike/endpoint.hpp>
#include <ike/message.hpp>
#include <ike/transport_memory.hpp>

#include <base/hex.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

namespace exchange_test {

struct recording_installer final : ike::sa_installer {
    std::map<std::pair<ike::sa_direction, std::uint32_t>, ike::esp_sa_install> sas;
    std::vector<ike::esp_sa_install> installed;  // in order
    std::vector<std::pair<ike::sa_direction, std::uint32_t>> removed;
    // The outbound SA traffic of each reqid uses: the last one installed that is still there
    // (sa_installer.hpp's make-before-break semantics).
    std::map<std::uint32_t, std::uint32_t> newest_out;
    std::map<std::uint32_t, std::uint64_t> out_order;  // outbound SPI -> install sequence
    std::uint64_t seq = 0;
    void install_sa(const ike::esp_sa_install& sa) override {
        sas[{sa.direction, sa.spi}] = sa;
        installed.push_back(sa);
        if (sa.direction == ike::sa_direction::outbound) {
            newest_out[sa.reqid] = sa.spi;
            out_order[sa.spi] = ++seq;
        }
    }
    void remove_sa(ike::sa_direction d, std::uint32_t spi) override {
        removed.emplace_back(d, spi);
        auto it = sas.find({d, spi});
        if (it == sas.end()) return;
        auto reqid = it->second.reqid;
        sas.erase(it);
        if (d != ike::sa_direction::outbound) return;
        out_order.erase(spi);
        if (newest_out.count(reqid) && newest_out[reqid] == spi) {
            newest_out.erase(reqid);
            std::uint64_t best = 0;
            for (const auto& [k, v] : sas)
                if (k.first == ike::sa_direction::outbound && v.reqid == reqid && out_order[k.second] > best) {
                    best = out_order[k.second];
                    newest_out[reqid] = k.second;
                }
        }
    }
    // Usage as a counting data plane would report it (sa_installer::usage): only with
    // reports_usage, only for SAs installed and not removed; zero until set in usage_of.
    bool reports_usage = false;
    std::map<std::pair<ike::sa_direction, std::uint32_t>, ike::sa_usage> usage_of;
    std::optional<ike::sa_usage> usage(ike::sa_direction d, std::uint32_t spi) const override {
        if (!reports_usage || !sas.count({d, spi})) return std::nullopt;
        auto it = usage_of.find({d, spi});
        return it == usage_of.end() ? ike::sa_usage{} : it->second;
    }
    [[nodiscard]] std::size_t count(ike::sa_direction d) const {
        std::size_t n = 0;
        for (const auto& [k, v] : sas) n += k.first == d;
        return n;
    }
};

inline ike::ip_address addr(const char* s) { return boost::asio::ip::make_address(s); }

struct side {
    std::string name;
    ike::ip_address address;
    recording_installer installer;
    std::vector<std::string> log;
    std::unique_ptr<ike::endpoint> ep;

    [[nodiscard]] bool logged(std::string_view needle) const {
        for (const auto& l : log)
            if (l.find(needle) != std::string::npos) return true;
        return false;
    }
    [[nodiscard]] std::string dump_log() const {
        std::string s;
        for (const auto& l : log) s += "  " + name + ": " + l + "\n";
        return s;
    }
    ike::ike_sa* only_sa() {
        auto all = ep->sas();
        return all.size() == 1 ? all.front() : nullptr;
    }
};

// A datagram seen on the wire, decoded enough to assert on exchanges.
struct wire_message {
    ike::memory_datagram d;
    bool natt = false;  // had the non-ESP marker
    std::optional<ike::ike_header> header;
    ike::time_point at{};
};

class two_peers {
public:
    // `net_seed` seeds the network's loss and reordering.
    explicit two_peers(bool nat_in_front_of_moon = false, std::uint32_t net_seed = 7) : net(net_seed) {
        moon.name = "moon";
        sun.name = "sun";
        moon.address = addr(nat_in_front_of_moon ? "10.0.0.2" : "192.0.2.1");
        sun.address = addr("198.51.100.2");
        if (nat_in_front_of_moon) net.add_nat(moon.address, addr("203.0.113.5"));
        net.set_tap([this](const ike::memory_datagram& d) {
            wire_message w{d, false, std::nullopt, clock.now()};
            std::span<const std::uint8_t> b = d.data;
            if (d.to.port() == 4500 || d.to.port() == 14500) {
                if (b.size() >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0) {
                    w.natt = true;
                    b = b.subspan(4);
                }
            }
            auto h = ike::parse_header(b);
            if (h) w.header = *h;
            wire.push_back(std::move(w));
        });
    }

    // Default configs: moon 10.1.0.0/16 <-> sun 10.2.0.0/16, PSK "s3cr3t-psk", IP identities.
    ike::peer_config config_for(side& me, side& other, const std::string& peer_name) {
        ike::peer_config c;
        c.name = peer_name;
        c.local_address = me.address;
        c.peer_address = other.address == moon.address && nat_moon() ? addr("203.0.113.5") : other.address;
        c.local_id = *ike::peer_identity::parse(me.address.to_string());
        c.peer_id = *ike::peer_identity::parse(c.peer_address.to_string());
        if (&me == &moon) c.local_id = *ike::peer_identity::parse("192.0.2.1");
        if (&other == &moon) c.peer_id = *ike::peer_identity::parse("192.0.2.1");
        c.psks.push_back({c.local_id, c.peer_id, base::secret_bytes(std::string_view("s3cr3t-psk"))});
        c.local_ts = {*ike::cidr::parse(&me == &moon ? "10.1.0.0/16" : "10.2.0.0/16")};
        c.peer_ts = {*ike::cidr::parse(&me == &moon ? "10.2.0.0/16" : "10.1.0.0/16")};
        return c;
    }

    void start(ike::peer_config moon_cfg, ike::peer_config sun_cfg, ike::endpoint_options sun_opts = {},
               ike::endpoint_options moon_opts = {}) {
        for (auto* s : {&moon, &sun}) {
            auto& opts = s == &moon ? moon_opts : sun_opts;
            opts.log = [s](ike::log_level, std::string_view l) { s->log.emplace_back(l); };
            s->ep = std::make_unique<ike::endpoint>(net.attach(s->address), clock, s->installer, std::move(opts));
        }
        moon.ep->add_peer(std::move(moon_cfg));
        sun.ep->add_peer(std::move(sun_cfg));
    }
    void start_default() { start(config_for(moon, sun, "sun"), config_for(sun, moon, "moon")); }

    // Delivers everything queued (and what that triggers).
    void run() { net.flush(); }
    // Moves the fake clock, fires due timers on both sides, delivers.
    void advance(ike::duration d) {
        clock.advance(d);
        moon.ep->on_timer();
        sun.ep->on_timer();
        run();
    }
    // Steps the clock to each next deadline until `until` has passed.
    void run_for(ike::duration total) {
        auto end = clock.now() + total;
        for (int guard = 0; guard < 10000; ++guard) {
            run();
            std::optional<ike::time_point> next;
            for (auto* s : {&moon, &sun}) {
                auto t = s->ep->next_deadline();
                if (t && (!next || *t < *next)) next = t;
            }
            if (!next || *next > end) break;
            clock.set(std::max(*next, clock.now()));
            moon.ep->on_timer();
            sun.ep->on_timer();
        }
        clock.set(std::max(end, clock.now()));
        run();
    }

    std::vector<wire_message> messages(ike::exchange_type x, bool response) const {
        std::vector<wire_message> out;
        for (const auto& w : wire)
            if (w.header && w.header->exchange == x && w.header->response == response) out.push_back(w);
        return out;
    }

    [[nodiscard]] bool nat_moon() const { return moon.address == addr("10.0.0.2"); }

    ike::fake_clock clock;
    ike::memory_network net;
    side moon, sun;
    std::vector<wire_message> wire;
};

// Every CHILD SA installed on `a` has its mirror on `b`: a's outbound SPI is b's inbound SPI with
// the same algorithms and keys, and the other way round; selectors mirrored.
inline void check_crosswise(const recording_installer& a, const recording_installer& b, bool same_addresses = true) {
    REQUIRE(a.sas.size() == b.sas.size());
    for (const auto& [k, sa] : a.sas) {
        auto other_dir = k.first == ike::sa_direction::inbound ? ike::sa_direction::outbound : ike::sa_direction::inbound;
        auto it = b.sas.find({other_dir, k.second});
        REQUIRE(it != b.sas.end());
        const auto& m = it->second;
        CHECK(m.encryption == sa.encryption);
        CHECK(m.integrity == sa.integrity);
        CHECK(m.encryption_key == sa.encryption_key);
        CHECK(m.integrity_key == sa.integrity_key);
        CHECK_FALSE(sa.encryption_key.empty());
        if (same_addresses) {
            CHECK(m.tunnel_src == sa.tunnel_src);
            CHECK(m.tunnel_dst == sa.tunnel_dst);
        }
        CHECK(m.src_selectors == sa.src_selectors);
        CHECK(m.dst_selectors == sa.dst_selectors);
        CHECK(m.encap.has_value() == sa.encap.has_value());
    }
}

} // namespace exchange_test
