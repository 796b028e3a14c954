// Key exchange groups through OpenSSL 3 EVP_PKEY (see dh.hpp for the checks and encodings).
//
// Flow of one exchange (RFC 7296 1.2 / 2.14):
//   1. generate_key_exchange(g) or key_exchange_from_private(g, x): our key pair;
//   2. public_value(): KE payload data (MODP: y padded to |p|; ECP: x || y; 25519: u);
//   3. shared_secret(peer): size check, RFC 6989 value check, EVP_PKEY_derive (DH padded).
#include "ike/dh.hpp"

#include "crypto_internal.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <vector>

namespace ike::crypto {
namespace {

using detail::byte_span;

// clang-format off
constexpr std::array<dh_group_info, 17> groups{{
    {dh_group::modp768,      dh_kind::modp,          "modp768",    96,   96,   true,  true},
    {dh_group::modp1024,     dh_kind::modp,          "modp1024",   128,  128,  true,  false},
    {dh_group::modp1536,     dh_kind::modp,          "modp1536",   192,  192,  true,  false},
    {dh_group::modp2048,     dh_kind::modp,          "modp2048",   256,  256,  false, false},
    {dh_group::modp3072,     dh_kind::modp,          "modp3072",   384,  384,  false, false},
    {dh_group::modp4096,     dh_kind::modp,          "modp4096",   512,  512,  false, false},
    {dh_group::modp6144,     dh_kind::modp,          "modp6144",   768,  768,  false, false},
    {dh_group::modp8192,     dh_kind::modp,          "modp8192",   1024, 1024, false, false},
    {dh_group::ecp256,       dh_kind::ecp,           "ecp256",     64,   32,   false, false},
    {dh_group::ecp384,       dh_kind::ecp,           "ecp384",     96,   48,   false, false},
    {dh_group::ecp521,       dh_kind::ecp,           "ecp521",     132,  66,   false, false},
    {dh_group::modp1024s160, dh_kind::modp_subgroup, "modp1024s160", 128, 128, true,  false},
    {dh_group::modp2048s224, dh_kind::modp_subgroup, "modp2048s224", 256, 256, false, false},
    {dh_group::modp2048s256, dh_kind::modp_subgroup, "modp2048s256", 256, 256, false, false},
    {dh_group::ecp192,       dh_kind::ecp,           "ecp192",     48,   24,   true,  false},
    {dh_group::ecp224,       dh_kind::ecp,           "ecp224",     56,   28,   false, false},
    {dh_group::curve25519,   dh_kind::x25519,        "curve25519", 32,   32,   false, false},
}};
// clang-format on

// ---- MODP domain parameters -------------------------------------------------------------------

struct modp_params {
    bn_ptr p, q, g; // q null for the safe-prime groups without a published subgroup order
};

bn_ptr bn_from_word(unsigned long w) {
    bn_ptr b(BN_new());
    if (b && BN_set_word(b.get(), w) != 1) b.reset();
    return b;
}

// RFC 5114 groups 22-24 come from OpenSSL's named FFC groups, which carry q.
std::unique_ptr<modp_params> named_subgroup_params(const char* name) {
    evp_pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr));
    if (!ctx || EVP_PKEY_paramgen_init(ctx.get()) != 1) return nullptr;
    std::array<OSSL_PARAM, 2> params{
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(name), 0),
        OSSL_PARAM_construct_end()};
    if (EVP_PKEY_CTX_set_params(ctx.get(), params.data()) != 1) return nullptr;
    EVP_PKEY* raw = nullptr;
    if (EVP_PKEY_generate(ctx.get(), &raw) != 1) return nullptr;
    evp_pkey_ptr pkey(raw);
    BIGNUM *p = nullptr, *q = nullptr, *g = nullptr;
    auto m = std::make_unique<modp_params>();
    if (EVP_PKEY_get_bn_param(pkey.get(), OSSL_PKEY_PARAM_FFC_P, &p) == 1) m->p.reset(p);
    if (EVP_PKEY_get_bn_param(pkey.get(), OSSL_PKEY_PARAM_FFC_Q, &q) == 1) m->q.reset(q);
    if (EVP_PKEY_get_bn_param(pkey.get(), OSSL_PKEY_PARAM_FFC_G, &g) == 1) m->g.reset(g);
    if (!m->p || !m->q || !m->g) return nullptr;
    return m;
}

std::unique_ptr<modp_params> safe_prime_params(BIGNUM* (*get_prime)(BIGNUM*)) {
    auto m = std::make_unique<modp_params>();
    m->p.reset(get_prime(nullptr));
    m->g = bn_from_word(2);
    if (!m->p || !m->g) return nullptr;
    return m;
}

std::unique_ptr<modp_params> build_modp_params(dh_group g) {
    switch (g) {
    case dh_group::modp1024: return safe_prime_params(BN_get_rfc2409_prime_1024);
    case dh_group::modp1536: return safe_prime_params(BN_get_rfc3526_prime_1536);
    case dh_group::modp2048: return safe_prime_params(BN_get_rfc3526_prime_2048);
    case dh_group::modp3072: return safe_prime_params(BN_get_rfc3526_prime_3072);
    case dh_group::modp4096: return safe_prime_params(BN_get_rfc3526_prime_4096);
    case dh_group::modp6144: return safe_prime_params(BN_get_rfc3526_prime_6144);
    case dh_group::modp8192: return safe_prime_params(BN_get_rfc3526_prime_8192);
    case dh_group::modp1024s160: return named_subgroup_params("dh_1024_160");
    case dh_group::modp2048s224: return named_subgroup_params("dh_2048_224");
    case dh_group::modp2048s256: return named_subgroup_params("dh_2048_256");
    default: return nullptr;
    }
}

// Built once per group (thread-safe static init), never freed before exit.
const modp_params* modp_params_for(dh_group g) {
    static const auto table = [] {
        std::array<std::unique_ptr<modp_params>, groups.size()> t;
        for (std::size_t i = 0; i < groups.size(); ++i) {
            if (!groups[i].refused && (groups[i].kind == dh_kind::modp || groups[i].kind == dh_kind::modp_subgroup))
                t[i] = build_modp_params(groups[i].id);
        }
        return t;
    }();
    for (std::size_t i = 0; i < groups.size(); ++i)
        if (groups[i].id == g) return table[i].get();
    return nullptr;
}

// An EVP_PKEY "DH" from domain parameters plus optional pub / priv (fromdata selection).
result<evp_pkey_ptr> modp_pkey(const modp_params& m, const BIGNUM* pub, const BIGNUM* priv, int selection) {
    ossl_param_bld_ptr bld(OSSL_PARAM_BLD_new());
    if (!bld) return last_openssl_error();
    if (OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_P, m.p.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_G, m.g.get()) != 1 ||
        (m.q && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_Q, m.q.get()) != 1) ||
        (pub && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub) != 1) ||
        (priv && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1))
        return last_openssl_error();
    ossl_param_ptr params(OSSL_PARAM_BLD_to_param(bld.get()));
    evp_pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr));
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return last_openssl_error();
    EVP_PKEY* raw = nullptr;
    if (EVP_PKEY_fromdata(ctx.get(), &raw, selection, params.get()) != 1) return last_openssl_error();
    return evp_pkey_ptr(raw);
}

// RFC 6989 2.1 (1 < y < p-1) and, where the group has a prime-order subgroup, 2.2 (y^q = 1).
std::error_code check_modp_value(const modp_params& m, byte_span peer) {
    bn_ptr y(BN_bin2bn(peer.data(), static_cast<int>(peer.size()), nullptr));
    bn_ptr pm1(BN_dup(m.p.get()));
    bn_ctx_ptr ctx(BN_CTX_new());
    if (!y || !pm1 || !ctx || BN_sub_word(pm1.get(), 1) != 1) return last_openssl_error();
    if (BN_cmp(y.get(), BN_value_one()) <= 0 || BN_cmp(y.get(), pm1.get()) >= 0)
        return crypto_errc::invalid_public_value;
    if (m.q) {
        bn_ptr r(BN_new());
        if (!r || BN_mod_exp(r.get(), y.get(), m.q.get(), m.p.get(), ctx.get()) != 1) return last_openssl_error();
        if (!BN_is_one(r.get())) return crypto_errc::invalid_public_value;
    }
    return {};
}

// ---- ECP --------------------------------------------------------------------------------------

const char* ec_curve_name(dh_group g) {
    switch (g) {
    case dh_group::ecp256: return "P-256";
    case dh_group::ecp384: return "P-384";
    case dh_group::ecp521: return "P-521";
    case dh_group::ecp192: return "P-192";
    case dh_group::ecp224: return "P-224";
    default: return nullptr;
    }
}

int ec_curve_nid(dh_group g) {
    switch (g) {
    case dh_group::ecp256: return NID_X9_62_prime256v1;
    case dh_group::ecp384: return NID_secp384r1;
    case dh_group::ecp521: return NID_secp521r1;
    case dh_group::ecp192: return NID_X9_62_prime192v1;
    case dh_group::ecp224: return NID_secp224r1;
    default: return NID_undef;
    }
}

// An EVP_PKEY "EC" from an uncompressed point (0x04 | x | y) and optional private scalar.
result<evp_pkey_ptr> ec_pkey(dh_group g, byte_span point, const BIGNUM* priv) {
    ossl_param_bld_ptr bld(OSSL_PARAM_BLD_new());
    if (!bld) return last_openssl_error();
    if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, ec_curve_name(g), 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1 ||
        (priv && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1))
        return last_openssl_error();
    ossl_param_ptr params(OSSL_PARAM_BLD_to_param(bld.get()));
    evp_pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return last_openssl_error();
    EVP_PKEY* raw = nullptr;
    if (EVP_PKEY_fromdata(ctx.get(), &raw, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        ERR_clear_error();
        return crypto_errc::invalid_public_value; // not on the curve / not decodable
    }
    return evp_pkey_ptr(raw);
}

// RFC 6989 2.3 / RFC 5903: x | y must be a point on the curve with coordinates below p.
result<evp_pkey_ptr> ec_peer_key(dh_group g, byte_span peer) {
    std::vector<std::uint8_t> point(1 + peer.size());
    point[0] = POINT_CONVERSION_UNCOMPRESSED;
    std::copy(peer.begin(), peer.end(), point.begin() + 1);
    auto key = ec_pkey(g, point, nullptr);
    if (!key) return key;
    evp_pkey_ctx_ptr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key->get(), nullptr));
    if (!check) return last_openssl_error();
    if (EVP_PKEY_public_check(check.get()) != 1) {
        ERR_clear_error();
        return crypto_errc::invalid_public_value;
    }
    return key;
}

// ---- the key exchange object ------------------------------------------------------------------

result<base::secret_bytes> derive(EVP_PKEY* own, EVP_PKEY* peer, bool dh_pad, std::size_t expect) {
    evp_pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own, nullptr));
    if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1) return last_openssl_error();
    // g^ir is padded to the length of p (RFC 7296 2.14); OpenSSL strips leading zeros by default.
    if (dh_pad && EVP_PKEY_CTX_set_dh_pad(ctx.get(), 1) != 1) return last_openssl_error();
    // The peer value was checked above (RFC 6989); skip OpenSSL's second, costlier validation
    // (a full y^((p-1)/2) for the large safe-prime groups).
    if (EVP_PKEY_derive_set_peer_ex(ctx.get(), peer, 0) != 1) {
        ERR_clear_error();
        return crypto_errc::invalid_public_value;
    }
    std::size_t len = 0;
    if (EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1) return last_openssl_error();
    base::secret_bytes out(len);
    if (EVP_PKEY_derive(ctx.get(), out.data(), &len) != 1) {
        ERR_clear_error();
        return crypto_errc::invalid_public_value;
    }
    if (len != expect) return crypto_errc::invalid_public_value;
    return out;
}

class evp_key_exchange final : public key_exchange {
public:
    evp_key_exchange(const dh_group_info& info, evp_pkey_ptr key, std::vector<std::uint8_t> pub)
        : _info(info), _key(std::move(key)), _pub(std::move(pub)) {}

    dh_group group() const override { return _info.id; }
    std::span<const std::uint8_t> public_value() const override { return _pub; }

    result<base::secret_bytes> shared_secret(std::span<const std::uint8_t> peer) const override {
        if (peer.size() != _info.public_size) return crypto_errc::public_value_size;
        switch (_info.kind) {
        case dh_kind::modp:
        case dh_kind::modp_subgroup: {
            const modp_params* m = modp_params_for(_info.id);
            if (auto ec = check_modp_value(*m, peer)) return ec;
            bn_ptr y(BN_bin2bn(peer.data(), static_cast<int>(peer.size()), nullptr));
            if (!y) return last_openssl_error();
            auto pk = modp_pkey(*m, y.get(), nullptr, EVP_PKEY_PUBLIC_KEY);
            if (!pk) return pk.error();
            return derive(_key.get(), pk->get(), true, _info.shared_size);
        }
        case dh_kind::ecp: {
            auto pk = ec_peer_key(_info.id, peer);
            if (!pk) return pk.error();
            return derive(_key.get(), pk->get(), false, _info.shared_size);
        }
        case dh_kind::x25519: {
            evp_pkey_ptr pk(EVP_PKEY_new_raw_public_key_ex(nullptr, "X25519", nullptr, peer.data(), peer.size()));
            if (!pk) return last_openssl_error();
            auto s = derive(_key.get(), pk.get(), false, _info.shared_size);
            // OpenSSL refuses an all-zero X25519 result itself; RFC 8031 2.3 makes it our rule too.
            if (!s) return s.error() == make_error_code(crypto_errc::invalid_public_value)
                               ? make_error_code(crypto_errc::zero_shared_secret) : s.error();
            static constexpr std::array<std::uint8_t, 32> zero{};
            if (CRYPTO_memcmp(s->data(), zero.data(), zero.size()) == 0) return crypto_errc::zero_shared_secret;
            return s;
        }
        }
        return crypto_errc::unsupported_algorithm;
    }

private:
    const dh_group_info& _info;
    evp_pkey_ptr _key;
    std::vector<std::uint8_t> _pub;
};

result<std::vector<std::uint8_t>> modp_public_bytes(EVP_PKEY* key, std::size_t size) {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PUB_KEY, &raw) != 1) return last_openssl_error();
    bn_ptr pub(raw);
    std::vector<std::uint8_t> out(size);
    if (BN_bn2binpad(pub.get(), out.data(), static_cast<int>(out.size())) < 0) return last_openssl_error();
    return out;
}

result<std::vector<std::uint8_t>> ec_public_bytes(EVP_PKEY* key, std::size_t size) {
    std::vector<std::uint8_t> point(1 + size);
    std::size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size(), &len) != 1)
        return last_openssl_error();
    if (len != point.size() || point[0] != POINT_CONVERSION_UNCOMPRESSED) return crypto_errc::invalid_argument;
    return std::vector<std::uint8_t>(point.begin() + 1, point.end());
}

result<const dh_group_info*> usable_group(dh_group g) {
    const dh_group_info* info = find_dh_group(static_cast<std::uint16_t>(g));
    if (info == nullptr) return crypto_errc::unsupported_algorithm;
    if (info->refused) return crypto_errc::refused_group;
    return info;
}

result<std::unique_ptr<key_exchange>> make(const dh_group_info& info, evp_pkey_ptr key) {
    result<std::vector<std::uint8_t>> pub = crypto_errc::unsupported_algorithm;
    switch (info.kind) {
    case dh_kind::modp:
    case dh_kind::modp_subgroup: pub = modp_public_bytes(key.get(), info.public_size); break;
    case dh_kind::ecp: pub = ec_public_bytes(key.get(), info.public_size); break;
    case dh_kind::x25519: {
        std::vector<std::uint8_t> u(info.public_size);
        std::size_t len = u.size();
        if (EVP_PKEY_get_raw_public_key(key.get(), u.data(), &len) != 1 || len != u.size()) return last_openssl_error();
        pub = std::move(u);
        break;
    }
    }
    if (!pub) return pub.error();
    return std::unique_ptr<key_exchange>(std::make_unique<evp_key_exchange>(info, std::move(key), std::move(*pub)));
}

class system_factory final : public key_exchange_factory {
public:
    result<std::unique_ptr<key_exchange>> create(dh_group g) override { return generate_key_exchange(g); }
};

} // namespace

const dh_group_info* find_dh_group(std::uint16_t wire_id) {
    for (const auto& g : groups)
        if (static_cast<std::uint16_t>(g.id) == wire_id) return &g;
    return nullptr;
}

const dh_group_info& dh_info(dh_group g) {
    const dh_group_info* info = find_dh_group(static_cast<std::uint16_t>(g));
    if (info == nullptr) throw std::invalid_argument("dh_info: unknown group");
    return *info;
}

std::error_code check_public_value(dh_group g, std::span<const std::uint8_t> peer) {
    auto info = usable_group(g);
    if (!info) return info.error();
    if (peer.size() != (*info)->public_size) return crypto_errc::public_value_size;
    switch ((*info)->kind) {
    case dh_kind::modp:
    case dh_kind::modp_subgroup: {
        const modp_params* m = modp_params_for(g);
        if (m == nullptr) return crypto_errc::unsupported_algorithm;
        return check_modp_value(*m, peer);
    }
    case dh_kind::ecp: {
        auto k = ec_peer_key(g, peer);
        return k ? std::error_code{} : k.error();
    }
    case dh_kind::x25519: return {}; // every u is decodable; the zero result is checked on derive
    }
    return crypto_errc::unsupported_algorithm;
}

result<std::unique_ptr<key_exchange>> generate_key_exchange(dh_group g) {
    auto info = usable_group(g);
    if (!info) return info.error();
    evp_pkey_ptr key;
    switch ((*info)->kind) {
    case dh_kind::modp:
    case dh_kind::modp_subgroup: {
        const modp_params* m = modp_params_for(g);
        if (m == nullptr) return crypto_errc::unsupported_algorithm;
        auto domain = modp_pkey(*m, nullptr, nullptr, EVP_PKEY_KEY_PARAMETERS);
        if (!domain) return domain.error();
        evp_pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, domain->get(), nullptr));
        EVP_PKEY* raw = nullptr;
        if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_generate(ctx.get(), &raw) != 1)
            return last_openssl_error();
        key.reset(raw);
        break;
    }
    case dh_kind::ecp:
        key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", ec_curve_name(g)));
        break;
    case dh_kind::x25519:
        key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
        break;
    }
    if (!key) return last_openssl_error();
    return make(**info, std::move(key));
}

result<std::unique_ptr<key_exchange>> key_exchange_from_private(dh_group g, std::span<const std::uint8_t> priv) {
    auto info = usable_group(g);
    if (!info) return info.error();
    if (priv.empty()) return crypto_errc::invalid_argument;
    evp_pkey_ptr key;
    switch ((*info)->kind) {
    case dh_kind::modp:
    case dh_kind::modp_subgroup: {
        const modp_params* m = modp_params_for(g);
        if (m == nullptr) return crypto_errc::unsupported_algorithm;
        bn_secret_ptr x(BN_bin2bn(priv.data(), static_cast<int>(priv.size()), nullptr));
        bn_ptr y(BN_new());
        bn_ctx_ptr ctx(BN_CTX_new());
        if (!x || !y || !ctx) return last_openssl_error();
        if (BN_is_zero(x.get()) || BN_cmp(x.get(), m->q ? m->q.get() : m->p.get()) >= 0)
            return crypto_errc::invalid_argument;
        BN_set_flags(x.get(), BN_FLG_CONSTTIME);
        if (BN_mod_exp_mont_consttime(y.get(), m->g.get(), x.get(), m->p.get(), ctx.get(), nullptr) != 1)
            return last_openssl_error();
        auto k = modp_pkey(*m, y.get(), x.get(), EVP_PKEY_KEYPAIR);
        if (!k) return k.error();
        key = std::move(*k);
        break;
    }
    case dh_kind::ecp: {
        ec_group_ptr grp(EC_GROUP_new_by_curve_name(ec_curve_nid(g)));
        bn_secret_ptr d(BN_bin2bn(priv.data(), static_cast<int>(priv.size()), nullptr));
        bn_ctx_ptr ctx(BN_CTX_new());
        if (!grp || !d || !ctx) return last_openssl_error();
        if (BN_is_zero(d.get()) || BN_cmp(d.get(), EC_GROUP_get0_order(grp.get())) >= 0)
            return crypto_errc::invalid_argument;
        ec_point_ptr q(EC_POINT_new(grp.get()));
        if (!q || EC_POINT_mul(grp.get(), q.get(), d.get(), nullptr, nullptr, ctx.get()) != 1)
            return last_openssl_error();
        std::vector<std::uint8_t> point(1 + (*info)->public_size);
        if (EC_POINT_point2oct(grp.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, point.data(), point.size(),
                               ctx.get()) != point.size())
            return last_openssl_error();
        auto k = ec_pkey(g, point, d.get());
        if (!k) return k.error();
        key = std::move(*k);
        break;
    }
    case dh_kind::x25519:
        if (priv.size() != 32) return crypto_errc::invalid_argument;
        key.reset(EVP_PKEY_new_raw_private_key_ex(nullptr, "X25519", nullptr, priv.data(), priv.size()));
        break;
    }
    if (!key) return last_openssl_error();
    return make(**info, std::move(key));
}

key_exchange_factory& system_key_exchange_factory() {
    static system_factory f;
    return f;
}

} // namespace ike::crypto
