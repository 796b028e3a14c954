// ipsec-vector spd-classify --policies POLICIES.json --in PACKETS.pcap [--linear]
//
// Classifies every frame of a pcap/pcapng (Ethernet, Linux SLL or raw IP) as outbound traffic
// against the policies' "out" set and prints one JSON line per frame, in file order:
//   {"index": I, "action": "protect"|"bypass"|"discard", "policy": "p1"|null}
// "policy" is null when the default action applied. Frames that are not IP (ARP, LLDP, ...) are
// reported, not skipped, so that index always equals the frame's 0-based position:
//   {"index": I, "action": "not_ip", "policy": null}
// IP frames whose headers cannot be parsed (truncated, bad IHL, IPv6 extension chain longer
// than spd::max_ipv6_ext_headers) are reported as
//   {"index": I, "action": "malformed", "policy": null, "reason": "truncated"}
// Exit 0 after classifying; exit 2 on bad arguments, unreadable files, bad JSON or a bad
// policy (the message names the policy and the field).
// --linear uses the linear reference classifier instead of the compiled one (for cross-checks).
#include "command.hpp"

#include <nlohmann/json.hpp>
#include <pcapio/pcapio.hpp>
#include <spd/classifier.hpp>
#include <spd/flow.hpp>
#include <spd/linear.hpp>
#include <spd/policy_json.hpp>

#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <variant>

namespace ipsec_vector {
namespace {

struct spd_classify_options {
    std::string policies;
    std::string in;
    bool linear = false;
};

std::string read_text(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw usage_error("cannot read policies file " + path);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

int run_spd_classify(const spd_classify_options& o) {
    spd::policy_set set;
    try {
        set = spd::parse_policy_json(read_text(o.policies));
    } catch (const spd::policy_error& e) {
        throw usage_error(o.policies + ": " + e.what());
    }
    pcapio::capture cap;
    try {
        cap = pcapio::read_file(o.in);
    } catch (const std::exception& e) {
        throw usage_error(e.what());
    }

    // 1. extract the flow of every IP frame; remember what happened to the others.
    enum class kind : std::uint8_t { ip, not_ip, malformed };
    std::vector<kind> kinds(cap.frames.size(), kind::ip);
    std::vector<spd::extract_status> why(cap.frames.size(), spd::extract_status::ok);
    std::vector<spd::flow_key> flows;
    std::vector<std::size_t> flow_frame;
    for (std::size_t i = 0; i < cap.frames.size(); ++i) {
        const auto& bytes = cap.frames[i].bytes;
        auto off = pcapio::ip_offset(cap.linktype, bytes);
        if (!off) { kinds[i] = kind::not_ip; continue; }
        spd::flow_key k;
        auto st = spd::extract_flow(std::span<const std::uint8_t>(bytes).subspan(*off), k);
        if (st != spd::extract_status::ok) { kinds[i] = kind::malformed; why[i] = st; continue; }
        flows.push_back(k);
        flow_frame.push_back(i);
    }
    // 2. classify them (bursts are the classifier's business; any length works).
    std::vector<spd::verdict> verdicts(flows.size());
    if (o.linear) {
        spd::linear_classifier(set.policies, spd::direction::out, set.default_action).classify(flows, verdicts);
    } else {
        spd::classifier(set.policies, spd::direction::out, set.default_action).classify(flows, verdicts);
    }
    // 3. one line per frame, in order.
    std::size_t next_flow = 0;
    for (std::size_t i = 0; i < cap.frames.size(); ++i) {
        nlohmann::ordered_json line;
        line["index"] = i;
        if (kinds[i] == kind::ip) {
            const spd::verdict& v = verdicts[next_flow++];
            line["action"] = std::string(spd::to_string(v.act));
            if (v.policy == spd::no_policy) line["policy"] = nullptr;
            else line["policy"] = set.policies[v.policy].name;
        } else {
            line["action"] = kinds[i] == kind::not_ip ? "not_ip" : "malformed";
            line["policy"] = nullptr;
            if (kinds[i] == kind::malformed) line["reason"] = std::string(spd::to_string(why[i]));
        }
        std::string s = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        std::fwrite(s.data(), 1, s.size(), stdout);
        std::fputc('\n', stdout);
    }
    std::fflush(stdout);
    return 0;
}

const command_registration spd_classify_reg([](CLI::App& app, int& exit_code) {
    auto opts = std::make_shared<spd_classify_options>();
    auto* sub = app.add_subcommand(
        "spd-classify",
        "Classify every frame of a capture as outbound traffic against a policy file; one JSON line per "
        "frame: {\"index\", \"action\": protect|bypass|discard|not_ip|malformed, \"policy\": name|null}");
    sub->add_option("--policies", opts->policies, "policy JSON ({\"default\": ..., \"policies\": [...]})")->required();
    sub->add_option("--in", opts->in, "input pcap/pcapng (Ethernet or raw IP)")->required();
    sub->add_flag("--linear", opts->linear, "use the linear reference classifier");
    sub->callback([opts, &exit_code] { exit_code = run_spd_classify(*opts); });
});

} // namespace
} // namespace ipsec_vector
