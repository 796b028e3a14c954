#pragma once
// Persistence of VIPs, tunnels and API-added networks in a state directory.
//
// One file, <dir>/state.json, mode 0600 (it holds the pre-shared keys), replaced atomically:
//   1. write <dir>/.state.json.tmp (O_CREAT|O_TRUNC, mode 0600, fchmod against the umask)
//   2. fsync the temp file
//   3. rename() over state.json (atomic within one file system)
//   4. fsync the directory so the rename itself is durable
// A kill -9 (or power loss) at any point leaves either the old or the new state.json, never a
// mix; a stale temp file is ignored and removed at the next load. Everything lives in one file
// so that VIPs, tunnels and keys can never be out of step with each other.
#include "control/model.hpp"

#include <filesystem>
#include <functional>
#include <string_view>
#include <system_error>
#include <vector>

namespace control {

enum class write_stage { temp_written, temp_synced, renamed, dir_synced };

struct atomic_write_options {
    unsigned mode = 0600;
    // Test seam: called after each stage (a crash test _exit()s the process from here).
    std::function<void(write_stage)> after_stage;
};

std::error_code atomic_write_file(const std::filesystem::path& path, std::string_view data,
                                  const atomic_write_options& opt = {});

class state_store {
public:
    // Creates the directory (mode 0700) if missing. Throws std::system_error if it cannot.
    explicit state_store(std::filesystem::path dir);

    // Config networks + the persisted state. System VIPs (one per public network with a
    // portIp) are derived, not stored; useFor is recomputed from the tunnels.
    // Throws std::runtime_error on a corrupt or invalid state file (start-up only).
    model_state load(const std::vector<network>& config_networks);
    std::error_code save(const model_state& m);

    [[nodiscard]] std::filesystem::path file() const { return _dir / "state.json"; }
    [[nodiscard]] const std::filesystem::path& dir() const { return _dir; }
    void set_write_hook(std::function<void(write_stage)> hook) { _hook = std::move(hook); }

private:
    std::filesystem::path _dir;
    std::function<void(write_stage)> _hook;
};

// Serialized form (exposed for tests).
nlohmann::json state_to_json(const model_state& m);

// System VIPs for the public networks that name their port address, and useFor recomputed.
void derive_system_vips(model_state& m);
void recompute_use_for(model_state& m);

// Networks from ipsecd's config: {"networks": [...]} or a bare list. Throws on errors.
std::vector<network> networks_from_config(const nlohmann::json& config);

} // namespace control
