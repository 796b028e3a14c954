// libFuzzer target for the ESP inbound path (esp::inbound_sa::decap, esp::locate_esp).
//
// Input: byte 0 selects the SA and the mode, the rest is the payload.
//   bit 0     SA: 0 = aes128-cbc + sha256-128, 1 = aes256gcm16 with ESN
//   bit 1     backend: 0 = openssl, 1 = ipsecmb
//   bits 2-3  mode:
//     0  the payload is an outer packet (IPv4/IPv6 [+UDP] + ESP) and goes to decap as is;
//        random bytes stop at the ICV, so this fuzzes framing, lengths, replay pre-check
//     1  the payload is an ESP *plaintext* (inner packet + padding + trailer, any bytes); it is
//        sealed with the SA's own keys (valid ICV/tag) and then decapsulated, so the fuzzer
//        reaches the padding, next-header and inner-IP checks behind the ICV
//     2  the payload is an inner packet: encap then decap must round-trip it when encap accepts
//   bits 4-7  sequence number bias for mode 1 (exercises the window)
// Every decap is repeated on a twin SA through esp::decap_batch: the result, the inner view and
// the window must be the same (the batch splits decap into framing, one crypto pass, trailer).
// Fixed keys; the SAs are created per input so the replay window never carries state between
// inputs. Seed corpus: tests/fuzz/corpus/esp_decap/ (set ESP_DECAP_WRITE_SEEDS=<dir> to regenerate
// the mode-0 seeds from valid packets of this SA).
#include <esp/sa.hpp>

#include <base/reader.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

esp::sa_config config(bool gcm, bool mb) {
    esp::sa_config c;
    c.spi = 0x00001000;
    c.src = *esp::ip_address::parse("192.0.2.1");
    c.dst = *esp::ip_address::parse("192.0.2.2");
    c.backend = mb ? esp::backend_kind::ipsecmb : esp::backend_kind::openssl;
    std::vector<std::uint8_t> k(64);
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = std::uint8_t(i * 7 + 1);
    if (gcm) {
        c.enc = esp::enc_alg::aes256gcm16;
        c.enc_key = base::secret_bytes(std::span<const std::uint8_t>(k).first(36));
        c.integ = esp::integ_alg::none;
        c.esn = true;
    } else {
        c.enc = esp::enc_alg::aes128_cbc;
        c.enc_key = base::secret_bytes(std::span<const std::uint8_t>(k).first(16));
        c.integ = esp::integ_alg::sha256_128;
        c.integ_key = base::secret_bytes(std::span<const std::uint8_t>(k).subspan(16, 32));
    }
    c.replay_window = 64;
    return c;
}

class fixed_iv final : public esp::iv_source {
public:
    void fill(std::span<std::uint8_t> out) override {
        for (auto& b : out) b = _n++;
    }

private:
    std::uint8_t _n = 0x30;
};

constexpr std::uint32_t head = 128, tail = 128;

void check(bool ok) {
    if (!ok) std::abort();
}

struct sa_pair {
    esp::inbound_sa& in;
    esp::inbound_sa& twin;  // the same SA, fed through a decap_batch
    esp::decap_batch& batch;
};

void decap_bytes(const sa_pair& sas, std::span<const std::uint8_t> outer) {
    std::vector<std::uint8_t> mem(head + outer.size() + tail);
    std::memcpy(mem.data() + head, outer.data(), outer.size());
    std::vector<std::uint8_t> mem2 = mem;
    esp::pkt p{mem.data(), std::uint32_t(mem.size()), head, std::uint32_t(outer.size())};
    esp::drop_reason r{};
    const std::size_t n = sas.in.decap({&p, 1}, {&r, 1});
    check((n == 1) == (r == esp::drop_reason::ok));
    check(p.valid());
    esp::pkt p2{mem2.data(), std::uint32_t(mem2.size()), head, std::uint32_t(outer.size())};
    esp::drop_reason r2{};
    sas.batch.add(sas.twin, {&p2, 1}, {&r2, 1});
    sas.batch.run();
    check(r2 == r);
    check(p2.data_off == p.data_off && p2.data_len == p.data_len);
    check(r != esp::drop_reason::ok || std::memcmp(p.data(), p2.data(), p.data_len) == 0);
    check(sas.twin.window().top() == sas.in.window().top());
    check(sas.twin.counters().packets == sas.in.counters().packets);
    esp::esp_location loc;
    esp::pkt q{mem.data() + head, std::uint32_t(outer.size()), 0, std::uint32_t(outer.size())};
    (void)esp::locate_esp(q, loc);
}

// Seal an arbitrary plaintext as an ESP packet of the SA (outer IPv4), like a peer would.
std::vector<std::uint8_t> seal(const esp::sa_config& c, std::uint64_t seq, std::span<const std::uint8_t> plain_in) {
    const auto ep = esp::params(c.enc);
    std::size_t plen = plain_in.empty() ? 1 : plain_in.size();
    plen = (plen + ep.block_size - 1) / ep.block_size * ep.block_size;
    std::vector<std::uint8_t> plain(plen, 0);
    if (!plain_in.empty()) std::memcpy(plain.data(), plain_in.data(), plain_in.size());
    const std::uint32_t icv = esp::icv_len(c.enc, c.integ);
    const std::uint32_t esp_len = 8 + ep.iv_len + std::uint32_t(plain.size()) + icv;
    std::vector<std::uint8_t> pkt(20 + esp_len + 4, 0);
    pkt[0] = 0x45;
    base::store_be16(&pkt[2], std::uint16_t(20 + esp_len));
    pkt[8] = 64;
    pkt[9] = 50;
    std::uint8_t* e = pkt.data() + 20;
    base::store_be32(e, c.spi);
    base::store_be32(e + 4, std::uint32_t(seq));
    std::uint8_t* iv = e + 8;
    std::uint8_t* ct = iv + ep.iv_len;
    std::memcpy(ct, plain.data(), plain.size());
    std::uint8_t* icvp = ct + plain.size();
    std::string err;
    auto ctx = esp::crypto_ctx::create(c.backend, c.enc, c.enc_key.view(), c.integ, c.integ_key.view(), &err);
    check(ctx != nullptr);
    esp::crypto_op op;
    op.data = ct;
    op.len = std::uint32_t(plain.size());
    std::uint8_t tag[64];
    op.tag = tag;
    std::uint8_t aad[12];
    if (ep.aead) {
        base::store_be64(iv, seq);
        op.iv = iv;
        base::store_be32(aad, c.spi);
        base::store_be32(aad + 4, std::uint32_t(seq >> 32));
        base::store_be32(aad + 8, std::uint32_t(seq));
        op.auth = aad;
        op.auth_len = 12;
    } else {
        for (std::uint32_t i = 0; i < ep.iv_len; ++i) iv[i] = std::uint8_t(i);
        op.iv = iv;
        op.auth = e;
        op.auth_len = 8 + ep.iv_len + op.len;
    }
    ctx->encrypt({&op, 1});
    check(op.ok);
    std::memcpy(icvp, tag, icv);
    pkt.resize(20 + esp_len);
    return pkt;
}

void write_seeds(const char* dir) {
    static bool done = false;
    if (done) return;
    done = true;
    int n = 0;
    for (int sel = 0; sel < 2; ++sel) {
        auto c = config(sel == 1, false);
        c.iv = std::make_shared<fixed_iv>();
        auto out = esp::outbound_sa::create(c);
        for (std::size_t len : {28u, 40u, 100u, 300u}) {
            std::vector<std::uint8_t> inner(len, 0x61);
            inner[0] = 0x45;
            base::store_be16(&inner[2], std::uint16_t(len));
            std::vector<std::uint8_t> mem(head + len + tail);
            std::memcpy(mem.data() + head, inner.data(), len);
            esp::pkt p{mem.data(), std::uint32_t(mem.size()), head, std::uint32_t(len)};
            esp::drop_reason r{};
            if (out.sa->encap({&p, 1}, {&r, 1}) != 1) continue;
            std::ofstream f(std::string(dir) + "/valid_" + std::to_string(n++), std::ios::binary);
            const char sel_byte = char(sel);  // mode 0, openssl
            f.write(&sel_byte, 1);
            f.write(reinterpret_cast<const char*>(p.data()), p.data_len);
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (const char* dir = std::getenv("ESP_DECAP_WRITE_SEEDS")) write_seeds(dir);
    if (size < 1 || size > 4096) return 0;
    const std::uint8_t sel = data[0];
    const std::span<const std::uint8_t> payload(data + 1, size - 1);
    const auto c = config(sel & 1, sel & 2);
    auto in = esp::inbound_sa::create(c);
    auto twin = esp::inbound_sa::create(c);
    check(static_cast<bool>(in) && static_cast<bool>(twin));
    static esp::decap_batch batch;
    const sa_pair sas{*in.sa, *twin.sa, batch};
    switch ((sel >> 2) & 3) {
    case 0:
        decap_bytes(sas, payload);
        break;
    case 1: {
        const std::uint64_t seq = (std::uint64_t(sel >> 4) << 29) + 1;
        decap_bytes(sas, seal(c, seq, payload));
        decap_bytes(sas, seal(c, seq, payload));  // the duplicate must never pass
        check(in.sa->counters().packets <= 1);
        break;
    }
    default: {
        auto oc = c;
        oc.iv = std::make_shared<fixed_iv>();
        auto out = esp::outbound_sa::create(oc);
        check(static_cast<bool>(out));
        std::vector<std::uint8_t> mem(head + payload.size() + tail);
        std::memcpy(mem.data() + head, payload.data(), payload.size());
        esp::pkt p{mem.data(), std::uint32_t(mem.size()), head, std::uint32_t(payload.size())};
        esp::drop_reason r{};
        if (out.sa->encap({&p, 1}, {&r, 1}) == 1) {
            esp::drop_reason r2{};
            const std::size_t ok = in.sa->decap({&p, 1}, {&r2, 1});
            // what encap accepted comes back unless it is an IP header decap rejects as inner
            if (ok == 1) check(p.data_len <= payload.size() && std::memcmp(p.data(), payload.data(), p.data_len) == 0);
            else check(r2 == esp::drop_reason::not_ip || r2 == esp::drop_reason::next_header);
        }
        break;
    }
    }
    return 0;
}
