"""Contract tests of `ipsec-vector esp-encap|esp-decap` (the CLI that other tools rely on).

- bad SPECs: exit 2, one line on stderr naming the key and what is allowed, nothing on stdout,
  no key material in any message;
- unreadable / unsupported / unwritable files: exit 2 with a message;
- pcapng input; Ethernet (with and without an 802.1Q tag, with link padding), raw IP and
  DLT_IPV4 link types: output link type and link header preserved (EtherType follows the IP
  version), timestamps kept;
- JSON counters for a capture with duplicates, bit flips in ICV and ciphertext, a foreign SPI,
  a runt, a misaligned ciphertext, window edges (RFC 4303 3.4.3, window 64: T-63..T accepted),
  a NAT-keepalive, an IKE datagram, non-ESP IP and non-IP frames, for both backends; window=0;
  outbound sequence number exhaustion without ESN (RFC 4303 3.3.3);
- packets_in = packets_out + sum(drops) everywhere; keys never printed.

usage: /usr/bin/python3 cli_contract.py PATH/TO/ipsec-vector
"""
import json
import os
import struct
import subprocess
import tempfile

import oracle_common as oc
from oracle_common import IP, IPv6, TCP, UDP, Raw, raw

ENC_KEY = "a5" * 31 + "c3"          # aes256-cbc: 32 bytes
INTEG_KEY = "5a" * 31 + "3c"        # sha256-128: 32 bytes
SECRETS = (ENC_KEY, INTEG_KEY, ENC_KEY[:40], INTEG_KEY[:40])
BASE = ("spi=0x11223344,enc=aes256-cbc,enc-key=%s,integ=sha256-128,integ-key=%s,"
        "src=192.0.2.1,dst=198.51.100.1" % (ENC_KEY, INTEG_KEY))
REQUIRED_DROPS = ("no_sa", "runt", "bad_length", "replay", "icv", "pad", "next_header",
                  "seq_cycled", "lifetime", "not_ip", "not_esp", "natt_keepalive", "ike")

fails = oc.Failures()
TOOL = None
TMP = None


def path(name):
    return os.path.join(TMP, name)


def run(*args):
    r = subprocess.run([TOOL] + list(args), capture_output=True, text=True, timeout=120)
    for s in SECRETS:
        fails.check(s not in r.stdout and s not in r.stderr, "key material printed by %s" % (args[:1],))
    return r


def run_json(sub, spec, inp, out, what):
    r = run(sub, "--sa", spec, "--in", inp, "--out", out)
    fails.check(r.returncode == 0, "%s: exit %d: %s" % (what, r.returncode, r.stderr.strip()))
    if r.returncode != 0:
        return None
    js = json.loads(r.stdout)
    drops = js["drops"]
    for k in REQUIRED_DROPS:
        fails.check(k in drops, "%s: drops lacks %r" % (what, k))
    fails.check(js["packets_in"] == js["packets_out"] + sum(drops.values()),
                "%s: packets_in != packets_out + drops: %r" % (what, js))
    return js


def ipv4_fix(b):
    """Recompute total length and header checksum of a (modified) outer IPv4 packet."""
    b = bytearray(b)
    struct.pack_into("!H", b, 2, len(b))
    struct.pack_into("!H", b, 10, 0)
    ihl = (b[0] & 15) * 4
    s = sum(struct.unpack("!%dH" % (ihl // 2), bytes(b[:ihl])))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    struct.pack_into("!H", b, 10, ~s & 0xFFFF)
    return bytes(b)


def small_inner(n):
    return [raw(IP(src="10.1.0.1", dst="10.2.0.1", id=i) / UDP(sport=42000, dport=42100) / Raw(bytes([i & 0xFF]) * (i % 23)))
            for i in range(1, n + 1)]


# ---- bad input ----

def test_bad_specs():
    inp = path("inner.pcap")
    oc.write_pcap(inp, oc.DLT_RAW, small_inner(2))
    gcm_key = "11" * 36
    cases = [
        ("", "SPEC"),
        (BASE + ",foo=1", "foo"),
        (BASE.replace("enc=aes256-cbc", "enc=aes999"), "aes256-cbc|"),
        (BASE.replace("integ=sha256-128", "integ=md5"), "sha1-96|"),
        (BASE.replace("enc-key=" + ENC_KEY, "enc-key=" + ENC_KEY[:32]), "32 bytes"),
        (BASE.replace("enc-key=" + ENC_KEY, "enc-key=" + ENC_KEY[:63] + "z"), "enc-key"),
        (BASE.replace("integ-key=" + INTEG_KEY, "integ-key=" + INTEG_KEY[:40]), "integ-key"),
        (BASE.replace("integ=sha256-128,integ-key=" + INTEG_KEY, "integ=none"), "integ=none"),
        (BASE.replace("integ=sha256-128,integ-key=" + INTEG_KEY, "integ-key=" + INTEG_KEY), "integ"),
        ("spi=0x11223344,enc=aes256gcm16,enc-key=%s,integ=sha256-128,integ-key=%s,src=192.0.2.1,dst=198.51.100.1"
         % (gcm_key, INTEG_KEY), "integ"),
        ("spi=0x11223344,enc=aes256gcm16,enc-key=%s,src=192.0.2.1,dst=198.51.100.1" % gcm_key[:64], "36 bytes"),
        (BASE.replace("spi=0x11223344,", ""), "spi"),
        (BASE.replace("spi=0x11223344", "spi=0x10"), "SPI"),
        (BASE.replace("spi=0x11223344", "spi=0x1122334455"), "spi"),
        (BASE.replace("dst=198.51.100.1", "dst=2001:db8::1"), "family"),
        (BASE.replace("src=192.0.2.1", "src=192.0.2"), "src"),
        (BASE.replace(",dst=198.51.100.1", ""), "dst"),
        (BASE + ",natt=4500", "natt"),
        (BASE + ",natt=0:4500", "natt"),
        (BASE + ",esn=2", "esn"),
        (BASE + ",window=10", "window"),
        (BASE + ",window=8192", "window"),
        (BASE + ",seq=0", "seq"),
        (BASE + ",seq=4294967296", "seq"),
        (BASE + ",seq=12x", "seq"),
        (BASE + ",backend=gcrypt", "backend"),
        (BASE + ",spi=0x11223345", "twice"),
        (BASE + ",esn", "key=value"),
        (BASE + "," + ENC_KEY, "key=value"),                   # a stray key must not be echoed
    ]
    for sub in ("esp-encap", "esp-decap"):
        for spec, word in cases:
            r = run(sub, "--sa", spec, "--in", inp, "--out", path("bad.pcap"))
            what = "%s --sa %r" % (sub, spec.replace(ENC_KEY, "<enc-key>").replace(INTEG_KEY, "<integ-key>"))
            fails.check(r.returncode == 2, "%s: exit %d, want 2" % (what, r.returncode))
            lines = r.stderr.strip().splitlines()
            fails.check(len(lines) == 1 and word in lines[0],
                        "%s: want one line mentioning %r, got %r" % (what, word, r.stderr))
            fails.check(r.stdout == "", "%s: printed %r on stdout" % (what, r.stdout))
    # a missing option is a usage error too
    r = run("esp-encap", "--in", inp, "--out", path("bad.pcap"))
    fails.check(r.returncode == 2, "esp-encap without --sa: exit %d" % r.returncode)


def test_bad_files():
    good = path("good.pcap")
    oc.write_pcap(good, oc.DLT_RAW, small_inner(2))
    garbage = path("garbage.pcap")
    with open(garbage, "wb") as f:
        f.write(b"this is not a capture file\n" * 4)
    wifi = path("wifi.pcap")
    oc.write_pcap(wifi, 105, [b"\x08\x00" + bytes(30)])    # DLT_IEEE802_11: unsupported
    cases = [
        ("esp-encap", path("does-not-exist.pcap"), path("o.pcap"), "does-not-exist"),
        ("esp-decap", path("does-not-exist.pcap"), path("o.pcap"), "does-not-exist"),
        ("esp-encap", garbage, path("o.pcap"), "garbage"),
        ("esp-decap", wifi, path("o.pcap"), "link type"),
        ("esp-encap", good, os.path.join(TMP, "no-such-dir", "o.pcap"), "no-such-dir"),
    ]
    for sub, inp, out, word in cases:
        r = run(sub, "--sa", BASE, "--in", inp, "--out", out)
        fails.check(r.returncode == 2, "%s --in %s --out %s: exit %d, want 2" % (sub, inp, out, r.returncode))
        lines = r.stderr.strip().splitlines()
        fails.check(len(lines) == 1 and word in lines[0], "%s %s: message %r lacks %r" % (sub, inp, r.stderr, word))


# ---- link types ----

def roundtrip(linktype, frames, what, spec=BASE, pcapng=False, want_frames=None, want_lt=None,
              outer_ethertype=None):
    inp = path("lt-in.pcapng" if pcapng else "lt-in.pcap")
    if pcapng:
        from scapy.utils import wrpcapng
        from scapy.layers.l2 import Ether
        wrpcapng(inp, [Ether(f) for f in frames])
    else:
        oc.write_pcap(inp, linktype, frames)
    js = run_json("esp-encap", spec, inp, path("lt-esp.pcap"), what + " encap")
    if js is None:
        return
    fails.check(js["packets_out"] == len(frames), "%s: encap %r" % (what, js))
    ts = []
    lt, esp = oc.read_pcap(path("lt-esp.pcap"), ts)
    fails.check(lt == (want_lt or linktype), "%s: encap output link type %d" % (what, lt))
    if not pcapng:
        fails.check(ts == [(1700000000 + i, 0) for i in range(len(frames))], "%s: timestamps %r" % (what, ts))
    if outer_ethertype is not None:
        for i, (fi, fo) in enumerate(zip(frames, esp)):
            l2 = 18 if fi[12:14] == b"\x81\x00" else 14
            fails.check(fo[:l2 - 2] == fi[:l2 - 2], "%s: packet %d link header not copied" % (what, i))
            fails.check(fo[l2 - 2:l2] == struct.pack("!H", outer_ethertype),
                        "%s: packet %d outer EtherType %s" % (what, i, fo[l2 - 2:l2].hex()))
    js = run_json("esp-decap", spec, path("lt-esp.pcap"), path("lt-out.pcap"), what + " decap")
    if js is None:
        return
    lt, got = oc.read_pcap(path("lt-out.pcap"))
    fails.check(lt == (want_lt or linktype), "%s: decap output link type %d" % (what, lt))
    want = want_frames or frames
    fails.check(got == want, "%s: encap+decap changed the frames:\n%s\n%s" % (
        what, [g.hex() for g in got], [w.hex() for w in want]))


def test_link_types():
    inner = small_inner(3) + [raw(IPv6(src="fd00::1", dst="fd00::2") / UDP(sport=42000, dport=42100) / b"v6")]
    eth = [oc.frame_for(oc.DLT_EN10MB, b) for b in inner]
    roundtrip(oc.DLT_RAW, inner, "raw IP (101)")
    roundtrip(oc.DLT_EN10MB, eth, "Ethernet", outer_ethertype=0x0800)
    spec6 = BASE.replace("src=192.0.2.1", "src=2001:db8::1").replace("dst=198.51.100.1", "dst=2001:db8:ffff::1")
    roundtrip(oc.DLT_EN10MB, eth, "Ethernet, outer IPv6", spec=spec6, outer_ethertype=0x86DD)
    vlan = [oc.ether_header(0x8100) + struct.pack("!HH", 100, oc.ethertype_for(b)) + b for b in inner]
    roundtrip(oc.DLT_EN10MB, vlan, "Ethernet 802.1Q, outer IPv6", spec=spec6, outer_ethertype=0x86DD)
    # Short frames padded to the Ethernet minimum: the padding is not part of the IP packet.
    padded = [f + bytes(max(0, 60 - len(f))) for f in eth]
    roundtrip(oc.DLT_EN10MB, padded, "Ethernet with link padding", want_frames=eth)
    roundtrip(oc.DLT_EN10MB, eth, "pcapng input", pcapng=True)
    # DLT_IPV4 holds only IPv4: an IPv6 outer header has to go to DLT_RAW.
    v4only = small_inner(3)
    roundtrip(228, v4only, "DLT_IPV4, outer IPv4")
    inp = path("v4only.pcap")
    oc.write_pcap(inp, 228, v4only)
    js = run_json("esp-encap", spec6, inp, path("v4only-esp.pcap"), "DLT_IPV4, outer IPv6")
    if js:
        lt, _ = oc.read_pcap(path("v4only-esp.pcap"))
        fails.check(lt == oc.DLT_RAW, "DLT_IPV4 input with IPv6 outer: output link type %d, want 101" % lt)


# ---- counters ----

def test_encap_counters():
    arp = oc.ether_header(0x0806) + bytes(28)
    frames = [oc.frame_for(oc.DLT_EN10MB, b) for b in small_inner(2)] + [arp]
    inp = path("enc-arp.pcap")
    oc.write_pcap(inp, oc.DLT_EN10MB, frames)
    js = run_json("esp-encap", BASE, inp, path("enc-arp-out.pcap"), "encap with ARP")
    if js:
        fails.check((js["packets_in"], js["packets_out"], js["drops"]["not_ip"]) == (3, 2, 1),
                    "encap with an ARP frame: %r" % js)
    # RFC 4303 3.3.3: without ESN the counter must not cycle; 0xFFFFFFFF is the last number.
    inp = path("enc5.pcap")
    oc.write_pcap(inp, oc.DLT_RAW, small_inner(5))
    js = run_json("esp-encap", BASE + ",seq=4294967294", inp, path("enc5-out.pcap"), "encap at the end of the 32-bit space")
    if js:
        fails.check(js["packets_out"] == 2 and js["drops"]["seq_cycled"] == 3, "sequence exhaustion: %r" % js)
        _, out = oc.read_pcap(path("enc5-out.pcap"))
        seqs = [struct.unpack("!I", p[24:28])[0] for p in out]
        fails.check(seqs == [0xFFFFFFFE, 0xFFFFFFFF], "sequence numbers at exhaustion: %r" % seqs)


def test_same_spec_both_ends():
    """The same SPEC (incl. seq=) serves encap and decap; an ESN start the receiver cannot infer
    from a fresh window (RFC 4303 A2.2) is refused with exit 2 instead of dropping everything."""
    inner = small_inner(4)
    inp = path("same.pcap")
    oc.write_pcap(inp, oc.DLT_RAW, inner)
    for extra in (",seq=1000", ",esn=1,seq=5000", ",esn=1,seq=4294960000"):
        spec = BASE + extra
        js = run_json("esp-encap", spec, inp, path("same-esp.pcap"), "same SPEC%s: encap" % extra)
        js = js and run_json("esp-decap", spec, path("same-esp.pcap"), path("same-out.pcap"), "same SPEC%s: decap" % extra)
        if js:
            _, got = oc.read_pcap(path("same-out.pcap"))
            fails.check(got == inner, "same SPEC%s: round trip differs (%r)" % (extra, js))
    # Near 2^32 with ESN: either refused (exit 2 naming seq) or, once esp/ can start an inbound
    # window at N, a correct round trip across the wrap. Never silently wrong.
    spec = BASE + ",esn=1,seq=4294967293"
    run_json("esp-encap", spec, inp, path("wrap-esp.pcap"), "esn=1,seq=2^32-3: encap")
    r = run("esp-decap", "--sa", spec, "--in", path("wrap-esp.pcap"), "--out", path("wrap-out.pcap"))
    if r.returncode == 0:
        _, got = oc.read_pcap(path("wrap-out.pcap"))
        fails.check(got == inner, "decap esn=1,seq=2^32-3: round trip differs: %s" % r.stdout)
    else:
        fails.check(r.returncode == 2 and "seq" in r.stderr, "decap esn=1,seq=2^32-3: exit %d %r" % (r.returncode, r.stderr))


def test_decap_counters(backend):
    spec = BASE + ",backend=" + backend
    inner = small_inner(110)
    inp = path("dec-in.pcap")
    oc.write_pcap(inp, oc.DLT_EN10MB, [oc.frame_for(oc.DLT_EN10MB, b) for b in inner])
    js = run_json("esp-encap", spec, inp, path("dec-esp.pcap"), "decap counters (%s): encap" % backend)
    if js is None:
        return
    _, esp_frames = oc.read_pcap(path("dec-esp.pcap"))
    E = {i + 1: f[14:] for i, f in enumerate(esp_frames)}   # seq -> outer IPv4 packet (no NAT-T)

    def flip(b, off):
        b = bytearray(b)
        b[off] ^= 0x01
        return bytes(b)

    def eth(b):
        return oc.frame_for(oc.DLT_EN10MB, b)

    src, dst = "192.0.2.1", "198.51.100.1"
    seq_in = [
        (E[1], "ok", 1), (E[2], "ok", 2), (E[2], "replay", None),
        (flip(E[3], len(E[3]) - 1), "icv", None),          # last ICV byte
        (E[3], "ok", 3),                                    # a failed ICV does not move the window
        (flip(E[4], 20 + 8 + 16 + 3), "icv", None),         # a ciphertext byte
        (E[4], "ok", 4),
        (raw(IP(src=src, dst=dst) / UDP(sport=4500, dport=4500) / E[7][20:]), "ok", 7),       # RFC 3948 on 4500
        (E[5][:20] + b"\x11\x22\x33\x45" + E[5][24:], "no_sa", None),   # another SPI
        (ipv4_fix(E[5][:20 + 12]), "runt", None),           # ESP header + 4 bytes
        (ipv4_fix(E[6][:-4]), "bad_length", None),          # ciphertext no longer block aligned
        (E[100], "ok", 100),                                # jump ahead: window now 37..100
        (E[37], "ok", 37),                                  # left edge, inside
        (E[36], "replay", None),                            # just left of the window
        (E[37], "replay", None),                            # duplicate at the edge
        (E[101], "ok", 101),
        (raw(IP(src=src, dst=dst) / UDP(sport=4500, dport=4500) / b"\xff"), "natt_keepalive", None),
        (raw(IP(src=src, dst=dst) / UDP(sport=4500, dport=4500) / (bytes(4) + bytes(28))), "ike", None),
        (raw(IP(src=src, dst=dst) / TCP(sport=1, dport=2)), "not_esp", None),
        (raw(IP(src=src, dst=dst) / UDP(sport=53, dport=53) / E[7][20:]), "not_esp", None),  # ESP bytes, wrong port
    ]
    frames = [eth(b) for b, _, _ in seq_in] + [oc.ether_header(0x0806) + bytes(28)]
    want_drops = {}
    for _, what, _ in seq_in:
        if what != "ok":
            want_drops[what] = want_drops.get(what, 0) + 1
    want_drops["not_ip"] = 1
    want_out = [inner[s - 1] for _, what, s in seq_in if what == "ok"]
    inp = path("dec-tampered.pcap")
    oc.write_pcap(inp, oc.DLT_EN10MB, frames)
    js = run_json("esp-decap", spec, inp, path("dec-out.pcap"), "decap counters (%s)" % backend)
    if js is None:
        return
    got_drops = {k: v for k, v in js["drops"].items() if v}
    fails.check(got_drops == want_drops, "decap counters (%s): drops %r, want %r" % (backend, got_drops, want_drops))
    fails.check(js["packets_in"] == len(frames) and js["packets_out"] == len(want_out),
                "decap counters (%s): %r" % (backend, js))
    _, got = oc.read_pcap(path("dec-out.pcap"))
    fails.check([g[14:] for g in got] == want_out, "decap counters (%s): wrong packets out" % backend)

    # window=0 turns anti-replay off: duplicates and old packets pass (RFC 4303 3.4.3).
    oc.write_pcap(inp, oc.DLT_EN10MB, [eth(E[1]), eth(E[1]), eth(E[100]), eth(E[2]), eth(E[2])])
    js = run_json("esp-decap", spec + ",window=0", inp, path("dec-out0.pcap"), "window=0 (%s)" % backend)
    if js:
        fails.check(js["packets_out"] == 5, "window=0 (%s): %r" % (backend, js))


def main():
    global TOOL, TMP
    TOOL = oc.tool_from_argv()
    with tempfile.TemporaryDirectory(prefix="esp-cli-") as tmp:
        TMP = tmp
        test_bad_specs()
        test_bad_files()
        test_link_types()
        test_encap_counters()
        test_same_spec_both_ends()
        for backend in oc.BACKENDS:
            test_decap_counters(backend)
    fails.finish("ipsec-vector esp CLI contract")


if __name__ == "__main__":
    main()
