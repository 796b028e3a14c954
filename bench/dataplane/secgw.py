"""run.py --compare secgw: ipsecd against DPDK 22.11's ipsec-secgw example on the same harness.

1. The example's source comes from Debian's dpdk-doc package (/usr/share/dpdk/examples/ipsec-secgw,
   same version as libdpdk-dev); it is installed on demand when running as root. It is copied to
   build/secgw-example/src (never into the repository) and built with its own Makefile against the
   installed libdpdk (pkg-config), cached by a stamp of the package version and our patch.
2. One build-time patch, because the example cannot start on net_pcap/net_null otherwise: its
   port_conf hard-codes rxmode.offloads = RTE_ETH_RX_OFFLOAD_CHECKSUM and port_init() exits with
   "Error: port 0 required RX offloads: 0xe, available RX offloads: 0x0" (--rxoffload only masks
   what the device offers, it cannot drop the request). The application never reads the Rx
   checksum flags (no RTE_MBUF_F_RX_*_CKSUM in its source), so requesting nothing changes no
   packet processing; on a real NIC the NIC would verify checksums for free.
3. Each case (direction, algorithm, frame size) gets one pcap (run.make_pcap) that both engines
   replay: port 0 net_pcap rx_pcap=FILE,infinite_rx=1, port 1 net_null (no-rx=1), one lcore.
   secgw: port 0 is protected (-u 0x2) outbound and unprotected (-u 0x1) inbound, since its
   "unprotected" port is the one ESP arrives on. Its SAs/SPs/routes mirror ipsecd's static config.
4. Before measuring a case, a short secgw run writes port 1 to a pcap (tx_pcap) and the first
   packets are checked with scapy: outbound they must decrypt (ICV checked) to the inner frames,
   inbound they must be the plaintext inner frames. A secgw that drops or mangles stops the run.
5. Measurement, the same for both: port 1's opackets growth (telemetry /ethdev/stats,1 over the
   process's file-prefix socket) over --seconds, 1 s after its first frame went out. ipsecd runs
   through run.run_engine (its config, unchanged); its own events / run_ms is a cross-check. The
   two alternate --reps times, the first one swapping each repetition; printed are the medians,
   their ratio and the median of the per-repetition ratios (each from two back-to-back runs).
6. --shared-lcore: instead of alternating, each repetition starts secgw, then ipsecd on the same
   lcore; the kernel time-slices the two pollers (half the core each) and both windows cover the
   same interval (run_shared). The machine's phases then slow both alike: the ratio is steady to
   about 2% where back-to-back runs move by up to 40%. The rates printed are half an engine's.
"""
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from scapy.all import IP, UDP, Ether, rdpcap

EXAMPLE = "/usr/share/dpdk/examples/ipsec-secgw"
PATCH_FROM = ".offloads = RTE_ETH_RX_OFFLOAD_CHECKSUM,"
PATCH_TO = ".offloads = 0, /* ipsecd bench: net_pcap/net_null offer no Rx checksum offload */"
OUT_SPI, IN_SPI = 0x4001, 0x4002


def pkg_version(name):
    p = subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True, text=True, check=False)
    return p.stdout.strip() if p.returncode == 0 else None


def ensure_source():
    if os.path.isdir(EXAMPLE):
        return
    if os.geteuid() != 0:
        sys.exit(f"{EXAMPLE} is missing: install Debian's dpdk-doc (apt-get install dpdk-doc), it ships the example")
    print("secgw: installing dpdk-doc (it ships the ipsec-secgw example source) ...", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(["apt-get", "install", "-y", "-q", "dpdk-doc"], env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "dpdk-doc"], env=env, check=True)
    if not os.path.isdir(EXAMPLE):
        sys.exit(f"dpdk-doc installed but {EXAMPLE} is still missing")


def build_secgw(root):
    """Copy, patch and build the example in build/secgw-example; returns the binary's path."""
    ensure_source()
    doc, dev = pkg_version("dpdk-doc"), pkg_version("libdpdk-dev")
    if doc != dev:
        print(f"secgw: warning: dpdk-doc {doc} differs from libdpdk-dev {dev}", flush=True)
    dest = os.path.join(root, "build", "secgw-example")
    src, binary = os.path.join(dest, "src"), os.path.join(dest, "src", "build", "ipsec-secgw")
    stamp = f"dpdk-doc {doc}\n{PATCH_TO}\n"
    stamp_path = os.path.join(dest, "stamp")
    if os.path.exists(binary) and os.path.exists(stamp_path) and open(stamp_path).read() == stamp:
        return binary
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(EXAMPLE, src)
    main_c = os.path.join(src, "ipsec-secgw.c")
    text = open(main_c).read()
    if text.count(PATCH_FROM) != 1:
        sys.exit(f"secgw: {main_c} no longer has exactly one '{PATCH_FROM}': check the Rx offload patch")
    with open(main_c, "w") as f:
        f.write(text.replace(PATCH_FROM, PATCH_TO))
    print(f"secgw: building ipsec-secgw {doc} in {dest} ...", flush=True)
    p = subprocess.run(["make", "-C", src], capture_output=True, text=True, check=False)
    if p.returncode != 0 or not os.path.exists(binary):
        sys.exit(f"secgw: build failed:\n{p.stdout[-3000:]}{p.stderr[-3000:]}")
    with open(stamp_path, "w") as f:
        f.write(stamp)
    return binary


def colon_hex(b):
    return ":".join(f"{x:02x}" for x in b)


def write_cfg(path, dp, direction, alg):
    """SAs, SPs, routes and neighbours equivalent to run.run_engine's static config (both SAs present)."""
    def sa(d, spi, src, dst):
        if alg == "gcm":
            keys = f"aead_algo aes-256-gcm aead_key {colon_hex(dp.KEY_GCM)}"
        else:
            keys = (f"cipher_algo aes-256-cbc cipher_key {colon_hex(dp.KEY_ENC)} "
                    f"auth_algo sha256-hmac auth_key {colon_hex(dp.KEY_AUTH)}")
        return f"sa {d} {spi} {keys} mode ipv4-tunnel src {src} dst {dst}\n"
    ports = "sport 0:65535 dport 0:65535"  # the default range is 0:0
    text = (f"sp ipv4 out esp protect {OUT_SPI} pri 1 src 10.1.0.0/16 dst 10.2.0.0/16 {ports}\n"
            f"sp ipv4 in esp protect {IN_SPI} pri 1 src 10.2.0.0/16 dst 10.1.0.0/16 {ports}\n"
            + sa("out", OUT_SPI, dp.LOCAL, dp.PEER) + sa("in", IN_SPI, dp.PEER, dp.LOCAL))
    # port 1 (the sink) is the way out in both directions
    text += f"rt ipv4 dst {dp.PEER}/32 port 1\nrt ipv4 dst 10.1.0.0/16 port 1\n"
    text += f"neigh port 1 {dp.GW_MAC if direction == 'out' else '02:00:00:00:01:55'}\n"
    with open(path, "w") as f:
        f.write(text)


def telemetry_path(prefix):
    base = "/var/run/dpdk" if os.geteuid() == 0 else os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk")
    return os.path.join(base, prefix, "dpdk_telemetry.v2")


def port_stats(path, port):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.connect(path)
        s.recv(4096)  # greeting
        s.send(f"/ethdev/stats,{port}".encode())
        return json.loads(s.recv(1 << 16).decode())["/ethdev/stats"]
    finally:
        s.close()


class secgw_process:
    """One ipsec-secgw run on the bench harness; port 1 is net_null or, with tx_pcap, a file."""

    def __init__(self, binary, tmp, pcap, direction, alg, lcore, lib, dp, tx_pcap=None):
        self.prefix = f"dpsecgw{os.getpid()}"
        cfg = os.path.join(tmp, f"secgw-{direction}-{alg}.cfg")
        write_cfg(cfg, dp, direction, alg)
        sink = f"--vdev=net_pcap1,tx_pcap={tx_pcap}" if tx_pcap else \
            "--vdev=net_null0" + os.environ.get("DPBENCH_NULL_ARGS", ",no-rx=1")
        cmd = [binary, "--no-huge", "-m", "1024", "--no-pci", "-l", str(lcore), f"--file-prefix={self.prefix}",
               "--log-level=4", f"--vdev=net_pcap0,rx_pcap={pcap},infinite_rx=1", sink, "--vdev=crypto_aesni_mb",
               "--", "-p", "0x3", "-P", "-u", "0x2" if direction == "out" else "0x1",
               "--config", f"(0,0,{lcore}),(1,0,{lcore})", "-f", cfg] + (["-l"] if lib else [])
        self.log_path = os.path.join(tmp, "secgw.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=dp.die_with_parent)
        self.sock = telemetry_path(self.prefix)

    def fail(self, why):
        self.stop()
        sys.exit(f"ipsec-secgw: {why}; its log:\n{open(self.log_path).read()[-4000:]}")

    def stats(self):
        return port_stats(self.sock, 0), port_stats(self.sock, 1)

    def wait_traffic(self, timeout=30.0):
        """Until port 1 has sent something; fails if secgw exits or forwards nothing."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.fail(f"exited with {self.proc.returncode}")
            if os.path.exists(self.sock):
                try:
                    rx, tx = self.stats()
                    if tx["opackets"] > 0:
                        return
                except (OSError, ValueError, KeyError):
                    pass
            time.sleep(0.1)
        rx = tx = {}
        try:
            rx, tx = self.stats()
        except (OSError, ValueError, KeyError):
            pass
        self.fail(f"sent nothing in {timeout:.0f} s (port 0 received {rx.get('ipackets')}, "
                  f"port 1 sent {tx.get('opackets')}): it drops everything")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def sample(sock):
    """(time, port 1 opackets, port 0 ipackets) over one connection, the time taken around the tx
    read: on this loaded VM the telemetry thread can be descheduled between two requests."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.connect(sock)
        s.recv(4096)  # greeting
        def get(port):
            s.send(f"/ethdev/stats,{port}".encode())
            return json.loads(s.recv(1 << 16).decode())["/ethdev/stats"]
        before = time.monotonic()
        tx = get(1)["opackets"]
        when = (before + time.monotonic()) / 2
        return when, tx, get(0)["ipackets"]
    finally:
        s.close()


def window(sock, seconds):
    """(Mpps sent by port 1, share of port 0's received frames not sent) over `seconds`, 1 s after now."""
    time.sleep(1.0)  # warm-up
    t0, tx0, rx0 = sample(sock)
    time.sleep(seconds)
    t1, tx1, rx1 = sample(sock)
    sent, received = tx1 - tx0, rx1 - rx0
    return sent / (t1 - t0) / 1e6, (1.0 - sent / received) if received else 1.0


def run_secgw(binary, tmp, pcap, direction, alg, seconds, lcore, lib, dp):
    p = secgw_process(binary, tmp, pcap, direction, alg, lcore, lib, dp)
    try:
        p.wait_traffic()
        return window(p.sock, seconds)
    finally:
        p.stop()


def run_ours(dp, ipsecd, tmp, direction, alg, frame, seconds, lcore, pcap):
    """run.run_engine, measured like secgw: port 1's opackets over ipsecd's telemetry socket (its
    file-prefix is dpbench<our pid>; port 0 is net_pcap0, port 1 net_null0 in both directions).
    Also returns ipsecd's own rate (events / run_ms over the whole run) and its drops."""
    sock, res = telemetry_path(f"dpbench{os.getpid()}"), {}

    def measure():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if port_stats(sock, 1)["opackets"] > 0:
                    res["window"] = window(sock, seconds)
                    return
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.1)
    th = threading.Thread(target=measure, daemon=True)
    th.start()
    own, drops = dp.run_engine(ipsecd, tmp, direction, alg, frame, True, seconds + 2.0, lcore, pcap=pcap)
    th.join(timeout=5)
    return res.get("window"), own, drops


def run_shared(binary, ipsecd, tmp, pcap, direction, alg, frame, seconds, lcore, lib, dp):
    """--shared-lcore: secgw and ipsecd on the same lcore at once, time-sliced by the kernel (both
    poll without sleeping, so each gets half the core). Both windows cover the same interval, so
    a phase of the machine (other tenants, frequency) slows both alike: their ratio is the ratio of
    work per packet, steady to about 2% here where back-to-back runs move by up to 40%. The rates
    are each half of what the engine does alone. Returns (ours, secgw) Mpps and our drops."""
    p = secgw_process(binary, tmp, pcap, direction, alg, lcore, lib, dp)
    res = {}
    try:
        p.wait_traffic()
        th = threading.Thread(target=lambda: res.update(own=dp.run_engine(
            ipsecd, tmp, direction, alg, frame, True, seconds + 4.0, lcore, pcap=pcap)), daemon=True)
        th.start()
        sock = telemetry_path(f"dpbench{os.getpid()}")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                ready = port_stats(sock, 1)["opackets"] > 0
            except (OSError, ValueError, KeyError):
                ready = False
            if not ready:
                time.sleep(0.1)
                continue
            time.sleep(1.0)  # warm-up
            a0, b0 = sample(sock), sample(p.sock)
            time.sleep(seconds)
            a1, b1 = sample(sock), sample(p.sock)
            res["ours"] = (a1[1] - a0[1]) / (a1[0] - a0[0]) / 1e6
            res["secgw"] = (b1[1] - b0[1]) / (b1[0] - b0[0]) / 1e6
            break
        th.join(timeout=seconds + 30)
    finally:
        p.stop()
    if "ours" not in res:
        sys.exit("--shared-lcore: ipsecd sent nothing within 30 s")
    return res["ours"], res["secgw"], res.get("own", (0.0, {}))[1]


def verify_secgw(binary, tmp, pcap, direction, alg, frame, lcore, lib, dp):
    """A short run into a tx_pcap: the first frames out of secgw must be right (see 4. above)."""
    out_pcap = os.path.join(tmp, "secgw-verify.pcap")
    p = secgw_process(binary, tmp, pcap, direction, alg, lcore, lib, dp, tx_pcap=out_pcap)
    try:
        p.wait_traffic()
        time.sleep(0.3)
    finally:
        p.stop()
    pkts = rdpcap(out_pcap, count=64)
    if not pkts:
        sys.exit(f"ipsec-secgw {direction} {alg} {frame}: wrote no frames")
    for n, pkt in enumerate(pkts):
        try:
            ip = pkt[IP]
            if direction == "out":
                if (ip.src, ip.dst, ip.proto) != (dp.LOCAL, dp.PEER, 50):
                    raise ValueError(f"outer header {ip.src} -> {ip.dst} proto {ip.proto}")
                ip = dp.scapy_sa(alg, spi=OUT_SPI).decrypt(ip)  # checks the ICV
            want_src, want_dst = ("10.1.0.5", "10.2.0.7") if direction == "out" else ("10.2.0.7", "10.1.0.5")
            if (ip.src, ip.dst) != (want_src, want_dst) or UDP not in ip or ip[UDP].dport != 5001:
                raise ValueError(f"inner packet {ip.summary()}")
            if len(ip) != frame - 14 or bytes(ip[UDP].payload) != b"\x5a" * (frame - 42):
                raise ValueError(f"inner length {len(ip)} or payload differs")
            want_mac = dp.GW_MAC if direction == "out" else "02:00:00:00:01:55"
            if pkt[Ether].dst != want_mac:
                raise ValueError(f"destination MAC {pkt[Ether].dst}")
        except Exception as e:  # pylint: disable=broad-except
            sys.exit(f"ipsec-secgw {direction} {alg} {frame}: output frame {n} is wrong: {e}")
    return len(pkts)


def machine_note():
    up = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    return f"{up}; {os.cpu_count()} CPUs"


def compare(a, dp):
    ipsecd = f"{a.build}/tools/ipsecd/ipsecd"
    if not os.access(ipsecd, os.X_OK):
        sys.exit(f"{ipsecd} is missing: build it (cmake --build BUILD --target ipsecd) or pass --build")
    binary = build_secgw(dp.ROOT)
    mode = "librte_ipsec path (-l)" if a.secgw_lib else "legacy path (its default)"
    runs = "runs sharing the lcore at once (rates are half an engine's)" if a.shared_lcore else "alternating runs"
    print(f"# ipsecd {ipsecd} vs ipsec-secgw {pkg_version('dpdk-doc')} {mode}, crypto_aesni_mb; lcore {a.lcore}, "
          f"{a.seconds:g} s per run, {a.reps} {runs}, medians", flush=True)
    print(f"# start: {machine_note()}", flush=True)
    print(f"{'dir':4} {'alg':4} {'frame':>5} {'ours':>8} {'secgw':>8} {'ratio':>6} {'pairs':>6}  "
          "(Mpps medians, their ratio, median of the per-repetition ratios; runs ours | secgw)", flush=True)
    with tempfile.TemporaryDirectory(prefix="dpsecgw_") as tmp:
        for d in a.dirs.split(","):
            for alg in a.algs.split(","):
                for size in (int(s) for s in a.sizes.split(",")):
                    pcap = os.path.join(tmp, f"{d}-{alg}-{size}.pcap")
                    dp.make_pcap(pcap, d, alg, size, True)
                    verify_secgw(binary, tmp, pcap, d, alg, size, a.lcore, a.secgw_lib, dp)
                    ours, theirs, notes = [], [], []
                    for rep in range(a.reps if a.shared_lcore else 0):
                        o, t, drops = run_shared(binary, ipsecd, tmp, pcap, d, alg, size, a.seconds, a.lcore,
                                                 a.secgw_lib, dp)
                        ours.append(o)
                        theirs.append(t)
                        if drops:
                            notes.append(f"ours drops {drops}")
                    for rep in range(0 if a.shared_lcore else a.reps):
                        for who in (("ours", "secgw") if rep % 2 == 0 else ("secgw", "ours")):
                            if who == "ours":
                                w, own, drops = run_ours(dp, ipsecd, tmp, d, alg, size, a.seconds, a.lcore, pcap)
                                if w is None:
                                    notes.append("ours: no telemetry window, its own run rate used")
                                    w = (own, 0.0)
                                elif abs(own - w[0]) > 0.1 * w[0]:
                                    notes.append("ours: own run rate differs >10% from the window")
                                ours.append(w[0])
                                if drops:
                                    notes.append(f"ours drops {drops}")
                                if w[1] > 0.01:
                                    notes.append(f"ours sent only {100 * (1 - w[1]):.0f}% of what it received")
                            else:
                                r, lost = run_secgw(binary, tmp, pcap, d, alg, a.seconds, a.lcore, a.secgw_lib, dp)
                                theirs.append(r)
                                if lost > 0.01:
                                    notes.append(f"secgw sent only {100 * (1 - lost):.0f}% of what it received")
                    mo, ms = statistics.median(ours), statistics.median(theirs)
                    pairs = statistics.median(o / t for o, t in zip(ours, theirs) if t)  # back-to-back runs
                    runs = " ".join(f"{x:.2f}" for x in ours) + " | " + " ".join(f"{x:.2f}" for x in theirs)
                    print(f"{d:4} {alg:4} {size:>5} {mo:8.3f} {ms:8.3f} {mo / ms if ms else float('inf'):6.2f} "
                          f"{pairs:6.2f}  ({runs})"
                          + (f"  {'; '.join(sorted(set(notes)))}" if notes else ""), flush=True)
    print(f"# end: {machine_note()}", flush=True)
