// Static SA SPECs (the ipsec-vector grammar) and building the tables snapshot from a config.
#include <dataplane/config.hpp>
#include <dataplane/sa_spec.hpp>
#include <dataplane/tables.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace dataplane;

namespace {
const std::string enc_key(64, 'a');   // 32 bytes
const std::string auth_key(64, 'b');  // 32 bytes
std::string cbc_spec(const std::string& spi, const std::string& src, const std::string& dst) {
    return "spi=" + spi + ",enc=aes256-cbc,enc-key=" + enc_key + ",integ=sha256-128,integ-key=" + auth_key +
           ",src=" + src + ",dst=" + dst;
}
std::string spec_error_of(const std::string& s) {
    try {
        parse_sa_spec(s);
    } catch (const spec_error& e) {
        return e.what();
    }
    return "";
}
} // namespace

TEST_CASE("sa_spec: the ipsec-vector SPEC grammar") {
    auto c = parse_sa_spec(cbc_spec("0x1005", "172.16.1.1", "172.16.2.1") + ",natt=4500:4501,esn=1,window=128,seq=7");
    CHECK(c.spi == 0x1005);
    CHECK(c.enc == esp::enc_alg::aes256_cbc);
    CHECK(c.integ == esp::integ_alg::sha256_128);
    CHECK(c.enc_key.size() == 32);
    CHECK(c.integ_key.size() == 32);
    CHECK(c.src.to_string() == "172.16.1.1");
    REQUIRE(c.natt);
    CHECK(c.natt->sport == 4500);
    CHECK(c.natt->dport == 4501);
    CHECK(c.esn);
    CHECK(c.replay_window == 128);
    CHECK(c.initial_seq == 7);

    auto g = parse_sa_spec("spi=4096,enc=aes128gcm16,enc-key=" + std::string(40, '1') + ",src=10.0.0.1,dst=10.0.0.2");
    CHECK(g.integ == esp::integ_alg::none);

    CHECK(spec_error_of(cbc_spec("0x1005", "172.16.1.1", "172.16.2.1") + ",bogus=1").find("bogus") == 0);
    CHECK(spec_error_of("enc=aes256-cbc").find("spi") != std::string::npos);
    CHECK(spec_error_of(cbc_spec("0x1005", "172.16.1.1", "172.16.2.x")).find("dst") == 0);
    CHECK(spec_error_of(cbc_spec("0x1005", "172.16.1.1", "172.16.2.1") + ",natt=4500").find("natt") == 0);
    CHECK_FALSE(spec_error_of(cbc_spec("0x1005", "172.16.1.1", "172.16.2.1") + ",spi=7").empty());
    // wrong key length is refused by esp's validation; the key never appears in the message
    auto short_key = "spi=0x1005,enc=aes256-cbc,enc-key=" + std::string(30, 'c') +
                     ",integ=sha256-128,integ-key=" + auth_key + ",src=1.1.1.1,dst=2.2.2.2";
    auto msg = spec_error_of(short_key);
    CHECK_FALSE(msg.empty());
    CHECK(msg.find(std::string(30, 'c')) == std::string::npos);
}

TEST_CASE("tables: static SAs and policies are resolved by name and direction") {
    auto cfg_text = [&](const std::string& in_policy_sa, const std::string& out_policy_sa) {
        return R"({"eal": [], "ports": [{"name": "p", "role": "private", "device": "d0", "ip": "10.1.0.1/24"},
                  {"name": "q", "role": "public", "device": "d1", "ip": "172.16.1.1/24", "gateway": "172.16.1.254"}],
                  "static": {"sas": [{"name": "out5", "direction": "out", "spec": ")" +
               cbc_spec("0x1005", "172.16.1.1", "172.16.2.1") + R"("},
                  {"name": "in7", "direction": "in", "spec": ")" + cbc_spec("0x1007", "172.16.2.1", "172.16.1.1") + R"("}],
                  "policies": {"default": "bypass", "policies": [
                   {"name": "o", "priority": 10, "direction": "out", "src": ["10.1.0.0/16"], "dst": ["10.2.0.0/16"], "action": "protect", "sa": ")" +
               out_policy_sa + R"("},
                   {"name": "i", "priority": 10, "direction": "in", "src": ["10.2.0.0/16"], "dst": ["10.1.0.0/16"], "action": "protect", "sa": ")" +
               in_policy_sa + R"("}]}}})";
    };
    auto t = build_tables(parse_config(cfg_text("in7", "out5")));
    REQUIRE(t->out_sas.size() == 1);
    REQUIRE(t->in_sas.size() == 1);
    CHECK(t->out_sas[0].peer == 0xac100201u);
    CHECK(t->out_sas[0].local == 0xac100101u);
    // AES-CBC/HMAC-SHA-256-128 in tunnel mode: 20 + 8 + 16 ahead, block 16, ICV 16:
    // the biggest inner packet for a 1500-byte link is floor((1500-44-16)/16)*16 - 2.
    CHECK(t->out_sas[0].inner_mtu(1500) == 1438);
    std::uint32_t idx = 99;
    REQUIRE(t->find_inbound(0x1007, idx));
    CHECK(idx == 0);
    CHECK_FALSE(t->find_inbound(0x1005, idx));

    spd::flow_key k{};
    k.family = spd::ip_family::v4;
    k.src = {10, 1, 0, 5};
    k.dst = {10, 2, 3, 4};
    k.proto = 17;
    auto v = t->spd_out->classify(k);
    CHECK(v.act == spd::action::protect);
    CHECK(v.sa_handle == 0);
    k.dst = {10, 3, 3, 4};
    CHECK(t->spd_out->classify(k).act == spd::action::bypass);
    k.src = {10, 2, 0, 1};
    k.dst = {10, 1, 0, 5};
    v = t->spd_in->classify(k);
    CHECK(v.act == spd::action::protect);
    CHECK(v.sa_handle == 0);

    auto key_of = [&](const std::string& text) {
        try {
            build_tables(parse_config(text));
        } catch (const config_error& e) {
            return e.key;
        }
        return std::string("(no error)");
    };
    CHECK(key_of(cfg_text("in8", "out5")) == "static.policies.policies[1].sa");
    CHECK(key_of(cfg_text("out5", "out5")) == "static.policies.policies[1].sa");  // direction mismatch
    CHECK(key_of(cfg_text("in7", "")) == "static.policies");  // spd's parser refuses an empty SA name
}
