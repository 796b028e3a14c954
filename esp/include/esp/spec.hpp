#pragma once
// The SA SPEC string, a contract shared by `ipsec-vector esp-encap|esp-decap --sa SPEC` and the
// static SAs of ipsecd's config: comma-separated key=value,
//   spi=0x11223344 enc=aes256-cbc|aes192-cbc|aes128-cbc|aes128gcm16|aes256gcm16|3des-cbc
//   enc-key=HEX integ=sha1-96|sha256-128|sha384-192|sha512-256|none integ-key=HEX
//   src=IP dst=IP [natt=SPORT:DPORT] [esn=0|1] [seq=N] [window=N] [backend=ipsecmb|openssl]
// parse_sa_spec() turns it into an esp::sa_config or throws spec_error with one line that starts
// with the key at fault and says what is allowed. Key material never appears in a message.
#include <esp/sa_config.hpp>

#include <stdexcept>
#include <string_view>

namespace esp {

struct spec_error : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

// One SA as described by SPEC (the same string serves both ends of the SA: encap writes
// src -> dst [UDP sport -> dport], decap accepts exactly that).
struct sa_spec {
    sa_config cfg;
    bool seq_given = false;  // seq= present (decap: the first sequence number to expect)
};

sa_spec parse_sa_spec(std::string_view spec);

} // namespace esp
