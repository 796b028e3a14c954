#pragma once
// IKEv2 protocol numbers (RFC 7296 section 3 and the IANA "IKEv2 Parameters" registry) as typed
// enums with to_string. Every enum has a fixed underlying type so values we do not know survive a
// parse/serialize round trip (an unknown transform id is data, not an error); to_string prints
// those as "UNKNOWN_<n>". Names follow the RFC/strongSwan spelling so logs read like charon's.
#include <cstdint>
#include <string>
#include <string_view>

namespace ike {

// RFC 7296 section 3.1, Exchange Type.
enum class exchange_type : std::uint8_t {
    ike_sa_init = 34,
    ike_auth = 35,
    create_child_sa = 36,
    informational = 37,
    ike_session_resume = 38,  // RFC 5723
    ike_intermediate = 43,    // RFC 9242
};

// RFC 7296 section 3.2 (Next Payload) plus RFC 7383 SKF.
enum class payload_type : std::uint8_t {
    none = 0,
    sa = 33,
    ke = 34,
    idi = 35,
    idr = 36,
    cert = 37,
    certreq = 38,
    auth = 39,
    nonce = 40,
    notify = 41,
    del = 42,
    vendor = 43,
    tsi = 44,
    tsr = 45,
    sk = 46,
    cp = 47,
    eap = 48,
    skf = 53,  // RFC 7383 Encrypted and Authenticated Fragment
};

// RFC 7296 section 3.3.1 Protocol ID (also used by Notify and Delete).
enum class protocol_id : std::uint8_t { none = 0, ike = 1, ah = 2, esp = 3 };

// RFC 7296 section 3.3.2 Transform Type.
enum class transform_type : std::uint8_t { encr = 1, prf = 2, integ = 3, dh = 4, esn = 5 };

// Transform Type 1 (IANA; AEAD ids from RFC 4106/4309/5282/7634).
enum class encr_id : std::uint16_t {
    des_iv64 = 1,
    des = 2,
    des3 = 3,
    rc5 = 4,
    idea = 5,
    cast = 6,
    blowfish = 7,
    idea3 = 8,
    des_iv32 = 9,
    null = 11,
    aes_cbc = 12,
    aes_ctr = 13,
    aes_ccm_8 = 14,
    aes_ccm_12 = 15,
    aes_ccm_16 = 16,
    aes_gcm_8 = 18,
    aes_gcm_12 = 19,
    aes_gcm_16 = 20,
    null_auth_aes_gmac = 21,
    camellia_cbc = 23,
    camellia_ctr = 24,
    camellia_ccm_8 = 25,
    camellia_ccm_12 = 26,
    camellia_ccm_16 = 27,
    chacha20_poly1305 = 28,
};

// Transform Type 2.
enum class prf_id : std::uint16_t {
    hmac_md5 = 1,
    hmac_sha1 = 2,
    hmac_tiger = 3,
    aes128_xcbc = 4,
    hmac_sha2_256 = 5,
    hmac_sha2_384 = 6,
    hmac_sha2_512 = 7,
    aes128_cmac = 8,
};

// Transform Type 3.
enum class integ_id : std::uint16_t {
    none = 0,
    hmac_md5_96 = 1,
    hmac_sha1_96 = 2,
    des_mac = 3,
    kpdk_md5 = 4,
    aes_xcbc_96 = 5,
    hmac_md5_128 = 6,
    hmac_sha1_160 = 7,
    aes_cmac_96 = 8,
    aes_128_gmac = 9,
    aes_192_gmac = 10,
    aes_256_gmac = 11,
    hmac_sha2_256_128 = 12,
    hmac_sha2_384_192 = 13,
    hmac_sha2_512_256 = 14,
};

// Transform Type 4, Diffie-Hellman group (RFC 3526, 5114, 5903, 7027, 8031).
enum class dh_group : std::uint16_t {
    none = 0,
    modp768 = 1,
    modp1024 = 2,
    modp1536 = 5,
    modp2048 = 14,
    modp3072 = 15,
    modp4096 = 16,
    modp6144 = 17,
    modp8192 = 18,
    ecp256 = 19,
    ecp384 = 20,
    ecp521 = 21,
    modp1024s160 = 22,
    modp2048s224 = 23,
    modp2048s256 = 24,
    ecp192 = 25,
    ecp224 = 26,
    ecp224bp = 27,
    ecp256bp = 28,
    ecp384bp = 29,
    ecp512bp = 30,
    curve25519 = 31,
    curve448 = 32,
};

// Transform Type 5.
enum class esn_id : std::uint16_t { no = 0, yes = 1 };

// RFC 7296 section 3.3.5: the only attribute defined for IKEv2 transforms.
inline constexpr std::uint16_t attr_key_length = 14;

// RFC 7296 section 3.5 ID Type.
enum class id_type : std::uint8_t {
    ipv4_addr = 1,
    fqdn = 2,
    rfc822_addr = 3,
    ipv6_addr = 5,
    der_asn1_dn = 9,
    der_asn1_gn = 10,
    key_id = 11,
    fc_name = 12,  // RFC 4595
};

// RFC 7296 section 3.6 Certificate Encoding (CERT and CERTREQ).
enum class cert_encoding : std::uint8_t {
    pkcs7_x509 = 1,
    pgp = 2,
    dns_signed_key = 3,
    x509_signature = 4,
    kerberos_token = 6,
    crl = 7,
    arl = 8,
    spki = 9,
    x509_attribute = 10,
    raw_rsa_key = 11,
    hash_url_x509_cert = 12,
    hash_url_x509_bundle = 13,
    ocsp_content = 14,  // RFC 4806
    raw_public_key = 15,  // RFC 7670
};

// RFC 7296 section 3.8 Auth Method (+ RFC 4754, RFC 7427).
enum class auth_method : std::uint8_t {
    rsa_sig = 1,
    psk = 2,
    dss_sig = 3,
    ecdsa_sha256_p256 = 9,
    ecdsa_sha384_p384 = 10,
    ecdsa_sha512_p521 = 11,
    generic_secure_password = 12,  // RFC 6467
    null_auth = 13,                // RFC 7619
    digital_signature = 14,        // RFC 7427
};

// RFC 7296 section 3.13.1 TS Type.
enum class ts_type : std::uint8_t { ipv4_addr_range = 7, ipv6_addr_range = 8 };

// RFC 7296 section 3.15 CFG Type.
enum class cfg_type : std::uint8_t { request = 1, reply = 2, set = 3, ack = 4 };

// RFC 7296 section 3.10.1 Notify Message Types, plus the IANA registry entries we send or expect.
// 1..16383 are errors, 16384.. are status types.
enum class notify_type : std::uint16_t {
    unsupported_critical_payload = 1,
    invalid_ike_spi = 4,
    invalid_major_version = 5,
    invalid_syntax = 7,
    invalid_message_id = 9,
    invalid_spi = 11,
    no_proposal_chosen = 14,
    invalid_ke_payload = 17,
    authentication_failed = 24,
    single_pair_required = 34,
    no_additional_sas = 35,
    internal_address_failure = 36,
    failed_cp_required = 37,
    ts_unacceptable = 38,
    invalid_selectors = 39,
    unacceptable_addresses = 40,     // RFC 4555
    unexpected_nat_detected = 41,    // RFC 4555
    use_assigned_hoa = 42,           // RFC 5026
    temporary_failure = 43,          // RFC 7296
    child_sa_not_found = 44,         // RFC 7296
    invalid_group_id = 45,           // RFC 6407
    authorization_failed = 46,       // RFC 6407
    state_not_found = 47,            // RFC 9370

    initial_contact = 16384,
    set_window_size = 16385,
    additional_ts_possible = 16386,
    ipcomp_supported = 16387,
    nat_detection_source_ip = 16388,
    nat_detection_destination_ip = 16389,
    cookie = 16390,
    use_transport_mode = 16391,
    http_cert_lookup_supported = 16392,
    rekey_sa = 16393,
    esp_tfc_padding_not_supported = 16394,
    non_first_fragments_also = 16395,
    mobike_supported = 16396,           // RFC 4555
    additional_ip4_address = 16397,
    additional_ip6_address = 16398,
    no_additional_addresses = 16399,
    update_sa_addresses = 16400,
    cookie2 = 16401,
    no_nats_allowed = 16402,
    auth_lifetime = 16403,              // RFC 4478
    multiple_auth_supported = 16404,    // RFC 4739
    another_auth_follows = 16405,
    redirect_supported = 16406,         // RFC 5685
    redirect = 16407,
    redirected_from = 16408,
    ticket_lt_opaque = 16409,           // RFC 5723
    ticket_request = 16410,
    ticket_ack = 16411,
    ticket_nack = 16412,
    ticket_opaque = 16413,
    link_id = 16414,
    use_wesp_mode = 16415,
    rohc_supported = 16416,
    eap_only_authentication = 16417,    // RFC 5998
    childless_ikev2_supported = 16418,  // RFC 6023
    quick_crash_detection = 16419,
    ikev2_message_id_sync_supported = 16420,  // RFC 6311
    ipsec_replay_counter_sync_supported = 16421,
    ikev2_message_id_sync = 16422,
    ipsec_replay_counter_sync = 16423,
    secure_password_methods = 16424,
    psk_persist = 16425,
    psk_confirm = 16426,
    erx_supported = 16427,
    ifom_capability = 16428,
    sender_request_id = 16429,
    ikev2_fragmentation_supported = 16430,  // RFC 7383
    signature_hash_algorithms = 16431,      // RFC 7427
    clone_ike_sa_supported = 16432,
    clone_ike_sa = 16433,
    puzzle = 16434,                         // RFC 8019
    use_ppk = 16435,                        // RFC 8784
    ppk_identity = 16436,
    no_ppk_auth = 16437,
    intermediate_exchange_supported = 16438,  // RFC 9242
};

// Notify types below this value are errors (RFC 7296 section 3.10.1).
inline constexpr std::uint16_t notify_status_first = 16384;
[[nodiscard]] inline bool is_error(notify_type t) { return static_cast<std::uint16_t>(t) < notify_status_first; }

// Header flags (RFC 7296 section 3.1).
inline constexpr std::uint8_t flag_initiator = 0x08;
inline constexpr std::uint8_t flag_version = 0x10;
inline constexpr std::uint8_t flag_response = 0x20;

std::string to_string(exchange_type v);
std::string to_string(payload_type v);  // RFC notation: "SA", "KE", "IDi", "N", "SK", "SKF"...
std::string to_string(protocol_id v);
std::string to_string(transform_type v);
std::string to_string(encr_id v);
std::string to_string(prf_id v);
std::string to_string(integ_id v);
std::string to_string(dh_group v);
std::string to_string(esn_id v);
std::string to_string(id_type v);
std::string to_string(cert_encoding v);
std::string to_string(auth_method v);
std::string to_string(ts_type v);
std::string to_string(cfg_type v);
std::string to_string(notify_type v);
// Name of transform `id` of type `t` ("AES_CBC", "PRF_HMAC_SHA2_256", "MODP_2048", ...).
std::string transform_id_name(transform_type t, std::uint16_t id);

// Whether the payload type is one this codec parses (everything else is "unknown": skipped when
// non-critical, UNSUPPORTED_CRITICAL_PAYLOAD when critical; RFC 7296 section 2.5).
[[nodiscard]] bool is_known_payload(std::uint8_t type);

// Length in bytes of a KE payload's public value for a group (RFC 7296 3.4, RFC 5903 section 7,
// RFC 8031 section 3.1); 0 when the group is not one we know the size of.
[[nodiscard]] std::size_t dh_public_length(dh_group g);

// AEAD ciphers carry their own ICV and take no INTEG transform (RFC 5282 section 8).
[[nodiscard]] bool is_aead(encr_id e);
// Whether an ENCR transform needs the Key Length attribute (variable key length ciphers,
// RFC 7296 section 3.3.5): AES and Camellia in all modes, Blowfish.
[[nodiscard]] bool needs_key_length(encr_id e);

} // namespace ike
