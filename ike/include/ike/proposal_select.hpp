#pragma once
// Proposals in strongSwan syntax and proposal selection (RFC 7296 sections 2.7, 3.3.6).
//
//   parse_proposal("aes256-sha256-modp2048", protocol_id::ike)
//     -> proposal { ENCR AES_CBC/256, INTEG HMAC_SHA2_256_128, PRF HMAC_SHA2_256, DH MODP_2048 }
//   parse_proposal("aes256gcm16-prfsha384-ecp384", ike), parse_proposal("aes128-sha1-modp2048", esp)
//
// Several algorithms of one type may appear ("aes128-aes256-sha256-modp2048-ecp256"). For IKE a
// missing PRF is derived from the integrity algorithm (strongSwan's rule); ESP without "esn"
// offers ESN "no". select_proposal() implements the responder's choice (our configured order
// first, strongSwan's default) and check_selected_proposal() the initiator's check of the reply.
#include "ike/crypto_algorithms.hpp"
#include "ike/dh.hpp"
#include "ike/payload.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ike {

// nullopt with `error` set when a keyword is unknown or a mandatory type is missing.
std::optional<proposal> parse_proposal(std::string_view text, protocol_id protocol, std::string* error = nullptr);
// Parses a whole list (e.g. config entries); nullopt on the first bad entry.
std::optional<std::vector<proposal>> parse_proposals(const std::vector<std::string>& texts, protocol_id protocol,
                                                     std::string* error = nullptr);

// strongSwan syntax of a (possibly multi-algorithm) proposal: "aes256-sha256-prfsha256-modp2048".
std::string proposal_to_string(const proposal& p);
std::string proposals_to_string(const std::vector<proposal>& ps);  // joined with ", "

// Responder: the first of our proposals (in order) that one of the peer's proposals covers,
// reduced to one transform per type; carries the peer's proposal number and SPI.
std::optional<proposal> select_proposal(const std::vector<proposal>& ours, const std::vector<proposal>& offered);

// Initiator: the responder's single chosen proposal must be one transform per type, drawn from the
// proposal we offered with the same number. Returns an error text when it is not.
std::optional<std::string> check_selected_proposal(const proposal& chosen, const std::vector<proposal>& offered);

// The first DH group of the (ordered) proposals, none when there is none.
dh_group first_dh_group(const std::vector<proposal>& ps);
// Whether any proposal contains this DH group.
bool proposals_contain_group(const std::vector<proposal>& ps, dh_group g);
// Copy of the proposals with the DH group transforms removed, or only `g` kept (PFS on/off).
std::vector<proposal> proposals_with_group(const std::vector<proposal>& ps, std::optional<dh_group> g);

// A selected proposal reduced to the algorithms the key schedule and the installer need.
struct negotiated_suite {
    crypto::encr_spec encr;
    crypto::integ_id integ = crypto::integ_id::none;
    crypto::prf_id prf = crypto::prf_id::hmac_sha2_256;  // IKE only
    dh_group dh = dh_group::none;                        // none: no (PFS) KE
    bool esn = false;
    std::vector<std::uint8_t> spi;                       // the SPI in the chosen proposal
};
// nullopt when a type is missing/duplicated or an algorithm is one the crypto suite lacks.
std::optional<negotiated_suite> suite_of(const proposal& p, std::string* error = nullptr);

// ESP algorithm names as esp/ understands them: "aes256-cbc", "aes256gcm16", "3des-cbc", "null"
// and "sha256-128", "sha1-96", "sha384-192", "sha512-256", "md5-96", "sha1-160" ("" for AEAD).
std::string esp_encryption_name(const crypto::encr_spec& e);
std::string esp_integrity_name(crypto::integ_id i);

} // namespace ike
