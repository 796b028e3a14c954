#pragma once
// ike-decode output: one IKE payload as a JSON object {"type": "SA"|"KE"|..., fields...}.
// Names are the codec's (RFC / strongSwan spelling); byte strings are lowercase hex.
#include <ike/payload.hpp>

#include <nlohmann/json.hpp>

namespace ipsec_vector {

nlohmann::ordered_json payload_json(const ike::payload& p);

} // namespace ipsec_vector
