// Persistence: atomic replace (temp, fsync, rename, fsync dir), mode 0600, reload after restart,
// and crashes (a child process _exit()s or is SIGKILLed mid-write): old or new state, never a mix.
#include "fixture.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace control_test;
namespace fs = std::filesystem;

namespace {
std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
unsigned mode_of(const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 0777;
}
// Runs `fn` in a child process and waits for it; returns the raw wait status.
template <class Fn>
int in_child(Fn fn) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        fn();
        ::_exit(0);
    }
    int st = 0;
    ::waitpid(pid, &st, 0);
    return st;
}
} // namespace

TEST_CASE("atomic_write_file writes the content with the requested mode regardless of the umask") {
    temp_dir d;
    auto old = ::umask(0);
    auto p = d.path / "f.json";
    REQUIRE(!control::atomic_write_file(p, "first"));
    CHECK(slurp(p) == "first");
    CHECK(mode_of(p) == 0600);
    ::umask(0077);
    control::atomic_write_options o;
    o.mode = 0644;
    REQUIRE(!control::atomic_write_file(p, "second", o));
    ::umask(old);
    CHECK(slurp(p) == "second");
    CHECK(mode_of(p) == 0644);
    CHECK(!fs::exists(d.path / ".f.json.tmp"));
    // All four stages run, in order.
    std::vector<control::write_stage> stages;
    o.after_stage = [&](control::write_stage s) { stages.push_back(s); };
    REQUIRE(!control::atomic_write_file(p, "third", o));
    CHECK(stages == std::vector<control::write_stage>{control::write_stage::temp_written, control::write_stage::temp_synced,
                                                      control::write_stage::renamed, control::write_stage::dir_synced});
    CHECK(control::atomic_write_file(d.path / "missing-dir" / "x", "y"));
}

TEST_CASE("a crash between the temp write and the rename leaves the old state") {
    temp_dir d;
    auto p = d.path / "state.json";
    REQUIRE(!control::atomic_write_file(p, "{\"old\": true}"));
    for (auto stage : {control::write_stage::temp_written, control::write_stage::temp_synced}) {
        int st = in_child([&] {
            control::atomic_write_options o;
            o.after_stage = [&](control::write_stage s) {
                if (s == stage) ::_exit(9); // "power cut" right here
            };
            (void)control::atomic_write_file(p, "{\"new\": true}", o);
        });
        REQUIRE(WIFEXITED(st));
        REQUIRE(WEXITSTATUS(st) == 9);
        CHECK(slurp(p) == "{\"old\": true}");
        CHECK(fs::exists(d.path / ".state.json.tmp")); // the half-done write is left behind...
    }
    // ... after the rename the new state is there.
    int st = in_child([&] {
        control::atomic_write_options o;
        o.after_stage = [](control::write_stage s) {
            if (s == control::write_stage::renamed) ::_exit(9);
        };
        (void)control::atomic_write_file(p, "{\"new\": true}", o);
    });
    REQUIRE(WEXITSTATUS(st) == 9);
    CHECK(slurp(p) == "{\"new\": true}");
}

TEST_CASE("state survives a restart: VIPs, tunnels with their keys, runtime networks; temp leftovers ignored") {
    fixture f;
    auto vip = f.make_vip();
    auto p = f.tunnel_params(vip);
    p["authKey"] = "Persisted-Key_0123456789";
    p["ikeDhGroup"] = 19;
    p["dpd"] = {{"delay", 10}, {"action", "hold"}};
    auto c = f.create_tunnel(p);
    REQUIRE(c.status == 201);
    std::string uuid = c.body["inventory"]["uuid"];
    REQUIRE(f.call("PUT", "/v1/ipsec/" + uuid + "/actions", {{"changeIPsecConnectionState", {{"stateEvent", "disable"}}}}).status == 200);
    REQUIRE(f.call("POST", "/v1/networks", {{"params", {{"name", "vpc3"}, {"category", "private"}, {"cidr", "10.7.0.0/16"}}}}).status == 201);
    auto before_vips = f.call("GET", "/v1/vips").body;
    auto before = f.call("GET", "/v1/ipsec/" + uuid).body["inventory"];

    auto file = f.store->file();
    CHECK(mode_of(file) == 0600);
    CHECK(mode_of(f.store->dir()) == 0700);
    // A stale temp file from an interrupted write must not be read.
    { std::ofstream(f.store->dir() / ".state.json.tmp") << "{garbage"; }

    // "Restart": a fresh engine and service over the same directory.
    control::fake_engine engine2;
    control::state_store store2(f.store->dir());
    control::service svc2(engine2, &store2, store2.load(control::networks_from_config(networks_config())));
    svc2.apply_all();
    CHECK(!fs::exists(f.store->dir() / ".state.json.tmp"));
    control::api_router router2(svc2);
    auto after = json::parse(router2.handle("GET", "/v1/ipsec/" + uuid, "").body)["inventory"];
    for (const char* k : {"name", "vipUuid", "peerAddress", "peerCidrs", "l3NetworkUuids", "ikeDhGroup", "dpd", "state", "createDate",
                          "lastOpDate", "localId", "remoteId", "pfs"})
        CHECK(after[k] == before[k]);
    CHECK(json::parse(router2.handle("GET", "/v1/vips", "").body) == before_vips); // system VIP uuid stable, useFor restored
    CHECK(json::parse(router2.handle("GET", "/v1/networks", "").body)["inventories"].size() == 4);
    auto plan = engine2.plan_of(uuid);
    REQUIRE(plan);
    CHECK(plan->peer.psk == base::secret_bytes(std::string_view("Persisted-Key_0123456789")));
    CHECK(plan->peer.enabled == false);
    CHECK(plan->peer.dpd == control::dpd_action::hold);
}

TEST_CASE("a corrupt or foreign state file stops the start instead of losing tunnels silently") {
    temp_dir d;
    control::state_store store(d.path / "s");
    auto nets = control::networks_from_config(networks_config());
    CHECK(store.load(nets).tunnels.empty()); // no file yet: empty state
    { std::ofstream(store.file()) << "{\"version\": 1, \"tunnels\": [{\"name\": \"x\", \"ikeDhGroup\": 1}]}"; }
    CHECK_THROWS(store.load(nets));
    { std::ofstream(store.file()) << "{\"version\": 7}"; }
    CHECK_THROWS(store.load(nets));
    { std::ofstream(store.file()) << "{\"version\": 1, \"tun"; }
    CHECK_THROWS(store.load(nets));
}

TEST_CASE("kill -9 at random moments during saves leaves a complete old or new state") {
    temp_dir d;
    control::state_store store(d.path / "s");
    auto nets = control::networks_from_config(networks_config());
    // Each generation N holds N tunnels named g<N>-<i>; a mix would show two generations.
    auto generation = [&](int n) {
        control::model_state m;
        m.networks = nets;
        for (int i = 0; i < n; ++i) {
            control::tunnel t;
            t.uuid = control::derived_uuid("t" + std::to_string(i));
            t.name = "g" + std::to_string(n) + "-" + std::to_string(i);
            t.vip_uuid = "00000000000000000000000000000001";
            t.auth_key = base::secret_bytes(std::string_view("Key-of-generation"));
            t.peer_address = control::ipv4{0xc6336400u + std::uint32_t(i)};
            m.tunnels.push_back(std::move(t));
        }
        return m;
    };
    REQUIRE(!store.save(generation(1)));
    unsigned seed = 12345;
    for (int round = 0; round < 12; ++round) {
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            for (int n = 2;; n = n % 40 + 2) (void)store.save(generation(n));
        }
        seed = seed * 1103515245 + 12345;
        ::usleep(2000 + (seed >> 8) % 20000);
        ::kill(pid, SIGKILL);
        int st = 0;
        ::waitpid(pid, &st, 0);
        REQUIRE(WIFSIGNALED(st));
        auto m = store.load(nets);
        REQUIRE(!m.tunnels.empty());
        auto gen = m.tunnels[0].name.substr(0, m.tunnels[0].name.find('-'));
        CHECK(m.tunnels.size() == std::stoul(gen.substr(1)));
        for (const auto& t : m.tunnels) CHECK(t.name.rfind(gen + "-", 0) == 0);
        CHECK(mode_of(store.file()) == 0600);
    }
}
