// ipsec-vector ike-decode: print the IKEv2 messages of a capture as JSON lines, opening SK
// payloads with the keys given on the command line.
//
//   ike-decode --in CAPTURE [--keys "SPIi,SPIr,SK_ei,SK_er,ENC,SK_ai,SK_ar,INTEG"]...
//
// What happens to a capture, in order:
//   1. Each --keys spec is parsed and its two SK ciphers created (bad spec: exit 2, one line).
//   2. The capture is read (pcap or pcapng; Ethernet, raw IP or Linux SLL; bad file: exit 2).
//   3. Each frame: IPv4/IPv6 -> UDP on port 500 (IKE as is) or 4500 (IKE behind the non-ESP
//      marker; NAT-keepalives and ESP-in-UDP skipped, ike_frames.cpp). Other frames print nothing.
//   4. The IKE bytes go through the codec (ike::parse_message: header length = datagram, the
//      cleartext chain); a failure prints {"frame": N, "error": reason} and the walk goes on.
//   5. SK: with keys for the message's SPI pair, the direction is picked by the I flag (set:
//      sent by the original initiator -> SK_ei/SK_ai, else SK_er/SK_ar); ike::open_sk verifies
//      the ICV before decrypting, and the inner chain is printed under "payloads". SKF
//      (RFC 7383): each fragment is verified and decrypted on its own; once every fragment of a
//      message (same SPIs, Message ID and flags) has opened, the line of the fragment that
//      completes it carries "reassembled": {"fragments": n, "payloads": [...]} (inner chain of
//      the plaintexts joined in fragment-number order, first type from fragment 1, 2.5).
//   6. One JSON line per IKE message on stdout; exit 0.
#include "command.hpp"
#include "ike_frames.hpp"
#include "ike_json.hpp"
#include "ike_keys.hpp"

#include <ike/message.hpp>
#include <pcapio/pcapio.hpp>

#include <base/hex.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <memory>
#include <tuple>
#include <string>
#include <vector>

namespace ipsec_vector {
namespace {

using json = nlohmann::ordered_json;

struct ike_decode_options {
    std::string in;
    std::vector<std::string> keys;
};

// Fragments of one message seen so far (RFC 7383 2.6), keyed by SPIs, Message ID and flags.
struct fragment_set {
    std::uint16_t total = 0;
    std::map<std::uint16_t, std::vector<std::uint8_t>> plain;  // fragment number -> plaintext
    ike::payload_type inner_first = ike::payload_type::none;
};
using fragment_key = std::tuple<ike::ike_spi, ike::ike_spi, std::uint32_t, std::uint8_t>;
using fragment_table = std::map<fragment_key, fragment_set>;

const ike_sa_keys* find_keys(const std::vector<ike_sa_keys>& all, const ike::ike_header& h) {
    for (const auto& k : all)
        if (k.spi_i == h.spi_i && k.spi_r == h.spi_r) return &k;
    return nullptr;
}

ike::sk_codec& direction(const ike_sa_keys& k, const ike::ike_header& h) {
    return h.initiator ? *k.from_initiator : *k.from_responder;
}

json inner_json(const std::vector<ike::payload>& payloads) {
    json a = json::array();
    for (const auto& p : payloads) a.push_back(payload_json(p));
    return a;
}

// The SK payload of `m`: "icv" and inner "payloads" when keys match, else "decrypted": false.
void describe_sk(json& j, ike::message& m, std::span<const std::uint8_t> datagram, const ike_sa_keys* keys) {
    if (!keys) { j["decrypted"] = false; return; }
    auto err = ike::open_sk(m, datagram, direction(*keys, m.header));
    if (!err) {
        j["icv"] = "good";
        j["decrypted"] = true;
        j["payloads"] = inner_json(m.encrypted);
    } else if (err->reason == ike::icv_failed_reason) {
        j["icv"] = "bad";
        j["decrypted"] = false;
    } else {  // ICV good, inner chain malformed
        j["icv"] = "good";
        j["decrypted"] = true;
        j["error"] = err->reason;
    }
}

// Stores an opened fragment; when it completes its message, adds "reassembled" to `j`.
void reassemble(json& j, const ike::message& m, const ike::skf_payload& skf, std::vector<std::uint8_t> plain,
                fragment_table& fragments) {
    const ike::ike_header& h = m.header;
    const fragment_key key{h.spi_i, h.spi_r, h.message_id, h.flags()};
    fragment_set& set = fragments[key];
    if (set.total != skf.total_fragments) set = fragment_set{skf.total_fragments, {}, ike::payload_type::none};
    if (skf.fragment_number == 1) set.inner_first = skf.inner_first;
    set.plain[skf.fragment_number] = std::move(plain);
    if (set.plain.size() != set.total || set.plain.begin()->first != 1 || set.plain.rbegin()->first != set.total)
        return;
    std::vector<std::uint8_t> whole;
    for (const auto& [n, part] : set.plain) whole.insert(whole.end(), part.begin(), part.end());
    json r;
    r["fragments"] = set.total;
    auto inner = ike::parse_payload_chain(set.inner_first, whole, true);
    if (inner) r["payloads"] = inner_json(inner.value());
    else r["error"] = inner.error().reason;
    j["reassembled"] = std::move(r);
    fragments.erase(key);
}

void describe_skf(json& j, const ike::message& m, std::span<const std::uint8_t> datagram, const ike_sa_keys* keys,
                  fragment_table& fragments) {
    if (!keys) { j["decrypted"] = false; return; }
    auto plain = ike::open_skf(m, datagram, direction(*keys, m.header));
    const ike::skf_payload* skf = m.skf();
    if (plain) {
        j["icv"] = "good";
        j["decrypted"] = true;
        j["plaintext_length"] = plain->size();
        // Fragment number 1..total is checked by the codec's verify(); the parser only bounds it.
        if (skf && skf->fragment_number >= 1 && skf->fragment_number <= skf->total_fragments)
            reassemble(j, m, *skf, std::move(plain.value()), fragments);
    } else if (plain.error().reason == ike::icv_failed_reason) {
        j["icv"] = "bad";
        j["decrypted"] = false;
    } else {
        j["decrypted"] = false;
        j["error"] = plain.error().reason;
    }
}

json describe_message(std::size_t frame, const ike_frame& f, const std::vector<ike_sa_keys>& keys,
                      fragment_table& fragments) {
    json j;
    j["frame"] = frame;
    auto parsed = ike::parse_message(f.ike);
    if (!parsed) {
        j["error"] = parsed.error().reason;
        return j;
    }
    ike::message& m = parsed.value();
    const ike::ike_header& h = m.header;
    j["spi_i"] = base::to_hex(h.spi_i);
    j["spi_r"] = base::to_hex(h.spi_r);
    j["exchange"] = ike::to_string(h.exchange);
    j["initiator"] = h.initiator;
    j["response"] = h.response;
    j["msgid"] = h.message_id;
    j["sport"] = f.src_port;
    j["dport"] = f.dst_port;
    const ike_sa_keys* k = find_keys(keys, h);
    json payloads = json::array();
    for (const auto& p : m.payloads) {
        json pj = payload_json(p);
        if (p.type == ike::payload_type::sk) describe_sk(pj, m, f.ike, k);
        else if (p.type == ike::payload_type::skf) describe_skf(pj, m, f.ike, k, fragments);
        payloads.push_back(std::move(pj));
    }
    j["payloads"] = std::move(payloads);
    return j;
}

int run_ike_decode(const ike_decode_options& o) {
    std::vector<ike_sa_keys> keys;
    for (const auto& spec : o.keys) keys.push_back(parse_ike_keys(spec));
    pcapio::capture cap;
    try {
        cap = pcapio::read_file(o.in);
    } catch (const std::exception& e) {
        throw usage_error(e.what());
    }
    fragment_table fragments;
    for (std::size_t i = 0; i < cap.frames.size(); ++i) {
        ike_frame f = locate_ike(cap.linktype, cap.frames[i].bytes);
        if (f.kind != ike_frame_kind::ike) continue;
        std::string line = describe_message(i, f, keys, fragments).dump();
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fputc('\n', stdout);
    }
    std::fflush(stdout);
    return 0;
}

const command_registration ike_decode_reg([](CLI::App& app, int& exit_code) {
    auto opts = std::make_shared<ike_decode_options>();
    auto* sub = app.add_subcommand(
        "ike-decode",
        "Decode the IKEv2 messages of a capture (UDP 500, and 4500 behind the non-ESP marker) as one JSON line "
        "each: {\"frame\": N, \"spi_i\", \"spi_r\", \"exchange\", \"initiator\", \"response\", \"msgid\", "
        "\"sport\", \"dport\", \"payloads\": [...]}. N is the 0-based index of the frame in the file (every "
        "frame counts, IKE or not). A message the codec rejects prints {\"frame\": N, \"error\": \"...\"}. "
        "SK payloads carry \"icv\": \"good\"|\"bad\" and, once decrypted, their inner \"payloads\"; without "
        "keys for the SPI pair, \"decrypted\": false.");
    sub->add_option("--in", opts->in, "input pcap/pcapng (Ethernet, raw IP or Linux SLL)")->required();
    sub->add_option("--keys", opts->keys,
                    "keys of one IKE SA (repeatable): \"SPIi,SPIr,SK_ei,SK_er,ENC,SK_ai,SK_ar,INTEG\", hex fields; "
                    "ENC aes128-cbc|aes192-cbc|aes256-cbc|aes{128,192,256}gcm{8,12,16}|3des-cbc, INTEG "
                    "sha1-96|sha1-160|sha256-128|sha384-192|sha512-256|md5-96|none (none with GCM, whose SK_e "
                    "includes the 4-byte salt). The I flag of a message selects SK_ei/SK_ai, else SK_er/SK_ar.")
        ->take_all();
    sub->callback([opts, &exit_code] { exit_code = run_ike_decode(*opts); });
});

} // namespace
} // namespace ipsec_vector
