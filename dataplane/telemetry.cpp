// DPDK telemetry commands for dpdk-telemetry.py: /ipsec/stats (a container per port, events),
// /ipsec/drops (data-plane and ESP drop reasons), /ipsec/sas (per-SA counters). They read
// the same single-writer counters as the summary line, from DPDK's telemetry thread.
#include "engine_state.hpp"

#include <rte_telemetry.h>

#include <atomic>

namespace dataplane {

namespace {

std::atomic<engine*> g_engine{nullptr};

// DPDK telemetry names allow [A-Za-z0-9_/] and one level of nested containers: objects at the
// top become containers, deeper objects are flattened with '_' ("drops_icv").
void add_flat(rte_tel_data* d, const nlohmann::json& obj, const std::string& prefix) {
    for (auto& [k, v] : obj.items()) {
        auto name = prefix.empty() ? k : prefix + "_" + k;
        if (v.is_object()) add_flat(d, v, name);
        else if (v.is_number_unsigned()) rte_tel_data_add_dict_u64(d, name.c_str(), v.get<std::uint64_t>());
        else if (v.is_string()) rte_tel_data_add_dict_string(d, name.c_str(), v.get<std::string>().c_str());
    }
}

void add_json_dict(rte_tel_data* d, const nlohmann::json& obj) {
    for (auto& [k, v] : obj.items()) {
        if (!v.is_object()) {
            nlohmann::json one = {{k, v}};
            add_flat(d, one, "");
            continue;
        }
        rte_tel_data* child = rte_tel_data_alloc();
        if (!child) continue;
        rte_tel_data_start_dict(child);
        add_flat(child, v, "");
        if (rte_tel_data_add_dict_container(d, k.c_str(), child, 0) != 0) rte_tel_data_free(child);
    }
}

int reply(const char* section, rte_tel_data* d) {
    engine* e = g_engine.load();
    if (!e) return -1;
    auto j = e->counters_json();
    rte_tel_data_start_dict(d);
    if (std::string_view(section) == "stats") {
        add_json_dict(d, j["ports"]);
        add_json_dict(d, j["events"]);
    } else {
        add_json_dict(d, j[section]);
    }
    return 0;
}

int cmd_stats(const char*, const char*, rte_tel_data* d) { return reply("stats", d); }
int cmd_drops(const char*, const char*, rte_tel_data* d) {
    engine* e = g_engine.load();
    if (!e) return -1;
    auto j = e->counters_json();
    rte_tel_data_start_dict(d);
    add_json_dict(d, j["drops"]);
    add_flat(d, j["esp_drops"], "esp");
    return 0;
}
int cmd_sas(const char*, const char*, rte_tel_data* d) { return reply("sas", d); }

} // namespace

void register_telemetry(engine* e) {
    g_engine.store(e);
    rte_telemetry_register_cmd("/ipsec/stats", cmd_stats, "Port and event counters. No parameters");
    rte_telemetry_register_cmd("/ipsec/drops", cmd_drops, "Drop counters by reason. No parameters");
    rte_telemetry_register_cmd("/ipsec/sas", cmd_sas, "Per-SA counters. No parameters");
}

} // namespace dataplane
