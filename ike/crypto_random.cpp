// system_random(): RAND_bytes behind the random_source interface.
#include "ike/crypto_random.hpp"

#include "ike/crypto_error.hpp"

#include <openssl/rand.h>

#include <climits>

namespace ike::crypto {
namespace {

class openssl_random final : public random_source {
public:
    std::error_code fill(std::span<std::uint8_t> out) override {
        while (!out.empty()) {
            const std::size_t n = out.size() > INT_MAX ? INT_MAX : out.size();
            if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) return crypto_errc::random_failure;
            out = out.subspan(n);
        }
        return {};
    }
};

} // namespace

random_source& system_random() {
    static openssl_random r;
    return r;
}

} // namespace ike::crypto
