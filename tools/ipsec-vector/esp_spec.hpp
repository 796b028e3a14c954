#pragma once
// The SA SPEC of `ipsec-vector esp-encap|esp-decap --sa SPEC`: comma-separated key=value,
//   spi=0x11223344 enc=aes256-cbc|aes192-cbc|aes128-cbc|aes128gcm16|aes256gcm16|3des-cbc
//   enc-key=HEX integ=sha1-96|sha256-128|sha384-192|sha512-256|none integ-key=HEX
//   src=IP dst=IP [natt=SPORT:DPORT] [esn=0|1] [seq=N] [window=N] [backend=ipsecmb|openssl]
// parse_esp_spec() turns it into an esp::sa_config or throws usage_error with one line that
// names the key and what is allowed. Key material never appears in a message.
#include <esp/sa_config.hpp>

#include <string_view>

namespace ipsec_vector {

// One SA as described by SPEC (the same string serves both ends of the SA: encap writes
// src -> dst [UDP sport -> dport], decap accepts exactly that).
struct esp_spec {
    esp::sa_config cfg;
    bool seq_given = false;  // seq= present (decap: the first sequence number to expect)
};

esp_spec parse_esp_spec(std::string_view spec);

} // namespace ipsec_vector
