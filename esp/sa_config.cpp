// SA configuration: addresses, validation, and the fixed head/tail room an SA needs.
#include "esp/sa.hpp"
#include "esp/sa_config.hpp"

#include <arpa/inet.h>

#include <string>

namespace esp {

std::optional<ip_address> ip_address::parse(std::string_view s) {
    const std::string str(s);
    ip_address a;
    if (inet_pton(AF_INET, str.c_str(), a.bytes.data()) == 1) {
        a.family = 4;
        return a;
    }
    if (inet_pton(AF_INET6, str.c_str(), a.bytes.data()) == 1) {
        a.family = 6;
        return a;
    }
    return std::nullopt;
}

ip_address ip_address::v4(std::uint32_t host_order) {
    ip_address a;
    a.family = 4;
    a.bytes[0] = std::uint8_t(host_order >> 24);
    a.bytes[1] = std::uint8_t(host_order >> 16);
    a.bytes[2] = std::uint8_t(host_order >> 8);
    a.bytes[3] = std::uint8_t(host_order);
    return a;
}

std::string ip_address::to_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (family == 4) inet_ntop(AF_INET, bytes.data(), buf, sizeof buf);
    else if (family == 6) inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
    else return "unset";
    return buf;
}

std::string validate(const sa_config& c) {
    if (c.spi < 256) return "SPI " + std::to_string(c.spi) + " is reserved (RFC 4303 2.1: 1..255 IANA, 0 local use)";
    if (c.src.family != 4 && c.src.family != 6) return "outer source address not set";
    if (c.dst.family != c.src.family) return "outer source and destination must be the same IP family";
    const auto ep = params(c.enc);
    if (c.enc_key.size() != ep.key_len)
        return "enc key for " + std::string(to_string(c.enc)) + " must be " + std::to_string(ep.key_len) +
               " bytes" + (ep.salt_len ? " (key + 4-byte salt)" : "") + ", got " + std::to_string(c.enc_key.size());
    if (ep.aead) {
        if (c.integ != integ_alg::none) return "integ must be none with an AEAD cipher";
        if (!c.integ_key.empty()) return "integ key given for an AEAD cipher";
    } else {
        if (c.integ == integ_alg::none) return "integ none is only allowed with an AEAD cipher";
        const auto ip = params(c.integ);
        if (c.integ_key.size() != ip.key_len)
            return "integ key for " + std::string(to_string(c.integ)) + " must be " + std::to_string(ip.key_len) +
                   " bytes, got " + std::to_string(c.integ_key.size());
    }
    if (c.replay_window != 0 && (c.replay_window < replay_window::min_size || c.replay_window > replay_window::max_size))
        return "replay window must be 0 (off) or 64..4096, got " + std::to_string(c.replay_window);
    if (c.initial_seq == 0) return "first sequence number must be >= 1 (RFC 4303 3.3.3)";
    if (!c.esn && c.initial_seq > 0xffffffffULL) return "first sequence number exceeds 32 bits without ESN";
    if (c.ttl == 0) return "TTL must be >= 1";
    return {};
}

std::uint32_t encap_headroom(const sa_config& c) {
    const std::uint32_t ip = c.src.family == 6 ? 40 : 20;
    return ip + (c.natt ? 8 : 0) + 8 + params(c.enc).iv_len;
}

std::uint32_t encap_tailroom(const sa_config& c) {
    const auto ep = params(c.enc);
    return std::uint32_t(ep.block_size - 1) + 2 + icv_len(c.enc, c.integ);
}

} // namespace esp
