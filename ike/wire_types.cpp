// Names and sizes of IKEv2 protocol numbers (see wire_types.hpp).
#include "ike/wire_types.hpp"

#include <fmt/format.h>

namespace ike {
namespace {

std::string name_or_unknown(const char* name, unsigned value) {
    if (name) return name;
    return fmt::format("UNKNOWN_{}", value);
}

} // namespace

std::string to_string(exchange_type v) {
    const char* n = nullptr;
    switch (v) {
    case exchange_type::ike_sa_init: n = "IKE_SA_INIT"; break;
    case exchange_type::ike_auth: n = "IKE_AUTH"; break;
    case exchange_type::create_child_sa: n = "CREATE_CHILD_SA"; break;
    case exchange_type::informational: n = "INFORMATIONAL"; break;
    case exchange_type::ike_session_resume: n = "IKE_SESSION_RESUME"; break;
    case exchange_type::ike_intermediate: n = "IKE_INTERMEDIATE"; break;
    }
    return name_or_unknown(n, static_cast<unsigned>(v));
}

std::string to_string(payload_type v) {
    const char* n = nullptr;
    switch (v) {
    case payload_type::none: n = "NONE"; break;
    case payload_type::sa: n = "SA"; break;
    case payload_type::ke: n = "KE"; break;
    case payload_type::idi: n = "IDi"; break;
    case payload_type::idr: n = "IDr"; break;
    case payload_type::cert: n = "CERT"; break;
    case payload_type::certreq: n = "CERTREQ"; break;
    case payload_type::auth: n = "AUTH"; break;
    case payload_type::nonce: n = "Nonce"; break;
    case payload_type::notify: n = "N"; break;
    case payload_type::del: n = "D"; break;
    case payload_type::vendor: n = "V"; break;
    case payload_type::tsi: n = "TSi"; break;
    case payload_type::tsr: n = "TSr"; break;
    case payload_type::sk: n = "SK"; break;
    case payload_type::cp: n = "CP"; break;
    case payload_type::eap: n = "EAP"; break;
    case payload_type::skf: n = "SKF"; break;
    }
    return name_or_unknown(n, static_cast<unsigned>(v));
}

std::string to_string(protocol_id v) {
    const char* n = nullptr;
    switch (v) {
    case protocol_id::none: n = "NONE"; break;
    case protocol_id::ike: n = "IKE"; break;
    case protocol_id::ah: n = "AH"; break;
    case protocol_id::esp: n = "ESP"; break;
    }
    return name_or_unknown(n, static_cast<unsigned>(v));
}

std::string to_string(transform_type v) {
    const char* n = nullptr;
    switch (v) {
    case transform_type::encr: n = "ENCR"; break;
    case transform_type::prf: n = "PRF"; break;
    case transform_type::integ: n = "INTEG"; break;
    case transform_type::dh: n = "DH"; break;
    case transform_type::esn: n = "ESN"; break;
    }
    return name_or_unknown(n, static_cast<unsigned>(v));
}

std::string to_string(encr_id v) {
    const char* n = nullptr;
    switch (v) {
    case encr_id::des_iv64: n = "DES_IV64"; break;
    case encr_id::des: n = "DES_CBC"; break;
    case encr_id::des3: n = "3DES_CBC"; break;
    case encr_id::rc5: n = "RC5"; break;
    case encr_id::idea: n = "IDEA"; break;
    case encr_id::cast: n = "CAST"; break;
    case encr_id::blowfish: n = "BLOWFISH"; break;
    case encr_id::idea3: n = "3IDEA"; break;
    case encr_id::des_iv32: n = "DES_IV32"; break;
    case encr_id::null: n = "NULL"; break;
    case encr_id::aes_cbc: n = "AES_CBC"; break;
    case encr_id::aes_ctr: n = "AES_CTR"; break;
    case encr_id::aes_ccm_8: n = "AES_CCM_8"; break;
    case encr_id::aes_ccm_12: n = "AES_CCM_12"; break;
    case encr_id::aes_ccm_16: n = "AES_CCM_16"; break;
    case encr_id::aes_gcm_8: n = "AES_GCM_8"; break;
    case encr_id::aes_gcm_12: n = "AES_GCM_12"; break;
    case encr_id::aes_gcm_16: n = "AES_GCM_16"; break;
    case encr_id::null_auth_aes_gmac: n = "NULL_AES_GMAC"; break;
    case encr_id::camellia_cbc: n = "CAMELLIA_CBC"; break;
    case encr_id::camellia_ctr: n = "CAMELLIA_CTR"; break;
    case encr_id::camellia_ccm_8: n = "CAMELLIA_CCM_8"; break;
    case encr_id::camellia_ccm_12: n = "CAMELLIA_CCM_12"; break;
    case encr_id::camellia_ccm_16: n = "CAMELLIA_CCM_16"; break;
    case encr_id::chacha20_poly1305: n = "CHACHA20_POLY1305"; break;
    }
    return name_or_unknown(n, static_cast<unsigned>(v));
}

std::string to_string(prf_id v) {
    const char* n = nullptr;
    switch (v) {
    case prf_id::hmac_md5: n = "PRF_HMAC_MD5"; break;
    case prf_id::hmac_sha1: n = "PRF_HMAC_SHA1"; break;
    case prf_id::hmac_tiger: n = "PRF_HMAC_TIGER"; break;
    case prf_id::aes128_xcbc: n = "PRF_AES128_XCBC"; break;
    case prf_id::hmac_sha2_256: n = "PRF_HMAC_SHA2_256"; break;
    case prf_id::hmac_sha2_384: n = "PRF_HMAC_SHA2_384"; break;
    case prf_id::hmac_sha2_512: n = "PRF_HMAC_SHA2_512"; break;
    case prf_id::aes128_cmac: n = "PRF_AES128_CMAC"; break;
    }
    return name_or_unknown(n, static_cast<unsigned>(v));
}

std::string to_string(integ_id v) {
    const char* n = nullptr;
    switch (v) {
    case integ_id::none: n = "NONE"; break;
    case integ_id::hmac_md5_96: n = "HMAC_MD5_96"; break;
    case integ_id::hmac_sha1_96: n = "HMAC_SHA1_96"; break;
    case integ_id::des_mac: n = "DES_MAC"; break;
    case integ_id::kpdk_md5: n = "KPDK_MD5"; break;
    case integ_id::aes_xcbc_96: n = "AES_XCBC_96"; break;
    case integ_id::hmac_md5_128: n = "HMAC_MD5_128"; break;
    case integ_id::hmac_sha1_160: n = "HMAC_SHA1_160"; break;
    case integ_id::aes_cmac_96: n = "AES_CMAC_96"; break;
    case integ_id::aes_128_gmac: n = "AES_128_GMAC"; break;
    case integ_id::aes_192_gmac: n = "AES_192_GMAC"; break;
    case integ_id::aes_256_gmac: n = "AES_256_GMAC"; break;
    case integ_id::hmac_sha2_256_128: n = "HMAC_SHA2_256_128"; break;
    case integ_id::hmac_sha2_384_192: n = "HMAC_SHA2_384_192"; break;
    case integ_id::hmac_sha2_512_256: n = "HMAC_SHA2_512_256"; break;
    }
    return name_or_unknown(n, static_cast<unsigned>(v));
}

std::string to_string(dh_group v) {
    const char* n = nullptr;
    switch (v) {
    case dh_group::none: n = "NONE"; break;
    case dh_group::modp768: n = "MODP_768"; break;
    case dh_group::modp1024: n = "MODP_1024"; break;
    case dh_group::modp1536: n = "MODP_1536"; break;
    case dh_group::modp2048: n = "MODP_2048"; break;
    case dh_group::modp3072: n = "MODP_3072"; break;
    case dh_group::modp4096: n = "MODP_4096"; break;
    case dh_group::modp6144: n = "MODP_6144"; break;
    case dh_group::modp8192: n = "MODP_8192"; break;
    case dh_group::ecp256: n = "ECP_256"; break;
    case dh_group::ecp384: n = "ECP_384"; break;
    case dh_group::ecp521: n = "ECP_521"; break;
    case dh_group::modp1024s160: n = "MODP_1024_160"; break;
    case dh_group::modp2048s224: n = "MODP_2048_224"; break;
    case dh_group::modp2048s256: n = "MODP_2048_256"; break;
    case dh_group::ecp192: n = "ECP_192"; break;
    case dh_group::ecp224: n = "ECP_224"; break;
    case dh_group::ecp224bp: n = "ECP_224_BP"; break;
    case dh_group::ecp256bp: n = "ECP_256_BP"; break;
    case dh_group::ecp384bp: n = "ECP_384_BP"; break;
    case dh_group::ecp512bp: n = "ECP_512_BP"; break;
    case dh_group::curve25519: n = "CURVE_25519"; break;
    case dh_group::curve448: n = "CURVE_448"; break;
    }
    return name_or_unknown(n, static_cast<unsigned>(v));
}

std::string to_string(esn_id v) {
    const char* n = nullptr;
    switch (v) {
    case esn_id::no: n = "NO_EXT_SEQ"; break;
    case esn_id::yes: n = "EXT_SEQ"; break;
    }
    return name_or_unknown(n, static_cast<unsigned>(v));
}

std::string to_string(id_type v) {
    const char* n = nullptr;
    switch (v) {
    case id_type::ipv4_addr: n = "ID_IPV4_ADDR"; break;
    case id_type::fqdn: n = "ID_FQDN"; break;
    case id_type::rfc822_addr: n = "ID_RFC822_ADDR"; break;
    case id_type::ipv6_addr: n = "ID_IPV6_ADDR"; break;
    case id_type::der_asn1_dn: n = "ID_DER_ASN1_DN"; break;
    case id_type::der_asn1_gn: n = "ID_DER_ASN1_GN"; break;
    case id_type::key_id: n = "ID_KEY_ID"; break;
    case id_type::fc_name: n = "ID_FC_NAME"; break;
    }
    return name_or_unknown(n, static_cast<unsigned>(v));
}

std::string to_string(cert_encoding v) {
    const char* n = nullptr;
    switch (v) {
    case cert_encoding::pkcs7_x509: n = "PKCS7_WRAPPED_X509"; break;
    case cert_encoding::pgp: n = "PGP"; break;
    case cert_encoding::dns_signed_key: n = "DNS_SIGNED_KEY"; break;
    case cert_encoding::x509_signature: n = "X509_SIGNATURE"; break;
    case cert_encoding::kerberos_token: n = "KERBEROS_TOKEN"; break;
    case cert_encoding::crl: n = "CRL"; break;
    case cert_encoding::arl: n = "ARL"; break;
    case cert_encoding::spki: n = "SPKI"; break;
    case cert_encoding::x509_attribute: n = "X509_ATTRIBUTE"; break;
    case cert_encoding::raw_rsa_key: n = "RAW_RSA_KEY"; break;
    case cert_encoding::hash_url_x509_cert: n = "HASH_URL_X509_CERT"; break;
    case cert_encoding::hash_url_x509_bundle: n = "HASH_URL_X509_BUNDLE"; break;
    case cert_encoding::ocsp_content: n = "OCSP_CONTENT"; break;
    case cert_encoding::raw_public_key: n = "RAW_PUBLIC_KEY"; break;
    }
    return name_or_unknown(n, static_cast<unsigned>(v));
}

std::string to_string(auth_method v) {
    const char* n = nullptr;
    switch (v) {
    case auth_method::rsa_sig: n = "RSA_SIG"; break;
    case auth_method::psk: n = "PSK"; break;
    case auth_method::dss_sig: n = "DSS_SIG"; break;
    case auth_method::ecdsa_sha256_p256: n = "ECDSA_256"; break;
    case auth_method::ecdsa_sha384_p384: n = "ECDSA_384"; break;
    case auth_method::ecdsa_sha512_p521: n = "ECDSA_521"; break;
    case auth_method::generic_secure_password: n = "GSPM"; break;
    case auth_method::null_auth: n = "NULL"; break;
    case auth_method::digital_signature: n = "DIGITAL_SIGNATURE"; break;
    }
    return name_or_unknown(n, static_cast<unsigned>(v));
}

std::string to_string(ts_type v) {
    const char* n = nullptr;
    switch (v) {
    case ts_type::ipv4_addr_range: n = "TS_IPV4_ADDR_RANGE"; break;
    case ts_type::ipv6_addr_range: n = "TS_IPV6_ADDR_RANGE"; break;
    }
    return name_or_unknown(n, static_cast<unsigned>(v));
}

std::string to_string(cfg_type v) {
    const char* n = nullptr;
    switch (v) {
    case cfg_type::request: n = "CFG_REQUEST"; break;
    case cfg_type::reply: n = "CFG_REPLY"; break;
    case cfg_type::set: n = "CFG_SET"; break;
    case cfg_type::ack: n = "CFG_ACK"; break;
    }
    return name_or_unknown(n, static_cast<unsigned>(v));
}

std::string to_string(notify_type v) {
    const char* n = nullptr;
    switch (v) {
    case notify_type::unsupported_critical_payload: n = "UNSUPPORTED_CRITICAL_PAYLOAD"; break;
    case notify_type::invalid_ike_spi: n = "INVALID_IKE_SPI"; break;
    case notify_type::invalid_major_version: n = "INVALID_MAJOR_VERSION"; break;
    case notify_type::invalid_syntax: n = "INVALID_SYNTAX"; break;
    case notify_type::invalid_message_id: n = "INVALID_MESSAGE_ID"; break;
    case notify_type::invalid_spi: n = "INVALID_SPI"; break;
    case notify_type::no_proposal_chosen: n = "NO_PROPOSAL_CHOSEN"; break;
    case notify_type::invalid_ke_payload: n = "INVALID_KE_PAYLOAD"; break;
    case notify_type::authentication_failed: n = "AUTHENTICATION_FAILED"; break;
    case notify_type::single_pair_required: n = "SINGLE_PAIR_REQUIRED"; break;
    case notify_type::no_additional_sas: n = "NO_ADDITIONAL_SAS"; break;
    case notify_type::internal_address_failure: n = "INTERNAL_ADDRESS_FAILURE"; break;
    case notify_type::failed_cp_required: n = "FAILED_CP_REQUIRED"; break;
    case notify_type::ts_unacceptable: n = "TS_UNACCEPTABLE"; break;
    case notify_type::invalid_selectors: n = "INVALID_SELECTORS"; break;
    case notify_type::unacceptable_addresses: n = "UNACCEPTABLE_ADDRESSES"; break;
    case notify_type::unexpected_nat_detected: n = "UNEXPECTED_NAT_DETECTED"; break;
    case notify_type::use_assigned_hoa: n = "USE_ASSIGNED_HoA"; break;
    case notify_type::temporary_failure: n = "TEMPORARY_FAILURE"; break;
    case notify_type::child_sa_not_found: n = "CHILD_SA_NOT_FOUND"; break;
    case notify_type::invalid_group_id: n = "INVALID_GROUP_ID"; break;
    case notify_type::authorization_failed: n = "AUTHORIZATION_FAILED"; break;
    case notify_type::state_not_found: n = "STATE_NOT_FOUND"; break;
    case notify_type::initial_contact: n = "INITIAL_CONTACT"; break;
    case notify_type::set_window_size: n = "SET_WINDOW_SIZE"; break;
    case notify_type::additional_ts_possible: n = "ADDITIONAL_TS_POSSIBLE"; break;
    case notify_type::ipcomp_supported: n = "IPCOMP_SUPPORTED"; break;
    case notify_type::nat_detection_source_ip: n = "NAT_DETECTION_SOURCE_IP"; break;
    case notify_type::nat_detection_destination_ip: n = "NAT_DETECTION_DESTINATION_IP"; break;
    case notify_type::cookie: n = "COOKIE"; break;
    case notify_type::use_transport_mode: n = "USE_TRANSPORT_MODE"; break;
    case notify_type::http_cert_lookup_supported: n = "HTTP_CERT_LOOKUP_SUPPORTED"; break;
    case notify_type::rekey_sa: n = "REKEY_SA"; break;
    case notify_type::esp_tfc_padding_not_supported: n = "ESP_TFC_PADDING_NOT_SUPPORTED"; break;
    case notify_type::non_first_fragments_also: n = "NON_FIRST_FRAGMENTS_ALSO"; break;
    case notify_type::mobike_supported: n = "MOBIKE_SUPPORTED"; break;
    case notify_type::additional_ip4_address: n = "ADDITIONAL_IP4_ADDRESS"; break;
    case notify_type::additional_ip6_address: n = "ADDITIONAL_IP6_ADDRESS"; break;
    case notify_type::no_additional_addresses: n = "NO_ADDITIONAL_ADDRESSES"; break;
    case notify_type::update_sa_addresses: n = "UPDATE_SA_ADDRESSES"; break;
    case notify_type::cookie2: n = "COOKIE2"; break;
    case notify_type::no_nats_allowed: n = "NO_NATS_ALLOWED"; break;
    case notify_type::auth_lifetime: n = "AUTH_LIFETIME"; break;
    case notify_type::multiple_auth_supported: n = "MULTIPLE_AUTH_SUPPORTED"; break;
    case notify_type::another_auth_follows: n = "ANOTHER_AUTH_FOLLOWS"; break;
    case notify_type::redirect_supported: n = "REDIRECT_SUPPORTED"; break;
    case notify_type::redirect: n = "REDIRECT"; break;
    case notify_type::redirected_from: n = "REDIRECTED_FROM"; break;
    case notify_type::ticket_lt_opaque: n = "TICKET_LT_OPAQUE"; break;
    case notify_type::ticket_request: n = "TICKET_REQUEST"; break;
    case notify_type::ticket_ack: n = "TICKET_ACK"; break;
    case notify_type::ticket_nack: n = "TICKET_NACK"; break;
    case notify_type::ticket_opaque: n = "TICKET_OPAQUE"; break;
    case notify_type::link_id: n = "LINK_ID"; break;
    case notify_type::use_wesp_mode: n = "USE_WESP_MODE"; break;
    case notify_type::rohc_supported: n = "ROHC_SUPPORTED"; break;
    case notify_type::eap_only_authentication: n = "EAP_ONLY_AUTHENTICATION"; break;
    case notify_type::childless_ikev2_supported: n = "CHILDLESS_IKEV2_SUPPORTED"; break;
    case notify_type::quick_crash_detection: n = "QUICK_CRASH_DETECTION"; break;
    case notify_type::ikev2_message_id_sync_supported: n = "IKEV2_MESSAGE_ID_SYNC_SUPPORTED"; break;
    case notify_type::ipsec_replay_counter_sync_supported: n = "IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED"; break;
    case notify_type::ikev2_message_id_sync: n = "IKEV2_MESSAGE_ID_SYNC"; break;
    case notify_type::ipsec_replay_counter_sync: n = "IPSEC_REPLAY_COUNTER_SYNC"; break;
    case notify_type::secure_password_methods: n = "SECURE_PASSWORD_METHODS"; break;
    case notify_type::psk_persist: n = "PSK_PERSIST"; break;
    case notify_type::psk_confirm: n = "PSK_CONFIRM"; break;
    case notify_type::erx_supported: n = "ERX_SUPPORTED"; break;
    case notify_type::ifom_capability: n = "IFOM_CAPABILITY"; break;
    case notify_type::sender_request_id: n = "SENDER_REQUEST_ID"; break;
    case notify_type::ikev2_fragmentation_supported: n = "IKEV2_FRAGMENTATION_SUPPORTED"; break;
    case notify_type::signature_hash_algorithms: n = "SIGNATURE_HASH_ALGORITHMS"; break;
    case notify_type::clone_ike_sa_supported: n = "CLONE_IKE_SA_SUPPORTED"; break;
    case notify_type::clone_ike_sa: n = "CLONE_IKE_SA"; break;
    case notify_type::puzzle: n = "PUZZLE"; break;
    case notify_type::use_ppk: n = "USE_PPK"; break;
    case notify_type::ppk_identity: n = "PPK_IDENTITY"; break;
    case notify_type::no_ppk_auth: n = "NO_PPK_AUTH"; break;
    case notify_type::intermediate_exchange_supported: n = "INTERMEDIATE_EXCHANGE_SUPPORTED"; break;
    }
    return name_or_unknown(n, static_cast<unsigned>(v));
}

std::string transform_id_name(transform_type t, std::uint16_t id) {
    switch (t) {
    case transform_type::encr: return to_string(static_cast<encr_id>(id));
    case transform_type::prf: return to_string(static_cast<prf_id>(id));
    case transform_type::integ: return to_string(static_cast<integ_id>(id));
    case transform_type::dh: return to_string(static_cast<dh_group>(id));
    case transform_type::esn: return to_string(static_cast<esn_id>(id));
    }
    return fmt::format("UNKNOWN_{}_{}", static_cast<unsigned>(t), id);
}

bool is_known_payload(std::uint8_t type) {
    return (type >= static_cast<std::uint8_t>(payload_type::sa) && type <= static_cast<std::uint8_t>(payload_type::eap)) ||
           type == static_cast<std::uint8_t>(payload_type::skf);
}

std::size_t dh_public_length(dh_group g) {
    switch (g) {
    case dh_group::modp768: return 96;
    case dh_group::modp1024: return 128;
    case dh_group::modp1536: return 192;
    case dh_group::modp2048: return 256;
    case dh_group::modp3072: return 384;
    case dh_group::modp4096: return 512;
    case dh_group::modp6144: return 768;
    case dh_group::modp8192: return 1024;
    case dh_group::modp1024s160: return 128;
    case dh_group::modp2048s224: return 256;
    case dh_group::modp2048s256: return 256;
    // ECP: x || y, each the field size (RFC 5903 section 7, RFC 6954 section 3).
    case dh_group::ecp192: return 48;
    case dh_group::ecp224: return 56;
    case dh_group::ecp256: return 64;
    case dh_group::ecp384: return 96;
    case dh_group::ecp521: return 132;
    case dh_group::ecp224bp: return 56;
    case dh_group::ecp256bp: return 64;
    case dh_group::ecp384bp: return 96;
    case dh_group::ecp512bp: return 128;
    case dh_group::curve25519: return 32;
    case dh_group::curve448: return 56;
    case dh_group::none: return 0;
    }
    return 0;
}

bool is_aead(encr_id e) {
    switch (e) {
    case encr_id::aes_ccm_8:
    case encr_id::aes_ccm_12:
    case encr_id::aes_ccm_16:
    case encr_id::aes_gcm_8:
    case encr_id::aes_gcm_12:
    case encr_id::aes_gcm_16:
    case encr_id::null_auth_aes_gmac:
    case encr_id::camellia_ccm_8:
    case encr_id::camellia_ccm_12:
    case encr_id::camellia_ccm_16:
    case encr_id::chacha20_poly1305:
        return true;
    default:
        return false;
    }
}

bool needs_key_length(encr_id e) {
    switch (e) {
    case encr_id::aes_cbc:
    case encr_id::aes_ctr:
    case encr_id::aes_ccm_8:
    case encr_id::aes_ccm_12:
    case encr_id::aes_ccm_16:
    case encr_id::aes_gcm_8:
    case encr_id::aes_gcm_12:
    case encr_id::aes_gcm_16:
    case encr_id::null_auth_aes_gmac:
    case encr_id::camellia_cbc:
    case encr_id::camellia_ctr:
    case encr_id::camellia_ccm_8:
    case encr_id::camellia_ccm_12:
    case encr_id::camellia_ccm_16:
    case encr_id::blowfish:
        return true;
    default:
        return false;
    }
}

} // namespace ike
