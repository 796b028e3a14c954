#!/usr/bin/python3
"""Independent IKEv2 encoder/decoder for the wire codec tests: scapy's contrib IKEv2 layer.

  message_scapy_oracle.py gen OUT        build the test vectors with scapy, one per line:
                                         "<name> <expected validation> <hex>"
  message_scapy_oracle.py summarize IN   dissect every "<name> <...> <hex>" line of IN with
                                         scapy and print "<name>\t<summary>"

The summary is a canonical one-line description of header and payloads that the C++ test
(message_scapy_test.cpp) computes the same way from ike::message; the SK payload's body is
treated as cleartext (the tests' sk_codec only appends a zero Pad Length byte), its inner payloads
are marked '*'.

Known scapy 2.5 quirks worked around here: its "critical" flag name is bit 0 (the RFC's C bit is
0x80, set numerically here), Notify's load length ignores the SPI (so an N with an
SPI is built with an explicit length and placed last), the Delete payload is undissected (its
body is summarised raw), Proposal.trans_nb and Transform.length are not computed, Proposal.length
ignores the SPI unless SPIsize is set, IPv6 traffic
selectors default to length 20, and IDi/IDr/CP lengths are not computed.
"""
import ipaddress
import socket
import sys

from scapy.config import conf
from scapy.contrib import ikev2 as k
from scapy.packet import NoPayload, Raw

conf.verb = 0


def h(b):
    return bytes(b).hex()


# ---- summary ---------------------------------------------------------------------------------

def crit(layer):
    f = layer.getfieldval("flags") if any(f.name == "flags" for f in layer.fields_desc) else layer.getfieldval("res")
    return 1 if int(f) & 0x80 else 0


def addr_bytes(v):
    if isinstance(v, bytes):
        return v
    return ipaddress.ip_address(v).packed


def transforms(t):
    out = []
    while isinstance(t, k.IKEv2_payload_Transform):
        s = "%d:%d" % (t.transform_type, t.transform_id)
        if t.length > 8:
            s += "/%d" % (t.key_length & 0xFFFF)
        out.append(s)
        t = t.payload
    return ",".join(out)


def proposals(p):
    out = []
    while isinstance(p, k.IKEv2_payload_Proposal):
        out.append("p%d proto=%d spi=%s %s" % (p.proposal, p.proto, h(p.SPI or b""), transforms(p.trans)))
        p = p.payload
    return ";".join(out)


def selectors(ts):
    out = []
    for s in ts.traffic_selector or []:
        if s.TS_type == 7:
            a, b = s.starting_address_v4, s.ending_address_v4
        else:
            a, b = s.starting_address_v6, s.ending_address_v6
        out.append("t=%d ip=%d %d-%d %s-%s" % (s.TS_type, s.IP_protocol_ID, s.start_port, s.end_port,
                                               h(addr_bytes(a)), h(addr_bytes(b))))
    return ";".join(out)


def one(layer, np_type):
    """Summary of one payload layer whose type (from the previous Next Payload) is np_type."""
    c = crit(layer)
    if isinstance(layer, k.IKEv2_payload_SA):
        return "SA %s" % proposals(layer.prop)
    if isinstance(layer, k.IKEv2_payload_KE):
        return "KE g=%d %s" % (layer.group, h(layer.load))
    if isinstance(layer, (k.IKEv2_payload_IDi, k.IKEv2_payload_IDr)):
        name = "IDi" if np_type == 35 else "IDr"
        return "%s t=%d %s" % (name, layer.IDtype, h(addr_bytes(layer.ID) if layer.IDtype in (1, 5) else layer.ID))
    if isinstance(layer, k.IKEv2_payload_AUTH):
        return "AUTH m=%d %s" % (layer.auth_type, h(layer.load))
    if isinstance(layer, k.IKEv2_payload_Nonce):
        return "Nonce %s" % h(layer.load)
    if isinstance(layer, k.IKEv2_payload_Notify):
        spi = layer.SPI or b""
        load = layer.load[:max(0, layer.length - 8 - len(spi))]  # scapy's load length ignores the SPI
        return "N p=%d spi=%s t=%d %s" % (layer.proto or 0, h(spi), layer.type, h(load))
    if isinstance(layer, k.IKEv2_payload_Delete):
        return "D %s" % h(layer.vendorID)
    if isinstance(layer, k.IKEv2_payload_VendorID):
        return "V %s" % h(layer.vendorID)
    if isinstance(layer, (k.IKEv2_payload_TSi, k.IKEv2_payload_TSr)):
        return "%s %s" % ("TSi" if np_type == 44 else "TSr", selectors(layer))
    if isinstance(layer, k.IKEv2_payload_CP):
        attrs = ";".join("%d=%s" % (a.type & 0x7FFF, h(addr_bytes(a.value) if not isinstance(a.value, bytes) else a.value))
                         for a in layer.attributes or [])
        return "CP t=%d %s" % (layer.CFGType, attrs)
    if isinstance(layer, k.IKEv2_payload_CERTREQ):
        return "CERTREQ e=%d %s" % (layer.cert_type, h(layer.cert_data))
    if isinstance(layer, k.IKEv2_payload_CERT_STR):
        return "CERT e=%d %s" % (layer.cert_type, h(layer.cert_data))
    if isinstance(layer, k.IKEv2_payload_Encrypted_Fragment):
        return "SKF np=%d %d/%d %s" % (layer.next_payload, layer.frag_number, layer.frag_total, h(layer.load))
    if isinstance(layer, k.IKEv2_payload_Encrypted):
        return "SK np=%d" % layer.next_payload
    if np_type == 48:
        return "EAP %s" % h(layer.load)
    return "P%d c=%d %s" % (np_type, c, h(layer.load))


def chain(layer, np_type, prefix=""):
    out = []
    while not isinstance(layer, (NoPayload, Raw)) and np_type != 0:
        out.append(prefix + one(layer, np_type))
        if isinstance(layer, k.IKEv2_payload_Encrypted):
            # identity "cipher": the SK body is the inner chain, first type = SK Next Payload
            inner_type = layer.next_payload
            if inner_type:
                cls = k.IKEv2_class.guess_payload_class(layer, b"")
                out.extend(chain(cls(layer.load), inner_type, "*"))
            break
        if isinstance(layer, k.IKEv2_payload_Encrypted_Fragment):
            break
        np_type = layer.next_payload
        layer = layer.payload
    return out


def summarize(data):
    pkt = k.IKEv2(data)
    hdr = "HDR %s %s np=%d v=%02x x=%d f=%02x id=%d len=%d" % (
        h(pkt.init_SPI), h(pkt.resp_SPI), pkt.next_payload, pkt.version, pkt.exch_type, int(pkt.flags), pkt.id,
        pkt.length)
    return " | ".join([hdr] + chain(pkt.payload, pkt.next_payload))


# ---- vectors ---------------------------------------------------------------------------------

SPI_I = bytes.fromhex("8a2bc1d03e4f5061")
SPI_R = bytes.fromhex("d3c2b1a0f9e8d7c6")


def tf(ttype, tid, key_length=None, last=False):
    if key_length is None:
        return k.IKEv2_payload_Transform(next_payload=0 if last else 3, length=8, transform_type=ttype, transform_id=tid)
    return k.IKEv2_payload_Transform(next_payload=0 if last else 3, length=12, transform_type=ttype,
                                     transform_id=tid, key_length=key_length)


def prop(num, proto, spi, tfs, last=True):
    t = tfs[0]
    for x in tfs[1:]:
        t = t / x
    return k.IKEv2_payload_Proposal(next_payload=0 if last else 2, proposal=num, proto=proto, SPI=spi, SPIsize=len(spi),
                                    trans_nb=len(tfs), trans=t)


def ike_proposals():
    p1 = prop(1, 1, b"", [tf(1, 12, 256), tf(2, 5), tf(3, 12), tf(4, 14, last=True)], last=False)
    p2 = prop(2, 1, b"", [tf(1, 20, 128), tf(2, 5), tf(4, 19, last=True)])
    return p1 / p2


def esp_proposal(spi, dh=None):
    tfs = [tf(1, 12, 256), tf(3, 12)]
    if dh:
        tfs.append(tf(4, dh))
    tfs.append(tf(5, 0, last=True))
    return prop(1, 3, spi, tfs)


def ts4(a, b, proto=0, sp=0, ep=65535):
    return k.IPv4TrafficSelector(IP_protocol_ID=proto, start_port=sp, end_port=ep,
                                 starting_address_v4=a, ending_address_v4=b)


def ts6(a, b, proto=0, sp=0, ep=65535):
    return k.IPv6TrafficSelector(IP_protocol_ID=proto, length=40, start_port=sp, end_port=ep,
                                 starting_address_v6=a, ending_address_v6=b)


def notify(np, t, data=b"", proto=0, spi=b""):
    return k.IKEv2_payload_Notify(next_payload=np, proto=proto, type=t, SPI=spi, load=data,
                                  length=8 + len(spi) + len(data))


def idp(cls, np, idtype, value, n):
    return cls(next_payload=np, IDtype=idtype, ID=value, length=8 + n)


def hdr(exch, flags, np, msgid=0, spi_r=SPI_R):
    return k.IKEv2(init_SPI=SPI_I, resp_SPI=spi_r, next_payload=np, exch_type=exch, flags=flags, id=msgid)


def sk(np, inner):
    # "encryption" of the test codec: inner payloads || Pad Length 0 (RFC 7296 3.14 layout, no
    # IV or ICV), so the inner chain stays visible to both dissectors
    body = bytes(inner) + b"\x00"
    return k.IKEv2_payload_Encrypted(next_payload=np, load=body)


def nonce(np, n, seed):
    return k.IKEv2_payload_Nonce(next_payload=np, load=bytes((seed + i) & 0xFF for i in range(n)))


def vectors():
    I, R = 0x08, 0x20
    natd = bytes(range(20))
    ke2048 = bytes((i * 7) & 0xFF for i in range(256))
    ke256 = bytes((i * 3 + 1) & 0xFF for i in range(64))
    v = []
    # IKE_SA_INIT request: HDR, SAi1, KEi, Ni, N(NAT_DETECTION_*), N(FRAGMENTATION), N(SIG_HASH), V
    v.append(("init_request", "ok", hdr(34, I, 33, spi_r=bytes(8)) /
              k.IKEv2_payload_SA(next_payload=34, prop=ike_proposals()) /
              k.IKEv2_payload_KE(next_payload=40, group=14, load=ke2048) /
              nonce(41, 32, 0x50) /
              notify(41, 16388, natd) / notify(41, 16389, natd[::-1]) / notify(41, 16430) /
              notify(43, 16431, bytes.fromhex("000200030004")) /
              k.IKEv2_payload_VendorID(next_payload=0, vendorID=bytes.fromhex("882fe56d6fd20dbc2251613b2ebe5beb"))))
    # IKE_SA_INIT response selecting proposal #2: HDR, SAr1, KEr, Nr, CERTREQ, N(NAT_D...)
    sar = prop(2, 1, b"", [tf(1, 20, 128), tf(2, 5), tf(4, 19, last=True)])
    v.append(("init_response", "ok", hdr(34, R, 33) /
              k.IKEv2_payload_SA(next_payload=34, prop=sar) /
              k.IKEv2_payload_KE(next_payload=40, group=19, load=ke256) /
              nonce(38, 48, 0x90) /
              k.IKEv2_payload_CERTREQ(next_payload=41, cert_type=4, cert_data=bytes(range(40))) /
              notify(0, 16388, natd)))
    v.append(("init_cookie_response", "ok", hdr(34, R, 41, spi_r=bytes(8)) / notify(0, 16390, bytes(range(32)))))
    v.append(("init_invalid_ke_response", "ok", hdr(34, R, 41, spi_r=bytes(8)) / notify(0, 17, bytes.fromhex("0013"))))
    v.append(("init_request_with_cookie", "ok", hdr(34, I, 41, spi_r=bytes(8)) /
              notify(33, 16390, bytes(range(32))) /
              k.IKEv2_payload_SA(next_payload=34, prop=ike_proposals()) /
              k.IKEv2_payload_KE(next_payload=40, group=14, load=ke2048) / nonce(0, 32, 0x50)))
    # unknown payloads: type 200 non-critical (skipped), type 49 critical (rejected)
    v.append(("init_request_unknown_noncritical", "ok", hdr(34, I, 33, spi_r=bytes(8)) /
              k.IKEv2_payload_SA(next_payload=34, prop=ike_proposals()) /
              k.IKEv2_payload_KE(next_payload=40, group=14, load=ke2048) / nonce(200, 32, 0x50) /
              k.IKEv2_payload(next_payload=0, flags=0, load=b"\x01\x02\x03")))
    v.append(("init_request_unknown_critical", "UNSUPPORTED_CRITICAL_PAYLOAD", hdr(34, I, 33, spi_r=bytes(8)) /
              k.IKEv2_payload_SA(next_payload=34, prop=ike_proposals()) /
              k.IKEv2_payload_KE(next_payload=40, group=14, load=ke2048) / nonce(49, 32, 0x50) /
              k.IKEv2_payload(next_payload=0, flags=0x80, load=b"\xaa")))
    # IKE_AUTH request, SK body in clear (identity codec):
    # HDR, SK {IDi, N(INITIAL_CONTACT), IDr, AUTH, CP(CFG_REQUEST), SAi2, TSi, TSr, N(ESP_TFC_PADDING_NOT_SUPPORTED)}
    inner = (idp(k.IKEv2_payload_IDi, 41, 1, "192.0.2.1", 4) / notify(36, 16384) /
             idp(k.IKEv2_payload_IDr, 39, 2, b"vpn.example.com", 15) /
             k.IKEv2_payload_AUTH(next_payload=47, auth_type=2, load=bytes(range(32))) /
             k.IKEv2_payload_CP(next_payload=33, CFGType=1, length=16, attributes=[
                 k.ConfigurationAttribute(type=1, length=0, value=b""),
                 k.ConfigurationAttribute(type=3, length=0, value=b"")]) /
             k.IKEv2_payload_SA(next_payload=44, prop=esp_proposal(bytes.fromhex("c1a2b3d4"))) /
             k.IKEv2_payload_TSi(next_payload=45, traffic_selector=[ts4("10.1.0.0", "10.1.255.255"),
                                                                     ts6("2001:db8:1::", "2001:db8:1::ffff", 6, 443, 443)]) /
             k.IKEv2_payload_TSr(next_payload=41, traffic_selector=[ts4("10.2.0.0", "10.2.255.255", 17, 500, 4500)]) /
             notify(0, 16394))
    v.append(("auth_request", "ok", hdr(35, I, 46, msgid=1) / sk(35, inner)))
    inner_r = (idp(k.IKEv2_payload_IDr, 39, 3, b"gw@example.com", 14) /
               k.IKEv2_payload_AUTH(next_payload=33, auth_type=2, load=bytes(range(48))) /
               k.IKEv2_payload_SA(next_payload=44, prop=esp_proposal(bytes.fromhex("0badf00d"))) /
               k.IKEv2_payload_TSi(next_payload=45, traffic_selector=[ts4("10.1.0.0", "10.1.255.255")]) /
               k.IKEv2_payload_TSr(next_payload=0, traffic_selector=[ts4("10.2.0.0", "10.2.255.255")]))
    v.append(("auth_response", "ok", hdr(35, R, 46, msgid=1) / sk(36, inner_r)))
    v.append(("auth_request_ipv6_keyid_eap", "ok", hdr(35, I, 46, msgid=1) /
              sk(35, idp(k.IKEv2_payload_IDi, 36, 5, "2001:db8::1", 16) /
                 idp(k.IKEv2_payload_IDr, 48, 11, bytes.fromhex("0102030405"), 5) /
                 k.IKEv2_payload(next_payload=0, load=bytes.fromhex("0201000a01757365723a")))))
    # CREATE_CHILD_SA with PFS: HDR, SK {SA, Ni, KEi, TSi, TSr, N(REKEY_SA)}
    inner_c = (k.IKEv2_payload_SA(next_payload=40, prop=esp_proposal(bytes.fromhex("11223344"), dh=19)) /
               nonce(34, 32, 0x10) / k.IKEv2_payload_KE(next_payload=44, group=19, load=ke256) /
               k.IKEv2_payload_TSi(next_payload=45, traffic_selector=[ts4("10.1.0.0", "10.1.255.255")]) /
               k.IKEv2_payload_TSr(next_payload=41, traffic_selector=[ts4("10.2.0.0", "10.2.255.255")]) /
               notify(0, 16393, proto=3, spi=bytes.fromhex("c1a2b3d4")))
    v.append(("create_child_request", "ok", hdr(36, I, 46, msgid=2) / sk(33, inner_c)))
    # INFORMATIONAL: delete two ESP SAs and the IKE SA; an empty one (liveness)
    d_esp = k.IKEv2_payload_Delete(next_payload=42, vendorID=bytes.fromhex("03040002c1a2b3d40badf00d"))
    d_ike = k.IKEv2_payload_Delete(next_payload=0, vendorID=bytes.fromhex("01000000"))
    v.append(("informational_delete", "ok", hdr(37, I, 46, msgid=3) / sk(42, d_esp / d_ike)))
    v.append(("informational_liveness", "ok", hdr(37, R, 46, msgid=4) / sk(0, b"")))
    # RFC 7383 fragment 1 of 2 and 2 of 2 (bodies opaque here)
    v.append(("auth_fragment_1", "ok", hdr(35, I, 53, msgid=1) /
              k.IKEv2_payload_Encrypted_Fragment(next_payload=35, frag_number=1, frag_total=2, load=bytes(range(60)))))
    v.append(("auth_fragment_2", "ok", hdr(35, I, 53, msgid=1) /
              k.IKEv2_payload_Encrypted_Fragment(next_payload=0, frag_number=2, frag_total=2, load=bytes(range(44)))))
    # payload count violation: two KE in IKE_SA_INIT
    v.append(("init_request_two_ke", "INVALID_SYNTAX", hdr(34, I, 33, spi_r=bytes(8)) /
              k.IKEv2_payload_SA(next_payload=34, prop=ike_proposals()) /
              k.IKEv2_payload_KE(next_payload=34, group=14, load=ke2048) /
              k.IKEv2_payload_KE(next_payload=40, group=14, load=ke2048) / nonce(0, 32, 0x50)))
    return v


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("gen", "summarize"):
        sys.stderr.write(__doc__)
        return 2
    if sys.argv[1] == "gen":
        with open(sys.argv[2], "w") as f:
            for name, expect, pkt in vectors():
                f.write("%s %s %s\n" % (name, expect, bytes(pkt).hex()))
        return 0
    with open(sys.argv[2]) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 3:
                continue
            print("%s\t%s" % (parts[0], summarize(bytes.fromhex(parts[2]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
