"""Oracle test: ESN SAs whose first sequence number lies near or beyond 2^32 (SPEC seq=N).

scapy's ESP (scapy.layers.ipsec, with oracle_common.EsnHmac for the ICV's high-order bits)
encrypts a run of packets starting at N with ESN; `ipsec-vector esp-decap` is given the same
SPEC (seq=N, esn=1) and must start its receive window at N (RFC 4303 A2.2 inference then puts
every packet in the right 2^32 subspace, so the ICV over seq_hi verifies) and return exactly the
inner packets. Starts: 2^32 + 7 (first packet already in subspace 1), 3 * 2^32 - 2 (the run
crosses into subspace 3), 2^32 - 2 (crosses 2^32). CBC+HMAC and GCM, both backends, outer IPv4
and IPv6, with and without NAT-T.

usage: /usr/bin/python3 esn_start.py PATH/TO/ipsec-vector
"""
import os
import tempfile

import oracle_common as oc
from oracle_common import IP, IPv6, raw

STARTS = ((1 << 32) + 7, (3 << 32) - 2, (1 << 32) - 2)
PAIRS = (("aes256-cbc", "sha256-128"), ("aes128-cbc", "sha1-96"), ("aes256gcm16", "none"))


def scapy_encrypt_from(case, inners, first):
    sa = case.scapy_sa()
    out = []
    for i, b in enumerate(inners):
        full = first + i
        hi, lo = full >> 32, full & 0xFFFFFFFF
        sa.seq_num, sa.esn = lo, hi  # scapy treats 0 arguments as unset: set the fields
        oc.set_esn_hi(sa, hi)
        e = sa.encrypt(IP(b) if b[0] >> 4 == 4 else IPv6(b))
        if case.natt:
            e = oc.fix_natt_udp_length(e)
        out.append(raw(e))
    return out


def main():
    tool = oc.tool_from_argv()
    inners = oc.inner_packets()[:8]
    fails = oc.Failures()
    seed = 100
    with tempfile.TemporaryDirectory(prefix="esp-esn-start-") as tmp:
        for first in STARTS:
            for enc, integ in PAIRS:
                for backend in oc.BACKENDS:
                    for outer_v, natt in ((4, 0), (6, 1)):
                        seed += 1
                        case = oc.Case(enc, integ, natt, 1, backend, outer_v, seed, first_seq=first)
                        run_case(tool, tmp, case, inners, fails)
    fails.finish("scapy (ESN from seq=N) -> ipsec-vector esp-decap")


def run_case(tool, tmp, case, inners, fails):
    name = "%s first=%#x" % (case.name(), case.first_seq)
    esp = scapy_encrypt_from(case, inners, case.first_seq)
    inp = os.path.join(tmp, "in.pcap")
    outp = os.path.join(tmp, "out.pcap")
    oc.write_pcap(inp, oc.DLT_RAW, esp)
    try:
        js = oc.run_tool(tool, "esp-decap", case.spec(with_seq=True), inp, outp)
    except AssertionError as e:
        fails.check(False, "%s: %s" % (name, e))
        return
    fails.check(js.get("packets_out") == len(inners), "%s: packets_out %r != %d (drops %r)" % (
        name, js.get("packets_out"), len(inners), js.get("drops")))
    _, frames = oc.read_pcap(outp)
    fails.check(len(frames) == len(inners), "%s: %d frames out, expected %d" % (name, len(frames), len(inners)))
    for i, (fr, want) in enumerate(zip(frames, inners)):
        got, _ = oc.strip_l2(oc.DLT_RAW, fr)
        fails.check(got == want, "%s: packet %d differs" % (name, i))


if __name__ == "__main__":
    main()
