"""Shared helpers for the ESP oracle tests (run with /usr/bin/python3, which has scapy).

The independent oracles are scapy's ESP implementation (scapy.layers.ipsec) and tshark's ESP
dissector. This module holds what the drivers share: the algorithm table mapping our SPEC names
to scapy's and tshark's, the inner test packets, a minimal pcap reader/writer (so the bytes on
disk are exactly what a test meant, with an explicit link type), running ipsec-vector, and two
documented work-arounds for scapy 2.5.0 ESP limitations (see EsnHmac and fix_natt_udp_length).
"""
import json
import os
import random
import struct
import subprocess
import sys

import warnings
warnings.filterwarnings("ignore")  # cryptography deprecation noise (3DES) from scapy's import

from scapy.layers.inet import IP, UDP, TCP, ICMP  # noqa: E402
from scapy.layers.inet6 import IPv6, ICMPv6EchoRequest  # noqa: E402
from scapy.layers.ipsec import ESP, SecurityAssociation, IPSecIntegrityError  # noqa: E402,F401
from scapy.packet import Raw  # noqa: E402
from scapy.compat import raw  # noqa: E402

DLT_EN10MB = 1
DLT_RAW = 101

# our enc name -> (scapy crypt algo, key bytes incl. salt, tshark UAT name or None if absent)
ENC = {
    "aes128-cbc": ("AES-CBC", 16, "AES-CBC [RFC3602]"),
    "aes192-cbc": ("AES-CBC", 24, "AES-CBC [RFC3602]"),
    "aes256-cbc": ("AES-CBC", 32, "AES-CBC [RFC3602]"),
    "3des-cbc": ("3DES", 24, "TripleDES-CBC [RFC2451]"),
    "aes128gcm16": ("AES-GCM", 20, "AES-GCM with 16 octet ICV [RFC4106]"),
    "aes256gcm16": ("AES-GCM", 36, "AES-GCM with 16 octet ICV [RFC4106]"),
}
# our integ name -> (scapy auth algo, key bytes (RFC 4868: = hash output length; RFC 2404: 20),
#                    tshark UAT name)
INTEG = {
    "sha1-96": ("HMAC-SHA1-96", 20, "HMAC-SHA-1-96 [RFC2404]"),
    "sha256-128": ("SHA2-256-128", 32, "HMAC-SHA-256-128 [RFC4868]"),
    "sha384-192": ("SHA2-384-192", 48, "HMAC-SHA-384-192 [RFC4868]"),
    "sha512-256": ("SHA2-512-256", 64, "HMAC-SHA-512-256 [RFC4868]"),
    "none": (None, 0, "NULL"),
}
BACKENDS = ("ipsecmb", "openssl")

OUTER = {
    4: ("192.0.2.1", "198.51.100.1"),          # RFC 5737 documentation addresses
    6: ("2001:db8::1", "2001:db8:ffff::1"),    # RFC 3849 documentation prefix
}


def is_aead(enc):
    return enc.endswith("gcm16")


def algorithm_pairs():
    """Every enc/integ pair the contract allows: CBC ciphers with each HMAC, GCM with none."""
    for enc in ENC:
        if is_aead(enc):
            yield enc, "none"
        else:
            for integ in INTEG:
                if integ != "none":
                    yield enc, integ


class Case:
    """One SA configuration: algorithms, keys (random, seeded per case), outer family, options."""

    def __init__(self, enc, integ, natt, esn, backend, outer_v, seed, first_seq=None):
        rnd = random.Random(seed)
        self.enc, self.integ, self.natt, self.esn, self.backend = enc, integ, natt, esn, backend
        self.outer_v = outer_v
        self.spi = rnd.randrange(0x100, 0xFFFFFFFF)     # 1..255 are reserved (RFC 4303 2.1)
        self.enc_key = bytes(rnd.randrange(256) for _ in range(ENC[enc][1]))
        self.integ_key = bytes(rnd.randrange(256) for _ in range(INTEG[integ][1]))
        self.src, self.dst = OUTER[outer_v]
        # NAT-T: alternate the standard port and a non-standard one (a NAT'd peer's port).
        self.sport, self.dport = ((4500, 4500) if seed % 2 else (4500, 31337)) if natt else (0, 0)
        if first_seq is None:
            # ESN: start just below 2^32 so the run crosses the wrap (high half 0 -> 1);
            # otherwise the default (1) or a large 32-bit start.
            first_seq = (1 << 32) - 3 if esn else (1 if seed % 2 else 0x7FFFFFF0)
        self.first_seq = first_seq

    def spec(self, with_seq=True, extra=None):
        kv = [("spi", "0x%08x" % self.spi), ("enc", self.enc), ("enc-key", self.enc_key.hex()),
              ("integ", self.integ)]
        if self.integ != "none":
            kv.append(("integ-key", self.integ_key.hex()))
        kv += [("src", self.src), ("dst", self.dst), ("esn", "1" if self.esn else "0"),
               ("backend", self.backend)]
        if self.natt:
            kv.append(("natt", "%d:%d" % (self.sport, self.dport)))
        if with_seq and self.first_seq != 1:
            kv.append(("seq", str(self.first_seq)))
        if extra:
            kv += extra
        return ",".join("%s=%s" % (k, v) for k, v in kv)

    def name(self):
        return "%s/%s natt=%d esn=%d backend=%s outer=v%d" % (
            self.enc, self.integ, self.natt, self.esn, self.backend, self.outer_v)

    def scapy_sa(self):
        crypt_algo = ENC[self.enc][0]
        auth_algo = INTEG[self.integ][0]
        tunnel = IP(src=self.src, dst=self.dst) if self.outer_v == 4 else IPv6(src=self.src, dst=self.dst)
        natt = UDP(sport=self.sport, dport=self.dport) if self.natt else None
        sa = SecurityAssociation(ESP, spi=self.spi, crypt_algo=crypt_algo, crypt_key=self.enc_key,
                                 auth_algo=auth_algo, auth_key=self.integ_key or None,
                                 tunnel_header=tunnel, nat_t_header=natt, esn_en=bool(self.esn))
        if self.esn and auth_algo is not None:
            sa.auth_algo = EsnHmac(sa.auth_algo)
        return sa


class EsnHmac:
    """scapy 2.5.0 leaves the ESN high-order 32 bits out of the ESP ICV (AuthAlgo.sign/verify
    only append them for AH). RFC 4303 2.2.1 and 3.3.2.1: with ESN the high-order bits are
    included in the ICV computation, placed after the ESP trailer (and not transmitted).
    This wrapper keeps scapy's HMAC and truncation and adds exactly that; `hi` is set by the
    caller before each packet. For AEAD (GCM) scapy already puts them in the AAD (RFC 4106 5)."""

    def __init__(self, inner):
        self._inner = inner
        self.icv_size = inner.icv_size
        self.hi = 0

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def _icv(self, esp_bytes, key):
        mac = self._inner.new_mac(key)
        mac.update(esp_bytes + struct.pack("!L", self.hi))
        return mac.finalize()[:self.icv_size]

    def sign(self, pkt, key, esn_en=False, esn=0):
        pkt[ESP].data += self._icv(raw(pkt[ESP]), key)
        return pkt

    def verify(self, pkt, key, esn_en=False, esn=0):
        body = raw(pkt)[:-self.icv_size]
        got = raw(pkt)[-self.icv_size:]
        if got != self._icv(body, key):
            raise IPSecIntegrityError("ESN ICV mismatch")


def set_esn_hi(sa, hi):
    if isinstance(sa.auth_algo, EsnHmac):
        sa.auth_algo.hi = hi


def fix_natt_udp_length(pkt):
    """scapy 2.5.0 builds the NAT-T UDP header before the ESP payload is attached, so its
    length field says 8. RFC 768: the length covers header and data. Checksum stays 0 (RFC 3948
    2.1 allows zero for IPv4; RFC 6935/6936 for IPv6 tunnels)."""
    if UDP in pkt:
        pkt[UDP].len = 8 + len(pkt[UDP].payload)
        if IP in pkt and pkt[IP].version == 4:
            del pkt[IP].chksum
            return IP(raw(pkt))
        return IPv6(raw(pkt))
    return pkt


def inner_packets():
    """Inner packets for tunnel mode: IPv4 and IPv6, empty payloads, every CBC padding length,
    DSCP marks, up to 1400 bytes. Deterministic so failures reproduce."""
    pk = []
    # 0-payload: a bare IP header (protocol 253/254, RFC 3692 experimentation) and empty UDP.
    pk.append(IP(src="10.1.0.1", dst="10.2.0.1", proto=253, id=1))
    pk.append(IPv6(src="fd00:1::1", dst="fd00:2::1", nh=59))
    pk.append(IP(src="10.1.0.1", dst="10.2.0.1", id=2) / UDP(sport=42000, dport=42100))
    pk.append(IPv6(src="fd00:1::1", dst="fd00:2::1") / UDP(sport=42000, dport=42100))
    # UDP payloads 1..16 walk the inner length through every residue mod 16 (padding 0..15).
    for n in range(1, 17):
        pk.append(IP(src="10.1.0.1", dst="10.2.0.1", id=100 + n) / UDP(sport=42000 + n, dport=42100)
                  / Raw(bytes((n + i) & 0xFF for i in range(n))))
    pk.append(IP(src="10.1.0.2", dst="10.2.0.2", tos=0xB8, id=7) / ICMP(id=7, seq=1) / Raw(b"x" * 56))
    pk.append(IPv6(src="fd00:1::2", dst="fd00:2::2", tc=0x28) / ICMPv6EchoRequest(id=9, seq=2, data=b"y" * 17))
    pk.append(IP(src="10.1.0.3", dst="10.2.0.3", id=8, flags="DF") / TCP(sport=40000, dport=42100, flags="PA")
              / Raw(bytes(range(256)) * 5 + bytes(range(80))))             # 1400 B
    pk.append(IPv6(src="fd00:1::3", dst="fd00:2::3") / TCP(sport=40001, dport=42100, flags="PA")
              / Raw(bytes(range(256)) * 5 + bytes(range(60))))             # 1400 B
    out = []
    for p in pk:
        b = raw(p)
        out.append(b)
    assert len(out[-1]) == 1400 and len(out[-2]) == 1400
    return out


def packets_for(case, inners):
    """All inner packets for the plain cases (no NAT-T, no ESN), where padding and sizes are the
    point; a sample (both 0-payload, four padding residues, both 1400 B, ICMPv6) for the cases that
    vary the framing around them, to keep the suite fast."""
    if not case.natt and not case.esn:
        return list(inners)
    pick = [0, 1, 4, 9, 14, 19, 21, 22, 23]
    return [inners[i] for i in pick]


# ---- pcap files (classic libpcap format, microsecond timestamps) ----

def ether_header(ethertype, dst=b"\x02\x00\x00\x00\x00\x02", src=b"\x02\x00\x00\x00\x00\x01"):
    return dst + src + struct.pack("!H", ethertype)


def ethertype_for(ip_bytes):
    return 0x0800 if ip_bytes[0] >> 4 == 4 else 0x86DD


def frame_for(linktype, ip_bytes):
    if linktype == DLT_EN10MB:
        return ether_header(ethertype_for(ip_bytes)) + ip_bytes
    return ip_bytes


def write_pcap(path, linktype, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(fr), len(fr)))
            f.write(fr)


def read_pcap(path, timestamps=None):
    """Returns (linktype, [frame bytes]); appends (sec, usec) per frame to `timestamps` if given.
    Classic pcap only (what ipsec-vector writes)."""
    with open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack("<I", data[:4])
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        e = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        e = ">"
    else:
        raise ValueError("%s: not a classic pcap file (magic %08x)" % (path, magic))
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
    off, frames = 24, []
    while off < len(data):
        sec, usec, caplen, _ = struct.unpack(e + "IIII", data[off:off + 16])
        if timestamps is not None:
            timestamps.append((sec, usec))
        off += 16
        frames.append(data[off:off + caplen])
        off += caplen
    return linktype, frames


def strip_l2(linktype, frame):
    if linktype == DLT_EN10MB:
        return frame[14:], struct.unpack("!H", frame[12:14])[0]
    return frame, None


# ---- running the tool ----

def run_tool(tool, sub, spec, inp, out, expect_rc=0):
    r = subprocess.run([tool, sub, "--sa", spec, "--in", inp, "--out", out],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != expect_rc:
        raise AssertionError("%s exit %d (expected %d)\nstdout: %s\nstderr: %s" % (
            sub, r.returncode, expect_rc, r.stdout, r.stderr))
    if expect_rc != 0:
        return r
    lines = [l for l in r.stdout.splitlines() if l.strip()]
    if len(lines) != 1:
        raise AssertionError("%s: expected one JSON line on stdout, got %r" % (sub, r.stdout))
    return json.loads(lines[0])


def tool_from_argv():
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        sys.exit("usage: %s PATH/TO/ipsec-vector" % sys.argv[0])
    return sys.argv[1]


class Failures:
    """Collects failures so one run reports every broken case, then exits non-zero."""

    def __init__(self):
        self.items = []
        self.checked = 0

    def check(self, cond, what):
        self.checked += 1
        if not cond:
            self.items.append(what)
            if len(self.items) <= 30:
                print("FAIL: " + what, flush=True)

    def finish(self, label):
        print("%s: %d checks, %d failures" % (label, self.checked, len(self.items)))
        sys.exit(1 if self.items else 0)
