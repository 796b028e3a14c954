// IKEv2 key schedule (RFC 7296 2.14, 2.17, 2.18); see keymat.hpp.
#include "ike/keymat.hpp"

#include "ike/prf.hpp"

#include <array>

namespace ike::crypto {
namespace {

// Consumes the next n bytes of prf+ output.
class keymat_cursor {
public:
    explicit keymat_cursor(const base::secret_bytes& m) : _m(m) {}
    base::secret_bytes take(std::size_t n) {
        base::secret_bytes k = _m.slice(_pos, n);
        _pos += n;
        return k;
    }

private:
    const base::secret_bytes& _m;
    std::size_t _pos = 0;
};

result<std::size_t> integ_size_for(const encr_spec& e, integ_id integ) {
    // AEAD with an integrity transform, or a classic cipher without one, is not a valid suite
    // for IKE (RFC 5282 8 / RFC 7296 3.3.3); for ESP NULL encryption needs integrity too.
    if (encr_is_aead(e.id) != (integ == integ_id::none)) return crypto_errc::unsupported_algorithm;
    if (!integ_known(static_cast<std::uint16_t>(integ))) return crypto_errc::unsupported_algorithm;
    return integ_key_size(integ);
}

} // namespace

result<ike_key_sizes> key_sizes(const ike_suite& s) {
    if (!prf_known(static_cast<std::uint16_t>(s.prf))) return crypto_errc::unsupported_algorithm;
    if (s.encr.id == encr_id::null) return crypto_errc::unsupported_algorithm; // never for IKE
    auto e = encr_keymat_size(s.encr);
    if (!e) return crypto_errc::unsupported_algorithm;
    auto a = integ_size_for(s.encr, s.integ);
    if (!a) return a.error();
    const std::size_t p = prf_output_size(s.prf);
    return ike_key_sizes{p, *a, *e, p};
}

result<base::secret_bytes> skeyseed(prf_id id, byte_view ni, byte_view nr, byte_view g_ir) {
    auto f = prf::create(id);
    if (!f) return f.error();
    // The key is Ni | Nr; HMAC accepts it at any length (RFC 7296 2.14).
    base::secret_bytes key(ni);
    key.append(nr);
    return (*f)(key.view(), {g_ir});
}

result<base::secret_bytes> rekey_skeyseed(prf_id old_prf, byte_view old_sk_d, byte_view g_ir_new,
                                          byte_view ni, byte_view nr) {
    auto f = prf::create(old_prf);
    if (!f) return f.error();
    return (*f)(old_sk_d, {g_ir_new, ni, nr});
}

result<ike_sa_keys> derive_ike_sa_keys(const ike_suite& s, byte_view seed, byte_view ni, byte_view nr,
                                       byte_view spi_i, byte_view spi_r) {
    if (spi_i.size() != 8 || spi_r.size() != 8) return crypto_errc::invalid_argument;
    auto sizes = key_sizes(s);
    if (!sizes) return sizes.error();
    auto f = prf::create(s.prf);
    if (!f) return f.error();
    const std::size_t total = sizes->d + 2 * sizes->a + 2 * sizes->e + 2 * sizes->p;
    auto m = f->plus(seed, {ni, nr, spi_i, spi_r}, total);
    if (!m) return m.error();
    keymat_cursor c(*m);
    ike_sa_keys k;
    k.sk_d = c.take(sizes->d);
    k.sk_ai = c.take(sizes->a);
    k.sk_ar = c.take(sizes->a);
    k.sk_ei = c.take(sizes->e);
    k.sk_er = c.take(sizes->e);
    k.sk_pi = c.take(sizes->p);
    k.sk_pr = c.take(sizes->p);
    return k;
}

result<ike_sa_keys> derive_ike_sa_keys(const ike_suite& s, byte_view seed, byte_view ni, byte_view nr,
                                       std::uint64_t spi_i, std::uint64_t spi_r) {
    std::array<std::uint8_t, 8> i{}, r{};
    for (int b = 0; b < 8; ++b) {
        i[static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(spi_i >> (56 - 8 * b));
        r[static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(spi_r >> (56 - 8 * b));
    }
    return derive_ike_sa_keys(s, seed, ni, nr, byte_view(i), byte_view(r));
}

result<child_sa_keys> derive_child_sa_keys(prf_id id, byte_view sk_d, const child_suite& s,
                                           byte_view g_ir_new, byte_view ni, byte_view nr) {
    auto e = encr_keymat_size(s.encr);
    if (!e) return crypto_errc::unsupported_algorithm;
    std::size_t a = 0;
    if (s.encr.id == encr_id::null) {
        if (s.integ == integ_id::none) return crypto_errc::unsupported_algorithm;
        a = integ_key_size(s.integ);
    } else {
        auto sz = integ_size_for(s.encr, s.integ);
        if (!sz) return sz.error();
        a = *sz;
    }
    auto f = prf::create(id);
    if (!f) return f.error();
    auto m = f->plus(sk_d, {g_ir_new, ni, nr}, 2 * (*e + a));
    if (!m) return m.error();
    keymat_cursor c(*m);
    child_sa_keys k;
    k.encr_i = c.take(*e);
    k.integ_i = c.take(a);
    k.encr_r = c.take(*e);
    k.integ_r = c.take(a);
    return k;
}

} // namespace ike::crypto
