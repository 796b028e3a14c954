// libFuzzer target for the IKEv2 wire codec: whole-message parse, rules validation, SK opening
// with a fixed "cipher" (the SK body is taken as inner payloads || Pad Length, so the fuzzer
// reaches the inner chain parser), and the bare payload-chain parser on the raw input.
// Properties checked (trap on violation): parse(serialize(parse(x))) == parse(x) for messages and
// chains; nothing reads out of bounds (ASan/UBSan in the fuzz and asan builds).
#include <ike/message.hpp>
#include <ike/message_rules.hpp>
#include <ike/payload.hpp>
#include <ike/payload_proposal.hpp>

#include <cstdint>
#include <span>

namespace {

class pad_only_codec final : public ike::sk_codec {
public:
    std::size_t sealed_size(std::size_t n) const override { return n + 1; }
    bool seal(std::span<const std::uint8_t>, std::span<const std::uint8_t> p, std::span<std::uint8_t> out) override {
        for (std::size_t i = 0; i < p.size(); ++i) out[i] = p[i];
        out[p.size()] = 0;
        return true;
    }
    std::optional<std::vector<std::uint8_t>> open(std::span<const std::uint8_t>, std::span<const std::uint8_t> s) override {
        if (s.empty()) return std::nullopt;
        std::size_t pad = s.back();
        if (pad + 1 > s.size()) return std::nullopt;
        return std::vector<std::uint8_t>(s.begin(), s.end() - static_cast<long>(pad) - 1);
    }
};

void check(bool cond) {
    if (!cond) __builtin_trap();
}

void exercise_payloads(const std::vector<ike::payload>& ps) {
    for (const auto& p : ps) {
        (void)ike::verify(p);
        if (auto sa = p.as<ike::sa_payload>()) {
            (void)ike::to_string(*sa);
            for (const auto& pr : sa->proposals) (void)ike::check_complete(pr);
        }
        if (auto id = p.as<ike::id_payload>()) (void)id->to_string();
        if (auto ts = p.as<ike::ts_payload>())
            for (const auto& s : ts->selectors) (void)s.to_string();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> in(data, size);

    // 1. the payload chain parser alone, first type from the first byte
    if (!in.empty()) {
        auto chain = ike::parse_payload_chain(in[0], in.subspan(1), in[0] & 1);
        if (chain) {
            exercise_payloads(*chain);
            base::writer w;
            if (!ike::serialize_payload_chain(*chain, w)) {
                auto again = ike::parse_payload_chain(in[0], w.data(), in[0] & 1);
                check(again.ok() && again.value() == chain.value());
            }
        }
    }

    // 2. a whole datagram
    auto m = ike::parse_message(in);
    if (!m) return 0;
    (void)ike::validate_outer(*m);
    exercise_payloads(m->payloads);

    auto out = ike::serialize_message(*m);
    if (out) {
        auto again = ike::parse_message(*out);
        check(again.ok());
        check(again->payloads == m->payloads);
        check(again->header.exchange == m->header.exchange && again->header.message_id == m->header.message_id);
    }

    pad_only_codec codec;
    if (m->sk()) {
        if (!ike::open_sk(*m, in, codec)) {
            exercise_payloads(m->encrypted);
            (void)ike::validate_message(*m);
            // re-seal the opened inner payloads: same inner chain after another round trip
            ike::message resend = *m;
            resend.payloads.pop_back();
            auto sealed = ike::serialize_message(resend, &codec);
            if (sealed) {
                auto back = ike::parse_message(*sealed);
                check(back.ok());
                check(!ike::open_sk(*back, *sealed, codec));
                check(back->encrypted == m->encrypted);
            }
        }
    } else if (m->skf()) {
        (void)ike::open_skf(*m, in, codec);
    } else {
        (void)ike::validate_message(*m);
    }
    return 0;
}
