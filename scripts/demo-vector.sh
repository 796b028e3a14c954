#!/bin/sh
# The main job until the tunnel demo exists: run the engine's ESP library over the bundled
# sample capture with ipsec-vector, encrypt (ESP tunnel mode) then decrypt, and show that the
# decrypted packets equal the input byte for byte. Exits non-zero if they differ.
#
# usage: scripts/demo-vector.sh [PATH/TO/ipsec-vector]   (default: build/release/tools/ipsec-vector)
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
tool="${1:-$root/build/release/tools/ipsec-vector}"
sample="$root/tests/vectors/sample/inner.pcap"
[ -x "$tool" ] || { echo "demo-vector: $tool not found; build first (./scripts/build.sh release)" >&2; exit 2; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/demo-vector.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT INT TERM

# A fixed demo SA (aes256-cbc + HMAC-SHA-256-128, RFC 5737 documentation addresses). These keys
# are public demo values, never for real traffic.
enc_key=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
integ_key=202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f
sa="spi=0x11223344,enc=aes256-cbc,enc-key=$enc_key,integ=sha256-128,integ-key=$integ_key"
sa="$sa,src=192.0.2.1,dst=198.51.100.1"

echo "== ESP tunnel SA: spi 0x11223344, aes256-cbc + sha256-128, 192.0.2.1 -> 198.51.100.1 (keys not shown)"
echo "== input: $sample"
if command -v tshark >/dev/null 2>&1; then tshark -n -r "$sample" 2>/dev/null | sed 's/^/   /'; fi

echo "== ipsec-vector esp-encap"
"$tool" esp-encap --sa "$sa" --in "$sample" --out "$tmp/esp.pcap" | tee "$tmp/encap.json"
if command -v tshark >/dev/null 2>&1; then tshark -n -r "$tmp/esp.pcap" 2>/dev/null | sed 's/^/   /'; fi

if command -v tshark >/dev/null 2>&1; then
  # An independent check: tshark's ESP dissector decrypts our output with the same SA.
  mkdir -p "$tmp/cfg/wireshark"
  printf '"IPv4","192.0.2.1","198.51.100.1","0x11223344","AES-CBC [RFC3602]","0x%s","HMAC-SHA-256-128 [RFC4868]","0x%s"\n' \
    "$enc_key" "$integ_key" > "$tmp/cfg/wireshark/esp_sa"
  good=$(HOME="$tmp" XDG_CONFIG_HOME="$tmp/cfg" tshark -n -r "$tmp/esp.pcap" \
    -o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE \
    -T fields -e esp.icv_good 2>/dev/null | grep -c '^1$' || true)
  echo "   tshark (esp_sa UAT): $good of $(grep -o '"packets_out":[0-9]*' "$tmp/encap.json" | cut -d: -f2) packets decrypt with a good ICV"
fi

echo "== ipsec-vector esp-decap"
"$tool" esp-decap --sa "$sa" --in "$tmp/esp.pcap" --out "$tmp/inner.pcap" | tee "$tmp/decap.json"
if command -v tshark >/dev/null 2>&1; then tshark -n -r "$tmp/inner.pcap" 2>/dev/null | sed 's/^/   /'; fi

echo "== compare decrypted packets with the input"
# A small pcap reader (no scapy needed): link type and every frame's bytes must be equal.
/usr/bin/python3 - "$sample" "$tmp/inner.pcap" "$tmp/encap.json" "$tmp/decap.json" <<'EOF'
import json, struct, sys

def frames(path):
    data = open(path, "rb").read()
    e = "<" if struct.unpack("<I", data[:4])[0] in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype, off, out = struct.unpack(e + "I", data[20:24])[0], 24, []
    while off < len(data):
        caplen = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        out.append(data[off + 16:off + 16 + caplen])
        off += 16 + caplen
    return linktype, out

lt_in, want = frames(sys.argv[1])
lt_out, got = frames(sys.argv[2])
enc, dec = (json.load(open(p)) for p in sys.argv[3:5])
ok = True
print("   encap: %d in, %d out, %d dropped" % (enc["packets_in"], enc["packets_out"], sum(enc["drops"].values())))
print("   decap: %d in, %d out, %d dropped" % (dec["packets_in"], dec["packets_out"], sum(dec["drops"].values())))
if lt_in != lt_out:
    print("   link type differs: %d vs %d" % (lt_in, lt_out)); ok = False
if len(want) != len(got):
    print("   packet count differs: %d in, %d after encap+decap" % (len(want), len(got))); ok = False
for i, (a, b) in enumerate(zip(want, got)):
    if a != b:
        print("   packet %d differs:\n     in  %s\n     out %s" % (i + 1, a.hex(), b.hex())); ok = False
if ok:
    print("   OK: %d packets, %d bytes, identical after encap + decap" % (len(got), sum(map(len, got))))
sys.exit(0 if ok else 1)
EOF
