// IKE SA rekey (RFC 7296 1.3.2, 2.18): placeholder until the exchange lands.
#include "exchange_common.hpp"
#include "ike/task.hpp"

namespace ike {

bool respond_ike_rekey(ike_sa& sa, const message&, message& resp) {
    sa.log(log_level::warning, "IKE SA rekeying is not implemented yet: answering NO_ADDITIONAL_SAS");
    resp.encrypted.push_back(make_notify(notify_type::no_additional_sas));
    return true;
}

} // namespace ike
