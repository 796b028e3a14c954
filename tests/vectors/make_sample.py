"""Generates sample/inner.pcap, the bundled demo input (run once; the output is committed).

A few small inner packets on Ethernet, as they would leave a VPC subnet towards the tunnel:
IPv4 ICMP echo, UDP and a TCP SYN; IPv6 ICMPv6 echo and UDP. Fixed timestamps, so the file is
reproducible byte for byte.

usage: /usr/bin/python3 make_sample.py [OUT.pcap]
"""
import os
import sys

import oracle_common as oc
from oracle_common import ICMP, ICMPv6EchoRequest, IP, IPv6, Raw, TCP, UDP, raw


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "sample", "inner.pcap")
    pkts = [
        IP(src="10.1.0.10", dst="10.2.0.20", id=1) / ICMP(id=1, seq=1) / Raw(b"ipsec-engine demo"),
        IP(src="10.1.0.10", dst="10.2.0.20", id=2) / UDP(sport=40000, dport=40001) / Raw(b"hello over ESP"),
        IP(src="10.1.0.10", dst="10.2.0.20", id=3, flags="DF", tos=0x28) / TCP(sport=40002, dport=8080, flags="S", seq=1000),
        IPv6(src="fd00:1::10", dst="fd00:2::20") / ICMPv6EchoRequest(id=2, seq=1, data=b"ipsec-engine demo v6"),
        IPv6(src="fd00:1::10", dst="fd00:2::20") / UDP(sport=40003, dport=40004) / Raw(b"hello v6"),
    ]
    oc.write_pcap(out, oc.DLT_EN10MB, [oc.frame_for(oc.DLT_EN10MB, raw(p)) for p in pkts])
    print("wrote %s (%d packets)" % (out, len(pkts)))


if __name__ == "__main__":
    main()
