#!/usr/bin/python3
"""CLI test of `ipsec-vector spd-classify` against an independent Python oracle.

Packets are built with scapy and each carries its ground-truth selector fields (family,
addresses, protocol, ports or None for non-first fragments / port-less protocols). The oracle
evaluates the policies with the ipaddress module (lower priority wins, ties: first listed,
port selectors only match packets that have ports unless they are 0-65535) and the tool's
output must match line for line. Also: non-IP and malformed frames, Ethernet and raw-IP
captures, pcapng, and bad inputs (exit 2 with a message naming the policy and the field).
Usage: spd_classify_test.py PATH/TO/ipsec-vector
"""
import functools
import ipaddress
import json
import os
import random
import subprocess
import sys
import tempfile

from scapy.all import (ARP, IP, IPv6, TCP, UDP, ICMP, Ether, Dot1Q, Raw, GRE, IPv6ExtHdrHopByHop,
                       IPv6ExtHdrRouting, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, ICMPv6EchoRequest,
                       wrpcap, PcapNgWriter)
from scapy.layers.sctp import SCTP

TOOL = sys.argv[1]


def eth():
    # Explicit MACs: without them scapy resolves next hops (slow, and touches the host's ARP).
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


PORT_PROTOS = {6, 17, 132}
NAMES = {"any": None, "tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "sctp": 132}
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


# ---------------------------------------------------------------- oracle
def port_ok(rng, port):
    if rng is None:
        return True
    lo, hi = rng
    if lo == 0 and hi == 65535:
        return True
    return port is not None and lo <= port <= hi


def parse_range(v):
    if v is None:
        return None
    if isinstance(v, int):
        return (v, v)
    if "-" in v:
        a, b = v.split("-")
        return (int(a), int(b))
    return (int(v), int(v))


@functools.lru_cache(maxsize=None)
def network(cidr):
    return ipaddress.ip_network(cidr)


def oracle(doc, t):
    """t = (src, dst, proto, sport, dport); sport/dport None when the packet has no ports."""
    src, dst, proto, sport, dport = t
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    best = None
    for pos, p in enumerate(doc["policies"]):
        if p.get("direction", "out") != "out":
            continue
        nets_ok = True
        for field, addr in (("src", s), ("dst", d)):
            if field in p:
                nets = [network(c) for c in p[field]]
                nets_ok &= any(n.version == addr.version and addr in n for n in nets)
        pr = p.get("proto", "any")
        pr = NAMES[pr] if isinstance(pr, str) else pr
        if pr is not None and pr != proto:
            continue
        if not nets_ok or not port_ok(parse_range(p.get("sport")), sport) or not port_ok(parse_range(p.get("dport")), dport):
            continue
        key = (p.get("priority", 0), pos)
        if best is None or key < best[0]:
            best = (key, p)
    if best is None:
        return {"action": doc.get("default", "bypass"), "policy": None}
    return {"action": best[1]["action"], "policy": best[1]["name"]}


def run_tool(policies_path, pcap_path, *extra):
    return subprocess.run([TOOL, "spd-classify", "--policies", policies_path, "--in", pcap_path, *extra],
                          capture_output=True, text=True)


# ---------------------------------------------------------------- packets
def l4(proto, sport, dport):
    if proto == 6:
        return TCP(sport=sport, dport=dport)
    if proto == 17:
        return UDP(sport=sport, dport=dport)
    if proto == 132:
        return SCTP(sport=sport, dport=dport)
    if proto == 1:
        return ICMP()
    if proto == 58:
        return ICMPv6EchoRequest()
    if proto == 47:
        return GRE()
    return Raw(b"\x00" * 8)


EXT_CODES = {"IPv6ExtHdrHopByHop": 0, "IPv6ExtHdrRouting": 43, "IPv6ExtHdrDestOpt": 60, "IPv6ExtHdrFragment": 44}


def make_packet(src, dst, proto, sport=None, dport=None, frag_offset=0, ext=()):
    """Returns (scapy IP packet, ground truth tuple). Next Header / Protocol fields are set
    explicitly so that scapy's defaults cannot hide anything."""
    v6 = ":" in src
    has_ports = proto in PORT_PROTOS and frag_offset == 0
    payload = l4(proto, sport or 0, dport or 0) / Raw(b"x" * 12)
    if frag_offset:
        payload = Raw(bytes(payload)[:16])  # a later fragment: no transport header
    if not v6:
        pkt = IP(src=src, dst=dst, proto=proto, frag=frag_offset, flags=0) / payload
    else:
        chain = [e.copy() for e in ext]
        if frag_offset:
            chain.append(IPv6ExtHdrFragment(offset=frag_offset, m=0))
        codes = [EXT_CODES[type(e).__name__] for e in chain] + [proto]
        pkt = IPv6(src=src, dst=dst, nh=codes[0])
        for i, e in enumerate(chain):
            e.nh = codes[i + 1]
            pkt = pkt / e
        pkt = pkt / payload
    truth = (src, dst, proto, sport if has_ports else None, dport if has_ports else None)
    return pkt, truth


POLICIES = {
    "default": "bypass",
    "policies": [
        {"name": "web", "priority": 10, "src": ["10.1.0.0/24"], "dst": ["10.2.0.0/16", "2001:db8:2::/48"],
         "proto": "tcp", "dport": "443", "action": "protect", "sa": "out5"},
        {"name": "tunnel", "priority": 100, "src": ["10.1.0.0/16", "2001:db8:1::/48"],
         "dst": ["10.2.0.0/16", "2001:db8:2::/48"], "action": "protect"},
        {"name": "deny-telnet", "priority": 5, "proto": "tcp", "dport": 23, "action": "discard"},
        {"name": "dns", "priority": 20, "proto": "udp", "sport": "1024-65535", "dport": "53", "action": "bypass"},
        {"name": "gre", "priority": 30, "proto": 47, "action": "discard"},
        {"name": "tie-a", "priority": 50, "src": ["192.0.2.0/24"], "action": "discard"},
        {"name": "tie-b", "priority": 50, "src": ["192.0.2.128/25"], "action": "protect"},
        {"name": "inbound", "priority": 0, "direction": "in", "action": "discard"},
        {"name": "icmp6", "priority": 40, "src": ["2001:db8:9::/48"], "proto": "icmpv6", "action": "discard"},
        {"name": "v6-ports", "priority": 60, "dst": ["2001:db8:5::/64"], "proto": "udp", "dport": "1000-2000",
         "action": "protect"},
    ],
}


def fixed_packets():
    hbh, rt, do = IPv6ExtHdrHopByHop(), IPv6ExtHdrRouting(), IPv6ExtHdrDestOpt()
    cases = [
        make_packet("10.1.0.5", "10.2.3.4", 6, 40000, 443),          # web
        make_packet("10.1.0.5", "10.2.3.4", 6, 40000, 80),           # tunnel
        make_packet("10.1.7.5", "10.2.3.4", 6, 40000, 443),          # tunnel (src outside /24)
        make_packet("10.1.0.5", "10.2.3.4", 6, 40000, 23),           # deny-telnet beats web/tunnel
        make_packet("10.9.0.5", "10.8.3.4", 17, 5353, 53),           # dns
        make_packet("10.9.0.5", "10.8.3.4", 17, 53, 53),             # default (sport < 1024)
        make_packet("10.9.0.5", "10.8.3.4", 47),                     # gre
        make_packet("192.0.2.200", "198.51.100.1", 17, 1, 2),        # tie-a (first listed)
        make_packet("10.1.0.5", "10.2.3.4", 6, 40000, 443, frag_offset=100),   # fragment: tunnel, not web
        make_packet("10.9.0.5", "10.8.3.4", 17, 5353, 53, frag_offset=10),     # fragment: not dns
        make_packet("2001:db8:1::1", "2001:db8:2::2", 6, 1000, 443),           # tunnel (v6 src not in web's v4 list)
        make_packet("2001:db8:1::1", "2001:db8:2::2", 6, 1000, 23, ext=(hbh, rt, do)),  # deny-telnet via ext hdrs
        make_packet("2001:db8:1::1", "2001:db8:3::2", 17, 1000, 53),           # dns
        make_packet("2001:db8:9::1", "2001:db8:3::2", 58),                     # icmp6
        make_packet("2001:db8:9::1", "2001:db8:5::7", 17, 9, 1500, ext=(do,)),  # v6-ports
        make_packet("2001:db8:9::1", "2001:db8:5::7", 17, 9, 1500, frag_offset=20),  # fragment: default
        make_packet("2001:db8:9::1", "2001:db8:5::7", 17, 9, 2001),            # default
        make_packet("203.0.113.1", "203.0.113.2", 1),                          # default
    ]
    return cases


def write_capture(path, frames, linktype=None, pcapng=False):
    if pcapng:
        w = PcapNgWriter(path)
        for f in frames:
            w.write(f)
        w.close()
    else:
        wrpcap(path, frames, linktype=linktype) if linktype is not None else wrpcap(path, frames)


def compare(out, expected, label):
    lines = out.strip().split("\n") if out.strip() else []
    check(len(lines) == len(expected), f"{label}: {len(lines)} lines for {len(expected)} frames")
    for i, (line, exp) in enumerate(zip(lines, expected)):
        got = json.loads(line)
        want = dict(index=i, **exp)
        if exp["action"] == "malformed":
            check(got.get("action") == "malformed" and got.get("policy") is None and got.get("index") == i,
                  f"{label}: frame {i}: got {got}, want malformed")
        else:
            check(got == want, f"{label}: frame {i}: got {got}, want {want}")


def main():
    with tempfile.TemporaryDirectory(prefix="spd-cli-") as tmp:
        pol_path = os.path.join(tmp, "policies.json")
        with open(pol_path, "w") as f:
            json.dump(POLICIES, f)

        cases = fixed_packets()
        # Ethernet capture with a VLAN tag on one frame, an ARP frame and a truncated IPv4 frame.
        frames, expected = [], []
        for n, (pkt, truth) in enumerate(cases):
            frames.append(eth() / Dot1Q(vlan=7) / pkt if n == 3 else eth() / pkt)
            expected.append(oracle(POLICIES, truth))
        frames.append(eth() / ARP(psrc="10.1.0.9", hwsrc="02:00:00:00:00:01", pdst="10.1.0.1"))
        expected.append({"action": "not_ip", "policy": None})
        frames.append(Ether(bytes(eth() / IP(src="10.1.0.5", dst="10.2.3.4") / TCP())[:14 + 12]))
        expected.append({"action": "malformed", "policy": None})
        eth_path = os.path.join(tmp, "eth.pcap")
        write_capture(eth_path, frames)
        r = run_tool(pol_path, eth_path)
        check(r.returncode == 0, f"ethernet run exit {r.returncode}: {r.stderr}")
        compare(r.stdout, expected, "ethernet")
        # Spot checks the oracle itself must satisfy (guards against a broken oracle).
        names = [e["policy"] for e in expected]
        check(names[:8] == ["web", "tunnel", "tunnel", "deny-telnet", "dns", None, "gre", "tie-a"],
              f"oracle sanity: {names[:8]}")
        check(names[8] == "tunnel" and names[9] is None, f"oracle sanity fragments: {names[8:10]}")

        # Same packets as raw IP (DLT_RAW) and as pcapng; --linear agrees.
        raw_path = os.path.join(tmp, "raw.pcap")
        write_capture(raw_path, [p for p, _ in cases], linktype=101)
        r = run_tool(pol_path, raw_path)
        check(r.returncode == 0, f"raw run exit {r.returncode}: {r.stderr}")
        compare(r.stdout, expected[:len(cases)], "raw-ip")
        r2 = run_tool(pol_path, raw_path, "--linear")
        check(r2.stdout == r.stdout, "--linear output differs from the compiled classifier")
        ng_path = os.path.join(tmp, "eth.pcapng")
        write_capture(ng_path, frames, pcapng=True)
        r = run_tool(pol_path, ng_path)
        check(r.returncode == 0, f"pcapng run exit {r.returncode}: {r.stderr}")
        compare(r.stdout, expected, "pcapng")

        # Random policies and packets, checked against the oracle.
        rng = random.Random(1234)
        for round_no in range(3):
            doc = random_policies(rng, 60)
            rp = os.path.join(tmp, f"rand{round_no}.json")
            with open(rp, "w") as f:
                json.dump(doc, f)
            pkts = [random_packet(rng, doc) for _ in range(300)]
            cap = os.path.join(tmp, f"rand{round_no}.pcap")
            write_capture(cap, [eth() / p for p, _ in pkts])
            r = run_tool(rp, cap)
            check(r.returncode == 0, f"random round {round_no} exit {r.returncode}: {r.stderr}")
            compare(r.stdout, [oracle(doc, t) for _, t in pkts], f"random round {round_no} (seed 1234)")

        bad_inputs(tmp, eth_path)
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("spd-classify CLI: all checks passed")


def random_policies(rng, n):
    def cidr(v6):
        if v6:
            base = rng.choice(["2001:db8:1::", "2001:db8:2::", "2001:db8:1:8000::"])
            ln = rng.choice([32, 48, 56, 64, 80, 112, 128])
        else:
            base = rng.choice(["10.1.0.0", "10.1.128.0", "10.2.0.0", "192.0.2.0"])
            ln = rng.choice([8, 12, 16, 17, 24, 28, 32])
        return str(ipaddress.ip_network(f"{base}/{ln}", strict=False))

    pols = []
    for i in range(n):
        p = {"name": f"r{i}", "priority": rng.randrange(6), "action": rng.choice(["protect", "bypass", "discard"])}
        for field in ("src", "dst"):
            if rng.random() < 0.7:
                p[field] = [cidr(rng.random() < 0.4) for _ in range(rng.randint(1, 2))]
        proto = rng.choice(["any", "tcp", "udp", "icmp", 47, "sctp"])
        if proto != "any" or rng.random() < 0.5:
            p["proto"] = proto
        if proto in ("any", "tcp", "udp", "sctp") and rng.random() < 0.5:
            lo = rng.randrange(0, 3000)
            p[rng.choice(["sport", "dport"])] = f"{lo}-{lo + rng.randrange(0, 500)}" if rng.random() < 0.6 else str(lo)
        if rng.random() < 0.1:
            p["direction"] = "in"
        pols.append(p)
    return {"default": rng.choice(["bypass", "discard"]), "policies": pols}


def random_packet(rng, doc):
    v6 = rng.random() < 0.4
    def addr():
        if v6:
            base = int(ipaddress.IPv6Address(rng.choice(["2001:db8:1::", "2001:db8:2::", "2001:db8:1:8000::"])))
            return str(ipaddress.IPv6Address(base + rng.getrandbits(rng.choice([8, 40, 72]))))
        base = int(ipaddress.IPv4Address(rng.choice(["10.1.0.0", "10.1.128.0", "10.2.0.0", "192.0.2.0"])))
        return str(ipaddress.IPv4Address(base + rng.getrandbits(rng.choice([4, 8, 16]))))
    proto = rng.choice([6, 17, 1 if not v6 else 58, 47, 132])
    sport, dport = rng.randrange(0, 3600), rng.randrange(0, 3600)
    frag = rng.choice([0, 0, 0, 0, 37])
    ext = (IPv6ExtHdrDestOpt(),) if v6 and rng.random() < 0.3 and not frag else ()
    return make_packet(addr(), addr(), proto, sport, dport, frag_offset=frag, ext=ext)


def bad_inputs(tmp, pcap_path):
    def expect_exit2(text, must_contain, label):
        path = os.path.join(tmp, "bad.json")
        with open(path, "w") as f:
            f.write(text)
        r = run_tool(path, pcap_path)
        check(r.returncode == 2, f"{label}: exit {r.returncode}, want 2")
        for s in must_contain:
            check(s in r.stderr, f"{label}: stderr {r.stderr!r} lacks {s!r}")
        check(r.stdout == "", f"{label}: printed classification lines before failing")

    expect_exit2('{"policies": [{"name": "p1", "action": "bypass"', ["bad JSON"], "truncated JSON")
    expect_exit2('{"policies": [{"name": "ok", "action": "bypass"}, {"name": "p7", "src": ["10.1.0.0/33"], "action": "bypass"}]}',
                 ['"p7"', '"src"'], "bad CIDR length")
    expect_exit2('{"policies": [{"name": "gw", "dst": ["2001:db8::zz/48"], "action": "protect"}]}',
                 ['"gw"', '"dst"'], "bad IPv6 CIDR")
    expect_exit2('{"policies": [{"name": "h", "src": ["10.1.0.1/24"], "action": "protect"}]}',
                 ['"h"', '"src"'], "host bits set")
    expect_exit2('{"policies": [{"name": "pp", "dport": "99999", "action": "protect"}]}',
                 ['"pp"', '"dport"'], "bad port")
    expect_exit2('{"policies": [{"name": "q", "proto": "tcpx", "action": "protect"}]}',
                 ['"q"', '"proto"'], "bad proto")
    r = run_tool(os.path.join(tmp, "missing.json"), pcap_path)
    check(r.returncode == 2, f"missing policies file: exit {r.returncode}")
    with open(os.path.join(tmp, "ok.json"), "w") as f:
        f.write('{"policies": []}')
    r = run_tool(os.path.join(tmp, "ok.json"), os.path.join(tmp, "missing.pcap"))
    check(r.returncode == 2, f"missing capture: exit {r.returncode}")
    r = subprocess.run([TOOL, "spd-classify", "--in", pcap_path], capture_output=True, text=True)
    check(r.returncode == 2, f"missing --policies: exit {r.returncode}")


if __name__ == "__main__":
    main()
