#!/usr/bin/python3
"""pcap vectors through ipsecd with static ESP SAs. Oracle: scapy.layers.ipsec.
 - esp_out_cbc / esp_out_gcm_natt: inner packets from the private side leave the public port as
   ESP (or UDP-encapsulated ESP) that scapy decrypts back to exactly the originals (TTL - 1,
   MSS clamped when configured); a too-big DF packet gets ICMP fragmentation-needed with the
   tunnel MTU; a too-big packet without DF is fragmented before encryption, each piece its own
   ESP packet, and scapy reassembles the decrypted pieces to the original.
 - esp_in: ESP made by scapy is decrypted by ipsecd and forwarded; tampered, replayed, unknown-
   SPI, wrong-selector and unprotected packets are dropped under their reasons; an echo to our
   private address through the tunnel is answered through the tunnel.
 - esp_in_many_sas: one burst interleaving six inbound SAs (CBC and GCM alternating, each with
   its own peer subnet), decrypted in one crypto pass: every good packet comes out exactly, per
   SA in order; a packet on one SA carrying another SA's traffic fails the policy check, a
   tampered one fails its ICV, and the per-SA counters say which SA saw what."""
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw, defragment, wrpcap
from scapy.layers.ipsec import ESP, SecurityAssociation

from dpcommon import (GW_MAC, HOST_MAC, KEY_AUTH, KEY_ENC, KEY_GCM, PRIV_MAC, PUB_MAC, base_config, check,
                      main, nonzero, read, run_ipsecd, spec, tshark_esp)

LOCAL, PEER = "172.16.1.10", "172.16.2.1"
POLICIES = {"default": "bypass", "policies": [
    {"name": "o", "priority": 10, "direction": "out", "src": ["10.1.0.0/16"], "dst": ["10.2.0.0/16"],
     "action": "protect", "sa": "out5"},
    {"name": "i", "priority": 10, "direction": "in", "src": ["10.2.0.0/16"], "dst": ["10.1.0.0/16"],
     "action": "protect", "sa": "in7"}]}


def sas(gcm=False, natt=False):
    extra = "natt=4500:4500" if natt else ""
    if gcm:
        out5 = spec(0x1005, "aes256gcm16", KEY_GCM, None, None, LOCAL, PEER, extra)
        in7 = spec(0x1007, "aes256gcm16", KEY_GCM, None, None, PEER, LOCAL, extra)
    else:
        out5 = spec(0x1005, "aes256-cbc", KEY_ENC, "sha256-128", KEY_AUTH, LOCAL, PEER, extra)
        in7 = spec(0x1007, "aes256-cbc", KEY_ENC, "sha256-128", KEY_AUTH, PEER, LOCAL, extra)
    return [{"name": "out5", "direction": "out", "spec": out5}, {"name": "in7", "direction": "in", "spec": in7}]


def scapy_sa(spi, src, dst, gcm=False, natt=False):
    kw = dict(tunnel_header=IP(src=src, dst=dst))
    if natt:
        kw["nat_t_header"] = UDP(sport=4500, dport=4500)
    if gcm:
        return SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM", crypt_key=KEY_GCM, **kw)
    return SecurityAssociation(ESP, spi=spi, crypt_algo="AES-CBC", crypt_key=KEY_ENC,
                               auth_algo="SHA2-256-128", auth_key=KEY_AUTH, **kw)


def mtu_of(gcm, natt):
    """The tunnel's inner MTU on a 1500-byte port: outer IP (+ UDP), ESP header, IV, then the
    padded payload with its 2-byte trailer and the ICV."""
    return (1500 - (20 + (8 if natt else 0) + 8 + (8 if gcm else 16)) - 16) // (4 if gcm else 16) * (4 if gcm else 16) - 2


def outbound(ipsecd, tmp, gcm, natt):
    inner = [
        IP(src="10.1.0.5", dst="10.2.0.7", ttl=64, id=1) / ICMP(id=3, seq=1) / Raw(b"tunnel-ping"),
        IP(src="10.1.0.5", dst="10.2.3.4", ttl=20, id=2) / UDP(sport=4000, dport=5000) / Raw(b"x" * 333),
        IP(src="10.1.0.5", dst="10.2.0.7", ttl=64, id=3, flags="DF") /
        TCP(sport=40000, dport=80, flags="S", seq=1000, options=[("MSS", 1460), ("NOP", None), ("WScale", 7)]),
        IP(src="10.1.0.5", dst="10.2.0.7", ttl=64, id=4) / UDP(sport=4000, dport=5000) / Raw(b"")
    ]
    big_df = IP(src="10.1.0.5", dst="10.2.0.7", id=5, flags="DF") / UDP(sport=4000, dport=5000) / Raw(b"B" * 1452)
    big = IP(src="10.1.0.5", dst="10.2.0.7", id=6) / UDP(sport=4000, dport=5000) / Raw(b"b" * 1452)
    priv_in = [Ether(src=HOST_MAC, dst=PRIV_MAC) / p for p in inner + [big_df, big]]
    # bypass still works beside the tunnel
    priv_in.append(Ether(src=HOST_MAC, dst=PRIV_MAC) / IP(src="10.1.0.5", dst="198.51.100.1") / UDP(sport=1, dport=2))
    wrpcap(f"{tmp}/priv_in.pcap", priv_in)
    wrpcap(f"{tmp}/pub_in.pcap", [Ether(src=GW_MAC, dst="02:00:00:00:09:09") / IP() / UDP()])
    cfg = base_config(tmp, "out", f"{tmp}/priv_in.pcap", f"{tmp}/pub_in.pcap", sas(gcm, natt), POLICIES,
                      mss_clamp=1300)
    c = run_ipsecd(ipsecd, tmp, cfg)
    pub_out, priv_out = read(tmp, "pub_out.pcap"), read(tmp, "priv_out.pcap")

    esp = [p for p in pub_out if (ESP in p) or (UDP in p and p[UDP].dport == 4500)]
    check(len(esp) == len(inner) + 2, f"{len(inner)} + 2 ESP packets expected, got {len(esp)}")
    sa = scapy_sa(0x1005, LOCAL, PEER, gcm, natt)
    for n, (p, orig) in enumerate(zip(esp, inner), start=1):
        check(p[Ether].src == PUB_MAC and p[Ether].dst == GW_MAC, "ESP frame MACs")
        check(p[IP].src == LOCAL and p[IP].dst == PEER, "outer addresses")
        if natt:
            check(UDP in p and p[UDP].sport == 4500 and p[UDP].dport == 4500, "UDP encapsulation")
            outer = IP(bytes(p[IP]))
            # scapy parses ESP-in-UDP as ESP when dport is 4500
            check(ESP in outer, "ESP inside UDP")
        else:
            check(p[IP].proto == 50, "ESP protocol")
        check(p[ESP].spi == 0x1005 and p[ESP].seq == n, f"SPI and sequence {p[ESP].seq}")
        got = sa.decrypt(IP(bytes(p[IP])))
        want = IP(bytes(orig))
        want.ttl -= 1
        del want.chksum
        if TCP in want:
            want[TCP].options = [("MSS", 1300), ("NOP", None), ("WScale", 7)]
            del want[TCP].chksum
        want = IP(bytes(want))
        check(bytes(got) == bytes(want), f"packet {n}: decrypted inner differs\n got  {bytes(got).hex()}\n want {bytes(want).hex()}")

    # the big packet without DF: two ESP packets carrying its fragments, in order
    pieces = []
    for n, p in enumerate(esp[len(inner):], start=len(inner) + 1):
        check(p[ESP].spi == 0x1005 and p[ESP].seq == n, f"fragment SPI and sequence {p[ESP].seq}")
        pieces.append(sa.decrypt(IP(bytes(p[IP]))))
    check(all(len(f) <= mtu_of(gcm, natt) for f in pieces), "each piece fits the tunnel MTU")
    check(pieces[0].flags.MF and not pieces[1].flags.MF and pieces[1].frag * 8 == len(pieces[0]) - 20, "MF and offsets")
    whole = defragment(pieces)
    check(len(whole) == 1, "the pieces reassemble")
    want = IP(bytes(big))
    want.ttl -= 1
    del want.chksum
    check(bytes(whole[0][Raw].load) == bytes(IP(bytes(want))[Raw].load) and whole[0].ttl == want.ttl and
          whole[0].id == 6, "reassembled packet differs from the original")

    # tshark, an independent implementation, decrypts and authenticates the same packets
    if gcm:
        tsa = (LOCAL, PEER, 0x1005, "AES-GCM with 16 octet ICV [RFC4106]", KEY_GCM, "NULL", b"")
    else:
        tsa = (LOCAL, PEER, 0x1005, "AES-CBC [RFC3602]", KEY_ENC, "HMAC-SHA-256-128 [RFC4868]", KEY_AUTH)
    rows = tshark_esp(f"{tmp}/pub_out.pcap", [tsa])
    want_rows = [(LOCAL, p[IP].src, PEER, p[IP].dst, n, True) for n, p in enumerate(inner + [big, big], start=1)]
    if gcm:  # tshark reports no ICV verdict for AEAD; the inner addresses prove decryption
        rows = [r[:5] for r in rows]
        want_rows = [r[:5] for r in want_rows]
    check(rows == want_rows, f"tshark view {rows}")

    icmp = [p for p in priv_out if ICMP in p]
    check(len(icmp) == 1, f"one ICMP error on the private side, got {len(icmp)}")
    e = icmp[0]
    mtu = mtu_of(gcm, natt)
    check(e[ICMP].type == 3 and e[ICMP].code == 4, "fragmentation needed")
    check(e[ICMP].nexthopmtu == mtu, f"next-hop MTU {e[ICMP].nexthopmtu}, want {mtu}")
    check(e[IP].dst == "10.1.0.5" and e[IP].src == "10.1.0.1" and e[Ether].dst == HOST_MAC, "ICMP error addressing")
    quoted = bytes(e[ICMP].payload)
    check(quoted == bytes(big_df)[:28], "quotes the offending header + 8 bytes")

    ev, dr = c["events"], nonzero(c["drops"])
    check(ev["encapsulated"] == len(inner) + 2 and ev["bypassed"] == 1 and ev["mss_clamped"] == 1, f"events {ev}")
    check(ev["icmp_frag_needed_sent"] == 1 and ev["fragmented"] == 1, f"events {ev}")
    check(dr == {"frag_needed": 1, "not_for_us": 1}, f"drops {dr}")
    check(c["sas"]["out5"]["packets"] == len(inner) + 2, f"SA counters {c['sas']['out5']}")


def esp_out_cbc(ipsecd, tmp):
    outbound(ipsecd, tmp, gcm=False, natt=False)


def esp_out_gcm_natt(ipsecd, tmp):
    outbound(ipsecd, tmp, gcm=True, natt=True)


class natt_fixed:
    """scapy 2.5 writes its nat_t_header with UDP length 8 whatever follows; recompute it."""

    def __init__(self, sa):
        self.sa = sa

    def encrypt(self, p, seq_num):
        e = self.sa.encrypt(p, seq_num=seq_num)
        if UDP in e:
            e[UDP].len = None
            e[UDP].chksum = 0
            e = IP(bytes(e))
        return e


def inbound(ipsecd, tmp, gcm, natt):
    sa = natt_fixed(scapy_sa(0x1007, PEER, LOCAL, gcm, natt))
    frame = lambda ip: Ether(src=GW_MAC, dst=PUB_MAC) / ip  # noqa: E731
    good = [
        IP(src="10.2.0.7", dst="10.1.0.5", ttl=50, id=11) / UDP(sport=5000, dport=4000) / Raw(b"from the peer 1"),
        IP(src="10.2.9.9", dst="10.1.0.5", ttl=50, id=12) / ICMP(id=9, seq=9) / Raw(b"peer ping"),
        IP(src="10.2.0.7", dst="10.1.0.5", ttl=50, id=13) / TCP(sport=80, dport=40000, flags="SA") / Raw(b"Z" * 900),
    ]
    enc = [sa.encrypt(p, seq_num=i) for i, p in enumerate(good, start=1)]
    tampered = bytearray(bytes(sa.encrypt(good[0], seq_num=10)))
    tampered[-1] ^= 0x01
    wrong_sel = sa.encrypt(IP(src="10.3.0.1", dst="10.1.0.5") / UDP(sport=1, dport=2), seq_num=11)
    seq0 = sa.encrypt(good[0], seq_num=0)
    other = natt_fixed(scapy_sa(0x9999, PEER, LOCAL, gcm, natt)).encrypt(good[0], seq_num=1)
    ping_us = sa.encrypt(IP(src="10.2.0.7", dst="10.1.0.1") / ICMP(id=77, seq=5) / Raw(b"gw ping"), seq_num=12)
    # First in the burst: SPI 0 (reserved, RFC 4303 2.1), no SA, before any SA of the burst is known.
    spi0 = IP(src=PEER, dst=LOCAL, proto=50) / Raw(b"\x00\x00\x00\x00\x00\x00\x00\x01" + b"\x22" * 40)
    pub_in = [frame(spi0)] + [frame(p) for p in enc]
    pub_in += [frame(IP(bytes(tampered))), frame(enc[0]), frame(wrong_sel), frame(seq0), frame(other), frame(ping_us)]
    pub_in += [
        frame(IP(src="10.2.0.7", dst="10.1.0.5") / UDP(sport=5000, dport=4000) / Raw(b"plaintext")),
        frame(IP(src=PEER, dst=LOCAL) / UDP(sport=500, dport=500) / Raw(b"\x00" * 28)),
        frame(IP(src=PEER, dst=LOCAL) / UDP(sport=4500, dport=4500) / Raw(b"\x00\x00\x00\x00" + b"\x11" * 28)),
        frame(IP(src=PEER, dst=LOCAL, proto=50) / Raw(b"\x00\x00\x10\x07\x00\x00")),
    ]
    wrpcap(f"{tmp}/pub_in.pcap", pub_in)
    wrpcap(f"{tmp}/priv_in.pcap", [Ether(src=HOST_MAC, dst="02:00:00:00:09:09") / IP() / UDP()])
    cfg = base_config(tmp, "in", f"{tmp}/priv_in.pcap", f"{tmp}/pub_in.pcap", sas(gcm, natt), POLICIES)
    c = run_ipsecd(ipsecd, tmp, cfg)
    priv_out, pub_out = read(tmp, "priv_out.pcap"), read(tmp, "pub_out.pcap")

    check(len(priv_out) == len(good), f"{len(good)} decrypted packets on private, got {len(priv_out)} {c}")
    for p, orig in zip(priv_out, good):
        check(p[Ether].src == PRIV_MAC and p[Ether].dst == HOST_MAC, "inner frame MACs")
        want = IP(bytes(orig))
        want.ttl -= 1
        del want.chksum
        check(bytes(p[IP]) == bytes(IP(bytes(want))), "decrypted inner packet (TTL - 1)")

    # the echo to our private address came back through the tunnel
    esp = [p for p in pub_out if ESP in p or (UDP in p and p[UDP].dport == 4500)]
    check(len(esp) == 1, f"one ESP echo reply, got {len(esp)}")
    reply = scapy_sa(0x1005, LOCAL, PEER, gcm, natt).decrypt(IP(bytes(esp[0][IP])))
    check(reply[IP].src == "10.1.0.1" and reply[IP].dst == "10.2.0.7" and reply[ICMP].type == 0 and
          reply[ICMP].id == 77 and bytes(reply[ICMP].payload) == b"gw ping", "echo reply through the tunnel")

    ev, dr, ed = c["events"], nonzero(c["drops"]), nonzero(c["esp_drops"])
    check(ev["decapsulated"] == len(good) + 1 and ev["icmp_echo_answered"] == 1 and ev["encapsulated"] == 1, f"events {ev}")
    check(dr == {"inbound_esp_error": 4, "inbound_no_sa": 2, "inbound_policy_mismatch": 1, "inbound_unprotected": 1,
                 "no_ike": 2, "not_for_us": 1}, f"drops {dr}")
    check(ed == {"icv": 1, "replay": 2, "runt": 1}, f"esp drops {ed}")
    check(c["sas"]["in7"]["drops"] == {"icv": 1, "replay": 2, "runt": 1} or
          c["sas"]["in7"]["drops"] == {"icv": 1, "replay": 2}, f"per-SA drops {c['sas']['in7']}")


def esp_in_cbc(ipsecd, tmp):
    inbound(ipsecd, tmp, gcm=False, natt=False)


def esp_in_gcm_natt(ipsecd, tmp):
    inbound(ipsecd, tmp, gcm=True, natt=True)


def esp_in_many_sas(ipsecd, tmp):
    n = 6
    gcm = [k % 2 == 1 for k in range(n)]
    sa_cfg, pols, scapy_sas = [], [], []
    for k in range(n):
        spi = 0x2000 + k
        if gcm[k]:
            sp = spec(spi, "aes256gcm16", KEY_GCM, None, None, PEER, LOCAL, "")
        else:
            sp = spec(spi, "aes256-cbc", KEY_ENC, "sha256-128", KEY_AUTH, PEER, LOCAL, "")
        sa_cfg.append({"name": f"in{k}", "direction": "in", "spec": sp})
        pols.append({"name": f"i{k}", "priority": 10, "direction": "in", "src": [f"10.2.{k}.0/24"],
                     "dst": ["10.1.0.0/16"], "action": "protect", "sa": f"in{k}"})
        scapy_sas.append(scapy_sa(spi, PEER, LOCAL, gcm[k]))
    sa_cfg += sas()[:1]  # out5, unused here
    policies = {"default": "bypass", "policies": POLICIES["policies"][:1] + pols}
    frame = lambda ip: Ether(src=GW_MAC, dst=PUB_MAC) / ip  # noqa: E731
    good = {k: [] for k in range(n)}
    pub_in = []
    for r in range(3):  # round-robin over the SAs: every burst spans all of them
        for k in range(n):
            inner = IP(src=f"10.2.{k}.9", dst="10.1.0.5", ttl=40, id=100 * k + r) / UDP(sport=7000 + k, dport=9000) / \
                Raw(bytes([65 + k]) * (20 + 37 * r + 11 * k))
            good[k].append(inner)
            pub_in.append(frame(scapy_sas[k].encrypt(inner, seq_num=r + 1)))
    # SA 2 carrying SA 3's traffic: authentic, but the inbound policy check must refuse it
    pub_in.insert(4, frame(scapy_sas[2].encrypt(IP(src="10.2.3.77", dst="10.1.0.5") / UDP(sport=1, dport=2), seq_num=9)))
    tampered = bytearray(bytes(scapy_sas[5].encrypt(good[5][0], seq_num=10)))
    tampered[-3] ^= 0x10
    pub_in.insert(9, frame(IP(bytes(tampered))))
    wrpcap(f"{tmp}/pub_in.pcap", pub_in)
    wrpcap(f"{tmp}/priv_in.pcap", [Ether(src=HOST_MAC, dst="02:00:00:00:09:09") / IP() / UDP()])
    cfg = base_config(tmp, "in", f"{tmp}/priv_in.pcap", f"{tmp}/pub_in.pcap", sa_cfg, policies)
    c = run_ipsecd(ipsecd, tmp, cfg)
    priv_out = read(tmp, "priv_out.pcap")

    total = sum(len(v) for v in good.values())
    check(len(priv_out) == total, f"{total} decrypted packets on private, got {len(priv_out)} {c}")
    got = {k: [] for k in range(n)}
    for p in priv_out:
        k = int(p[IP].src.split(".")[2])
        got[k].append(bytes(p[IP]))
    for k in range(n):
        want = []
        for orig in good[k]:
            w = IP(bytes(orig))
            w.ttl -= 1
            del w.chksum
            want.append(bytes(IP(bytes(w))))
        check(got[k] == want, f"SA {k}: its inner packets, in order (TTL - 1)")
    ev, dr, ed = c["events"], nonzero(c["drops"]), nonzero(c["esp_drops"])
    check(ev["decapsulated"] == total, f"events {ev}")
    check(dr == {"inbound_esp_error": 1, "inbound_policy_mismatch": 1, "not_for_us": 1}, f"drops {dr}")
    check(ed == {"icv": 1}, f"esp drops {ed}")
    for k in range(n):
        s = c["sas"][f"in{k}"]
        want_pkts = len(good[k]) + (1 if k == 2 else 0)  # the mismatch was decrypted, then refused
        check(s["packets"] == want_pkts, f"SA in{k} packets {s}")
        check(nonzero(s["drops"]) == ({"icv": 1} if k == 5 else {}), f"SA in{k} drops {s}")


if __name__ == "__main__":
    main({"esp_out_cbc": esp_out_cbc, "esp_out_gcm_natt": esp_out_gcm_natt,
          "esp_in_cbc": esp_in_cbc, "esp_in_gcm_natt": esp_in_gcm_natt, "esp_in_many_sas": esp_in_many_sas})
