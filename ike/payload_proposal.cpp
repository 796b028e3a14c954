// strongSwan proposal strings <-> SA proposals, completeness checks, product field mapping
// (see payload_proposal.hpp).
#include "ike/payload_proposal.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace ike {
namespace {

struct token {
    std::string_view name;
    transform_type type;
    std::uint16_t id;
};

constexpr auto encr = transform_type::encr;
constexpr auto integ = transform_type::integ;
constexpr auto prf = transform_type::prf;
constexpr auto dh = transform_type::dh;
constexpr auto esn = transform_type::esn;

template <class E>
constexpr std::uint16_t u(E e) { return static_cast<std::uint16_t>(e); }

// Fixed-key-size tokens; variable-key ciphers (aes*, camellia*, blowfish*) are parsed by
// parse_variable_cipher. The first entry for an id is the canonical name used by to_string.
constexpr std::array fixed_tokens{
    token{"3des", encr, u(encr_id::des3)},
    token{"des", encr, u(encr_id::des)},
    token{"null", encr, u(encr_id::null)},
    token{"cast128", encr, u(encr_id::cast)},
    token{"chacha20poly1305", encr, u(encr_id::chacha20_poly1305)},
    token{"sha1", integ, u(integ_id::hmac_sha1_96)},
    token{"sha", integ, u(integ_id::hmac_sha1_96)},
    token{"sha1_160", integ, u(integ_id::hmac_sha1_160)},
    token{"sha256", integ, u(integ_id::hmac_sha2_256_128)},
    token{"sha2_256", integ, u(integ_id::hmac_sha2_256_128)},
    token{"sha384", integ, u(integ_id::hmac_sha2_384_192)},
    token{"sha2_384", integ, u(integ_id::hmac_sha2_384_192)},
    token{"sha512", integ, u(integ_id::hmac_sha2_512_256)},
    token{"sha2_512", integ, u(integ_id::hmac_sha2_512_256)},
    token{"md5", integ, u(integ_id::hmac_md5_96)},
    token{"md5_128", integ, u(integ_id::hmac_md5_128)},
    token{"aesxcbc", integ, u(integ_id::aes_xcbc_96)},
    token{"aescmac", integ, u(integ_id::aes_cmac_96)},
    token{"prfsha1", prf, u(prf_id::hmac_sha1)},
    token{"prfsha256", prf, u(prf_id::hmac_sha2_256)},
    token{"prfsha384", prf, u(prf_id::hmac_sha2_384)},
    token{"prfsha512", prf, u(prf_id::hmac_sha2_512)},
    token{"prfmd5", prf, u(prf_id::hmac_md5)},
    token{"prfaesxcbc", prf, u(prf_id::aes128_xcbc)},
    token{"prfaescmac", prf, u(prf_id::aes128_cmac)},
    token{"none", dh, u(dh_group::none)},
    token{"modpnone", dh, u(dh_group::none)},
    token{"modp768", dh, u(dh_group::modp768)},
    token{"modp1024", dh, u(dh_group::modp1024)},
    token{"modp1536", dh, u(dh_group::modp1536)},
    token{"modp2048", dh, u(dh_group::modp2048)},
    token{"modp3072", dh, u(dh_group::modp3072)},
    token{"modp4096", dh, u(dh_group::modp4096)},
    token{"modp6144", dh, u(dh_group::modp6144)},
    token{"modp8192", dh, u(dh_group::modp8192)},
    token{"modp1024s160", dh, u(dh_group::modp1024s160)},
    token{"modp2048s224", dh, u(dh_group::modp2048s224)},
    token{"modp2048s256", dh, u(dh_group::modp2048s256)},
    token{"ecp192", dh, u(dh_group::ecp192)},
    token{"ecp224", dh, u(dh_group::ecp224)},
    token{"ecp256", dh, u(dh_group::ecp256)},
    token{"ecp384", dh, u(dh_group::ecp384)},
    token{"ecp521", dh, u(dh_group::ecp521)},
    token{"ecp224bp", dh, u(dh_group::ecp224bp)},
    token{"ecp256bp", dh, u(dh_group::ecp256bp)},
    token{"ecp384bp", dh, u(dh_group::ecp384bp)},
    token{"ecp512bp", dh, u(dh_group::ecp512bp)},
    token{"curve25519", dh, u(dh_group::curve25519)},
    token{"x25519", dh, u(dh_group::curve25519)},
    token{"curve448", dh, u(dh_group::curve448)},
    token{"x448", dh, u(dh_group::curve448)},
    token{"esn", esn, u(esn_id::yes)},
    token{"noesn", esn, u(esn_id::no)},
};

// charon's integrity -> PRF map for IKE proposals without explicit PRF.
std::optional<prf_id> prf_for_integ(std::uint16_t id) {
    switch (static_cast<integ_id>(id)) {
    case integ_id::hmac_sha1_96:
    case integ_id::hmac_sha1_160: return prf_id::hmac_sha1;
    case integ_id::hmac_sha2_256_128: return prf_id::hmac_sha2_256;
    case integ_id::hmac_sha2_384_192: return prf_id::hmac_sha2_384;
    case integ_id::hmac_sha2_512_256: return prf_id::hmac_sha2_512;
    case integ_id::hmac_md5_96:
    case integ_id::hmac_md5_128: return prf_id::hmac_md5;
    case integ_id::aes_xcbc_96: return prf_id::aes128_xcbc;
    case integ_id::aes_cmac_96: return prf_id::aes128_cmac;
    default: return std::nullopt;
    }
}

struct mode {
    std::string_view suffix;
    encr_id id;
};

// aes{128,192,256}[ctr|gcm{8,12,16,64,96,128}|ccm{...}|gmac], camellia..., blowfish...;
// bare "aes", "camellia", "blowfish" mean 128-bit CBC, "aesNNNgcm"/"aesNNNccm" mean ICV 16.
std::optional<transform> parse_variable_cipher(std::string_view s) {
    struct family {
        std::string_view prefix;
        std::span<const mode> modes;
    };
    static constexpr std::array aes_modes{
        mode{"", encr_id::aes_cbc},          mode{"ctr", encr_id::aes_ctr},
        mode{"gcm8", encr_id::aes_gcm_8},    mode{"gcm64", encr_id::aes_gcm_8},
        mode{"gcm12", encr_id::aes_gcm_12},  mode{"gcm96", encr_id::aes_gcm_12},
        mode{"gcm16", encr_id::aes_gcm_16},  mode{"gcm128", encr_id::aes_gcm_16},
        mode{"gcm", encr_id::aes_gcm_16},    mode{"ccm8", encr_id::aes_ccm_8},
        mode{"ccm64", encr_id::aes_ccm_8},   mode{"ccm12", encr_id::aes_ccm_12},
        mode{"ccm96", encr_id::aes_ccm_12},  mode{"ccm16", encr_id::aes_ccm_16},
        mode{"ccm128", encr_id::aes_ccm_16}, mode{"ccm", encr_id::aes_ccm_16},
        mode{"gmac", encr_id::null_auth_aes_gmac},
    };
    static constexpr std::array camellia_modes{
        mode{"", encr_id::camellia_cbc},           mode{"ctr", encr_id::camellia_ctr},
        mode{"ccm8", encr_id::camellia_ccm_8},     mode{"ccm64", encr_id::camellia_ccm_8},
        mode{"ccm12", encr_id::camellia_ccm_12},   mode{"ccm96", encr_id::camellia_ccm_12},
        mode{"ccm16", encr_id::camellia_ccm_16},   mode{"ccm128", encr_id::camellia_ccm_16},
    };
    static constexpr std::array blowfish_modes{mode{"", encr_id::blowfish}};
    static constexpr std::array families{
        family{"aes", aes_modes}, family{"camellia", camellia_modes}, family{"blowfish", blowfish_modes}};

    for (const auto& f : families) {
        if (!s.starts_with(f.prefix)) continue;
        auto rest = s.substr(f.prefix.size());
        if (rest.empty()) return transform{encr, u(f.modes[0].id), 128, {}};
        for (std::uint16_t bits : {128, 192, 256}) {
            auto b = std::to_string(bits);
            if (!rest.starts_with(b)) continue;
            auto suffix = rest.substr(b.size());
            for (const auto& m : f.modes)
                if (m.suffix == suffix) return transform{encr, u(m.id), bits, {}};
        }
    }
    return std::nullopt;
}

std::string_view family_prefix(encr_id e) {
    switch (e) {
    case encr_id::aes_cbc:
    case encr_id::aes_ctr:
    case encr_id::aes_gcm_8:
    case encr_id::aes_gcm_12:
    case encr_id::aes_gcm_16:
    case encr_id::aes_ccm_8:
    case encr_id::aes_ccm_12:
    case encr_id::aes_ccm_16:
    case encr_id::null_auth_aes_gmac: return "aes";
    case encr_id::camellia_cbc:
    case encr_id::camellia_ctr:
    case encr_id::camellia_ccm_8:
    case encr_id::camellia_ccm_12:
    case encr_id::camellia_ccm_16: return "camellia";
    case encr_id::blowfish: return "blowfish";
    default: return {};
    }
}

std::string_view mode_suffix(encr_id e) {
    switch (e) {
    case encr_id::aes_ctr:
    case encr_id::camellia_ctr: return "ctr";
    case encr_id::aes_gcm_8: return "gcm8";
    case encr_id::aes_gcm_12: return "gcm12";
    case encr_id::aes_gcm_16: return "gcm16";
    case encr_id::aes_ccm_8:
    case encr_id::camellia_ccm_8: return "ccm8";
    case encr_id::aes_ccm_12:
    case encr_id::camellia_ccm_12: return "ccm12";
    case encr_id::aes_ccm_16:
    case encr_id::camellia_ccm_16: return "ccm16";
    case encr_id::null_auth_aes_gmac: return "gmac";
    default: return "";
    }
}

int type_rank(transform_type t) {
    switch (t) {
    case transform_type::encr: return 0;
    case transform_type::prf: return 1;
    case transform_type::integ: return 2;
    case transform_type::dh: return 3;
    case transform_type::esn: return 4;
    }
    return 5;
}

void add_unique(std::vector<transform>& v, transform t) {
    if (std::find(v.begin(), v.end(), t) == v.end()) v.push_back(std::move(t));
}

std::vector<const transform*> of_type(const proposal& p, transform_type t) {
    std::vector<const transform*> out;
    for (const auto& x : p.transforms)
        if (x.type == t) out.push_back(&x);
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

wire_error config_error(std::string why) { return wire_error{notify_type::no_proposal_chosen, std::move(why), {}}; }

} // namespace

std::string transform_token(const transform& t) {
    if (t.type == encr) {
        auto e = static_cast<encr_id>(t.id);
        auto fam = family_prefix(e);
        if (!fam.empty()) {
            if (!t.key_length) return "";
            return fmt::format("{}{}{}", fam, *t.key_length, mode_suffix(e));
        }
    }
    for (const auto& k : fixed_tokens)
        if (k.type == t.type && k.id == t.id) return std::string(k.name);
    return "";
}

wire_result<proposal> proposal_from_string(protocol_id protocol, std::string_view s) {
    if (protocol != protocol_id::ike && protocol != protocol_id::esp && protocol != protocol_id::ah)
        return config_error("proposals are for IKE, ESP or AH");
    std::vector<transform> ts;
    std::size_t pos = 0;
    s = trim(s);
    if (s.empty()) return config_error("empty proposal");
    while (pos <= s.size()) {
        auto dash = s.find('-', pos);
        auto tok = trim(s.substr(pos, dash == std::string_view::npos ? std::string_view::npos : dash - pos));
        pos = dash == std::string_view::npos ? s.size() + 1 : dash + 1;
        if (tok.empty()) return config_error(fmt::format("empty algorithm in '{}'", s));
        std::optional<transform> t = parse_variable_cipher(tok);
        if (!t)
            for (const auto& k : fixed_tokens)
                if (k.name == tok) { t = transform{k.type, k.id, std::nullopt, {}}; break; }
        if (!t) return config_error(fmt::format("algorithm '{}' not recognized", tok));
        add_unique(ts, std::move(*t));
    }

    proposal p;
    p.number = 1;
    p.protocol = protocol;
    auto has = [&](transform_type t) { return std::any_of(ts.begin(), ts.end(), [&](auto& x) { return x.type == t; }); };
    if (protocol == protocol_id::ike) {
        if (!has(prf)) {
            std::vector<transform> derived;
            for (const auto& t : ts)
                if (t.type == integ)
                    if (auto f = prf_for_integ(t.id)) add_unique(derived, transform{prf, u(*f), std::nullopt, {}});
            for (auto& d : derived) ts.push_back(d);
        }
        std::erase_if(ts, [](const transform& t) { return t.type == dh && t.id == 0; });
        std::erase_if(ts, [](const transform& t) { return t.type == esn; });
        if (!has(prf)) return config_error(fmt::format("a PRF is mandatory in IKE proposals ('{}')", s));
        if (!has(dh)) return config_error(fmt::format("a DH group is mandatory in IKE proposals ('{}')", s));
    } else {
        std::erase_if(ts, [](const transform& t) { return t.type == prf; });
    }
    if (protocol == protocol_id::ah) {
        std::erase_if(ts, [](const transform& t) { return t.type == encr; });
        if (!has(integ)) return config_error(fmt::format("an integrity algorithm is mandatory in AH ('{}')", s));
    } else {
        bool any_aead = false, all_aead = true, any_enc = false;
        for (const auto& t : ts)
            if (t.type == encr) {
                any_enc = true;
                if (is_aead(static_cast<encr_id>(t.id))) any_aead = true;
                else all_aead = false;
            }
        if (!any_enc) return config_error(fmt::format("an encryption algorithm is mandatory ('{}')", s));
        if (any_aead && !all_aead)
            return config_error(fmt::format("AEAD and classic ciphers cannot share a proposal ('{}')", s));
        if (all_aead) std::erase_if(ts, [](const transform& t) { return t.type == integ; });
        else if (protocol == protocol_id::ike && !has(integ))
            return config_error(fmt::format("an integrity algorithm is mandatory with classic ciphers ('{}')", s));
    }
    if (protocol != protocol_id::ike && !has(esn)) ts.push_back(transform{esn, u(esn_id::no), std::nullopt, {}});
    std::stable_sort(ts.begin(), ts.end(), [](const transform& a, const transform& b) {
        return type_rank(a.type) < type_rank(b.type);
    });
    p.transforms = std::move(ts);
    return p;
}

wire_result<std::vector<proposal>> proposals_from_string(protocol_id protocol, std::string_view s) {
    std::vector<proposal> out;
    std::size_t pos = 0;
    while (pos <= s.size()) {
        auto comma = s.find(',', pos);
        auto one = s.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
        pos = comma == std::string_view::npos ? s.size() + 1 : comma + 1;
        auto p = proposal_from_string(protocol, one);
        if (!p) return p.error();
        if (out.size() == 255) return config_error("more than 255 proposals");
        p->number = static_cast<std::uint8_t>(out.size() + 1);
        out.push_back(std::move(p.value()));
    }
    return out;
}

std::string to_string(const proposal& p) {
    std::vector<std::string> parts;
    auto emit = [&](const transform& t) {
        auto tok = transform_token(t);
        if (tok.empty())
            tok = fmt::format("{}#{}{}", to_string(t.type), t.id, t.key_length ? fmt::format("#{}", *t.key_length) : "");
        parts.push_back(std::move(tok));
    };
    for (auto* t : of_type(p, encr)) emit(*t);
    auto integs = of_type(p, integ);
    for (auto* t : integs) emit(*t);
    if (p.protocol == protocol_id::ike) {
        std::vector<transform> implied;
        for (auto* t : integs)
            if (auto f = prf_for_integ(t->id)) add_unique(implied, transform{prf, u(*f), std::nullopt, {}});
        auto prfs = of_type(p, prf);
        bool same = !integs.empty() && implied.size() == prfs.size() &&
                    std::equal(implied.begin(), implied.end(), prfs.begin(), [](const transform& a, const transform* b) {
                        return a == *b;
                    });
        if (!same)
            for (auto* t : prfs) emit(*t);
    } else {
        for (auto* t : of_type(p, prf)) emit(*t);
    }
    for (auto* t : of_type(p, dh)) emit(*t);
    auto esns = of_type(p, esn);
    bool default_esn = esns.size() == 1 && esns[0]->id == u(esn_id::no) && p.protocol != protocol_id::ike;
    if (!default_esn)
        for (auto* t : esns) emit(*t);
    for (const auto& t : p.transforms)
        if (type_rank(t.type) > 4) emit(t);
    std::string out;
    for (const auto& s : parts) {
        if (!out.empty()) out += '-';
        out += s;
    }
    return out;
}

std::string to_string(const sa_payload& sa) {
    std::string out;
    for (const auto& p : sa.proposals) {
        if (!out.empty()) out += ", ";
        out += to_string(p);
    }
    return out;
}

wire_check check_complete(const proposal& p) {
    auto count = [&](transform_type t) { return of_type(p, t).size(); };
    bool all_aead = count(encr) > 0;
    for (auto* t : of_type(p, encr)) {
        auto e = static_cast<encr_id>(t->id);
        if (!is_aead(e)) all_aead = false;
        if (needs_key_length(e)) {
            if (!t->key_length) return config_error(fmt::format("{} without Key Length", to_string(e)));
            bool fixed = e == encr_id::blowfish;
            if (!fixed && *t->key_length != 128 && *t->key_length != 192 && *t->key_length != 256)
                return config_error(fmt::format("{} with Key Length {}", to_string(e), *t->key_length));
        } else if (t->key_length && e == encr_id::chacha20_poly1305) {
            return config_error("CHACHA20_POLY1305 with a Key Length attribute (RFC 7634 section 3)");
        }
    }
    bool integ_none_only = true;
    for (auto* t : of_type(p, integ))
        if (t->id != u(integ_id::none)) integ_none_only = false;
    switch (p.protocol) {
    case protocol_id::ike:
        if (count(encr) == 0) return config_error("IKE proposal without ENCR");
        if (count(prf) == 0) return config_error("IKE proposal without PRF");
        if (!all_aead && (count(integ) == 0 || integ_none_only)) return config_error("IKE proposal without INTEG");
        if (all_aead && !integ_none_only) return config_error("IKE proposal with AEAD and INTEG");
        if (count(dh) == 0) return config_error("IKE proposal without DH group");
        for (auto* t : of_type(p, dh))
            if (t->id == 0) return config_error("IKE proposal with DH group NONE");
        break;
    case protocol_id::esp:
        if (count(encr) == 0) return config_error("ESP proposal without ENCR");
        if (!all_aead && count(integ) == 0) return config_error("ESP proposal without INTEG");
        if (count(esn) == 0) return config_error("ESP proposal without ESN transform");
        break;
    case protocol_id::ah:
        if (count(integ) == 0 || integ_none_only) return config_error("AH proposal without INTEG");
        if (count(esn) == 0) return config_error("AH proposal without ESN transform");
        break;
    default: return config_error(fmt::format("proposal for protocol {}", static_cast<unsigned>(p.protocol)));
    }
    return std::nullopt;
}

std::optional<std::string> product_encryption_token(std::string_view v) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 8> map{{
        {"aes-128", "aes128"}, {"aes-192", "aes192"}, {"aes-256", "aes256"}, {"3des", "3des"},
        {"aes-128-gcm", "aes128gcm16"}, {"aes-192-gcm", "aes192gcm16"}, {"aes-256-gcm", "aes256gcm16"},
        {"des", "des"},
    }};
    for (auto [k, t] : map)
        if (k == v) return std::string(t);
    return std::nullopt;
}

std::optional<std::string> product_integrity_token(std::string_view v) {
    for (std::string_view k : {"md5", "sha1", "sha256", "sha384", "sha512"})
        if (k == v) return std::string(k);
    return std::nullopt;
}

std::optional<std::string> product_dh_token(std::string_view v) {
    if (v.empty() || v == "disabled" || v == "none") return std::string();
    for (std::string_view prefix : {"dh-group", "group"})
        if (v.starts_with(prefix)) { v.remove_prefix(prefix.size()); break; }
    unsigned n = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || ptr != v.data() + v.size() || n == 0 || n > 0xffff) return std::nullopt;
    auto tok = transform_token(transform{dh, static_cast<std::uint16_t>(n), std::nullopt, {}});
    if (tok.empty()) return std::nullopt;
    return tok;
}

std::optional<std::string> product_proposal(protocol_id protocol, std::string_view encryption,
                                            std::string_view integrity, std::string_view dh_group) {
    auto e = product_encryption_token(encryption);
    auto i = product_integrity_token(integrity);
    auto d = product_dh_token(dh_group);
    if (!e || !i || !d) return std::nullopt;
    bool aead = e->find("gcm") != std::string::npos;
    std::string out = *e;
    if (!aead) out += "-" + *i;
    else if (protocol == protocol_id::ike) out += "-prf" + *i;
    if (!d->empty()) out += "-" + *d;
    if (protocol == protocol_id::ike && d->empty()) return std::nullopt;  // IKE always needs a group
    return out;
}

} // namespace ike
