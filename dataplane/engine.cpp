// Engine set-up and the control side: EAL arguments from the config, ports, mbuf pool, IKE
// rings, the first table snapshot, the control thread (summary line, idle exit, RCU
// reclamation) and the JSON counters.
#include "dataplane/engine.hpp"

#include "engine_state.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <rte_mbuf_dyn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <string_view>
#include <thread>

namespace dataplane {

std::uint64_t now_ms() {
    return std::uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count());
}

std::uint64_t now_ms_coarse() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return std::uint64_t(ts.tv_sec) * 1000 + std::uint64_t(ts.tv_nsec) / 1000000;
}

namespace {

std::runtime_error dpdk_error(const std::string& what, int rc) {
    return std::runtime_error(what + ": " + rte_strerror(rc < 0 ? -rc : rc));
}

void setup_port(engine::state& s, std::size_t index) {
    const auto& pc = s.cfg.ports[index];
    auto key = "ports[" + std::to_string(index) + "].device";
    port_rt p;
    p.name = pc.name;
    p.role = pc.role;
    p.ip = pc.ip;
    p.vips = pc.vips;
    p.mtu = pc.mtu;
    p.subnet_broadcast = pc.ip.subnet().addr | ~pc.ip.subnet().mask();
    s.special.add(p.ip.addr);
    s.special.add(p.subnet_broadcast);
    for (auto v : p.vips) s.special.add(v);
    if (rte_eth_dev_get_port_by_name(pc.device.c_str(), &p.id) != 0)
        throw config_error(key, "no DPDK device '" + pc.device + "' (is it in the eal --vdev/-a list?)");
    if (p.id >= RTE_MAX_ETHPORTS) throw config_error(key, "port id out of range");

    rte_eth_dev_info info{};
    if (int rc = rte_eth_dev_info_get(p.id, &info); rc != 0) throw dpdk_error(pc.device + ": dev_info_get", rc);
    const unsigned workers = s.cfg.workers;
    p.rx_queues = std::uint16_t(std::max(1u, std::min<unsigned>(workers, info.max_rx_queues)));
    p.tx_queues = std::uint16_t(std::max(1u, std::min<unsigned>(workers, info.max_tx_queues)));
    rte_eth_conf conf{};
    const std::uint64_t want_rss = RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP;
    if (p.rx_queues > 1 && (info.flow_type_rss_offloads & want_rss) != 0) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & want_rss;
    }
    if (int rc = rte_eth_dev_configure(p.id, p.rx_queues, p.tx_queues, &conf); rc != 0)
        throw dpdk_error(pc.device + ": configure", rc);
    std::uint16_t nb_rx = 1024, nb_tx = 1024;
    rte_eth_dev_adjust_nb_rx_tx_desc(p.id, &nb_rx, &nb_tx);
    int socket = rte_eth_dev_socket_id(p.id);
    if (socket < 0) socket = int(rte_socket_id());
    for (std::uint16_t q = 0; q < p.rx_queues; ++q)
        if (int rc = rte_eth_rx_queue_setup(p.id, q, nb_rx, unsigned(socket), nullptr, s.pool); rc != 0)
            throw dpdk_error(pc.device + ": rx queue", rc);
    for (std::uint16_t q = 0; q < p.tx_queues; ++q)
        if (int rc = rte_eth_tx_queue_setup(p.id, q, nb_tx, unsigned(socket), nullptr); rc != 0)
            throw dpdk_error(pc.device + ": tx queue", rc);
    if (p.tx_queues < workers) {
        auto name = "ipsecd_txf" + std::to_string(index);
        p.tx_funnel = rte_ring_create(name.c_str(), 1024, int(rte_socket_id()), RING_F_SC_DEQ);
        if (!p.tx_funnel) throw dpdk_error(pc.device + ": tx funnel ring", rte_errno);
    }
    rte_eth_dev_set_mtu(p.id, pc.mtu);  // best effort: virtual PMDs may not support it
    if (pc.mac_override) {
        rte_ether_addr a;
        std::copy(pc.mac_override->begin(), pc.mac_override->end(), a.addr_bytes);
        rte_eth_dev_default_mac_addr_set(p.id, &a);  // best effort; we use it as ours regardless
        p.hw = *pc.mac_override;
    } else {
        rte_ether_addr a{};
        if (int rc = rte_eth_macaddr_get(p.id, &a); rc != 0) throw dpdk_error(pc.device + ": macaddr_get", rc);
        std::copy(std::begin(a.addr_bytes), std::end(a.addr_bytes), p.hw.begin());
    }
    if (int rc = rte_eth_dev_start(p.id); rc != 0) {
        // A memif client cannot start without its server (the PMD connects at start): say so.
        const bool memif = info.driver_name && std::string_view(info.driver_name) == "net_memif";
        throw dpdk_error(pc.device + (memif ? ": start (is the memif peer up? a client connects at start)" : ": start"), rc);
    }
    rte_eth_promiscuous_enable(p.id);  // best effort: MAC filtering is done in the pipeline
    s.ports.push_back(std::move(p));
}

void shutdown_ports(engine::state& s) {
    for (auto& p : s.ports) {
        rte_eth_dev_stop(p.id);
        rte_eth_dev_close(p.id);
        if (p.tx_funnel) {
            rte_mbuf* m = nullptr;
            while (rte_ring_dequeue(p.tx_funnel, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
            rte_ring_free(p.tx_funnel);
        }
    }
    s.ports.clear();
}

void free_worker_rings(engine::state& s) {
    for (auto& w : s.workers) {
        if (w->handoff) {
            rte_mbuf* m = nullptr;
            while (rte_ring_dequeue(w->handoff, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
        }
        rte_ring_free(w->handoff);
        rte_ring_free(w->notes);
        w->handoff = w->notes = nullptr;
    }
}

// Workers 1.. run on the EAL's worker lcores, in order; worker 0 on the main lcore.
void assign_lcores(engine::state& s) {
    if (rte_lcore_count() < s.cfg.workers)
        throw config_error("workers", std::to_string(s.cfg.workers) + " workers need as many lcores in \"eal\" (e.g. \"-l\", \"0-" +
                                          std::to_string(s.cfg.workers - 1) + "\"), the EAL has " +
                                          std::to_string(rte_lcore_count()));
    s.workers[0]->lcore = rte_get_main_lcore();
    unsigned next = 1, lc = 0;
    RTE_LCORE_FOREACH_WORKER(lc) {
        if (next >= s.workers.size()) break;
        s.workers[next++]->lcore = lc;
    }
}

void create_worker_rings(engine::state& s) {
    for (auto& w : s.workers) {
        if (s.workers.size() == 1) break;  // one worker: no hand-over, no notes
        auto h = "ipsecd_ho" + std::to_string(w->id), n = "ipsecd_nn" + std::to_string(w->id);
        w->handoff = rte_ring_create(h.c_str(), 2048, int(rte_socket_id()), RING_F_SC_DEQ);
        w->notes = rte_ring_create_elem(n.c_str(), sizeof(neighbor_note), 256, int(rte_socket_id()), RING_F_SC_DEQ);
        if (!w->handoff || !w->notes) throw dpdk_error("worker rings", rte_errno);
    }
    static const rte_mbuf_dynfield field{"ipsecd_handoff", sizeof(handoff_tag), alignof(handoff_tag), 0};
    s.handoff_field = rte_mbuf_dynfield_register(&field);
    if (s.handoff_field < 0) throw dpdk_error("mbuf dynfield", rte_errno);
}

} // namespace

engine::engine(config c) : _s(std::make_unique<state>()) {
    auto& s = *_s;
    s.cfg = std::move(c);
    s.eal_args.push_back("ipsecd");
    for (auto& a : s.cfg.eal) s.eal_args.push_back(a);
    std::vector<char*> argv;
    for (auto& a : s.eal_args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (rte_eal_init(int(argv.size() - 1), argv.data()) < 0)
        throw config_error("eal", std::string("EAL initialisation failed: ") + rte_strerror(rte_errno));
    s.eal_up = true;
    try {
        s.pool = rte_pktmbuf_pool_create("ipsecd_mbufs", s.cfg.mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                         int(rte_socket_id()));
        if (!s.pool) throw dpdk_error("mbuf pool", rte_errno);
        s.punt = rte_ring_create("ipsecd_punt", 1024, int(rte_socket_id()),
                                 s.cfg.workers > 1 ? RING_F_SC_DEQ : RING_F_SP_ENQ | RING_F_SC_DEQ);
        s.inject = rte_ring_create("ipsecd_inject", 1024, int(rte_socket_id()), RING_F_SC_DEQ);
        if (!s.punt || !s.inject) throw dpdk_error("rings", rte_errno);
        for (std::size_t i = 0; i < s.cfg.ports.size(); ++i) setup_port(s, i);

        s.tables_rcu = std::make_unique<rcu_published<tables>>(s.cfg.workers);
        publish(build_tables(s.cfg));
        for (unsigned w = 0; w < s.cfg.workers; ++w) {
            s.workers.push_back(std::make_unique<worker>(w));
            auto& wk = *s.workers.back();
            for (const auto& n : s.cfg.neighbors) wk.neigh.add_static(std::uint16_t(n.port), n.ip, n.hw);
        }
        assign_lcores(s);
        create_worker_rings(s);
        register_telemetry(this);
    } catch (...) {
        free_worker_rings(s);
        shutdown_ports(s);
        s.tables_rcu.reset();
        rte_eal_cleanup();
        s.eal_up = false;
        throw;
    }
}

engine::~engine() {
    auto& s = *_s;
    if (!s.eal_up) return;
    for (auto& w : s.workers) drain_worker(s, *w);
    rte_mbuf* m = nullptr;
    while (rte_ring_dequeue(s.punt, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
    while (rte_ring_dequeue(s.inject, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
    free_worker_rings(s);
    shutdown_ports(s);
    s.tables_rcu.reset();  // frees the SAs (and wipes their keys) before EAL memory goes away
    rte_ring_free(s.punt);
    rte_ring_free(s.inject);
    rte_mempool_free(s.pool);
    rte_eal_cleanup();
}

void engine::stop() { _s->stopping.store(true, std::memory_order_relaxed); }
void engine::attach_ike(bool on) { _s->ike_attached.store(on); }
rte_ring* engine::punt_ring() { return _s->punt; }
rte_ring* engine::inject_ring() { return _s->inject; }
rte_mempool* engine::pool() { return _s->pool; }
void engine::publish(std::unique_ptr<tables> t) {
    t->generation = _s->next_generation++;
    _s->tables_rcu->publish(std::move(t));
}
const tables& engine::current_tables() const { return *_s->tables_rcu->get(); }

void engine::run() {
    auto& s = *_s;
    s.last_activity_ms.store(now_ms());
    s.run_start_ms.store(now_ms());
    std::thread control([&] {
        std::uint64_t next_summary = now_ms() + s.cfg.summary_interval_ms;
        while (!s.stopping.load(std::memory_order_relaxed)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            s.tables_rcu->reclaim();
            auto now = now_ms();
            if (s.cfg.summary_interval_ms && now >= next_summary) {
                std::fprintf(stderr, "ipsecd: %s\n", summary_line().c_str());
                next_summary = now + s.cfg.summary_interval_ms;
            }
            if (s.cfg.exit_when_idle_ms && now - s.last_activity_ms.load() >= s.cfg.exit_when_idle_ms) stop();
        }
    });
    for (std::size_t i = 1; i < s.workers.size(); ++i) {
        auto* w = s.workers[i].get();
        w->engine_state = &s;
        if (int rc = rte_eal_remote_launch(
                [](void* a) {
                    auto* wk = static_cast<worker*>(a);
                    run_worker(*wk->engine_state, *wk);
                    return 0;
                },
                w, w->lcore);
            rc != 0) {
            std::fprintf(stderr, "ipsecd: worker %zu on lcore %u did not start: %s\n", i, w->lcore, rte_strerror(-rc));
            stop();
        }
    }
    run_worker(s, *s.workers[0]);
    rte_eal_mp_wait_lcore();
    s.run_end_ms.store(now_ms());
    control.join();
    s.tables_rcu->reclaim();
}

std::string engine::summary_line() const {
    const auto& s = *_s;
    std::string line;
    std::uint64_t drops = 0;
    for (const auto& w : s.workers) drops += w->stats.drops_total();
    for (std::size_t i = 0; i < s.ports.size(); ++i) {
        std::uint64_t rx = 0, tx = 0;
        for (const auto& w : s.workers) {
            rx += w->stats.ports[i].rx_packets.get();
            tx += w->stats.ports[i].tx_packets.get();
        }
        line += s.ports[i].name + " rx " + std::to_string(rx) + " tx " + std::to_string(tx) + "; ";
    }
    std::uint64_t enc = 0, dec = 0, byp = 0;
    for (const auto& w : s.workers) {
        enc += w->stats.encapsulated.get();
        dec += w->stats.decapsulated.get();
        byp += w->stats.bypassed.get();
    }
    line += "encap " + std::to_string(enc) + " decap " + std::to_string(dec) + " bypass " + std::to_string(byp) +
            " drops " + std::to_string(drops);
    return line;
}

std::map<std::string, std::uint64_t> engine::drop_counters() const {
    const auto& s = *_s;
    std::map<std::string, std::uint64_t> out;
    for (std::size_t d = 0; d < drop_count; ++d) {
        std::uint64_t n = 0;
        for (const auto& w : s.workers) n += w->stats.drops[d].get();
        if (n) out[std::string(to_string(drop(d)))] = n;
    }
    for (std::size_t d = 1; d < esp::drop_reason_count; ++d) {
        std::uint64_t n = 0;
        for (const auto& w : s.workers) n += w->stats.esp_drops[d].get();
        if (n) out["esp_" + std::string(esp::drop_reason_names[d])] = n;
    }
    return out;
}

nlohmann::json engine::counters_json() const {
    const auto& s = *_s;
    nlohmann::json j;
    auto start = s.run_start_ms.load(), end = s.run_end_ms.load();
    j["run_ms"] = start == 0 ? 0 : (end ? end : now_ms()) - start;
    auto sum = [&](auto get) {
        std::uint64_t t = 0;
        for (const auto& w : s.workers) t += get(w->stats);
        return t;
    };
    for (std::size_t id = 0; id < s.ports.size(); ++id) {
        j["ports"][s.ports[id].name] = {
            {"rx_packets", sum([&](const worker_stats& st) { return st.ports[id].rx_packets.get(); })},
            {"rx_bytes", sum([&](const worker_stats& st) { return st.ports[id].rx_bytes.get(); })},
            {"tx_packets", sum([&](const worker_stats& st) { return st.ports[id].tx_packets.get(); })},
            {"tx_bytes", sum([&](const worker_stats& st) { return st.ports[id].tx_bytes.get(); })},
        };
    }
#define X(name) j["events"][#name] = sum([](const worker_stats& st) { return st.name.get(); });
    DATAPLANE_EVENTS(X)
#undef X
    j["drops"] = nlohmann::json::object();
    for (std::size_t d = 0; d < drop_count; ++d)
        j["drops"][std::string(to_string(drop(d)))] = sum([&](const worker_stats& st) { return st.drops[d].get(); });
    j["esp_drops"] = nlohmann::json::object();
    for (std::size_t d = 1; d < esp::drop_reason_count; ++d)
        j["esp_drops"][std::string(esp::drop_reason_names[d])] =
            sum([&](const worker_stats& st) { return st.esp_drops[d].get(); });
    j["sas"] = nlohmann::json::object();
    const tables* t = s.tables_rcu ? s.tables_rcu->get() : nullptr;
    if (t) {
        auto sa_json = [](const char* dir, std::uint32_t spi, const esp::sa_counters& c) {
            nlohmann::json d = nlohmann::json::object();
            for (std::size_t i = 1; i < esp::drop_reason_count; ++i)
                if (c.drops[i]) d[std::string(esp::drop_reason_names[i])] = c.drops[i];
            return nlohmann::json{{"direction", dir}, {"spi", spi}, {"packets", c.packets}, {"bytes", c.bytes}, {"drops", d}};
        };
        for (const auto& e : t->out_sas) j["sas"][e.name] = sa_json("out", e.sa->spi(), e.sa->counters());
        for (const auto& e : t->in_sas) j["sas"][e.name] = sa_json("in", e.spi, e.sa->counters());
    }
    return j;
}

} // namespace dataplane
