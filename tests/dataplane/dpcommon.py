"""Shared helpers for the ipsecd pcap-vector tests: run ipsecd over net_pcap ports and read
its JSON counters. Runs under /usr/bin/python3 (scapy)."""
import json
import os
import subprocess
import sys
import tempfile

from scapy.all import Ether, rdpcap, wrpcap  # noqa: F401

PRIV_MAC = "02:00:00:00:01:01"
PUB_MAC = "02:00:00:00:02:01"
HOST_MAC = "02:00:00:00:01:55"   # a VPC host on the private side
GW_MAC = "02:00:00:00:02:fe"     # the public side's next hop (internet gateway)

KEY_ENC = bytes(range(0x10, 0x30))            # 32 bytes, AES-256
KEY_AUTH = bytes(range(0x40, 0x60))           # 32 bytes, HMAC-SHA-256
KEY_GCM = bytes(range(0x70, 0x94))            # 36 bytes: AES-256 key + 4-byte salt


def spec(spi, enc, enc_key, integ, integ_key, src, dst, extra=""):
    s = f"spi={spi:#x},enc={enc},enc-key={enc_key.hex()},"
    if integ:
        s += f"integ={integ},integ-key={integ_key.hex()},"
    s += f"src={src},dst={dst}"
    return s + ("," + extra if extra else "")


def base_config(tmp, name, priv_in, pub_in, sas=(), policies=None, idle_ms=400, **extra):
    """Two net_pcap ports: private 10.1.0.1/24, public 172.16.1.1/24 with gateway .254."""
    cfg = {
        "eal": ["--no-huge", "-m", "256", "--no-pci", "-l", "0",
                f"--file-prefix=dptest_{name}_{os.getpid()}", "--log-level=4",
                f"--vdev=net_pcap0,rx_pcap={priv_in},tx_pcap={tmp}/priv_out.pcap",
                f"--vdev=net_pcap1,rx_pcap={pub_in},tx_pcap={tmp}/pub_out.pcap"],
        "ports": [
            {"name": "private", "role": "private", "device": "net_pcap0", "ip": "10.1.0.1/24", "mac": PRIV_MAC},
            {"name": "public", "role": "public", "device": "net_pcap1", "ip": "172.16.1.1/24",
             "gateway": "172.16.1.254", "mac": PUB_MAC, "vips": ["172.16.1.10"]},
        ],
        "neighbors": [{"port": "public", "ip": "172.16.1.254", "mac": GW_MAC},
                      {"port": "private", "ip": "10.1.0.5", "mac": HOST_MAC}],
        "routes": [{"dst": "192.0.2.0/24", "via": "10.1.0.5", "port": "private"}],
        "static": {"sas": list(sas),
                   "policies": policies if policies is not None else {"default": "bypass", "policies": []}},
        "workers": 1,
        "exit_when_idle_ms": idle_ms,
        "summary_interval_ms": 0,
        "idle_sleep_us": 200,
    }
    cfg.update(extra)
    return cfg


def run_ipsecd(ipsecd, tmp, cfg, expect_rc=0, args=()):
    path = os.path.join(tmp, "config.json")
    with open(path, "w") as f:
        json.dump(cfg, f, indent=1)
    p = subprocess.run([ipsecd, "--config", path, *args], capture_output=True, text=True, timeout=60)
    if p.returncode != expect_rc:
        sys.stderr.write(p.stderr)
        raise AssertionError(f"ipsecd exited {p.returncode}, expected {expect_rc}")
    if expect_rc != 0:
        return p
    lines = [line for line in p.stdout.splitlines() if line.startswith("{")]
    assert lines, "no JSON counters on stdout:\n" + p.stdout + p.stderr
    return json.loads(lines[-1])


def read(tmp, name):
    path = os.path.join(tmp, name)
    if not os.path.exists(path) or os.path.getsize(path) <= 24:
        return []
    return list(rdpcap(path))


def nonzero(d):
    return {k: v for k, v in d.items() if v}


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def main(scenarios):
    if len(sys.argv) != 3 or sys.argv[2] not in scenarios:
        sys.stderr.write(f"usage: {sys.argv[0]} IPSECD {{{'|'.join(scenarios)}}}\n")
        sys.exit(2)
    with tempfile.TemporaryDirectory(prefix="dptest_") as tmp:
        scenarios[sys.argv[2]](sys.argv[1], tmp)
    print(f"{sys.argv[2]}: OK")


def tshark_esp(pcap, sas):
    """Decrypt with tshark (a second, independent ESP implementation). sas: list of
    (src, dst, spi, enc, enc_key, integ, integ_key) with tshark's algorithm names. Returns
    [(outer_src, inner_src, outer_dst, inner_dst, seq, icv_good)] for each ESP packet."""
    uat = []
    for src, dst, spi, enc, ek, integ, ik in sas:
        uat += ["-o", f'uat:esp_sa:"IPv4","{src}","{dst}","{spi:#010x}","{enc}","0x{ek.hex()}","{integ}","0x{ik.hex() if ik else ""}"']
    cmd = ["tshark", "-r", pcap, "-o", "esp.enable_encryption_decode:TRUE", "-o", "esp.enable_authentication_check:TRUE",
           "-o", "udp.try_heuristic_first:FALSE"] + uat + \
          ["-Y", "esp", "-T", "fields", "-e", "ip.src", "-e", "ip.dst", "-e", "esp.sequence", "-e", "esp.icv_good"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "tshark failed: " + p.stderr)
    rows = []
    for line in p.stdout.splitlines():
        src, dst, seq, good = (line.split("\t") + ["", "", "", ""])[:4]
        s, d = src.split(","), dst.split(",")
        rows.append((s[0], s[-1], d[0], d[-1], int(seq or 0), good in ("1", "True")))
    return rows
