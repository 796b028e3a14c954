// Atomic state file (see persist.hpp for the write protocol).
#include "control/persist.hpp"

#include "control/validate.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace control {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::error_code last_error() { return {errno, std::generic_category()}; }

// Owns a file descriptor for the duration of one write.
struct fd_guard {
    int fd = -1;
    ~fd_guard() {
        if (fd >= 0) ::close(fd);
    }
};

std::error_code write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        auto n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return last_error();
        }
        data.remove_prefix(std::size_t(n));
    }
    return {};
}

} // namespace

std::error_code atomic_write_file(const fs::path& path, std::string_view data, const atomic_write_options& opt) {
    auto dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    auto tmp = dir / ("." + path.filename().string() + ".tmp");
    auto stage = [&](write_stage s) {
        if (opt.after_stage) opt.after_stage(s);
    };
    {
        fd_guard f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, opt.mode)};
        if (f.fd < 0) return last_error();
        if (::fchmod(f.fd, opt.mode) != 0) return last_error(); // the umask must not widen or narrow it
        if (auto ec = write_all(f.fd, data)) return ec;
        stage(write_stage::temp_written);
        if (::fsync(f.fd) != 0) return last_error();
        stage(write_stage::temp_synced);
        if (::close(f.fd) != 0) {
            f.fd = -1;
            return last_error();
        }
        f.fd = -1;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) return last_error();
    stage(write_stage::renamed);
    fd_guard d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (d.fd < 0) return last_error();
    if (::fsync(d.fd) != 0) return last_error();
    stage(write_stage::dir_synced);
    return {};
}

state_store::state_store(fs::path dir) : _dir(std::move(dir)) {
    std::error_code ec;
    if (!fs::exists(_dir, ec)) {
        fs::create_directories(_dir, ec);
        if (ec) throw std::system_error(ec, "cannot create state directory " + _dir.string());
        fs::permissions(_dir, fs::perms::owner_all, ec);
    }
    if (!fs::is_directory(_dir, ec)) throw std::runtime_error("state path is not a directory: " + _dir.string());
}

json state_to_json(const model_state& m) {
    json j{{"version", 1}, {"networks", json::array()}, {"vips", json::array()}, {"tunnels", json::array()}};
    for (const auto& n : m.networks)
        if (!n.from_config) j["networks"].push_back(to_json(n));
    for (const auto& v : m.vips)
        if (!v.system) j["vips"].push_back(to_json(v));
    for (const auto& t : m.tunnels) j["tunnels"].push_back(to_record(t));
    return j;
}

void derive_system_vips(model_state& m) {
    std::erase_if(m.vips, [](const vip& v) { return v.system; });
    std::vector<vip> sys;
    for (const auto& n : m.networks) {
        if (n.category != network_category::public_net || !n.port_ip) continue;
        vip v;
        v.uuid = derived_uuid("system-vip:" + n.uuid);
        v.name = "system-vip-" + n.name;
        v.description = "the address of port " + n.port;
        v.l3_network_uuid = n.uuid;
        v.ip = *n.port_ip;
        v.system = true;
        sys.push_back(v);
    }
    m.vips.insert(m.vips.begin(), sys.begin(), sys.end());
}

void recompute_use_for(model_state& m) {
    for (auto& v : m.vips) {
        std::erase(v.use_for, std::string("IPsec"));
        bool used = std::any_of(m.tunnels.begin(), m.tunnels.end(), [&](const tunnel& t) { return t.vip_uuid == v.uuid; });
        if (used) v.use_for.push_back("IPsec");
    }
}

std::vector<network> networks_from_config(const json& config) {
    const json* list = &config;
    if (config.is_object() && config.contains("networks")) list = &config["networks"];
    if (!list->is_array()) throw std::runtime_error("config: \"networks\" must be a list");
    std::vector<network> out;
    model_state so_far;
    for (const auto& j : *list) {
        auto n = parse_network(j, true);
        if (!n) throw std::runtime_error("config: network: " + n.error().description);
        if (auto e = check_new_network(*n, so_far)) throw std::runtime_error("config: network: " + e->description);
        so_far.networks.push_back(*n);
        out.push_back(*n);
    }
    return out;
}

model_state state_store::load(const std::vector<network>& config_networks) {
    model_state m;
    m.networks = config_networks;
    std::error_code ec;
    fs::remove(_dir / ".state.json.tmp", ec); // an interrupted write: the old file is the state
    std::ifstream in(file(), std::ios::binary);
    if (in) {
        std::stringstream ss;
        ss << in.rdbuf();
        json j = json::parse(ss.str(), nullptr, false);
        if (j.is_discarded() || !j.is_object()) throw std::runtime_error("state file is not JSON: " + file().string());
        if (j.value("version", 0) != 1) throw std::runtime_error("state file has an unknown version: " + file().string());
        for (const auto& jn : j.value("networks", json::array())) {
            auto n = parse_network(jn.is_object() ? [&] { auto c = jn; c.erase("source"); return c; }() : jn, false);
            if (!n) throw std::runtime_error("state file: network: " + n.error().description);
            if (auto e = check_new_network(*n, m)) throw std::runtime_error("state file: network: " + e->description);
            m.networks.push_back(*n);
        }
        for (const auto& jv : j.value("vips", json::array())) {
            vip v;
            try {
                v.uuid = jv.at("uuid").get<std::string>();
                v.name = jv.at("name").get<std::string>();
                v.description = jv.value("description", "");
                v.l3_network_uuid = jv.at("l3NetworkUuid").get<std::string>();
                auto ip = ipv4::parse(jv.at("ip").get<std::string>());
                if (!ip) throw std::runtime_error("bad ip");
                v.ip = *ip;
                v.ip_range_uuid = jv.value("ipRangeUuid", "");
                v.use_for = jv.value("useFor", std::vector<std::string>{});
                v.create_date = jv.value("createDate", "");
                v.last_op_date = jv.value("lastOpDate", "");
            } catch (const std::exception& e) {
                throw std::runtime_error(std::string("state file: vip: ") + e.what());
            }
            m.vips.push_back(v);
        }
        for (const auto& jt : j.value("tunnels", json::array())) {
            tunnel t;
            if (auto e = apply_tunnel_fields(t, jt, field_mode::record))
                throw std::runtime_error("state file: tunnel: " + e->description);
            if (t.uuid.empty()) throw std::runtime_error("state file: tunnel without uuid");
            m.tunnels.push_back(std::move(t));
        }
    }
    derive_system_vips(m);
    recompute_use_for(m);
    return m;
}

std::error_code state_store::save(const model_state& m) {
    atomic_write_options opt;
    opt.mode = 0600;
    opt.after_stage = _hook;
    return atomic_write_file(file(), state_to_json(m).dump(1), opt);
}

} // namespace control
