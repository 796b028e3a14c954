#!/usr/bin/python3
"""Data-plane benchmark harness (a script, not a test; it never asserts a time).

Port 0 is net_pcap replaying a pcap forever (rx_pcap=FILE,infinite_rx=1), port 1 is net_null
as the sink, one worker lcore. For each direction (out: inner packets -> ESP; in: ESP -> inner),
algorithm (aes256-cbc + sha256-128, aes256gcm16) and frame size it prints, from the same run:
  engine  - ipsecd's ESP rate (Mpps),
  bypass  - ipsecd forwarding the same frames without ESP (I/O + pipeline alone),
  crypto  - bench_dataplane_crypto, the bare ESP operation on bursts of 32 in memory,
and the ratios engine/bypass and engine/crypto. Inbound SAs run with window=0 because the
same ESP packets are replayed over and over.

With --feeder testpmd (outbound only) the frames come from a second process instead, as a
packet generator would feed real NICs: `dpdk-testpmd --forward-mode=txonly` (UDP 10.1.0.5 ->
10.2.0.7 at the frame size) on its forwarding lcore 0, over `net_memif` (testpmd the server,
ipsecd's private port the client); the rates are then taken from ipsecd's one-second summary
lines (the counters' growth between the first and the last line), so start-up and memif
link-up do not count. ipsecd starts only after testpmd said it started forwarding (a memif
client that connects earlier is dropped by testpmd's port start and never reconnects).
engine/bypass compares the same feeder with and without ESP.

With --scale SAS,POLICIES (pcap feeder) the engine is loaded with SAS outbound and SAS inbound
SAs and POLICIES outbound /32 policies (plus one inbound policy per inbound SA), and the 256
flows of the pcap are spread over them: outbound flow i goes to policy i*POLICIES/256 (whose SA
is that index modulo SAS), inbound packet i comes on inbound SA i*SAS/256. The bypass column is
then the same frames without policies.

usage: bench/dataplane/run.py [--build build/release] [--seconds 3] [--sizes 64,512,1400]
                              [--algs cbc,gcm] [--dirs out,in] [--lcore 1] [--feeder pcap|testpmd]
                              [--scale 10000,100000]
       bench/dataplane/run.py --compare secgw [--reps 3] [--secgw-lib] [--sizes/--algs/--dirs/--seconds/--lcore]

With --compare secgw, DPDK 22.11's ipsec-secgw example (built from Debian's dpdk-doc package at run
time, see secgw.py and README.md) runs on the same pcap, net_null sink and lcore, alternately with
ipsecd, and the medians and the ratio ipsecd/secgw are printed.
"""
import re
import threading
import argparse
import ctypes
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from scapy.all import IP, UDP, Ether, Raw, wrpcap
from scapy.layers.ipsec import ESP, SecurityAssociation

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEY_ENC, KEY_AUTH, KEY_GCM = bytes(range(32)), bytes(range(32, 64)), bytes(range(64, 100))
PRIV_MAC, PUB_MAC, GW_MAC = "02:00:00:00:01:01", "02:00:00:00:02:01", "02:00:00:00:02:fe"
LOCAL, PEER = "172.16.1.1", "172.16.2.1"
SCALE = None  # (number of SAs per direction, number of outbound policies) with --scale


def die_with_parent():
    """Popen preexec_fn: the child gets SIGTERM when this script dies, so a killed benchmark does not
    leave an engine spinning on the lcore with infinite_rx (PR_SET_PDEATHSIG)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def scale_addr(j):
    """The j-th remote host of the scale run (10.128.0.0/9 holds 8M of them)."""
    return f"10.{128 + (j >> 16)}.{(j >> 8) & 255}.{j & 255}"


def sa_spec(spi, alg, src, dst, inbound):
    s = f"spi={spi:#x},src={src},dst={dst}" + (",window=0" if inbound else "")
    if alg == "gcm":
        return s + f",enc=aes256gcm16,enc-key={KEY_GCM.hex()}"
    return s + f",enc=aes256-cbc,enc-key={KEY_ENC.hex()},integ=sha256-128,integ-key={KEY_AUTH.hex()}"


def scapy_sa(alg, spi=0x4002):
    if alg == "gcm":
        return SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM", crypt_key=KEY_GCM,
                                   tunnel_header=IP(src=PEER, dst=LOCAL))
    return SecurityAssociation(ESP, spi=spi, crypt_algo="AES-CBC", crypt_key=KEY_ENC, auth_algo="SHA2-256-128",
                               auth_key=KEY_AUTH, tunnel_header=IP(src=PEER, dst=LOCAL))


def inner(direction, i, frame, remote="10.2.0.7"):
    src, dst = ("10.1.0.5", remote) if direction == "out" else (remote, "10.1.0.5")
    pad = max(0, frame - 14 - 20 - 8)
    return IP(src=src, dst=dst, ttl=64) / UDP(sport=1024 + i, dport=5001) / Raw(b"\x5a" * pad)


def make_pcap(path, direction, alg, frame, esp):
    pkts = []
    sa = scapy_sa(alg)
    for i in range(256):
        ip = inner(direction, i, frame)
        if SCALE:
            n_sas, n_pol = SCALE
            k = i * n_sas // 256
            ip = inner(direction, i, frame, scale_addr(i * n_pol // 256 if direction == "out" else k))
            sa = scapy_sa(alg, 0x200000 + k)
        if direction == "out":
            pkts.append(Ether(src="02:00:00:00:01:55", dst=PRIV_MAC) / ip)
        else:
            pkts.append(Ether(src=GW_MAC, dst=PUB_MAC) / (sa.encrypt(ip, seq_num=i + 1) if esp else ip))
    wrpcap(path, pkts)


def start_testpmd(tmp, sock, frame):
    """dpdk-testpmd txonly on lcore 0 (its main lcore 1 only sleeps), server end of the memif."""
    cmd = ["dpdk-testpmd", "--no-huge", "-m", "1024", "--no-pci", "-l", "0,1", "--main-lcore=1",
           f"--file-prefix=dptp{os.getpid()}", "--log-level=4", f"--vdev=net_memif0,role=server,socket={sock},socket-abstract=no",
           "--", "--forward-mode=txonly", f"--txpkts={frame}", "--tx-ip=10.1.0.5,10.2.0.7",
           f"--eth-peer=0,{PRIV_MAC}", "--auto-start", "--stats-period=1", "--total-num-mbufs=8192"]
    # Ready only once its port is started: the socket exists from the EAL probe on, but a client
    # that connects before "Configuring Port 0" is dropped by the port start and the memif client
    # PMD does not reconnect (ipsecd then receives nothing). Its output is read to the end (the
    # stats it prints every second must not fill the pipe).
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                         preexec_fn=die_with_parent)
    ready = threading.Event()

    def read_stdout():
        for line in p.stdout:
            if "start packet forwarding" in line.lower():
                ready.set()
        ready.set()  # exited: the check below reports it
    threading.Thread(target=read_stdout, daemon=True).start()
    if ready.wait(timeout=30) and p.poll() is None and os.path.exists(sock):
        return p
    p.kill()
    sys.exit("dpdk-testpmd did not start forwarding on the memif port")


SUMMARY = re.compile(r"encap (\d+) decap (\d+) bypass (\d+)")


def summary_rate(lines, key):
    """Mpps from ipsecd's summary lines [(monotonic time, line)]: growth from the first to the last."""
    idx = {"encapsulated": 0, "decapsulated": 1, "bypassed": 2}[key]
    pts = [(t, int(m.group(idx + 1))) for t, l in lines if (m := SUMMARY.search(l))]
    pts = [p for p in pts if p[1] > 0] or pts  # from the first second with traffic (memif link-up, loading)
    if len(pts) < 2 or pts[-1][0] <= pts[0][0]:
        return 0.0
    return (pts[-1][1] - pts[0][1]) / (pts[-1][0] - pts[0][0]) / 1e6


def run_engine(ipsecd, tmp, direction, alg, frame, esp, seconds, lcore, feeder="pcap", pcap=None):
    if feeder == "testpmd":
        sock = f"{tmp}/memif-{os.getpid()}.sock"
        feed = f"--vdev=net_memif0,role=client,socket={sock},socket-abstract=no"
        priv_dev, pub_dev = "net_memif0", "net_null0"
        tp = start_testpmd(tmp, sock, frame)
    else:
        if pcap is None:  # else the caller built it (--compare replays one file to both engines)
            pcap = f"{tmp}/{direction}-{alg}-{frame}-{'esp' if esp else 'bypass'}.pcap"
            make_pcap(pcap, direction, alg, frame, esp)
        feed = f"--vdev=net_pcap0,rx_pcap={pcap},infinite_rx=1"
        priv_dev, pub_dev = ("net_pcap0", "net_null0") if direction == "out" else ("net_null0", "net_pcap0")
        tp = None
    pol = []
    if esp:
        pol = [{"name": "o", "priority": 1, "direction": "out", "src": ["10.1.0.0/16"], "dst": ["10.2.0.0/16"],
                "action": "protect", "sa": "out"},
               {"name": "i", "priority": 1, "direction": "in", "src": ["10.2.0.0/16"], "dst": ["10.1.0.0/16"],
                "action": "protect", "sa": "in"}]
    sas = [{"name": "out", "direction": "out", "spec": sa_spec(0x4001, alg, LOCAL, PEER, False)},
           {"name": "in", "direction": "in", "spec": sa_spec(0x4002, alg, PEER, LOCAL, True)}]
    if SCALE:
        n_sas, n_pol = SCALE
        sas = [{"name": f"o{k}", "direction": "out", "spec": sa_spec(0x100000 + k, alg, LOCAL, PEER, False)}
               for k in range(n_sas)]
        sas += [{"name": f"i{k}", "direction": "in", "spec": sa_spec(0x200000 + k, alg, PEER, LOCAL, True)}
                for k in range(n_sas)]
        pol = []
        if esp:
            pol = [{"name": f"o{j}", "priority": 1, "direction": "out", "src": ["10.1.0.0/16"],
                    "dst": [scale_addr(j) + "/32"], "action": "protect", "sa": f"o{j % n_sas}"} for j in range(n_pol)]
            pol += [{"name": f"i{k}", "priority": 1, "direction": "in", "src": [scale_addr(k) + "/32"],
                     "dst": ["10.1.0.0/16"], "action": "protect", "sa": f"i{k}"} for k in range(n_sas)]
    cfg = {
        "eal": ["--no-huge", "-m", "512", "--no-pci", "-l", str(lcore), f"--file-prefix=dpbench{os.getpid()}",
                "--log-level=4", feed, "--vdev=net_null0" + os.environ.get("DPBENCH_NULL_ARGS", ",no-rx=1")],
        "ports": [{"name": "private", "role": "private", "device": priv_dev, "ip": "10.1.0.1/24", "mac": PRIV_MAC},
                  {"name": "public", "role": "public", "device": pub_dev, "ip": LOCAL + "/24", "gateway": "172.16.1.254",
                   "mac": PUB_MAC}],
        "neighbors": [{"port": "public", "ip": "172.16.1.254", "mac": GW_MAC},
                      {"port": "private", "ip": "10.1.0.5", "mac": "02:00:00:00:01:55"}],
        "routes": [{"dst": "10.1.0.0/16", "via": "10.1.0.5", "port": "private"}],
        "static": {"sas": sas, "policies": {"default": "bypass", "policies": pol}},
        "workers": 1, "summary_interval_ms": 1000 if tp or SCALE else 0, "mbufs": 16383,
    }
    path = f"{tmp}/bench.json"
    with open(path, "w") as f:
        json.dump(cfg, f)
    p = subprocess.Popen([ipsecd, "--config", path, "--print-counters"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, preexec_fn=die_with_parent)
    lines, err_text = [], []

    def read_stderr():
        for line in p.stderr:
            err_text.append(line)
            lines.append((time.monotonic(), line))
    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    if tp or SCALE:
        # rates from the summary lines: wait for the first one (a scale config takes a while to load)
        deadline = time.monotonic() + 300
        while not any(SUMMARY.search(l) for _, l in lines) and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(seconds + 1.0)
    else:
        time.sleep(seconds + 2.0)  # EAL start-up and pcap loading take a second or two; run_ms excludes them
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=30)
    reader.join(timeout=5)
    if tp:
        tp.send_signal(signal.SIGINT)
        try:
            tp.wait(timeout=10)
        except subprocess.TimeoutExpired:
            tp.kill()
    if p.returncode != 0:
        sys.exit(f"ipsecd failed ({p.returncode}): {''.join(err_text)}{out}")
    c = json.loads(out.strip().splitlines()[-1])
    key = "bypassed" if not esp else ("encapsulated" if direction == "out" else "decapsulated")
    drops = {k: v for k, v in c["drops"].items() if v}
    if tp or SCALE:
        return summary_rate(lines, key), drops
    return c["events"][key] / (c["run_ms"] / 1000.0) / 1e6, drops


def run_crypto(build, direction, alg, frame, seconds):
    p = subprocess.run([f"{build}/bench/bench_dataplane_crypto", direction, alg, str(frame), str(seconds)],
                       capture_output=True, text=True, check=True)
    return json.loads(p.stdout)["mpps"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--sizes", default="64,512,1400")
    ap.add_argument("--algs", default="cbc,gcm")
    ap.add_argument("--dirs", default="out,in")
    ap.add_argument("--lcore", type=int, default=1)
    ap.add_argument("--feeder", choices=["pcap", "testpmd"], default="pcap")
    ap.add_argument("--scale", help="SAS,POLICIES: load that many SAs (per direction) and outbound policies")
    ap.add_argument("--compare", choices=["secgw"], help="ipsecd against DPDK's ipsec-secgw example (see secgw.py)")
    ap.add_argument("--reps", type=int, default=3, help="--compare: alternating runs per case (median)")
    ap.add_argument("--secgw-lib", action="store_true", help="--compare: run ipsec-secgw with -l (librte_ipsec path)")
    ap.add_argument("--shared-lcore", action="store_true",
                    help="--compare: both engines at once on the one lcore, measured over the same interval "
                         "(a ratio steady on a noisy machine; each rate is half an engine's)")
    a = ap.parse_args()
    if a.compare:
        import secgw  # pylint: disable=import-outside-toplevel
        secgw.compare(a, sys.modules[__name__])
        return
    if a.scale:
        global SCALE
        SCALE = tuple(int(x) for x in a.scale.split(","))
        if a.feeder != "pcap" or len(SCALE) != 2 or not 1 <= SCALE[0] <= SCALE[1] <= 1 << 23:
            sys.exit("--scale SAS,POLICIES with 1 <= SAS <= POLICIES <= 8388608, pcap feeder only")
    if a.feeder == "testpmd":
        a.dirs = "out"  # txonly generates plaintext frames
    ipsecd = f"{a.build}/tools/ipsecd/ipsecd"
    print(f"{'dir':4} {'alg':4} {'frame':>5} {'engine':>8} {'bypass':>8} {'crypto':>8} {'eng/byp':>8} {'eng/cry':>8}  (Mpps)")
    with tempfile.TemporaryDirectory(prefix="dpbench_") as tmp:
        for d in a.dirs.split(","):
            for alg in a.algs.split(","):
                for size in (int(s) for s in a.sizes.split(",")):
                    eng, drops = run_engine(ipsecd, tmp, d, alg, size, True, a.seconds, a.lcore, a.feeder)
                    byp, _ = run_engine(ipsecd, tmp, d, alg, size, False, a.seconds, a.lcore, a.feeder)
                    cry = run_crypto(a.build, d, alg, size, a.seconds)
                    print(f"{d:4} {alg:4} {size:>5} {eng:8.3f} {byp:8.3f} {cry:8.3f} {eng / byp:8.2f} {eng / cry:8.2f}"
                          + (f"  drops {drops}" if drops else ""), flush=True)


if __name__ == "__main__":
    main()
