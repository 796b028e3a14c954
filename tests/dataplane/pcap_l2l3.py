#!/usr/bin/python3
"""pcap vectors through ipsecd without ESP: ARP answered (port IP and VIP), ICMP echo to our
addresses answered, bypass forwarding with TTL decrement and the right MACs, DISCARD and the
other drop reasons counted, ARP resolution with the hold queue. The oracle is scapy: every
expected frame is built independently here and compared field by field. Bypass traffic over
the public port's MTU (1000 here) is fragmented without DF (scapy reassembles it) and answered
with ICMP fragmentation needed with DF."""
from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, Raw, defragment, wrpcap

from dpcommon import (GW_MAC, HOST_MAC, PRIV_MAC, PUB_MAC, base_config, check, main, nonzero, read,
                      run_ipsecd)


def arp_icmp(ipsecd, tmp):
    priv_in = [
        # who-has 10.1.0.1 (ours) -> reply; who-has 10.1.0.99 (not ours) -> dropped, counted
        Ether(src=HOST_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=HOST_MAC, psrc="10.1.0.5", pdst="10.1.0.1"),
        Ether(src=HOST_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=HOST_MAC, psrc="10.1.0.5", pdst="10.1.0.99"),
        Ether(src=HOST_MAC, dst=PRIV_MAC) / IP(src="10.1.0.5", dst="10.1.0.1", ttl=61) / ICMP(id=7, seq=1) / Raw(b"ping-payload-1"),
        # echo to the public address arriving on the private port is answered too (it is ours)
        Ether(src=HOST_MAC, dst=PRIV_MAC) / IP(src="10.1.0.5", dst="172.16.1.1") / ICMP(id=7, seq=2) / Raw(b"p2"),
        # bad IPv4 checksum
        Ether(src=HOST_MAC, dst=PRIV_MAC) / IP(src="10.1.0.5", dst="10.1.0.1", chksum=0x1234) / ICMP(),
        # not for our MAC
        Ether(src=HOST_MAC, dst="02:99:99:99:99:99") / IP(src="10.1.0.5", dst="10.1.0.1") / ICMP(),
        # TCP to us: nothing listens
        Ether(src=HOST_MAC, dst=PRIV_MAC) / IP(src="10.1.0.5", dst="10.1.0.1") / TCP(dport=22),
        # IPv4 header cut short, and a frame shorter than an Ethernet header
        Ether(src=HOST_MAC, dst=PRIV_MAC, type=0x0800) / Raw(b"\x45\x00"),
        Raw(bytes.fromhex("020000000101020000")),
    ]
    pub_in = [
        Ether(src=GW_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=GW_MAC, psrc="172.16.1.254", pdst="172.16.1.10"),
        Ether(src=GW_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=GW_MAC, psrc="172.16.1.254", pdst="172.16.1.1"),
    ]
    wrpcap(f"{tmp}/priv_in.pcap", priv_in)
    wrpcap(f"{tmp}/pub_in.pcap", pub_in)
    c = run_ipsecd(ipsecd, tmp, base_config(tmp, "arp", f"{tmp}/priv_in.pcap", f"{tmp}/pub_in.pcap"))
    priv_out, pub_out = read(tmp, "priv_out.pcap"), read(tmp, "pub_out.pcap")

    arps = [p for p in priv_out if ARP in p]
    check(len(arps) == 1, f"one ARP reply on private, got {len(arps)}")
    a = arps[0]
    check(a[Ether].dst == HOST_MAC and a[Ether].src == PRIV_MAC, "ARP reply MACs")
    check(a[ARP].op == 2 and a[ARP].psrc == "10.1.0.1" and a[ARP].hwsrc == PRIV_MAC, "ARP reply sender")
    check(a[ARP].pdst == "10.1.0.5" and a[ARP].hwdst == HOST_MAC, "ARP reply target")

    echo = [p for p in priv_out if ICMP in p]
    check(len(echo) == 2, f"two echo replies, got {len(echo)}")
    for p, (src, seq, payload) in zip(echo, [("10.1.0.1", 1, b"ping-payload-1"), ("172.16.1.1", 2, b"p2")]):
        check(p[Ether].dst == HOST_MAC and p[Ether].src == PRIV_MAC, "echo reply MACs")
        check(p[IP].src == src and p[IP].dst == "10.1.0.5", f"echo reply addresses {p[IP].src}")
        check(p[ICMP].type == 0 and p[ICMP].id == 7 and p[ICMP].seq == seq, "echo reply type/id/seq")
        check(bytes(p[ICMP].payload) == payload, "echo payload kept")
        # checksums as scapy computes them from scratch
        raw = Ether(bytes(p))
        del raw[IP].chksum
        del raw[ICMP].chksum
        re = Ether(bytes(raw))
        check(re[IP].chksum == p[IP].chksum and re[ICMP].chksum == p[ICMP].chksum, "echo reply checksums")

    pub_arps = [p for p in pub_out if ARP in p]
    check(len(pub_arps) == 2, f"VIP and port IP answered on public, got {len(pub_arps)}")
    check(sorted(p[ARP].psrc for p in pub_arps) == ["172.16.1.1", "172.16.1.10"], "public ARP senders")
    check(all(p[ARP].hwsrc == PUB_MAC for p in pub_arps), "public ARP MAC")

    ev, dr = c["events"], nonzero(c["drops"])
    check(ev["arp_requests_answered"] == 3 and ev["icmp_echo_answered"] == 2, f"events {ev}")
    check(dr == {"arp_not_for_us": 1, "ipv4_malformed": 2, "not_for_us": 1, "local_unhandled": 1, "runt": 1},
          f"drops {dr}")
    check(c["ports"]["private"]["rx_packets"] == len(priv_in) and c["ports"]["private"]["tx_packets"] == 3,
          f"private port counters {c['ports']['private']}")


def bypass(ipsecd, tmp):
    policies = {"default": "bypass", "policies": [
        {"name": "no-telnet", "priority": 5, "direction": "out", "dst": ["0.0.0.0/0"], "proto": "tcp",
         "dport": "23", "action": "discard"}]}
    priv_in = [
        # routed out of the public port via the gateway (default route), TTL 64 -> 63
        Ether(src=HOST_MAC, dst=PRIV_MAC) / IP(src="10.1.0.5", dst="198.51.100.7", ttl=64) / UDP(sport=1111, dport=5555) / Raw(b"q1"),
        # discarded by policy
        Ether(src=HOST_MAC, dst=PRIV_MAC) / IP(src="10.1.0.5", dst="198.51.100.7") / TCP(dport=23),
        # TTL 1: cannot be forwarded
        Ether(src=HOST_MAC, dst=PRIV_MAC) / IP(src="10.1.0.5", dst="198.51.100.7", ttl=1) / UDP(),
        # broadcast and multicast are never routed
        Ether(src=HOST_MAC, dst=PRIV_MAC) / IP(src="10.1.0.5", dst="10.1.0.255") / UDP(),
        Ether(src=HOST_MAC, dst=PRIV_MAC) / IP(src="10.1.0.5", dst="239.1.1.1") / UDP(),
        # same-port hairpin to an unresolved neighbour: held, ARP request sent; the reply that
        # comes a burst later (after 40 frames for another MAC) releases it with the learned MAC
        Ether(src=HOST_MAC, dst=PRIV_MAC) / IP(src="10.1.0.5", dst="10.1.0.77", ttl=9) / UDP(sport=7, dport=9) / Raw(b"held"),
        # over the public MTU of 1000: fragmented without DF, ICMP fragmentation needed with DF
        Ether(src=HOST_MAC, dst=PRIV_MAC) / IP(src="10.1.0.5", dst="198.51.100.8", id=77) / UDP(sport=8, dport=8) / Raw(b"F" * 1400),
        Ether(src=HOST_MAC, dst=PRIV_MAC) / IP(src="10.1.0.5", dst="198.51.100.9", flags="DF") / UDP(sport=9, dport=9) / Raw(b"D" * 1400),
    ] + [Ether(src=HOST_MAC, dst="02:00:00:00:09:09") / IP(src="10.1.0.5", dst="10.1.0.9") / UDP()] * 40 + [
        Ether(src="02:00:00:00:01:77", dst=PRIV_MAC) / ARP(op=2, hwsrc="02:00:00:00:01:77", psrc="10.1.0.77",
                                                          hwdst=PRIV_MAC, pdst="10.1.0.1"),
    ]
    pub_in = [
        # inbound plaintext routed to the private side through a static route (via 10.1.0.5)
        Ether(src=GW_MAC, dst=PUB_MAC) / IP(src="198.51.100.7", dst="192.0.2.33", ttl=30) / UDP(sport=5555, dport=1111) / Raw(b"a1"),
        # no route: 172.16.1.0/24 is connected but 10.9.0.0/16 falls to... the default route
        # back out of the public port; an unroutable source address does not matter
        Ether(src=GW_MAC, dst=PUB_MAC) / IP(src="198.51.100.7", dst="10.9.0.1", ttl=30) / UDP(),
    ]
    wrpcap(f"{tmp}/priv_in.pcap", priv_in)
    wrpcap(f"{tmp}/pub_in.pcap", pub_in)
    cfg = base_config(tmp, "bypass", f"{tmp}/priv_in.pcap", f"{tmp}/pub_in.pcap", policies=policies)
    cfg["ports"][1]["mtu"] = 1000
    c = run_ipsecd(ipsecd, tmp, cfg)
    priv_out, pub_out = read(tmp, "priv_out.pcap"), read(tmp, "pub_out.pcap")

    pieces = [p for p in pub_out if IP in p and p[IP].dst == "198.51.100.8"]
    check(len(pieces) == 2 and all(len(p[IP]) <= 1000 and p[Ether].dst == GW_MAC for p in pieces), "two pieces within the MTU")
    whole = defragment([p[IP] for p in pieces])
    check(len(whole) == 1 and whole[0].ttl == 63 and bytes(whole[0][Raw].load) == b"F" * 1400, "pieces reassemble")
    check(not [p for p in pub_out if IP in p and p[IP].dst == "198.51.100.9"], "DF packet not sent")
    err = [p for p in priv_out if ICMP in p and p[ICMP].type == 3]
    check(len(err) == 1 and err[0][ICMP].code == 4 and err[0][ICMP].nexthopmtu == 1000 and err[0][IP].dst == "10.1.0.5"
          and err[0][IP].src == "10.1.0.1", "ICMP fragmentation needed with the port MTU")

    udp_pub = [p for p in pub_out if UDP in p and p[IP].dst != "198.51.100.8"]
    check(len(udp_pub) == 2, f"two forwarded packets on public, got {len(udp_pub)}")
    q = [p for p in udp_pub if p[IP].dst == "198.51.100.7"][0]
    check(q[Ether].src == PUB_MAC and q[Ether].dst == GW_MAC, "bypass MACs towards the gateway")
    check(q[IP].ttl == 63 and bytes(q[Raw]) == b"q1", "TTL decremented, payload intact")
    fixed = IP(bytes(q[IP]))
    del fixed.chksum
    check(IP(bytes(fixed)).chksum == q[IP].chksum, "IPv4 checksum after TTL decrement")
    back = [p for p in udp_pub if p[IP].dst == "10.9.0.1"][0]
    check(back[IP].ttl == 29 and back[Ether].dst == GW_MAC, "hairpin via default route")

    a1 = [p for p in priv_out if UDP in p and p[IP].dst == "192.0.2.33"]
    check(len(a1) == 1 and a1[0][Ether].dst == HOST_MAC and a1[0][IP].ttl == 29, "static route via 10.1.0.5")
    req = [p for p in priv_out if ARP in p]
    check(len(req) == 1 and req[0][ARP].op == 1 and req[0][ARP].pdst == "10.1.0.77" and
          req[0][ARP].psrc == "10.1.0.1" and req[0][Ether].dst == "ff:ff:ff:ff:ff:ff", "ARP request for held next hop")
    held = [p for p in priv_out if UDP in p and p[IP].dst == "10.1.0.77"]
    check(len(held) == 1 and held[0][Ether].dst == "02:00:00:00:01:77" and held[0][IP].ttl == 8 and
          bytes(held[0][Raw]) == b"held", "held packet released to the learned MAC")
    check(priv_out.index(req[0]) < priv_out.index(held[0]), "ARP request before the released packet")

    ev, dr = c["events"], nonzero(c["drops"])
    check(ev["bypassed"] == 6 and ev["arp_requests_sent"] == 1 and ev["arp_replies_learned"] == 1, f"events {ev}")
    check(ev["fragmented"] == 1 and ev["icmp_frag_needed_sent"] == 1, f"events {ev}")
    check(dr == {"policy_discard": 1, "ttl_exceeded": 1, "multicast": 2, "not_for_us": 40, "frag_needed": 1}, f"drops {dr}")


def ike_punt(ipsecd, tmp):
    """IKE (UDP 500, UDP 4500 behind the non-ESP marker, NAT-keepalive) goes to the punt ring;
    ipsecd --ike-echo stands in for IKE and sends each datagram back through the inject ring,
    which must route it and resolve L2 like any packet."""
    peer = "172.16.2.1"
    ike = [
        IP(src=peer, dst="172.16.1.10") / UDP(sport=500, dport=500) / Raw(b"IKE_SA_INIT" + bytes(17)),
        IP(src=peer, dst="172.16.1.1") / UDP(sport=4501, dport=4500) / Raw(bytes(4) + b"IKE_AUTH" + bytes(20)),
        IP(src=peer, dst="172.16.1.10") / UDP(sport=4500, dport=4500) / Raw(b"\xff"),
    ]
    pub_in = [Ether(src=GW_MAC, dst=PUB_MAC) / p for p in ike]
    # not IKE: ESP-in-UDP with an unknown SPI, and UDP 500 arriving on the private side
    pub_in.append(Ether(src=GW_MAC, dst=PUB_MAC) / IP(src=peer, dst="172.16.1.10") / UDP(sport=4500, dport=4500) /
                  Raw(b"\x00\x00\x30\x01" + bytes(40)))
    priv_in = [Ether(src=HOST_MAC, dst=PRIV_MAC) / IP(src="10.1.0.5", dst="10.1.0.1") / UDP(sport=500, dport=500) /
               Raw(bytes(28))]
    wrpcap(f"{tmp}/priv_in.pcap", priv_in)
    wrpcap(f"{tmp}/pub_in.pcap", pub_in)
    cfg = base_config(tmp, "ike", f"{tmp}/priv_in.pcap", f"{tmp}/pub_in.pcap")
    c = run_ipsecd(ipsecd, tmp, cfg, args=["--ike-echo"])
    pub_out = [p for p in read(tmp, "pub_out.pcap") if UDP in p]
    check(len(pub_out) == len(ike), f"{len(ike)} echoed IKE datagrams, got {len(pub_out)}")
    for got, sent in zip(pub_out, ike):
        check(got[Ether].src == PUB_MAC and got[Ether].dst == GW_MAC, "injected packet routed via the gateway")
        check(got[IP].src == sent[IP].dst and got[IP].dst == sent[IP].src, "addresses swapped by the echo")
        check(got[UDP].sport == sent[UDP].dport and got[UDP].dport == sent[UDP].sport, "ports swapped")
        check(bytes(got[UDP].payload) == bytes(sent[UDP].payload), "IKE payload intact")
        fixed = IP(bytes(got[IP]))
        del fixed.chksum
        check(IP(bytes(fixed)).chksum == got[IP].chksum, "IPv4 checksum of the injected packet")
    ev, dr = c["events"], nonzero(c["drops"])
    check(ev["punted"] == 3 and ev["injected"] == 3, f"events {ev}")
    check(dr == {"inbound_no_sa": 1, "local_unhandled": 1}, f"drops {dr}")


if __name__ == "__main__":
    main({"arp_icmp": arp_icmp, "bypass": bypass, "ike_punt": ike_punt})
