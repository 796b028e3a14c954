#pragma once
// Traffic selector narrowing (RFC 7296 section 2.9). The responder intersects what the initiator
// proposes with its configured CIDRs; an empty intersection on either side is TS_UNACCEPTABLE.
// The initiator accepts a reply only if it is a subset of what it proposed.
#include "ike/config.hpp"
#include "ike/payload.hpp"
#include "ike/sa_installer.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ike {

traffic_selector ts_from_cidr(const cidr& c);
std::vector<traffic_selector> ts_from_cidrs(const std::vector<cidr>& cs);

// The intersection of two selectors, nullopt when empty (different families, protocols or no
// overlap of address or port ranges).
std::optional<traffic_selector> ts_intersect(const traffic_selector& a, const traffic_selector& b);
// Every non-empty intersection of a proposed selector with a configured one, duplicates removed.
std::vector<traffic_selector> ts_narrow(const std::vector<traffic_selector>& proposed,
                                        const std::vector<traffic_selector>& configured);
// Whether every selector in `sub` lies within some selector of `super`.
bool ts_subset(const std::vector<traffic_selector>& sub, const std::vector<traffic_selector>& super);

// "10.1.0.0/16 10.2.0.0/24[tcp/80]" for logs.
std::string ts_list_to_string(const std::vector<traffic_selector>& ts);

// For the installer.
std::vector<esp_selector> ts_to_esp_selectors(const std::vector<traffic_selector>& ts);

} // namespace ike
