#pragma once
// The seam between the wire codec and the crypto suite for the Encrypted payload (RFC 7296
// section 3.14) and its fragments (RFC 7383 section 2.5). The codec lays out the message and
// hands the crypto side two spans; the crypto side (ike-crypto's sk_* files) implements this for
// AES-CBC + HMAC and the AEADs (RFC 5282), and tests can inject a fixed-IV fake.
//
//   aad = the message from the first byte of the IKE header up to and including the SK (or SKF)
//         payload's generic header (for SKF also Fragment Number and Total Fragments), with the
//         final lengths already written. For AEAD it is the Associated Data (RFC 5282 section
//         5.1); for classic ciphers the ICV covers aad || IV || ciphertext (RFC 7296 3.14).
//   sealed = IV || ciphertext (inner payloads || padding || pad length) || ICV.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace ike {

class sk_codec {
public:
    virtual ~sk_codec() = default;

    // Exact size of IV || ciphertext || ICV for a plaintext (inner payload chain) of n bytes,
    // including padding and the Pad Length byte. Needed before sealing because the lengths
    // inside the AAD must be final.
    [[nodiscard]] virtual std::size_t sealed_size(std::size_t plaintext_size) const = 0;

    // Encrypt and protect `plaintext`; write exactly sealed_size(plaintext.size()) bytes to `out`.
    // Returns false on an internal crypto failure (the message is then not sent).
    virtual bool seal(std::span<const std::uint8_t> aad, std::span<const std::uint8_t> plaintext,
                      std::span<std::uint8_t> out) = 0;

    // Verify the ICV and decrypt; returns the inner payload bytes with padding and Pad Length
    // removed, or nullopt when the ICV does not verify or the padding is malformed (the message
    // is then dropped silently, RFC 7296 section 2.21.2 – never answered with an error).
    virtual std::optional<std::vector<std::uint8_t>> open(std::span<const std::uint8_t> aad,
                                                          std::span<const std::uint8_t> sealed) = 0;
};

} // namespace ike
