#!/usr/bin/python3
"""Two ipsecd gateways with static SAs in network namespaces, joined by veth pairs and driven by
DPDK's net_af_packet, a Linux host namespace behind each:

    hA (10.1.0.5) -- [gA: private 10.1.0.1 | public 172.16.1.1] ==ESP== [gB: public 172.16.1.2 |
    private 10.2.0.1] -- hB (10.2.0.7)

Checks, for ESP (mode "esp") or UDP-encapsulated ESP (mode "natt"): ping through the tunnel;
path MTU discovery learns the tunnel MTU from our ICMP "fragmentation needed" (esp mode) or the
MSS clamp shrinks TCP segments (natt mode); a 2 MB TCP transfer arrives intact (SHA-256); a
capture on gA's public veth is decrypted and authenticated by tshark and shows only ESP; the
DPDK telemetry command /ipsec/stats answers; both engines' counters show no ESP drop. Mode
"esp_2w" is "esp" with gateway A running two workers on two queue pairs per port (the kernel's
PACKET_FANOUT spreads received packets like RSS): its SAs each have one owning worker, so
packets arriving on the other queue are handed over, which the counters must show. Namespaces
and processes are removed on every exit path."""
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dpcommon import check, tshark_esp  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"
TAG = f"{os.getpid() % 100000}"
NS = {k: f"dp{k}{TAG}" for k in ("hA", "gA", "gB", "hB")}
KEYS = {"a2b": (bytes(range(1, 33)), bytes(range(101, 133))), "b2a": (bytes(range(33, 65)), bytes(range(133, 165)))}
SPI_A2B, SPI_B2A = 0x2001, 0x2002

procs = []


def sh(*cmd, check_rc=True, ns=None, **kw):
    full = (["ip", "netns", "exec", NS[ns]] if ns else []) + list(cmd)
    p = subprocess.run(full, capture_output=True, text=True, **kw)
    if check_rc and p.returncode != 0:
        raise AssertionError(f"{' '.join(full)} -> {p.returncode}\n{p.stdout}{p.stderr}")
    return p


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    for n in NS.values():
        subprocess.run(["ip", "netns", "del", n], capture_output=True)


def topology():
    for n in NS.values():
        sh("ip", "netns", "add", n)
    sh("ip", "-n", NS["gA"], "link", "add", "name", "priv", "type", "veth", "peer", "name", "eth0", "netns", NS["hA"])
    sh("ip", "-n", NS["gB"], "link", "add", "name", "priv", "type", "veth", "peer", "name", "eth0", "netns", NS["hB"])
    sh("ip", "-n", NS["gA"], "link", "add", "name", "pub", "type", "veth", "peer", "name", "pub", "netns", NS["gB"])
    for k in NS:
        sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", ns=k)
        sh("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1", ns=k)
        sh("ip", "link", "set", "lo", "up", ns=k)
    for g in ("gA", "gB"):
        for dev in ("priv", "pub"):
            sh(PY, f"{HERE}/ethtool_off.py", dev, ns=g)
            sh("ip", "link", "set", dev, "up", ns=g)
    for h, addr, gw in (("hA", "10.1.0.5/24", "10.1.0.1"), ("hB", "10.2.0.7/24", "10.2.0.1")):
        sh(PY, f"{HERE}/ethtool_off.py", "eth0", ns=h)
        sh("ip", "addr", "add", addr, "dev", "eth0", ns=h)
        sh("ip", "link", "set", "eth0", "up", ns=h)
        sh("ip", "route", "add", "default", "via", gw, ns=h)


def spec(spi, keys, src, dst, natt):
    s = f"spi={spi:#x},enc=aes256-cbc,enc-key={keys[0].hex()},integ=sha256-128,integ-key={keys[1].hex()},src={src},dst={dst}"
    return s + (",natt=4500:4500" if natt else "")


def gateway_config(tmp, side, natt, workers=1):
    me, peer = ("172.16.1.1", "172.16.1.2") if side == "A" else ("172.16.1.2", "172.16.1.1")
    mine, theirs = ("10.1.0.0/16", "10.2.0.0/16") if side == "A" else ("10.2.0.0/16", "10.1.0.0/16")
    out_spi, in_spi = (SPI_A2B, SPI_B2A) if side == "A" else (SPI_B2A, SPI_A2B)
    out_keys, in_keys = (KEYS["a2b"], KEYS["b2a"]) if side == "A" else (KEYS["b2a"], KEYS["a2b"])
    cfg = {
        "eal": ["--no-huge", "-m", "256", "--no-pci", "-l", ("0" if side == "A" else "1") if workers == 1 else "0-1",
                f"--file-prefix=dp{side}{TAG}", "--log-level=4",
                f"--vdev=net_af_packet0,iface=priv,qpairs={workers}",
                # qdisc_bypass=0: our transmissions pass the kernel taps, so tcpdump sees both ways
                f"--vdev=net_af_packet1,iface=pub,qpairs={workers},qdisc_bypass=0"],
        "ports": [{"name": "private", "role": "private", "device": "net_af_packet0",
                   "ip": "10.1.0.1/24" if side == "A" else "10.2.0.1/24"},
                  {"name": "public", "role": "public", "device": "net_af_packet1", "ip": me + "/24"}],
        "static": {
            "sas": [{"name": "out", "direction": "out", "spec": spec(out_spi, out_keys, me, peer, natt)},
                    {"name": "in", "direction": "in", "spec": spec(in_spi, in_keys, peer, me, natt)}],
            "policies": {"default": "bypass", "policies": [
                {"name": "o", "priority": 10, "direction": "out", "src": [mine], "dst": [theirs], "action": "protect", "sa": "out"},
                {"name": "i", "priority": 10, "direction": "in", "src": [theirs], "dst": [mine], "action": "protect", "sa": "in"}]}},
        "workers": workers, "exit_when_idle_ms": 0, "summary_interval_ms": 0, "idle_sleep_us": 200,
        "mss_clamp": 1300 if natt else 0,
    }
    path = os.path.join(tmp, f"gw{side}.json")
    with open(path, "w") as f:
        json.dump(cfg, f, indent=1)
    return path


def start(ns, cmd, log):
    p = subprocess.Popen(["ip", "netns", "exec", NS[ns]] + cmd, stdout=open(log + ".out", "w"),
                         stderr=open(log + ".err", "w"))
    procs.append(p)
    return p


def run(ipsecd, mode, tmp):
    natt = mode == "natt"
    workers_a = 2 if mode == "esp_2w" else 1
    topology()
    ga = start("gA", [ipsecd, "--config", gateway_config(tmp, "A", natt, workers_a), "--print-counters"], f"{tmp}/gA")
    gb = start("gB", [ipsecd, "--config", gateway_config(tmp, "B", natt), "--print-counters"], f"{tmp}/gB")
    cap = start("gA", ["tcpdump", "-i", "pub", "-U", "-w", f"{tmp}/pub.pcap", "-s", "0", "not arp"], f"{tmp}/tcpdump")

    # 1. ping through the tunnel (the first ones also resolve ARP on all four links)
    deadline = time.time() + 20
    while sh("ping", "-c", "1", "-W", "1", "10.2.0.7", ns="hA", check_rc=False).returncode != 0:
        for p in (ga, gb):
            check(p.poll() is None, f"ipsecd exited early:\n{open(f'{tmp}/gA.err').read()}{open(f'{tmp}/gB.err').read()}")
        check(time.time() < deadline, "no ping through the tunnel within 20 s")
    p = sh("ping", "-c", "5", "-i", "0.2", "-W", "2", "10.2.0.7", ns="hA")
    check(" 0% packet loss" in p.stdout, p.stdout)
    sh("ping", "-c", "2", "-W", "2", "10.1.0.1", ns="hB")  # gA's private address, through the tunnel

    # 2. path MTU: a full-size DF ping gets "fragmentation needed" with the tunnel MTU
    if not natt:
        sh("ping", "-c", "1", "-W", "2", "-M", "do", "-s", "1472", "10.2.0.7", ns="hA", check_rc=False)
        route = sh("ip", "route", "get", "10.2.0.7", ns="hA").stdout
        check("mtu 1438" in route, f"PMTU not learned from our ICMP: {route}")

    # 3. TCP transfer, checked end to end
    data = os.urandom(2 * 1024 * 1024)
    with open(f"{tmp}/data.bin", "wb") as f:
        f.write(data)
    server = start("hB", [PY, "-c", (
        "import socket,hashlib,sys\n"
        "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        "s.bind(('10.2.0.7',5001)); s.listen(1); s.settimeout(30); c,_=s.accept(); c.settimeout(30)\n"
        "h=hashlib.sha256(); n=0\n"
        "while True:\n"
        "    b=c.recv(65536)\n"
        "    if not b: break\n"
        "    h.update(b); n+=len(b)\n"
        "print(n, h.hexdigest())\n")], f"{tmp}/server")
    time.sleep(0.5)
    sh(PY, "-c", (
        "import socket,sys\n"
        "s=socket.create_connection(('10.2.0.7',5001), timeout=30)\n"
        f"s.sendall(open('{tmp}/data.bin','rb').read()); s.shutdown(socket.SHUT_WR); s.recv(1)\n"), ns="hA", timeout=60)
    server.wait(timeout=30)
    got = open(f"{tmp}/server.out").read().split()
    check(got == [str(len(data)), hashlib.sha256(data).hexdigest()], f"TCP transfer corrupted or short: {got}")

    # 4. telemetry
    tel = subprocess.run(["dpdk-telemetry.py", "-f", f"dpA{TAG}"], input="/ipsec/stats\n", capture_output=True,
                         text=True, timeout=20)
    check('"encapsulated"' in tel.stdout and '"public": {' in tel.stdout and '"tx_packets"' in tel.stdout,
          f"telemetry /ipsec/stats: {tel.stdout}{tel.stderr}")

    time.sleep(0.5)
    cap.send_signal(signal.SIGINT)
    cap.wait(timeout=10)
    for p in (ga, gb):
        p.send_signal(signal.SIGTERM)
        check(p.wait(timeout=20) == 0, "ipsecd did not exit cleanly")
    counters = {s: json.loads(open(f"{tmp}/g{s}.out").read().splitlines()[-1]) for s in ("A", "B")}
    for s, c in counters.items():
        check(not any(c["esp_drops"].values()), f"gateway {s} ESP drops: {c['esp_drops']}")
        check(c["events"]["encapsulated"] > 1000 or s == "B", f"gateway {s} encapsulated {c['events']}")
        check(c["events"]["decapsulated"] > 10, f"gateway {s} decapsulated {c['events']}")
    if workers_a > 1:
        check(counters["A"]["events"]["handed_off"] > 0, f"gateway A handed nothing over: {counters['A']['events']}")
    if natt:
        check(counters["A"]["events"]["mss_clamped"] >= 1, f"MSS clamp: {counters['A']['events']}")
    else:
        check(counters["A"]["drops"]["frag_needed"] >= 1, f"frag-needed: {counters['A']['drops']}")

    # 5. the capture: only ESP on the public wire, and tshark decrypts and authenticates it
    rows = tshark_esp(f"{tmp}/pub.pcap", [
        ("172.16.1.1", "172.16.1.2", SPI_A2B, "AES-CBC [RFC3602]", KEYS["a2b"][0], "HMAC-SHA-256-128 [RFC4868]", KEYS["a2b"][1]),
        ("172.16.1.2", "172.16.1.1", SPI_B2A, "AES-CBC [RFC3602]", KEYS["b2a"][0], "HMAC-SHA-256-128 [RFC4868]", KEYS["b2a"][1])])
    a2b = [r for r in rows if r[0] == "172.16.1.1"]
    b2a = [r for r in rows if r[0] == "172.16.1.2"]
    check(len(a2b) > 1000 and len(b2a) > 100, f"ESP packets in the capture: {len(a2b)} / {len(b2a)}")
    check(all(r[5] for r in rows), "tshark: ICV check failed on some packets")
    check(all(r[1] == "10.1.0.5" and r[3] == "10.2.0.7" for r in a2b if r[1] != "10.1.0.1"), "inner A->B addresses")
    check(all(r[1] in ("10.2.0.7",) and r[3] in ("10.1.0.5", "10.1.0.1") for r in b2a), "inner B->A addresses")
    plain = subprocess.run(["tshark", "-r", f"{tmp}/pub.pcap", "-Y", "ip and not esp and not udp.port == 4500"],
                           capture_output=True, text=True).stdout.strip()
    check(plain == "", f"plaintext on the public wire:\n{plain[:500]}")
    if natt:
        udp = subprocess.run(["tshark", "-r", f"{tmp}/pub.pcap", "-Y", "esp and not udp.port == 4500"],
                             capture_output=True, text=True).stdout.strip()
        check(udp == "", "ESP not UDP-encapsulated in natt mode")


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("esp", "natt", "esp_2w"):
        sys.stderr.write(f"usage: {sys.argv[0]} IPSECD esp|natt|esp_2w\n")
        sys.exit(2)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    with tempfile.TemporaryDirectory(prefix="dp2gw_") as tmp:
        try:
            run(sys.argv[1], sys.argv[2], tmp)
        except BaseException:
            for f in sorted(os.listdir(tmp)):
                if f.endswith((".err", ".out")):
                    sys.stderr.write(f"--- {f}\n{open(os.path.join(tmp, f)).read()[-3000:]}\n")
            raise
        finally:
            cleanup()
    print(f"two_gateways {sys.argv[2]}: OK")


if __name__ == "__main__":
    main()
