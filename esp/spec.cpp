// SA SPEC parser (see esp/spec.hpp). Every rejection is a spec_error naming the key and what
// it accepts; key values are never echoed.
#include "esp/spec.hpp"

#include <base/hex.hpp>
#include <esp/algorithms.hpp>
#include <esp/replay.hpp>

#include <openssl/crypto.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace esp {
namespace {

constexpr std::string_view known_keys =
    "spi, enc, enc-key, integ, integ-key, src, dst, natt, esn, seq, window, backend";
constexpr std::string_view enc_allowed_text = "aes256-cbc|aes192-cbc|aes128-cbc|aes128gcm16|aes256gcm16|3des-cbc";
constexpr std::string_view integ_allowed_text = "sha1-96|sha256-128|sha384-192|sha512-256|none";

[[noreturn]] void bad(const std::string& what) { throw spec_error(what); }

// Decimal or 0x-prefixed hexadecimal, the whole string, no sign, no overflow.
std::optional<std::uint64_t> parse_u64(std::string_view s) {
    int base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s.remove_prefix(2);
        base = 16;
    }
    if (s.empty()) return std::nullopt;
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return v;
}

std::uint16_t parse_port(std::string_view s) {
    auto v = parse_u64(s);
    if (!v || *v == 0 || *v > 65535) bad("natt=SPORT:DPORT: ports must be 1..65535");
    return static_cast<std::uint16_t>(*v);
}

// Hex key: even number of hex digits (optional 0x, ':' separators). The value is not echoed.
base::secret_bytes parse_key(std::string_view key, std::string_view value) {
    auto bytes = base::from_hex(value);
    if (!bytes || bytes->empty()) bad(std::string(key) + ": not a hex string (need an even number of hex digits)");
    base::secret_bytes out{std::span<const std::uint8_t>(*bytes)};
    OPENSSL_cleanse(bytes->data(), bytes->size());  // the temporary vector held the key too
    return out;
}

} // namespace

sa_spec parse_sa_spec(std::string_view spec) {
    sa_spec out;
    sa_config& c = out.cfg;
    std::optional<enc_alg> enc;
    std::optional<integ_alg> integ;
    bool have_spi = false, have_enc_key = false, have_integ_key = false;
    std::vector<std::string> seen;

    if (spec.empty()) bad("empty (need at least spi, enc, enc-key, src, dst)");
    std::size_t pos = 0;
    while (pos <= spec.size()) {
        std::size_t comma = spec.find(',', pos);
        if (comma == std::string_view::npos) comma = spec.size();
        std::string_view item = spec.substr(pos, comma - pos);
        pos = comma + 1;
        if (item.empty()) {
            if (comma == spec.size()) break;  // tolerate one trailing comma
            bad("empty item between commas");
        }
        const auto eq = item.find('=');
        // The item itself is not echoed: it could be a stray key value.
        if (eq == std::string_view::npos) bad("item " + std::to_string(seen.size() + 1) + " is not key=value");
        const std::string key(item.substr(0, eq));
        const std::string_view val = item.substr(eq + 1);
        for (const auto& s : seen)
            if (s == key) bad("key '" + key + "' given twice");
        seen.push_back(key);

        if (key == "spi") {
            auto v = parse_u64(val);
            if (!v || *v > 0xffffffffULL) bad("spi: need a 32-bit number (e.g. 0x11223344)");
            c.spi = static_cast<std::uint32_t>(*v);
            have_spi = true;
        } else if (key == "enc") {
            enc = parse_enc(val);
            if (!enc) bad("enc='" + std::string(val) + "': allowed " + std::string(enc_allowed_text));
        } else if (key == "enc-key") {
            c.enc_key = parse_key(key, val);
            have_enc_key = true;
        } else if (key == "integ") {
            integ = parse_integ(val);
            if (!integ) bad("integ='" + std::string(val) + "': allowed " + std::string(integ_allowed_text));
        } else if (key == "integ-key") {
            c.integ_key = parse_key(key, val);
            have_integ_key = true;
        } else if (key == "src" || key == "dst") {
            auto a = ip_address::parse(val);
            if (!a) bad(key + "='" + std::string(val) + "': need an IPv4 or IPv6 address");
            (key == "src" ? c.src : c.dst) = *a;
        } else if (key == "natt") {
            const auto colon = val.find(':');
            if (colon == std::string_view::npos) bad("natt: need SPORT:DPORT (e.g. natt=4500:4500)");
            c.natt = udp_encap{parse_port(val.substr(0, colon)), parse_port(val.substr(colon + 1))};
        } else if (key == "esn") {
            if (val != "0" && val != "1") bad("esn: allowed 0|1");
            c.esn = val == "1";
        } else if (key == "seq") {
            auto v = parse_u64(val);
            if (!v || *v == 0) bad("seq: need a number >= 1 (64-bit with esn=1, 32-bit without)");
            c.initial_seq = *v;
            out.seq_given = true;
        } else if (key == "window") {
            auto v = parse_u64(val);
            if (!v || (*v != 0 && (*v < replay_window::min_size || *v > replay_window::max_size)))
                bad("window: allowed 0 (off) or 64..4096");
            c.replay_window = static_cast<std::uint32_t>(*v);
        } else if (key == "backend") {
            auto b = parse_backend(val);
            if (!b) bad("backend='" + std::string(val) + "': allowed ipsecmb|openssl");
            c.backend = *b;
        } else {
            bad(key.substr(0, 32) + ": unknown key (allowed: " + std::string(known_keys) + ")");
        }
    }

    if (!have_spi) bad("spi= is required");
    if (!enc) bad("enc= is required: " + std::string(enc_allowed_text));
    if (!have_enc_key) bad("enc-key= is required");
    if (c.src.family == 0) bad("src= is required");
    if (c.dst.family == 0) bad("dst= is required");
    if (c.src.family != c.dst.family) bad("src and dst must be the same IP family");
    c.enc = *enc;
    const auto ep = params(*enc);
    if (!integ) {
        if (!ep.aead) bad("integ= is required with " + std::string(to_string(*enc)) + ": " + std::string(integ_allowed_text));
        integ = integ_alg::none;
    }
    c.integ = *integ;
    if (ep.aead && c.integ != integ_alg::none)
        bad("integ=" + std::string(to_string(c.integ)) + " with " + std::string(to_string(*enc)) +
            ": an AEAD cipher needs integ=none");
    if (!ep.aead && c.integ == integ_alg::none)
        bad("integ=none is only allowed with aes128gcm16|aes256gcm16, not " + std::string(to_string(*enc)));
    if (c.enc_key.size() != ep.key_len)
        bad("enc-key: " + std::string(to_string(*enc)) + " needs " + std::to_string(ep.key_len) + " bytes (" +
            std::to_string(2 * ep.key_len) + " hex digits" + (ep.salt_len ? ", key + 4-byte salt" : "") + "), got " +
            std::to_string(c.enc_key.size()));
    if (c.integ == integ_alg::none) {
        if (have_integ_key) bad("integ-key: not allowed with integ=none");
    } else {
        const auto ip = params(c.integ);
        if (!have_integ_key) bad("integ-key= is required with integ=" + std::string(to_string(c.integ)));
        if (c.integ_key.size() != ip.key_len)
            bad("integ-key: " + std::string(to_string(c.integ)) + " needs " + std::to_string(ip.key_len) +
                " bytes (" + std::to_string(2 * ip.key_len) + " hex digits), got " + std::to_string(c.integ_key.size()));
    }
    if (!c.esn && c.initial_seq > 0xffffffffULL) bad("seq: exceeds 32 bits without esn=1");
    // Anything else the library refuses (reserved SPI, ...), in its words.
    if (auto err = validate(c); !err.empty()) bad(err);
    return out;
}

} // namespace esp
