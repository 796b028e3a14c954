// Algorithm names: one mapping shared by ipsec-vector, IKE proposals and control.
#include "esp/algorithms.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <utility>

namespace esp {
namespace {

std::string lower(std::string_view s) {
    std::string r(s);
    std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return r;
}

template <class E, std::size_t N>
std::optional<E> lookup(const std::array<std::pair<std::string_view, E>, N>& table, std::string_view s) {
    const std::string l = lower(s);
    for (const auto& [name, value] : table)
        if (name == l) return value;
    return std::nullopt;
}

constexpr std::array<std::pair<std::string_view, enc_alg>, 17> enc_names{{
    {"aes128-cbc", enc_alg::aes128_cbc}, {"aes128", enc_alg::aes128_cbc}, {"aes128cbc", enc_alg::aes128_cbc},
    {"aes192-cbc", enc_alg::aes192_cbc}, {"aes192", enc_alg::aes192_cbc}, {"aes192cbc", enc_alg::aes192_cbc},
    {"aes256-cbc", enc_alg::aes256_cbc}, {"aes256", enc_alg::aes256_cbc}, {"aes256cbc", enc_alg::aes256_cbc},
    {"aes128gcm16", enc_alg::aes128gcm16}, {"aes128gcm128", enc_alg::aes128gcm16},
    {"aes256gcm16", enc_alg::aes256gcm16}, {"aes256gcm128", enc_alg::aes256gcm16},
    {"3des-cbc", enc_alg::des3_cbc}, {"3des", enc_alg::des3_cbc}, {"des3-cbc", enc_alg::des3_cbc},
    {"des3_cbc", enc_alg::des3_cbc},
}};

constexpr std::array<std::pair<std::string_view, integ_alg>, 17> integ_names{{
    {"none", integ_alg::none}, {"null", integ_alg::none},
    {"sha1-96", integ_alg::sha1_96}, {"sha1", integ_alg::sha1_96}, {"sha1_96", integ_alg::sha1_96},
    {"sha256-128", integ_alg::sha256_128}, {"sha256", integ_alg::sha256_128}, {"sha2_256", integ_alg::sha256_128},
    {"sha2_256_128", integ_alg::sha256_128},
    {"sha384-192", integ_alg::sha384_192}, {"sha384", integ_alg::sha384_192}, {"sha2_384", integ_alg::sha384_192},
    {"sha2_384_192", integ_alg::sha384_192},
    {"sha512-256", integ_alg::sha512_256}, {"sha512", integ_alg::sha512_256}, {"sha2_512", integ_alg::sha512_256},
    {"sha2_512_256", integ_alg::sha512_256},
}};

constexpr std::array<std::pair<std::string_view, backend_kind>, 4> backend_names{{
    {"ipsecmb", backend_kind::ipsecmb}, {"ipsec-mb", backend_kind::ipsecmb}, {"mb", backend_kind::ipsecmb},
    {"openssl", backend_kind::openssl},
}};

} // namespace

std::string_view to_string(enc_alg a) {
    switch (a) {
    case enc_alg::aes128_cbc: return "aes128-cbc";
    case enc_alg::aes192_cbc: return "aes192-cbc";
    case enc_alg::aes256_cbc: return "aes256-cbc";
    case enc_alg::aes128gcm16: return "aes128gcm16";
    case enc_alg::aes256gcm16: return "aes256gcm16";
    case enc_alg::des3_cbc: return "3des-cbc";
    }
    return "?";
}

std::string_view to_string(integ_alg a) {
    switch (a) {
    case integ_alg::none: return "none";
    case integ_alg::sha1_96: return "sha1-96";
    case integ_alg::sha256_128: return "sha256-128";
    case integ_alg::sha384_192: return "sha384-192";
    case integ_alg::sha512_256: return "sha512-256";
    }
    return "?";
}

std::string_view to_string(backend_kind b) { return b == backend_kind::ipsecmb ? "ipsecmb" : "openssl"; }

std::optional<enc_alg> parse_enc(std::string_view s) { return lookup(enc_names, s); }
std::optional<integ_alg> parse_integ(std::string_view s) { return lookup(integ_names, s); }
std::optional<backend_kind> parse_backend(std::string_view s) { return lookup(backend_names, s); }

} // namespace esp
