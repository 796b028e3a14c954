"""Oracle test, direction 1: scapy encrypts, `ipsec-vector esp-decap` decrypts.

For every enc/integ pair of the contract x NAT-T on/off x ESN on/off x both backends x outer
IPv4/IPv6: scapy's SecurityAssociation (tunnel mode) encrypts the inner packets of
oracle_common.inner_packets(); the capture also carries, for NAT-T, a NAT-keepalive (RFC 3948
2.2) and an IKE message behind the non-ESP marker (RFC 3948 2.2), which must be skipped.
Ours must return exactly the inner packets, in order, and count the rest.

usage: /usr/bin/python3 scapy_to_ours.py PATH/TO/ipsec-vector
"""
import os
import tempfile

import oracle_common as oc
from oracle_common import IP, IPv6, UDP, raw

DROP_KEYS_REQUIRED = ("icv", "replay", "no_sa", "runt", "bad_length", "pad", "next_header",
                      "not_ip", "not_esp")


def sequence_numbers(case, n):
    """Three runs of consecutive sequence numbers with forward jumps below 2^31 (so the
    receiver's ESN inference, RFC 4303 Appendix A2.2, is unambiguous): from 1, from the middle of
    the 32-bit space, and one that ends exactly at 2^32 - 1 (without ESN, the last usable number)
    or crosses 2^32 (with ESN: the high half becomes 1 and the low half restarts at 0)."""
    a = n // 3
    b = n // 3
    c = n - a - b
    last_start = (1 << 32) - c // 2 if case.esn else (1 << 32) - c
    return ([1 + i for i in range(a)] + [0x80000000 + i for i in range(b)] +
            [last_start + i for i in range(c)])


def scapy_encrypt_all(case, inners):
    sa = case.scapy_sa()
    out = []
    seqs = sequence_numbers(case, len(inners))
    for i, b in enumerate(inners):
        full = seqs[i]
        hi, lo = full >> 32, full & 0xFFFFFFFF
        # scapy treats seq_num=0 / esn=0 arguments as "unset", so set the SA fields instead.
        sa.seq_num, sa.esn = lo, hi
        oc.set_esn_hi(sa, hi)
        pkt = IP(b) if b[0] >> 4 == 4 else IPv6(b)
        e = sa.encrypt(pkt)
        if case.natt:
            e = oc.fix_natt_udp_length(e)
        out.append(raw(e))
    return out


def natt_extras(case):
    """A NAT-keepalive and an IKE_SA_INIT-looking datagram behind the non-ESP marker."""
    base = IP(src=case.src, dst=case.dst) if case.outer_v == 4 else IPv6(src=case.src, dst=case.dst)
    ka = base / UDP(sport=case.sport, dport=case.dport) / b"\xff"
    ike = base / UDP(sport=case.sport, dport=case.dport) / (b"\x00\x00\x00\x00" + bytes(28))
    return [raw(ka), raw(ike)]


def main():
    tool = oc.tool_from_argv()
    inners = oc.inner_packets()
    fails = oc.Failures()
    seed = 0
    with tempfile.TemporaryDirectory(prefix="esp-s2o-") as tmp:
        for enc, integ in oc.algorithm_pairs():
            for natt in (0, 1):
                for esn in (0, 1):
                    for backend in oc.BACKENDS:
                        for outer_v in (4, 6):
                            seed += 1
                            case = oc.Case(enc, integ, natt, esn, backend, outer_v, seed)
                            run_case(tool, tmp, case, inners, fails, seed)
    fails.finish("scapy -> ipsec-vector esp-decap")


def run_case(tool, tmp, case, all_inners, fails, seed):
    name = case.name()
    inners = oc.packets_for(case, all_inners)
    linktype = oc.DLT_EN10MB if seed % 3 else oc.DLT_RAW
    esp = scapy_encrypt_all(case, inners)
    extras = natt_extras(case) if case.natt else []
    # Put the extras in the middle so skipping them must not disturb the packets around them.
    mid = len(esp) // 2
    outer = esp[:mid] + extras + esp[mid:]
    inp = os.path.join(tmp, "in.pcap")
    outp = os.path.join(tmp, "out.pcap")
    oc.write_pcap(inp, linktype, [oc.frame_for(linktype, b) for b in outer])
    try:
        js = oc.run_tool(tool, "esp-decap", case.spec(with_seq=False), inp, outp)
    except AssertionError as e:
        fails.check(False, "%s: %s" % (name, e))
        return
    fails.check(js.get("packets_in") == len(outer), "%s: packets_in %r != %d" % (name, js.get("packets_in"), len(outer)))
    fails.check(js.get("packets_out") == len(inners), "%s: packets_out %r != %d (drops %r)" % (
        name, js.get("packets_out"), len(inners), js.get("drops")))
    drops = js.get("drops", {})
    for k in DROP_KEYS_REQUIRED:
        fails.check(k in drops, "%s: drops has no %r" % (name, k))
    bad = {k: v for k, v in drops.items() if v and k not in ("natt_keepalive", "ike", "not_esp")}
    fails.check(not bad, "%s: unexpected drops %r" % (name, bad))
    fails.check(sum(drops.values()) + js.get("packets_out", 0) == js.get("packets_in"),
                "%s: packets_in != packets_out + drops: %r" % (name, js))
    lt, frames = oc.read_pcap(outp)
    fails.check(lt == linktype, "%s: output link type %d != input %d" % (name, lt, linktype))
    fails.check(len(frames) == len(inners), "%s: %d frames out, expected %d" % (name, len(frames), len(inners)))
    for i, (fr, want) in enumerate(zip(frames, inners)):
        got, et = oc.strip_l2(lt, fr)
        fails.check(got == want, "%s: packet %d differs:\n got %s\nwant %s" % (name, i, got.hex(), want.hex()))
        if et is not None:
            fails.check(et == oc.ethertype_for(want), "%s: packet %d ethertype %04x" % (name, i, et))


if __name__ == "__main__":
    main()
