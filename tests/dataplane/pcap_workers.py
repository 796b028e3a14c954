#!/usr/bin/python3
"""Two workers on single-queue net_pcap ports: worker 0 receives everything and hands each
packet to the worker owning its SA (each SA has one owning lcore). Oracle: scapy.
 - workers_out: 4 outbound SAs, 160 packets interleaved over them with bypass traffic; every
   ESP packet decrypts to its original (TTL - 1), each SA's sequence numbers run 1..40 in the
   order its packets came in, some packets were handed over, per-SA counters are exact.
 - workers_in: 4 inbound SAs, ESP made by scapy plus replays; the private host is not a static
   neighbour but announced by one ARP reply that only worker 0 sees: the other worker must
   learn it from worker 0's note (no ARP request may be sent); replays are caught by the
   owning worker's replay window.
 - workers_lcores: 2 workers with one lcore in the EAL: exit 2 naming "workers"."""
from scapy.all import ARP, ICMP, IP, UDP, Ether, Raw, wrpcap

from dpcommon import (GW_MAC, HOST_MAC, PRIV_MAC, PUB_MAC, KEY_AUTH, KEY_ENC, base_config, check, main, nonzero,
                      read, run_ipsecd, spec, tshark_esp)
from pcap_esp import LOCAL, PEER, natt_fixed, scapy_sa

SPIS_OUT = [0x2000, 0x2001, 0x2002, 0x2003]
SPIS_IN = [0x3000, 0x3001, 0x3002, 0x3003]
PER_SA = 40


def two_workers(cfg):
    cfg["workers"] = 2
    eal = cfg["eal"]
    eal[eal.index("-l") + 1] = "0-1"
    return cfg


def config(tmp, name, priv_in, pub_in, static_host=True):
    sas = [{"name": f"out{k}", "direction": "out",
            "spec": spec(spi, "aes256-cbc", KEY_ENC, "sha256-128", KEY_AUTH, LOCAL, PEER)}
           for k, spi in enumerate(SPIS_OUT)]
    sas += [{"name": f"in{k}", "direction": "in",
             "spec": spec(spi, "aes256-cbc", KEY_ENC, "sha256-128", KEY_AUTH, PEER, LOCAL)}
            for k, spi in enumerate(SPIS_IN)]
    pol = []
    for k in range(4):
        pol.append({"name": f"o{k}", "priority": 10, "direction": "out", "src": ["10.1.0.0/16"],
                    "dst": [f"10.2.{k}.0/24"], "action": "protect", "sa": f"out{k}"})
        pol.append({"name": f"i{k}", "priority": 10, "direction": "in", "src": [f"10.2.{k}.0/24"],
                    "dst": ["10.1.0.0/16"], "action": "protect", "sa": f"in{k}"})
    cfg = two_workers(base_config(tmp, name, priv_in, pub_in, sas, {"default": "bypass", "policies": pol}))
    if not static_host:
        cfg["neighbors"] = [n for n in cfg["neighbors"] if n["port"] != "private"]
    return cfg


def workers_out(ipsecd, tmp):
    inner, frames = {k: [] for k in range(4)}, []
    for i in range(PER_SA * 4):
        k = i % 4
        p = IP(src="10.1.0.5", dst=f"10.2.{k}.{1 + i // 4}", ttl=64, id=i) / UDP(sport=4000 + i, dport=5000) / Raw(b"w" * (5 + i % 50))
        inner[k].append(p)
        frames.append(Ether(src=HOST_MAC, dst=PRIV_MAC) / p)
        if i % 16 == 0:  # plaintext beside the tunnels
            frames.append(Ether(src=HOST_MAC, dst=PRIV_MAC) / IP(src="10.1.0.5", dst="198.51.100.1") / UDP(sport=1, dport=i))
    wrpcap(f"{tmp}/priv_in.pcap", frames)
    wrpcap(f"{tmp}/pub_in.pcap", [Ether(src=GW_MAC, dst="02:00:00:00:09:09") / IP() / UDP()])
    c = run_ipsecd(ipsecd, tmp, config(tmp, "wout", f"{tmp}/priv_in.pcap", f"{tmp}/pub_in.pcap"))
    pub_out = read(tmp, "pub_out.pcap")

    from scapy.layers.ipsec import ESP
    esp = [p for p in pub_out if ESP in p]
    check(len(esp) == 4 * PER_SA, f"{4 * PER_SA} ESP packets expected, got {len(esp)}")
    bypassed = [p for p in pub_out if ESP not in p and IP in p and p[IP].dst == "198.51.100.1"]
    check(len(bypassed) == (4 * PER_SA + 15) // 16, f"bypassed packets on the public side: {len(bypassed)}")
    seen = {k: [] for k in range(4)}
    for p in esp:
        check(p[Ether].src == PUB_MAC and p[Ether].dst == GW_MAC and p[IP].src == LOCAL and p[IP].dst == PEER, "outer")
        k = SPIS_OUT.index(p[ESP].spi)
        got = scapy_sa(SPIS_OUT[k], LOCAL, PEER).decrypt(IP(bytes(p[IP])))
        seen[k].append((p[ESP].seq, bytes(got)))
    for k in range(4):
        seqs = [s for s, _ in seen[k]]
        check(seqs == list(range(1, PER_SA + 1)), f"SA {SPIS_OUT[k]:#x}: sequence numbers {seqs}")
        for (_, got), orig in zip(seen[k], inner[k]):
            want = IP(bytes(orig))
            want.ttl -= 1
            del want.chksum
            check(got == bytes(IP(bytes(want))), f"SA {SPIS_OUT[k]:#x}: inner packet differs or is out of order")
        check(c["sas"][f"out{k}"]["packets"] == PER_SA, f"SA counters {c['sas'][f'out{k}']}")
    # tshark agrees on every packet. (Payload sizes start at 5: this tshark reports a bad ICV
    # for a 4-byte UDP payload even on packets scapy itself encrypted.)
    tsas = [(LOCAL, PEER, spi, "AES-CBC [RFC3602]", KEY_ENC, "HMAC-SHA-256-128 [RFC4868]", KEY_AUTH) for spi in SPIS_OUT]
    rows = tshark_esp(f"{tmp}/pub_out.pcap", tsas)
    check(len(rows) == 4 * PER_SA and all(r[5] for r in rows), f"tshark: {len(rows)} rows, ICV all good")

    ev = c["events"]
    check(ev["encapsulated"] == 4 * PER_SA, f"events {ev}")
    check(0 < ev["handed_off"] < 4 * PER_SA, f"some packets handed to the other worker: {ev}")
    check(nonzero(c["drops"]) == {"not_for_us": 1}, f"drops {nonzero(c['drops'])}")


def workers_in(ipsecd, tmp):
    frame = lambda ip: Ether(src=GW_MAC, dst=PUB_MAC) / ip  # noqa: E731
    good, pub_in = [], []
    for i in range(PER_SA * 4):
        k = i % 4
        p = IP(src=f"10.2.{k}.9", dst="10.1.0.5", ttl=50, id=i) / UDP(sport=5000, dport=4000 + i) / Raw(b"r" * (i % 70))
        good.append(p)
        pub_in.append(frame(scapy_sa(SPIS_IN[k], PEER, LOCAL).encrypt(p, seq_num=1 + i // 4)))
    replays = [pub_in[4 * j + (j % 4)] for j in range(8)]  # two per SA, each already seen
    pub_in += replays
    wrpcap(f"{tmp}/pub_in.pcap", pub_in)
    # The host answers an ARP we never sent: an unsolicited reply to our address creates the entry.
    wrpcap(f"{tmp}/priv_in.pcap", [Ether(src=HOST_MAC, dst=PRIV_MAC) /
                                   ARP(op=2, hwsrc=HOST_MAC, psrc="10.1.0.5", hwdst=PRIV_MAC, pdst="10.1.0.1")])
    c = run_ipsecd(ipsecd, tmp, config(tmp, "win", f"{tmp}/priv_in.pcap", f"{tmp}/pub_in.pcap", static_host=False))
    priv_out = read(tmp, "priv_out.pcap")

    check(all(ARP not in p for p in priv_out), "no worker had to ARP for the host")
    got = sorted(bytes(p[IP]) for p in priv_out if IP in p and p[Ether].dst == HOST_MAC)
    want = []
    for p in good:
        w = IP(bytes(p))
        w.ttl -= 1
        del w.chksum
        want.append(bytes(IP(bytes(w))))
    check(len(got) == len(want) and got == sorted(want), f"{len(want)} decrypted packets expected, got {len(got)}")
    ev, dr, ed = c["events"], nonzero(c["drops"]), nonzero(c["esp_drops"])
    check(ev["decapsulated"] == len(good) and ev["arp_requests_sent"] == 0, f"events {ev}")
    check(0 < ev["handed_off"] < len(pub_in), f"some packets handed to the other worker: {ev}")
    check(dr == {"inbound_esp_error": len(replays)} and ed == {"replay": len(replays)}, f"drops {dr} {ed}")
    for k in range(4):
        check(c["sas"][f"in{k}"]["packets"] == PER_SA and c["sas"][f"in{k}"]["drops"] == {"replay": 2},
              f"SA counters {c['sas'][f'in{k}']}")


def workers_lcores(ipsecd, tmp):
    wrpcap(f"{tmp}/in.pcap", [Ether() / IP() / ICMP()])
    cfg = config(tmp, "wlc", f"{tmp}/in.pcap", f"{tmp}/in.pcap")
    cfg["eal"][cfg["eal"].index("-l") + 1] = "0"
    p = run_ipsecd(ipsecd, tmp, cfg, expect_rc=2)
    check("workers" in p.stderr and "lcores" in p.stderr, f"message names the key: {p.stderr}")


if __name__ == "__main__":
    main({"workers_out": workers_out, "workers_in": workers_in, "workers_lcores": workers_lcores})
