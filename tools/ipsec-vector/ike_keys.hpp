#pragma once
// ike-decode --keys "SPIi,SPIr,SK_ei,SK_er,ENC,SK_ai,SK_ar,INTEG": the keys of one IKE SA, as
// strongSwan's ike=4 log or Wireshark's IKEv2 decryption table gives them. Hex fields; ENC is
// aes128-cbc | aes192-cbc | aes256-cbc | aes{128,192,256}gcm{8,12,16} | 3des-cbc; INTEG is
// sha1-96 | sha1-160 | sha256-128 | sha384-192 | sha512-256 | md5-96 | none (GCM takes none;
// its SK_e carries the 4-byte salt at the end, RFC 5282).
#include <ike/message.hpp>
#include <ike/sk.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ipsec_vector {

// One direction's SK protection behind the codec's seam (ike/wire_sk_codec.hpp).
class ike_sk_codec final : public ike::sk_codec {
public:
    explicit ike_sk_codec(ike::crypto::sk_cipher c) : _c(std::move(c)) {}
    [[nodiscard]] std::size_t sealed_size(std::size_t n) const override { return _c.sealed_size(n); }
    bool seal(std::span<const std::uint8_t>, std::span<const std::uint8_t>, std::span<std::uint8_t>) override {
        return false;  // a decoder never seals
    }
    std::optional<std::vector<std::uint8_t>> open(std::span<const std::uint8_t> aad,
                                                  std::span<const std::uint8_t> sealed) override;

private:
    ike::crypto::sk_cipher _c;
};

struct ike_sa_keys {
    ike::ike_spi spi_i{};
    ike::ike_spi spi_r{};
    std::string encr_name;   // as given, for diagnostics
    std::string integ_name;
    std::unique_ptr<ike_sk_codec> from_initiator;  // SK_ei / SK_ai
    std::unique_ptr<ike_sk_codec> from_responder;  // SK_er / SK_ar
};

// Throws usage_error (one line naming the field) on any malformed field or key size mismatch.
ike_sa_keys parse_ike_keys(std::string_view spec);

} // namespace ipsec_vector
