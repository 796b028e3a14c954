// Static SA SPEC strings: the grammar and its checks are esp's (esp/spec.hpp), shared with
// ipsec-vector; the data plane only reports failures as its own spec_error.
#include "dataplane/sa_spec.hpp"

#include <esp/spec.hpp>

namespace dataplane {

esp::sa_config parse_sa_spec(std::string_view spec) {
    try {
        return esp::parse_sa_spec(spec).cfg;
    } catch (const esp::spec_error& e) {
        throw spec_error(e.what());
    }
}

} // namespace dataplane
