"""Oracle test, direction 2: `ipsec-vector esp-encap` encrypts, scapy decrypts.

Same case matrix as scapy_to_ours.py. For each output packet scapy (ICV check on, ESN high bits
supplied) must recover exactly the inner packet; in addition the wire format is checked against
the RFCs independently of our code: outer addresses and lengths, IPv4 header checksum, DSCP copied
from the inner header, UDP encapsulation ports and length (RFC 3948 2.1), SPI and sequence
numbers (RFC 4303 2.1/2.2, low 32 bits on the wire with ESN), the ESP trailer: padding bytes
1, 2, 3, ... (RFC 4303 2.4), ciphertext aligned to the cipher block and 4 bytes, next header 4
or 41 for tunnel mode.

usage: /usr/bin/python3 ours_to_scapy.py PATH/TO/ipsec-vector
"""
import os
import struct
import tempfile

import oracle_common as oc
from oracle_common import ESP, IP, IPv6, raw


def ipv4_checksum_ok(hdr):
    s = 0
    for i in range(0, len(hdr), 2):
        s += (hdr[i] << 8) | hdr[i + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s == 0xFFFF


def esp_plaintext(sa, esp_bytes, icv_size, hi):
    """Decrypt the whole ESP payload (incl. padding and trailer) with scapy's cipher objects;
    scapy's own decrypt() drops the padding bytes, which we want to inspect."""
    algo = sa.crypt_algo
    iv = esp_bytes[8:8 + algo.iv_size]
    ct = esp_bytes[8 + algo.iv_size:len(esp_bytes) - icv_size]
    mode_iv = algo._format_mode_iv(sa=sa, iv=iv)
    if algo.is_aead:
        spi, seq = struct.unpack("!II", esp_bytes[:8])
        aad = struct.pack("!LLL", spi, hi, seq) if sa.esn_en else struct.pack("!LL", spi, seq)
        return algo.cipher(sa.crypt_key).decrypt(mode_iv, ct + esp_bytes[len(esp_bytes) - icv_size:], aad)
    d = algo.new_cipher(sa.crypt_key, mode_iv).decryptor()
    return d.update(ct) + d.finalize()


def main():
    tool = oc.tool_from_argv()
    inners = oc.inner_packets()
    fails = oc.Failures()
    seed = 1000
    with tempfile.TemporaryDirectory(prefix="esp-o2s-") as tmp:
        for enc, integ in oc.algorithm_pairs():
            for natt in (0, 1):
                for esn in (0, 1):
                    for backend in oc.BACKENDS:
                        for outer_v in (4, 6):
                            seed += 1
                            case = oc.Case(enc, integ, natt, esn, backend, outer_v, seed)
                            run_case(tool, tmp, case, inners, fails, seed)
    fails.finish("ipsec-vector esp-encap -> scapy")


def check_outer(case, i, ipb, fails):
    """Returns the ESP bytes of outer packet i after checking the outer headers."""
    name = case.name()
    v = ipb[0] >> 4
    fails.check(v == case.outer_v, "%s: packet %d outer IP version %d" % (name, i, v))
    if v == 4:
        o = IP(ipb)
        ihl = (ipb[0] & 15) * 4
        fails.check(o.len == len(ipb), "%s: packet %d IPv4 total length %d != %d" % (name, i, o.len, len(ipb)))
        fails.check(ipv4_checksum_ok(ipb[:ihl]), "%s: packet %d IPv4 header checksum" % (name, i))
        fails.check(o.ttl > 0, "%s: packet %d TTL 0" % (name, i))
        proto, l4 = o.proto, ipb[ihl:]
    else:
        o = IPv6(ipb)
        fails.check(o.plen == len(ipb) - 40, "%s: packet %d IPv6 payload length %d" % (name, i, o.plen))
        fails.check(o.hlim > 0, "%s: packet %d hop limit 0" % (name, i))
        proto, l4 = o.nh, ipb[40:]
    fails.check((o.src, o.dst) == (case.src, case.dst), "%s: packet %d outer %s -> %s" % (name, i, o.src, o.dst))
    if case.natt:
        fails.check(proto == 17, "%s: packet %d outer protocol %d, want UDP" % (name, i, proto))
        sport, dport, ulen, _ = struct.unpack("!HHHH", l4[:8])
        fails.check((sport, dport) == (case.sport, case.dport), "%s: packet %d UDP ports %d:%d" % (name, i, sport, dport))
        fails.check(ulen == len(l4), "%s: packet %d UDP length %d != %d" % (name, i, ulen, len(l4)))
        return l4[8:]
    fails.check(proto == 50, "%s: packet %d outer protocol %d, want ESP" % (name, i, proto))
    return l4


def run_case(tool, tmp, case, all_inners, fails, seed):
    name = case.name()
    inners = oc.packets_for(case, all_inners)
    linktype = oc.DLT_EN10MB if seed % 3 else oc.DLT_RAW
    inp = os.path.join(tmp, "in.pcap")
    outp = os.path.join(tmp, "out.pcap")
    oc.write_pcap(inp, linktype, [oc.frame_for(linktype, b) for b in inners])
    try:
        js = oc.run_tool(tool, "esp-encap", case.spec(), inp, outp)
    except AssertionError as e:
        fails.check(False, "%s: %s" % (name, e))
        return
    fails.check(js.get("packets_in") == len(inners) and js.get("packets_out") == len(inners),
                "%s: counters %r" % (name, js))
    fails.check(not any(js.get("drops", {}).values()), "%s: drops %r" % (name, js.get("drops")))
    lt, frames = oc.read_pcap(outp)
    fails.check(lt == linktype, "%s: output link type %d != %d" % (name, lt, linktype))
    fails.check(len(frames) == len(inners), "%s: %d frames out, expected %d" % (name, len(frames), len(inners)))
    sa = case.scapy_sa()
    algo = sa.crypt_algo
    icv_size = algo.icv_size if algo.is_aead else sa.auth_algo.icv_size
    block = max(algo.block_size, 1)
    ivs = set()
    for i, (fr, inner) in enumerate(zip(frames, inners)):
        ipb, et = oc.strip_l2(lt, fr)
        if et is not None:
            fails.check(et == oc.ethertype_for(ipb), "%s: packet %d ethertype %04x" % (name, i, et))
        esp_bytes = check_outer(case, i, ipb, fails)
        full = case.first_seq + i
        hi, lo = full >> 32, full & 0xFFFFFFFF
        spi, seq = struct.unpack("!II", esp_bytes[:8])
        fails.check(spi == case.spi, "%s: packet %d SPI %08x" % (name, i, spi))
        fails.check(seq == lo, "%s: packet %d sequence %d, want %d" % (name, i, seq, lo))
        iv = esp_bytes[8:8 + algo.iv_size]
        fails.check(iv not in ivs, "%s: packet %d repeats an IV" % (name, i))
        ivs.add(iv)
        ct_len = len(esp_bytes) - 8 - algo.iv_size - icv_size
        fails.check(ct_len > 0 and ct_len % block == 0 and ct_len % 4 == 0,
                    "%s: packet %d ciphertext length %d not aligned to %d" % (name, i, ct_len, block))
        # scapy: ICV check (HMAC, or GCM tag) and decryption, with the ESN high half.
        sa.esn = hi
        oc.set_esn_hi(sa, hi)
        outer_pkt = (IP(src=case.src, dst=case.dst, proto=50) if case.outer_v == 4
                     else IPv6(src=case.src, dst=case.dst, nh=50)) / ESP(esp_bytes)
        try:
            dec = raw(sa.decrypt(outer_pkt, esn=hi))
        except Exception as e:  # IPSecIntegrityError or a cipher error
            fails.check(False, "%s: packet %d: scapy rejects it: %r" % (name, i, e))
            continue
        fails.check(dec == inner, "%s: packet %d decrypts to\n %s\nwant %s" % (name, i, dec.hex(), inner.hex()))
        pt = esp_plaintext(sa, esp_bytes, icv_size, hi)
        padlen, nh = pt[-2], pt[-1]
        fails.check(nh == (4 if inner[0] >> 4 == 4 else 41), "%s: packet %d next header %d" % (name, i, nh))
        pad = pt[len(pt) - 2 - padlen:len(pt) - 2]
        fails.check(pad == bytes(range(1, padlen + 1)), "%s: packet %d padding %s" % (name, i, pad.hex()))
        fails.check(len(pt) - 2 - padlen == len(inner), "%s: packet %d payload length" % (name, i))
        # DSCP is copied from the inner header (RFC 2983 uniform model; RFC 4301 5.1.2.1).
        in_tos = inner[1] if inner[0] >> 4 == 4 else ((inner[0] & 15) << 4 | inner[1] >> 4)
        out_tos = ipb[1] if ipb[0] >> 4 == 4 else ((ipb[0] & 15) << 4 | ipb[1] >> 4)
        fails.check(in_tos >> 2 == out_tos >> 2, "%s: packet %d DSCP %d, inner %d" % (name, i, out_tos >> 2, in_tos >> 2))


if __name__ == "__main__":
    main()
