#pragma once
// The SA SPEC string of `ipsec-vector esp-encap/esp-decap --sa SPEC`, reused verbatim by the
// static SAs of ipsecd's config: comma-separated key=value with spi, enc, enc-key, integ,
// integ-key, src, dst and optional natt=SPORT:DPORT, esn=0|1, seq=N, window=N,
// backend=ipsecmb|openssl. Parsed by esp::parse_sa_spec, the one parser of that contract.
#include <esp/sa_config.hpp>

#include <stdexcept>
#include <string_view>

namespace dataplane {

struct spec_error : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

// Throws spec_error with a one-line reason (never containing key material).
esp::sa_config parse_sa_spec(std::string_view spec);

} // namespace dataplane
