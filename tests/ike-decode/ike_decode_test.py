#!/usr/bin/python3
"""Oracle test of `ipsec-vector ike-decode` (label "vectors").

The script is the independent encoder: it builds IKEv2 messages with scapy's IKEv2 layer
(scapy.contrib.ikev2), seals the SK payloads itself with python `cryptography` (RFC 7296 3.14:
CBC + truncated HMAC over header..IV..ciphertext; RFC 5282: AES-GCM with salt | 8-byte IV and the
message up to the SK generic header as AAD), with keys it draws at random, and writes the
captures. Then it runs the decoder and checks every field against what it built:
  - IKE_SA_INIT pair (SA with transforms and proposal string, KE, Nonce, N, V) and one IKE_AUTH
    pair per cipher suite (aes256-cbc/sha256-128, aes256gcm16, and more of the matrix), inner
    payloads IDi/IDr/AUTH/SA/TSi/TSr/N checked field by field, "icv": "good";
  - wrong key -> "icv": "bad"; no keys -> SK not decrypted;
  - RFC 7383 fragments (SKF, CBC and GCM): each verified, the last one carries the reassembled
    inner payloads; with wrong keys every fragment is "icv": "bad";
  - a truncated and a garbled message -> {"frame", "error"} and the next message still decoded;
  - NAT-T on UDP 4500 with the non-ESP marker over IPv6 (keepalive and ESP-in-UDP skipped);
  - the same capture as pcapng, and over Linux SLL;
  - bad --keys and an unreadable file -> exit 2 with one line on stderr.
Usage: ike_decode_test.py IPSEC_VECTOR
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from scapy.all import (ESP, IP, UDP, Ether, IPv6, CookedLinux, Raw, wrpcap, PcapNgWriter, ARP)
from scapy.contrib.ikev2 import (IKEv2, IKEv2_payload_AUTH, IKEv2_payload_IDi, IKEv2_payload_IDr,
                                 IKEv2_payload_KE, IKEv2_payload_Nonce, IKEv2_payload_Notify,
                                 IKEv2_payload_Proposal, IKEv2_payload_SA, IKEv2_payload_Transform,
                                 IKEv2_payload_TSi, IKEv2_payload_TSr, IKEv2_payload_VendorID,
                                 IPv4TrafficSelector, IPv6TrafficSelector)

TOOL = sys.argv[1]
FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what)


def eq(got, want, what):
    check(got == want, f"{what}: got {got!r}, want {want!r}")


# ---- SK sealing (the oracle side of RFC 7296 3.14 / RFC 5282) ---------------------------------

# ENC name -> (kind, key bytes incl. salt, block/iv size, icv size)
ENC = {
    "aes128-cbc": ("cbc", 16), "aes192-cbc": ("cbc", 24), "aes256-cbc": ("cbc", 32),
    "3des-cbc": ("3des", 24),
    "aes128gcm16": ("gcm16", 20), "aes256gcm16": ("gcm16", 36),
    "aes256gcm8": ("gcm8", 36), "aes192gcm12": ("gcm12", 28),
}
INTEG = {  # name -> (hash, key size, icv size)
    "none": (None, 0, 0), "md5-96": (hashes.MD5, 16, 12), "sha1-96": (hashes.SHA1, 20, 12),
    "sha1-160": (hashes.SHA1, 20, 20), "sha256-128": (hashes.SHA256, 32, 16),
    "sha384-192": (hashes.SHA384, 48, 24), "sha512-256": (hashes.SHA512, 64, 32),
}


class Suite:
    def __init__(self, enc, integ):
        self.enc, self.integ = enc, integ
        self.kind, self.ekeylen = ENC[enc]
        self.hash, self.akeylen, self.icvlen = INTEG[integ]
        self.sk_ei, self.sk_er = os.urandom(self.ekeylen), os.urandom(self.ekeylen)
        self.sk_ai, self.sk_ar = os.urandom(self.akeylen), os.urandom(self.akeylen)
        self.spi_i, self.spi_r = os.urandom(8), os.urandom(8)

    def keys_arg(self, flip=False, flip_i=False):
        # flip / flip_i: wrong SK_er and SK_ar / SK_ei and SK_ai (the ICV key for CBC suites, the
        # GCM key for AEAD)
        def flipped(k, on):
            return bytes([k[0] ^ 1]) + k[1:] if on and k else k
        return ",".join([self.spi_i.hex(), self.spi_r.hex(), flipped(self.sk_ei, flip_i).hex(),
                         flipped(self.sk_er, flip).hex(), self.enc, flipped(self.sk_ai, flip_i).hex(),
                         flipped(self.sk_ar, flip).hex(), self.integ])

    def seal_fragments(self, from_initiator, header_fields, inner_first, plaintext, n):
        """RFC 7383: n SKF messages; Next Payload only in fragment 1, AAD through Total Fragments."""
        size = -(-len(plaintext) // n)
        parts = [plaintext[i * size:(i + 1) * size] for i in range(n)]
        return [self.seal(from_initiator, header_fields, inner_first if i == 0 else 0, part, skf=(i + 1, n))
                for i, part in enumerate(parts)]

    def seal(self, from_initiator, header_fields, inner_first, plaintext, skf=None):
        """Whole IKE message: header | SK header | IV | ct | ICV (SKF: | Fragment Number | Total)."""
        ek = self.sk_ei if from_initiator else self.sk_er
        ak = self.sk_ai if from_initiator else self.sk_ar
        if self.kind.startswith("gcm"):
            icv = int(self.kind[3:])
            padlen = 3  # RFC 5282 allows padding; the decoder must strip it
            pt = plaintext + bytes(padlen) + bytes([padlen])
            iv = os.urandom(8)
            sk_len = 4 + 8 + len(pt) + icv + (4 if skf else 0)
        else:
            bs = 8 if self.kind == "3des" else 16
            padlen = (bs - (len(plaintext) + 1) % bs) % bs
            pt = plaintext + bytes(padlen) + bytes([padlen])
            iv = os.urandom(bs)
            sk_len = 4 + bs + len(pt) + self.icvlen + (4 if skf else 0)
        hdr = bytes(IKEv2(init_SPI=self.spi_i, resp_SPI=self.spi_r, next_payload=53 if skf else 46,
                          length=28 + sk_len, **header_fields))
        assert len(hdr) == 28
        aad = hdr + struct.pack("!BBH", inner_first, 0, sk_len)
        if skf:
            aad += struct.pack("!HH", *skf)
        if self.kind.startswith("gcm"):
            sealed = AESGCM(ek[:-4]).encrypt(ek[-4:] + iv, pt, aad)
            sealed = sealed[:len(pt) + int(self.kind[3:])]  # truncated tag = prefix of the full tag
            return aad + iv + sealed
        algo = algorithms.TripleDES(ek) if self.kind == "3des" else algorithms.AES(ek)
        enc = Cipher(algo, modes.CBC(iv)).encryptor()
        ct = enc.update(pt) + enc.finalize()
        h = hmac.HMAC(ak, self.hash())
        h.update(aad + iv + ct)
        return aad + iv + ct + h.finalize()[:self.icvlen]


# ---- messages ---------------------------------------------------------------------------------

def transform(ttype, tid, key_length=None, last=False):
    kw = dict(transform_type=ttype, transform_id=tid, next_payload=0 if last else 3)
    if key_length:
        kw.update(length=12, key_length=0x800E0000 | key_length)
    return IKEv2_payload_Transform(**kw)


def ike_sa():
    # One IKE proposal: aes256-sha256-modp2048 (PRF implied by sha256 in strongSwan syntax).
    trans = (transform(1, 12, 256) / transform(3, 12) / transform(2, 5) / transform(4, 14, last=True))
    return IKEv2_payload_SA(prop=IKEv2_payload_Proposal(proposal=1, proto=1, trans_nb=4, trans=trans))


def esp_sa(spi):
    trans = (transform(1, 12, 128) / transform(3, 2) / transform(5, 0, last=True))
    return IKEv2_payload_SA(prop=IKEv2_payload_Proposal(proposal=1, proto=3, SPIsize=4, SPI=spi, trans_nb=3,
                                                        trans=trans))


# scapy 2.5 does not fill Next Payload between stacked IKEv2 payloads (only the header's, via
# overload_fields): chain() sets each one to the type of the payload after it (RFC 7296 3.2).
PAYLOAD_CODE = {IKEv2_payload_SA: 33, IKEv2_payload_KE: 34, IKEv2_payload_IDi: 35, IKEv2_payload_IDr: 36,
                IKEv2_payload_AUTH: 39, IKEv2_payload_Nonce: 40, IKEv2_payload_Notify: 41,
                IKEv2_payload_VendorID: 43, IKEv2_payload_TSi: 44, IKEv2_payload_TSr: 45}


def chain(*payloads):
    for p, nxt in zip(payloads, payloads[1:] + (None,)):
        p.next_payload = PAYLOAD_CODE[type(nxt)] if nxt is not None else 0
    out = payloads[0]
    for p in payloads[1:]:
        out = out / p
    return out


def init_request(s, nonce, ke, natd):
    return bytes(IKEv2(init_SPI=s.spi_i, resp_SPI=bytes(8), exch_type=34, flags="Initiator", id=0) /
                 chain(ike_sa(), IKEv2_payload_KE(group=14, load=ke), IKEv2_payload_Nonce(load=nonce),
                       IKEv2_payload_Notify(type=16388, load=natd),
                       IKEv2_payload_VendorID(vendorID=b"\x88\x2f\xe5\x6d")))


def init_response(s, nonce, ke):
    return bytes(IKEv2(init_SPI=s.spi_i, resp_SPI=s.spi_r, exch_type=34, flags="Response", id=0) /
                 chain(ike_sa(), IKEv2_payload_KE(group=14, load=ke), IKEv2_payload_Nonce(load=nonce)))


def auth_inner_request(auth, child_spi):
    # (scapy 2.5's ID payload length field points at a missing field: lengths set explicitly)
    # IKE_AUTH request { IDi, N(INITIAL_CONTACT), AUTH, SA, TSi, TSr }
    p = chain(IKEv2_payload_IDi(IDtype=2, ID=b"gw1.example.com", length=8 + 15), IKEv2_payload_Notify(type=16384),
         IKEv2_payload_AUTH(auth_type=2, load=auth), esp_sa(child_spi),
         IKEv2_payload_TSi(traffic_selector=[IPv4TrafficSelector(IP_protocol_ID=0, starting_address_v4="10.1.0.0",
                                                                 ending_address_v4="10.1.0.255")]),
         IKEv2_payload_TSr(traffic_selector=[IPv4TrafficSelector(IP_protocol_ID=6, start_port=80, end_port=81,
                                                                 starting_address_v4="10.2.0.0",
                                                                 ending_address_v4="10.2.0.9")]))
    return 35, bytes(p)


def auth_inner_response(auth, child_spi):
    # (scapy 2.5's IPv6 selector defaults to length 20; RFC 7296 3.13.1 says 40)
    # IKE_AUTH response { IDr, AUTH, SA, TSi, TSr }
    p = chain(IKEv2_payload_IDr(IDtype=1, ID="192.0.2.2", length=8 + 4), IKEv2_payload_AUTH(auth_type=2, load=auth),
         esp_sa(child_spi),
         IKEv2_payload_TSi(traffic_selector=[IPv6TrafficSelector(IP_protocol_ID=0, length=40, starting_address_v6="2001:db8:1::",
                                                                 ending_address_v6="2001:db8:1::ffff")]),
         IKEv2_payload_TSr(traffic_selector=[IPv4TrafficSelector(IP_protocol_ID=0, starting_address_v4="10.2.0.0",
                                                                 ending_address_v4="10.2.0.255")]))
    return 36, bytes(p)


def udp4(payload, sport=500, dport=500, src="192.0.2.1", dst="192.0.2.2"):
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src=src, dst=dst) / \
        UDP(sport=sport, dport=dport) / Raw(payload)


def udp6_natt(payload, sport=4500, dport=4500):
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=sport, dport=dport) / Raw(payload)


# ---- the decoder ------------------------------------------------------------------------------

def run(args, want_rc=0):
    p = subprocess.run([TOOL, "ike-decode"] + args, capture_output=True, text=True, timeout=60)
    eq(p.returncode, want_rc, f"exit code of {args}")
    if want_rc != 0:
        return p
    lines = [json.loads(line) for line in p.stdout.splitlines()]
    return lines


def by_frame(lines):
    return {l["frame"]: l for l in lines}


def check_header(m, s, exchange, initiator, response, msgid, what, spi_r=None):
    eq(m.get("spi_i"), s.spi_i.hex(), what + " spi_i")
    eq(m.get("spi_r"), (spi_r if spi_r is not None else s.spi_r).hex(), what + " spi_r")
    eq(m.get("exchange"), exchange, what + " exchange")
    eq(m.get("initiator"), initiator, what + " initiator")
    eq(m.get("response"), response, what + " response")
    eq(m.get("msgid"), msgid, what + " msgid")


def check_init(m, s, nonce, ke, natd, request, what):
    check_header(m, s, "IKE_SA_INIT", request, not request, 0, what, spi_r=bytes(8) if request else None)
    types = [p["type"] for p in m["payloads"]]
    eq(types, ["SA", "KE", "Nonce", "N", "V"] if request else ["SA", "KE", "Nonce"], what + " payload types")
    sa = m["payloads"][0]
    eq(sa.get("proposal"), "aes256-sha256-modp2048", what + " SA proposal string")
    prop = sa["proposals"][0]
    eq(prop.get("protocol"), "IKE", what + " proposal protocol")
    eq(prop.get("spi"), "", what + " proposal spi")
    eq([(t["type"], t["id"], t.get("key_length")) for t in prop["transforms"]],
       [("ENCR", 12, 256), ("INTEG", 12, None), ("PRF", 5, None), ("DH", 14, None)], what + " transforms")
    eq(m["payloads"][1].get("group_id"), 14, what + " KE group")
    eq(m["payloads"][1].get("length"), len(ke), what + " KE length")
    eq(m["payloads"][2].get("data"), nonce.hex(), what + " nonce")
    if request:
        n = m["payloads"][3]
        eq(n.get("notify"), "NAT_DETECTION_SOURCE_IP", what + " notify name")
        eq(n.get("notify_id"), 16388, what + " notify id")
        eq(n.get("data"), natd.hex(), what + " notify data")
        eq(n.get("spi"), "", what + " notify spi")
        eq(m["payloads"][4].get("data"), "882fe56d", what + " vendor id")


def check_auth(m, s, request, auth, child_spi, what, keys=True):
    check_header(m, s, "IKE_AUTH", request, not request, 1, what)
    eq([p["type"] for p in m.get("payloads", [])], ["SK"], what + " outer payloads")
    sk = m["payloads"][0] if m.get("payloads") else {}
    eq(sk.get("next"), "IDi" if request else "IDr", what + " SK next payload")
    if not keys:
        eq(sk.get("decrypted"), False, what + " SK without keys")
        check("payloads" not in sk and "icv" not in sk, what + " SK without keys has no inner payloads/icv")
        return
    eq(sk.get("icv"), "good", what + " icv")
    inner = sk.get("payloads", [])
    want = ["IDi", "N", "AUTH", "SA", "TSi", "TSr"] if request else ["IDr", "AUTH", "SA", "TSi", "TSr"]
    eq([p["type"] for p in inner], want, what + " inner payload types")
    if [p["type"] for p in inner] != want:
        return
    d = {p["type"]: p for p in inner}
    if request:
        eq((d["IDi"].get("id_type"), d["IDi"].get("value")), ("ID_FQDN", "gw1.example.com"), what + " IDi")
        eq(d["N"].get("notify"), "INITIAL_CONTACT", what + " N")
        eq([t.get("text") for t in d["TSi"]["selectors"]], ["10.1.0.0/24"], what + " TSi")
        ts = d["TSr"]["selectors"][0]
        eq((ts["start"], ts["end"], ts["protocol"], ts["start_port"], ts["end_port"]),
           ("10.2.0.0", "10.2.0.9", 6, 80, 81), what + " TSr range")
    else:
        eq((d["IDr"].get("id_type"), d["IDr"].get("value")), ("ID_IPV4_ADDR", "192.0.2.2"), what + " IDr")
        ts = d["TSi"]["selectors"][0]
        eq((ts["ts_type"], ts["start"], ts["end"]), ("TS_IPV6_ADDR_RANGE", "2001:db8:1::", "2001:db8:1::ffff"),
           what + " TSi v6")
        eq(d["TSi"]["selectors"][0].get("text"), "2001:db8:1::/112", what + " TSi v6 text")
        eq([t.get("text") for t in d["TSr"]["selectors"]], ["10.2.0.0/24"], what + " TSr")
    eq(d["AUTH"].get("data"), auth.hex(), what + " AUTH data")
    check("PSK" in str(d["AUTH"].get("method", "")).upper() or "SHARED" in str(d["AUTH"].get("method", "")).upper(),
          what + f" AUTH method {d['AUTH'].get('method')}")
    esp = d["SA"]["proposals"][0]
    eq((esp.get("protocol"), esp.get("spi")), ("ESP", child_spi.hex()), what + " ESP proposal")
    eq(d["SA"].get("proposal"), "aes128-sha1", what + " ESP proposal string")


def main():
    with tempfile.TemporaryDirectory(prefix="ike-decode-") as tmp:
        cases(tmp)
    if FAILS:
        print(f"{len(FAILS)} failures")
        sys.exit(1)


def cases(tmp):
    suites = [Suite("aes256-cbc", "sha256-128"), Suite("aes256gcm16", "none"), Suite("aes128-cbc", "sha1-96"),
              Suite("aes192-cbc", "sha384-192"), Suite("3des-cbc", "md5-96"), Suite("aes256-cbc", "sha512-256"),
              Suite("aes128-cbc", "sha1-160"), Suite("aes128gcm16", "none"), Suite("aes256gcm8", "none"),
              Suite("aes192gcm12", "none")]
    frames, expect = [], []  # expect: (frame index, kind, suite, params)
    frames.append(Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff") / ARP())  # frame 0: no IP, prints nothing
    frames.append(udp4(b"\x01\x02", sport=53, dport=53))  # frame 1: other port
    for s in suites:
        ni, nr, kei, ker, natd = os.urandom(32), os.urandom(48), os.urandom(256), os.urandom(256), os.urandom(20)
        expect.append((len(frames), "init-req", s, (ni, kei, natd)))
        frames.append(udp4(init_request(s, ni, kei, natd)))
        expect.append((len(frames), "init-resp", s, (nr, ker, None)))
        frames.append(udp4(init_response(s, nr, ker), src="192.0.2.2", dst="192.0.2.1"))
        auth_i, auth_r, spi_ci, spi_cr = os.urandom(32), os.urandom(32), os.urandom(4), os.urandom(4)
        first, inner = auth_inner_request(auth_i, spi_ci)
        expect.append((len(frames), "auth-req", s, (auth_i, spi_ci)))
        frames.append(udp4(s.seal(True, dict(exch_type=35, flags="Initiator", id=1), first, inner)))
        first, inner = auth_inner_response(auth_r, spi_cr)
        expect.append((len(frames), "auth-resp", s, (auth_r, spi_cr)))
        frames.append(udp4(s.seal(False, dict(exch_type=35, flags="Response", id=1), first, inner),
                           src="192.0.2.2", dst="192.0.2.1"))
    # A truncated message (IKE Length says more than the datagram) and a garbled one (payload
    # length overruns the message), each followed by a valid message that must still decode.
    s0 = suites[0]
    good = init_request(s0, b"\x11" * 32, b"\x22" * 256, b"\x33" * 20)
    truncated_at = len(frames)
    frames.append(udp4(good[:100]))
    expect.append((len(frames), "init-req", s0, (b"\x11" * 32, b"\x22" * 256, b"\x33" * 20)))
    frames.append(udp4(good))
    garbled = bytearray(good)
    garbled[28 + 2:28 + 4] = struct.pack("!H", 0xfff0)  # SA payload length beyond the message
    garbled_at = len(frames)
    frames.append(udp4(bytes(garbled)))
    expect.append((len(frames), "init-req", s0, (b"\x11" * 32, b"\x22" * 256, b"\x33" * 20)))
    frames.append(udp4(good))

    plain = os.path.join(tmp, "ike.pcap")
    wrpcap(plain, frames)
    all_keys = sum((["--keys", s.keys_arg()] for s in suites), [])

    def check_all(lines, what, keys=True, flip=None):
        got = by_frame(lines)
        eq(sorted(got), sorted([e[0] for e in expect] + [truncated_at, garbled_at]), what + " frames with output")
        for idx, kind, s, params in expect:
            m = got.get(idx, {})
            w = f"{what} frame {idx} {kind} {s.enc}/{s.integ}"
            if "error" in m:
                check(False, w + ": unexpected error " + m["error"])
                continue
            if kind.startswith("init"):
                check_init(m, s, params[0], params[1], params[2], kind == "init-req", w)
            elif flip is not None and kind == "auth-resp":
                eq(m["payloads"][0].get("icv"), "bad", w + " icv with wrong SK_er")
                check("payloads" not in m["payloads"][0], w + " no inner payloads with a bad icv")
            else:
                check_auth(m, s, kind == "auth-req", params[0], params[1], w, keys)
        check("error" in got.get(truncated_at, {}) and "spi_i" not in got.get(truncated_at, {}),
              what + " truncated message gives an error line")
        check("error" in got.get(garbled_at, {}), what + " garbled message gives an error line")

    check_all(run(["--in", plain] + all_keys), "pcap")
    check_all(run(["--in", plain]), "no keys", keys=False)
    check_all(run(["--in", plain] + sum((["--keys", s.keys_arg(flip=True)] for s in suites), [])), "wrong SK_er",
              flip=True)

    # RFC 7383 fragments: IKE_AUTH request in 3 SKF messages per suite (CBC and GCM), one frame
    # of unrelated traffic in between; each fragment verified, the last one carries the whole.
    frag_frames, frag_expect = [], []
    for s in (suites[0], suites[1]):
        auth_i, spi_ci = os.urandom(32), os.urandom(4)
        first, inner = auth_inner_request(auth_i, spi_ci)
        msgs = s.seal_fragments(True, dict(exch_type=35, flags="Initiator", id=1), first, inner, 3)
        for i, msg in enumerate(msgs):
            frag_expect.append((len(frag_frames), s, i + 1, auth_i, spi_ci))
            frag_frames.append(udp4(msg))
            if i == 0:
                frag_frames.append(udp4(b"\x01", sport=53, dport=53))
    fpath = os.path.join(tmp, "frag.pcap")
    wrpcap(fpath, frag_frames)
    for label, keys_args, good in (("SKF", [["--keys", s.keys_arg()] for s in suites[:2]], True),
                                   ("SKF wrong keys", [["--keys", s.keys_arg(flip_i=True)] for s in suites[:2]], False)):
        got = by_frame(run(["--in", fpath] + sum(keys_args, [])))
        eq(sorted(got), [e[0] for e in frag_expect], label + " frames with output")
        for idx, s, number, auth_i, spi_ci in frag_expect:
            m = got.get(idx, {})
            w = f"{label} frame {idx} fragment {number}/3 {s.enc}"
            check_header(m, s, "IKE_AUTH", True, False, 1, w)
            f = (m.get("payloads") or [{}])[0]
            eq((f.get("type"), f.get("fragment_number"), f.get("total_fragments")), ("SKF", number, 3), w + " SKF")
            eq(f.get("next"), "IDi" if number == 1 else "NONE", w + " next payload")
            eq(f.get("icv"), "good" if good else "bad", w + " icv")
            if good and number == 3:
                r = f.get("reassembled", {})
                eq(r.get("fragments"), 3, w + " reassembled count")
                fake = {"spi_i": m["spi_i"], "spi_r": m["spi_r"], "exchange": "IKE_AUTH", "initiator": True,
                        "response": False, "msgid": 1,
                        "payloads": [{"type": "SK", "next": "IDi", "icv": "good", "payloads": r.get("payloads", [])}]}
                check_auth(fake, s, True, auth_i, spi_ci, w + " reassembled")
            else:
                check("reassembled" not in f, w + " not reassembled yet")

    # pcapng and Linux SLL carry the same messages.
    ng = os.path.join(tmp, "ike.pcapng")
    w = PcapNgWriter(ng)
    for f in frames:
        w.write(f)
    w.close()
    check_all(run(["--in", ng] + all_keys), "pcapng")
    sll = os.path.join(tmp, "ike-sll.pcap")
    wrpcap(sll, [CookedLinux(proto=0x0800) / f[IP] if IP in f else f for f in frames if IP in f])
    lines = run(["--in", sll] + all_keys)
    eq(len(lines), len(expect) + 2, "SLL: one line per IKE message")
    eq(sum(1 for l in lines if "error" in l), 2, "SLL: two error lines")

    # NAT-T over IPv6 on 4500: marker + IKE; a keepalive and ESP-in-UDP are skipped.
    s = suites[1]
    auth_i, spi_ci = os.urandom(32), os.urandom(4)
    first, inner = auth_inner_request(auth_i, spi_ci)
    natt_frames = [udp6_natt(b"\xff"),
                   udp6_natt(b"\x00\x00\x00\x00" + s.seal(True, dict(exch_type=35, flags="Initiator", id=1),
                                                           first, inner), sport=4501),
                   udp6_natt(bytes(ESP(spi=0x1234, seq=1, data=b"x" * 32))),
                   udp4(b"\x00\x00\x00\x00" + init_response(s, b"\x44" * 32, b"\x55" * 256), sport=4500, dport=4500)]
    natt = os.path.join(tmp, "natt.pcap")
    wrpcap(natt, natt_frames)
    lines = run(["--in", natt, "--keys", s.keys_arg()])
    eq([l["frame"] for l in lines], [1, 3], "NAT-T: only the marked IKE frames decode")
    if len(lines) == 2:
        check_auth(lines[0], s, True, auth_i, spi_ci, "NAT-T IPv6 IKE_AUTH")
        eq((lines[0].get("sport"), lines[0].get("dport")), (4501, 4500), "NAT-T ports")
        check_init(lines[1], s, b"\x44" * 32, b"\x55" * 256, None, False, "NAT-T IPv4 IKE_SA_INIT response")

    # Exit 2, one line on stderr.
    k = suites[0].keys_arg().split(",")
    bad_keys = {
        "seven fields": ",".join(k[:7]),
        "short SPIi": ",".join(["0011"] + k[1:]),
        "bad hex": ",".join(k[:2] + ["zz"] + k[3:]),
        "unknown ENC": ",".join(k[:4] + ["aes512-cbc"] + k[5:]),
        "unknown INTEG": ",".join(k[:7] + ["sha3-128"]),
        "SK_e size": ",".join(k[:2] + [k[2][:-2]] + k[3:]),
        "SK_a size": ",".join(k[:5] + [k[5] + "00"] + k[6:]),
        "CBC with none": ",".join(k[:7] + ["none"]),
        "GCM with integ": ",".join(suites[1].keys_arg().split(",")[:7] + ["sha256-128"]),
    }
    for what, spec in bad_keys.items():
        p = run(["--in", plain, "--keys", spec], want_rc=2)
        eq(len(p.stderr.strip().splitlines()), 1, f"bad --keys ({what}): one line on stderr: {p.stderr!r}")
        eq(p.stdout, "", f"bad --keys ({what}): nothing on stdout")
    p = run(["--in", os.path.join(tmp, "missing.pcap")], want_rc=2)
    eq(len(p.stderr.strip().splitlines()), 1, "unreadable file: one line on stderr")
    junk = os.path.join(tmp, "junk.pcap")
    with open(junk, "wb") as f:
        f.write(b"not a capture at all")
    run(["--in", junk], want_rc=2)

    if not FAILS:
        print(f"ok: {len(expect)} messages x (pcap, no keys, wrong keys, pcapng, SLL), NAT-T, {len(bad_keys)} bad --keys")


if __name__ == "__main__":
    main()
