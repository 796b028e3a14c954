#!/usr/bin/python3
"""Turns off checksum offload, TSO, GSO and GRO on a network device through the legacy
SIOCETHTOOL commands (no ethtool binary on the test machine). Packet sockets (DPDK's
net_af_packet) must see real, finished frames: no 64 KB super-segments, no missing checksums."""
import fcntl
import socket
import struct
import sys

SIOCETHTOOL = 0x8946
COMMANDS = {"tx": 0x17, "sg": 0x19, "tso": 0x1f, "gso": 0x24, "gro": 0x2c}


def set_off(dev):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for name, cmd in COMMANDS.items():
        value = struct.pack("II", cmd, 0)
        buf = bytearray(value)
        addr = __import__("ctypes").addressof((__import__("ctypes").c_char * len(buf)).from_buffer(buf))
        ifreq = struct.pack("16sP", dev.encode(), addr)
        try:
            fcntl.ioctl(s.fileno(), SIOCETHTOOL, ifreq)
        except OSError as e:
            sys.stderr.write(f"ethtool_off: {dev} {name}: {e}\n")
    s.close()


if __name__ == "__main__":
    for d in sys.argv[1:]:
        set_off(d)
