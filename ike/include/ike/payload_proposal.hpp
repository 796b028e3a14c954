#pragma once
// SA proposals in strongSwan's configuration syntax (ipsec.conf ike=/esp=, swanctl proposals):
// `aes256-sha256-modp1024`, `aes256gcm16-prfsha384-ecp384`, `aes256-sha256-modp2048` (ESP with
// PFS), `aes128-sha1-esn`. Tokens are separated by '-', proposals by ','. The same semantics as
// charon's proposal parser:
//  - IKE: without prf* tokens the PRFs are derived from the integrity algorithms
//    (sha256 -> prfsha256, ...); a DH group and a PRF are mandatory; `none` is dropped.
//  - ESP/AH: PRF tokens are ignored; without esn/noesn the proposal offers no ESN (`noesn`).
//  - AEAD ciphers (gcm, ccm, chacha20poly1305) take no integrity algorithm.
// to_string() is the inverse: implied PRFs and the default noesn are left out, so
// to_string(from_string(s)) == s for canonical strings.
//
// Also the mapping from the product's tunnel fields (ikeEncryptionAlgorithm "aes-256",
// ikeAuthAlgorithm "sha256", ikeDhGroup "group2", pfs "dh-group14") to those tokens.
#include "ike/payload.hpp"
#include "ike/wire_error.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ike {

// One proposal (number 1, empty SPI). Error reason names the offending token.
wire_result<proposal> proposal_from_string(protocol_id protocol, std::string_view s);
// Comma-separated proposals, numbered 1..n in order.
wire_result<std::vector<proposal>> proposals_from_string(protocol_id protocol, std::string_view s);

// strongSwan configuration syntax of a proposal (as parsed or as received on the wire).
std::string to_string(const proposal& p);
// All proposals of an SA payload, comma-separated: what a NO_PROPOSAL_CHOSEN log shows.
std::string to_string(const sa_payload& sa);

// Single transform token ("aes256", "sha256", "prfsha384", "modp2048", "esn"); "" if unknown.
std::string transform_token(const transform& t);

// RFC 7296 3.3.3 mandatory transform types, present and well-formed, for the proposal's
// protocol (Key Length present where required and one of 128/192/256 for AES and Camellia).
// Fails with NO_PROPOSAL_CHOSEN and a reason: such a proposal can never be selected.
wire_check check_complete(const proposal& p);

// Product field -> strongSwan token; nullopt when the value is not one the product offers.
// Encryption: "aes-128", "aes-192", "aes-256", "3des", "aes-128-gcm", "aes-256-gcm" (ICV 16).
std::optional<std::string> product_encryption_token(std::string_view v);
// Integrity: "md5", "sha1", "sha256", "sha384", "sha512".
std::optional<std::string> product_integrity_token(std::string_view v);
// DH group: "group2", "dh-group14", "2", "14", ...; "" for "disabled"/"none" (no PFS).
std::optional<std::string> product_dh_token(std::string_view v);
// Whole proposal from the product fields, e.g. (ike, "aes-256", "sha256", "group2") ->
// "aes256-sha256-modp1024"; for an AEAD cipher in IKE the integrity field selects the PRF
// ("aes256gcm16-prfsha256-modp2048"). nullopt when a field is not recognised.
std::optional<std::string> product_proposal(protocol_id protocol, std::string_view encryption,
                                            std::string_view integrity, std::string_view dh_group);

} // namespace ike
