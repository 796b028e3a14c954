// strongSwan proposal syntax and RFC 7296 2.7 proposal selection (see proposal_select.hpp).
#include "ike/proposal_select.hpp"

#include <algorithm>
#include <array>

namespace ike {
namespace {

struct keyword {
    std::string_view name;
    transform_type type;
    std::uint16_t id;
    std::uint16_t key_bits;  // 0: no Key Length attribute
};

// strongSwan keywords (proposal_keywords_static.txt subset for the algorithms we implement).
constexpr std::array<keyword, 46> keywords{{
    {"aes128", transform_type::encr, 12, 128},
    {"aes192", transform_type::encr, 12, 192},
    {"aes256", transform_type::encr, 12, 256},
    {"aes", transform_type::encr, 12, 128},
    {"aes128gcm8", transform_type::encr, 18, 128},
    {"aes192gcm8", transform_type::encr, 18, 192},
    {"aes256gcm8", transform_type::encr, 18, 256},
    {"aes128gcm12", transform_type::encr, 19, 128},
    {"aes192gcm12", transform_type::encr, 19, 192},
    {"aes256gcm12", transform_type::encr, 19, 256},
    {"aes128gcm16", transform_type::encr, 20, 128},
    {"aes192gcm16", transform_type::encr, 20, 192},
    {"aes256gcm16", transform_type::encr, 20, 256},
    {"aes128gcm", transform_type::encr, 20, 128},
    {"aes256gcm", transform_type::encr, 20, 256},
    {"3des", transform_type::encr, 3, 0},
    {"null", transform_type::encr, 11, 0},
    {"md5", transform_type::integ, 1, 0},
    {"sha1", transform_type::integ, 2, 0},
    {"sha", transform_type::integ, 2, 0},
    {"sha1_160", transform_type::integ, 7, 0},
    {"sha256", transform_type::integ, 12, 0},
    {"sha2_256", transform_type::integ, 12, 0},
    {"sha384", transform_type::integ, 13, 0},
    {"sha2_384", transform_type::integ, 13, 0},
    {"sha512", transform_type::integ, 14, 0},
    {"sha2_512", transform_type::integ, 14, 0},
    {"prfmd5", transform_type::prf, 1, 0},
    {"prfsha1", transform_type::prf, 2, 0},
    {"prfsha256", transform_type::prf, 5, 0},
    {"prfsha384", transform_type::prf, 6, 0},
    {"prfsha512", transform_type::prf, 7, 0},
    {"modp1024", transform_type::dh, 2, 0},
    {"modp1536", transform_type::dh, 5, 0},
    {"modp2048", transform_type::dh, 14, 0},
    {"modp3072", transform_type::dh, 15, 0},
    {"modp4096", transform_type::dh, 16, 0},
    {"modp6144", transform_type::dh, 17, 0},
    {"modp8192", transform_type::dh, 18, 0},
    {"ecp256", transform_type::dh, 19, 0},
    {"ecp384", transform_type::dh, 20, 0},
    {"ecp521", transform_type::dh, 21, 0},
    {"modp2048s256", transform_type::dh, 24, 0},
    {"curve25519", transform_type::dh, 31, 0},
    {"x25519", transform_type::dh, 31, 0},
    {"esn", transform_type::esn, 1, 0},
}};

// The PRF strongSwan derives from an integrity algorithm when an IKE proposal names none.
std::optional<std::uint16_t> prf_implied_by_integ(std::uint16_t integ) {
    switch (integ) {
    case 1: return 1;
    case 2: return 2;
    case 12: return 5;
    case 13: return 6;
    case 14: return 7;
    default: return std::nullopt;
    }
}

bool has_type(const proposal& p, transform_type t) {
    return std::any_of(p.transforms.begin(), p.transforms.end(), [&](const transform& x) { return x.type == t; });
}

std::string transform_keyword(const transform& t) {
    for (const auto& k : keywords)
        if (k.type == t.type && k.id == t.id && k.key_bits == t.key_length.value_or(0)) {
            if (k.name == "aes" || k.name == "sha" || k.name == "sha2_256" || k.name == "sha2_384" ||
                k.name == "sha2_512" || k.name == "x25519" || k.name == "aes128gcm" || k.name == "aes256gcm")
                continue;  // print the canonical spelling
            return std::string(k.name);
        }
    if (t.type == transform_type::esn) return t.id == 0 ? "noesn" : "esn";
    if (t.type == transform_type::integ && t.id == 0) return "";
    return transform_id_name(t.type, t.id) + (t.key_length ? std::to_string(*t.key_length) : "");
}

bool same_algorithm(const transform& a, const transform& b) {
    return a.type == b.type && a.id == b.id && a.key_length == b.key_length;
}

} // namespace

std::optional<proposal> parse_proposal(std::string_view text, protocol_id protocol, std::string* error) {
    auto fail = [&](std::string why) -> std::optional<proposal> {
        if (error) *error = "proposal '" + std::string(text) + "': " + why;
        return std::nullopt;
    };
    proposal p;
    p.protocol = protocol;
    bool esn_set = false;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto dash = text.find('-', pos);
        auto tok = text.substr(pos, dash == std::string_view::npos ? std::string_view::npos : dash - pos);
        pos = dash == std::string_view::npos ? text.size() + 1 : dash + 1;
        if (tok.empty()) return fail("empty algorithm");
        if (tok == "noesn") {
            if (protocol != protocol_id::esp) return fail("noesn in an IKE proposal");
            p.transforms.push_back({transform_type::esn, 0, std::nullopt, {}});
            esn_set = true;
            continue;
        }
        auto k = std::find_if(keywords.begin(), keywords.end(), [&](const keyword& x) { return x.name == tok; });
        if (k == keywords.end()) return fail("unknown algorithm '" + std::string(tok) + "'");
        if (k->type == transform_type::esn) {
            if (protocol != protocol_id::esp) return fail("esn in an IKE proposal");
            esn_set = true;
        }
        if (k->type == transform_type::prf && protocol != protocol_id::ike) return fail("PRF in an ESP proposal");
        transform t{k->type, k->id, std::nullopt, {}};
        if (k->key_bits) t.key_length = k->key_bits;
        if (std::none_of(p.transforms.begin(), p.transforms.end(), [&](const transform& x) { return same_algorithm(x, t); }))
            p.transforms.push_back(t);
    }
    if (!has_type(p, transform_type::encr)) return fail("no encryption algorithm");
    bool aead = false, classic = false;
    for (const auto& t : p.transforms)
        if (t.type == transform_type::encr) (is_aead(static_cast<encr_id>(t.id)) ? aead : classic) = true;
    if (aead && classic) return fail("AEAD and non-AEAD ciphers in one proposal");
    if (aead && has_type(p, transform_type::integ)) return fail("integrity algorithm with an AEAD cipher");
    if (!aead && !has_type(p, transform_type::integ)) return fail("no integrity algorithm");
    if (protocol == protocol_id::ike) {
        if (!has_type(p, transform_type::prf)) {
            std::vector<transform> prfs;
            for (const auto& t : p.transforms)
                if (t.type == transform_type::integ)
                    if (auto id = prf_implied_by_integ(t.id)) prfs.push_back({transform_type::prf, *id, std::nullopt, {}});
            if (prfs.empty()) return fail("a PRF is mandatory in IKE proposals");
            p.transforms.insert(p.transforms.end(), prfs.begin(), prfs.end());
        }
        if (!has_type(p, transform_type::dh)) return fail("a DH group is mandatory in IKE proposals");
    }
    if (protocol == protocol_id::esp && !esn_set) p.transforms.push_back({transform_type::esn, 0, std::nullopt, {}});
    // Keep the wire order of RFC 7296 3.3.2 examples: ENCR, PRF, INTEG, DH, ESN (stable by type).
    std::stable_sort(p.transforms.begin(), p.transforms.end(), [](const transform& a, const transform& b) {
        auto rank = [](transform_type t) {
            switch (t) {
            case transform_type::encr: return 0;
            case transform_type::prf: return 1;
            case transform_type::integ: return 2;
            case transform_type::dh: return 3;
            default: return 4;
            }
        };
        return rank(a.type) < rank(b.type);
    });
    return p;
}

std::optional<std::vector<proposal>> parse_proposals(const std::vector<std::string>& texts, protocol_id protocol,
                                                     std::string* error) {
    std::vector<proposal> out;
    for (const auto& t : texts) {
        auto p = parse_proposal(t, protocol, error);
        if (!p) return std::nullopt;
        p->number = static_cast<std::uint8_t>(out.size() + 1);
        out.push_back(std::move(*p));
    }
    if (out.empty()) {
        if (error) *error = "no proposals configured";
        return std::nullopt;
    }
    return out;
}

std::string proposal_to_string(const proposal& p) {
    std::string s;
    // strongSwan prints ENCR, INTEG, PRF, DH, ESN.
    for (auto type : {transform_type::encr, transform_type::integ, transform_type::prf, transform_type::dh,
                      transform_type::esn}) {
        for (const auto& t : p.transforms) {
            if (t.type != type) continue;
            auto k = transform_keyword(t);
            if (k.empty()) continue;
            if (!s.empty()) s += '-';
            s += k;
        }
    }
    return s;
}

std::string proposals_to_string(const std::vector<proposal>& ps) {
    std::string s;
    for (const auto& p : ps) {
        if (!s.empty()) s += ", ";
        s += proposal_to_string(p);
    }
    return s;
}

namespace {
// One transform of `type` from `ours` (our order) that `theirs` also offers; nullopt when the
// type is in neither (fine) and `missing` set when only one side has it.
std::optional<transform> pick(const proposal& ours, const proposal& theirs, transform_type type, bool& mismatch) {
    bool ours_has = has_type(ours, type), theirs_has = has_type(theirs, type);
    if (!ours_has && !theirs_has) return std::nullopt;
    // RFC 7296 3.3.3: a missing INTEG with an AEAD cipher equals "NONE"; a peer may also send
    // INTEG NONE explicitly, treated the same.
    auto only_none = [&](const proposal& p) {
        return std::all_of(p.transforms.begin(), p.transforms.end(),
                           [&](const transform& t) { return t.type != type || t.id == 0; });
    };
    if (type == transform_type::integ && only_none(ours) && only_none(theirs)) return std::nullopt;
    if (type == transform_type::dh && (!ours_has || only_none(ours)) && (!theirs_has || only_none(theirs)))
        return std::nullopt;
    if (type == transform_type::esn && !ours_has && !theirs_has) return std::nullopt;
    if (!ours_has || !theirs_has) { mismatch = true; return std::nullopt; }
    for (const auto& a : ours.transforms) {
        if (a.type != type) continue;
        for (const auto& b : theirs.transforms)
            if (same_algorithm(a, b) && b.other_attributes.empty()) return a;
    }
    mismatch = true;
    return std::nullopt;
}
} // namespace

std::optional<proposal> select_proposal(const std::vector<proposal>& ours, const std::vector<proposal>& offered) {
    for (const auto& mine : ours) {
        for (const auto& theirs : offered) {
            if (theirs.protocol != mine.protocol) continue;
            bool mismatch = false;
            proposal out;
            out.number = theirs.number;
            out.protocol = theirs.protocol;
            out.spi = theirs.spi;
            for (auto type : {transform_type::encr, transform_type::prf, transform_type::integ, transform_type::dh,
                              transform_type::esn}) {
                if (auto t = pick(mine, theirs, type, mismatch)) out.transforms.push_back(*t);
                if (mismatch) break;
            }
            if (!mismatch) return out;
        }
    }
    return std::nullopt;
}

std::optional<std::string> check_selected_proposal(const proposal& chosen, const std::vector<proposal>& offered) {
    auto it = std::find_if(offered.begin(), offered.end(), [&](const proposal& p) { return p.number == chosen.number; });
    if (it == offered.end()) return "responder chose proposal #" + std::to_string(chosen.number) + " we did not offer";
    if (chosen.protocol != it->protocol) return "responder changed the protocol of the proposal";
    for (auto type : {transform_type::encr, transform_type::prf, transform_type::integ, transform_type::dh,
                      transform_type::esn}) {
        int n = 0;
        for (const auto& t : chosen.transforms) {
            if (t.type != type) continue;
            ++n;
            bool offered_it = std::any_of(it->transforms.begin(), it->transforms.end(),
                                          [&](const transform& o) { return same_algorithm(o, t); });
            if (!offered_it && !(type == transform_type::integ && t.id == 0))
                return "responder chose " + transform_id_name(type, t.id) + " which we did not offer";
        }
        if (n > 1) return "responder chose more than one " + to_string(type) + " transform";
        bool needed = has_type(*it, type) && !(type == transform_type::dh && first_dh_group({*it}) == dh_group::none);
        if (n == 0 && needed && type != transform_type::integ)
            return "responder's proposal lacks a " + to_string(type) + " transform";
    }
    return std::nullopt;
}

dh_group first_dh_group(const std::vector<proposal>& ps) {
    for (const auto& p : ps)
        for (const auto& t : p.transforms)
            if (t.type == transform_type::dh && t.id != 0) return static_cast<dh_group>(t.id);
    return dh_group::none;
}

bool proposals_contain_group(const std::vector<proposal>& ps, dh_group g) {
    for (const auto& p : ps)
        for (const auto& t : p.transforms)
            if (t.type == transform_type::dh && t.id == static_cast<std::uint16_t>(g)) return true;
    return false;
}

std::vector<proposal> proposals_with_group(const std::vector<proposal>& ps, std::optional<dh_group> g) {
    std::vector<proposal> out = ps;
    for (auto& p : out) {
        std::erase_if(p.transforms, [&](const transform& t) {
            return t.type == transform_type::dh && (!g || t.id != static_cast<std::uint16_t>(*g));
        });
    }
    return out;
}

std::optional<negotiated_suite> suite_of(const proposal& p, std::string* error) {
    auto fail = [&](std::string why) -> std::optional<negotiated_suite> {
        if (error) *error = std::move(why);
        return std::nullopt;
    };
    negotiated_suite s;
    s.spi = p.spi;
    bool have_encr = false, have_prf = false;
    for (const auto& t : p.transforms) {
        switch (t.type) {
        case transform_type::encr:
            if (!crypto::encr_known(t.id)) return fail("unsupported cipher " + transform_id_name(t.type, t.id));
            s.encr = {static_cast<crypto::encr_id>(t.id), t.key_length.value_or(0)};
            if (!crypto::encr_keymat_size(s.encr)) return fail("bad key length for " + transform_id_name(t.type, t.id));
            have_encr = true;
            break;
        case transform_type::integ:
            if (!crypto::integ_known(t.id)) return fail("unsupported integrity " + transform_id_name(t.type, t.id));
            s.integ = static_cast<crypto::integ_id>(t.id);
            break;
        case transform_type::prf:
            if (!crypto::prf_known(t.id)) return fail("unsupported PRF " + transform_id_name(t.type, t.id));
            s.prf = static_cast<crypto::prf_id>(t.id);
            have_prf = true;
            break;
        case transform_type::dh: s.dh = static_cast<dh_group>(t.id); break;
        case transform_type::esn: s.esn = t.id == 1; break;
        }
    }
    if (!have_encr) return fail("no encryption transform");
    if (p.protocol == protocol_id::ike && !have_prf) return fail("no PRF transform");
    if (!crypto::encr_is_aead(s.encr.id) && s.integ == crypto::integ_id::none &&
        s.encr.id != crypto::encr_id::null)
        return fail("no integrity transform");
    return s;
}

std::string esp_encryption_name(const crypto::encr_spec& e) {
    using crypto::encr_id;
    switch (e.id) {
    case encr_id::aes_cbc: return "aes" + std::to_string(e.key_bits) + "-cbc";
    case encr_id::aes_gcm_8: return "aes" + std::to_string(e.key_bits) + "gcm8";
    case encr_id::aes_gcm_12: return "aes" + std::to_string(e.key_bits) + "gcm12";
    case encr_id::aes_gcm_16: return "aes" + std::to_string(e.key_bits) + "gcm16";
    case encr_id::des3: return "3des-cbc";
    case encr_id::null: return "null";
    }
    return "unknown";
}

std::string esp_integrity_name(crypto::integ_id i) {
    using crypto::integ_id;
    switch (i) {
    case integ_id::none: return "";
    case integ_id::hmac_md5_96: return "md5-96";
    case integ_id::hmac_sha1_96: return "sha1-96";
    case integ_id::hmac_sha1_160: return "sha1-160";
    case integ_id::hmac_sha2_256_128: return "sha256-128";
    case integ_id::hmac_sha2_384_192: return "sha384-192";
    case integ_id::hmac_sha2_512_256: return "sha512-256";
    }
    return "unknown";
}

} // namespace ike
