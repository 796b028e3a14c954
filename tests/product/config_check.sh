#!/bin/sh
# ipsecd --check on product configs: the "ike" settings (strongswan.conf-like daemon-wide IKE
# options) are accepted when well-formed, and each malformed one is refused with exit 2 and a
# message naming the key. No DPDK, no root. usage: config_check.sh IPSECD
set -u
IPSECD=${1:?usage: $0 ipsecd}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
fails=0
conf() {  # conf IKE_OBJECT > file
    cat <<EOT
{
  "eal": ["--no-huge", "--no-pci", "--vdev=net_null0", "--vdev=net_null1"],
  "ports": [
    {"name": "private", "role": "private", "device": "net_null0", "ip": "10.1.0.1/24"},
    {"name": "public", "role": "public", "device": "net_null1", "ip": "203.0.113.1/24"}
  ],
  "networks": [
    {"name": "public", "category": "public", "port": "public", "cidr": "203.0.113.0/24", "gateway": "203.0.113.254"},
    {"name": "vpc-a", "category": "private", "port": "private", "cidr": "10.1.0.0/24", "gateway": "10.1.0.1"}
  ],
  "ike": $1,
  "state_dir": "$DIR/state"
}
EOT
}
expect_ok() {
    conf "$1" > "$DIR/c.json"
    if out=$("$IPSECD" --check --config "$DIR/c.json" 2>&1); then echo "ok   accepted: $1"
    else echo "FAIL: refused $1: $out"; fails=$((fails + 1)); fi
}
expect_refused() {  # expect_refused IKE_OBJECT KEY
    conf "$1" > "$DIR/c.json"
    out=$("$IPSECD" --check --config "$DIR/c.json" 2>&1); rc=$?
    if [ "$rc" = 2 ] && echo "$out" | grep -q "ike\.$2"; then echo "ok   refused: $1 ($out)"
    else echo "FAIL: $1: rc $rc, output: $out"; fails=$((fails + 1)); fi
}
expect_ok '{}'
expect_ok '{"retransmit_timeout": 1, "retransmit_base": 1.5, "retransmit_tries": 3, "fragment_size": 1200}'
expect_ok '{"cookie_threshold": 10, "cookie_threshold_ip": 2, "block_threshold": 4, "init_limit_half_open": 500, "half_open_timeout": 20}'
expect_ok '{"cookie_threshold": 0}'
expect_refused '{"retransmit_tries": 0}' retransmit_tries
expect_refused '{"retransmit_tries": 2.5}' retransmit_tries
expect_refused '{"retransmit_timeout": "4"}' retransmit_timeout
expect_refused '{"retransmit_base": 0.5}' retransmit_base
expect_refused '{"fragment_size": 100}' fragment_size
expect_refused '{"half_open_timeout": -1}' half_open_timeout
expect_refused '{"cookie_treshold": 10}' cookie_treshold
conf '[1, 2]' > "$DIR/c.json"
out=$("$IPSECD" --check --config "$DIR/c.json" 2>&1); rc=$?
if [ "$rc" = 2 ] && echo "$out" | grep -q "ike: must be an object"; then echo "ok   refused: a list"
else echo "FAIL: a list: rc $rc: $out"; fails=$((fails + 1)); fi
[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "product:config_check: all passed"
