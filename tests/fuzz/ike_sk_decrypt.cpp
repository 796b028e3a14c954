// libFuzzer target: SK payload open (RFC 7296 3.14 / RFC 5282) with fixed keys for every suite.
// Input: [suite selector][AAD length][AAD][sealed body = IV | ciphertext | ICV].
//   1. open() on the raw input must fail cleanly or return fewer bytes than the body;
//   2. the same bytes as a plaintext must survive seal -> open unchanged, and any single-bit
//      flip of that sealed body (position chosen by the input) must be rejected.
// The seed corpus holds validly sealed bodies for each suite (so the ICV passes and the
// padding/decrypt paths run) plus short and malformed ones.
#include <ike/sk.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace {

using namespace ike::crypto;

struct fuzz_suite {
    encr_spec encr;
    integ_id integ;
};

constexpr fuzz_suite suites[] = {
    {{encr_id::aes_cbc, 128}, integ_id::hmac_sha1_96},      {{encr_id::aes_cbc, 256}, integ_id::hmac_sha2_256_128},
    {{encr_id::aes_cbc, 192}, integ_id::hmac_sha2_512_256}, {{encr_id::des3, 0}, integ_id::hmac_md5_96},
    {{encr_id::aes_gcm_8, 128}, integ_id::none},            {{encr_id::aes_gcm_12, 192}, integ_id::none},
    {{encr_id::aes_gcm_16, 256}, integ_id::none},           {{encr_id::aes_cbc, 256}, integ_id::hmac_sha2_384_192},
};
constexpr std::size_t suite_count = sizeof(suites) / sizeof(suites[0]);

sk_cipher& cipher(std::size_t i) {
    static std::vector<sk_cipher> all = [] {
        std::vector<sk_cipher> v;
        for (const auto& s : suites) {
            std::vector<std::uint8_t> ek(*encr_keymat_size(s.encr)), ak(integ_key_size(s.integ));
            for (std::size_t k = 0; k < ek.size(); ++k) ek[k] = static_cast<std::uint8_t>(k + 1);
            for (std::size_t k = 0; k < ak.size(); ++k) ak[k] = static_cast<std::uint8_t>(0x40 + k);
            auto c = sk_cipher::create(s.encr, s.integ, ek, ak);
            if (!c) std::abort();
            v.push_back(std::move(*c));
        }
        return v;
    }();
    return all[i];
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    sk_cipher& c = cipher(data[0] % suite_count);
    const std::size_t aad_len = data[1] % 64;
    std::span<const std::uint8_t> in(data + 2, size - 2);
    if (in.size() < aad_len) return 0;
    const auto aad = in.first(aad_len);
    const auto body = in.subspan(aad_len);

    auto opened = c.open(aad, body);
    if (opened && opened->size() >= body.size()) std::abort();

    const std::vector<std::uint8_t> iv(c.iv_size(), 0x5a);
    std::vector<std::uint8_t> sealed(c.sealed_size(body.size()));
    if (c.seal_with_iv(aad, body, iv, sealed)) std::abort();
    auto back = c.open(aad, sealed);
    if (!back || !std::equal(back->begin(), back->end(), body.begin(), body.end())) std::abort();
    const std::size_t bit = (size * 131u) % (sealed.size() * 8);
    sealed[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    if (c.open(aad, sealed)) std::abort();
    return 0;
}
