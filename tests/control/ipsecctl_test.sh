#!/bin/sh
# ipsecctl against ipsec-apid-test (the API over the FAKE engine: nothing is negotiated; the
# fake reports Ready right after apply with --fake-auto-ready). Checks every CLI command, names
# for uuids, --json output parsed by /usr/bin/python3, exit codes, that the PSK never appears in
# any output, and that a restarted server comes back with its tunnels from the state dir.
# usage: ipsecctl_test.sh IPSECCTL IPSEC_APID_TEST
set -eu
CTL="$1"
SRV="$2"
DIR=$(mktemp -d /tmp/ipsecctl-test.XXXXXX)
SOCK="$DIR/run/api.sock"
SRV_PID=""
cleanup() {
    if [ -n "$SRV_PID" ]; then kill "$SRV_PID" 2>/dev/null || true; wait "$SRV_PID" 2>/dev/null || true; fi
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
PY=/usr/bin/python3
jget() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {'d': d}))" "$1"; }
ctl() { "$CTL" --socket "$SOCK" "$@"; }
# expect_rc RC CMD...: runs ipsecctl, requires exit code RC, leaves stdout+stderr in $OUT
expect_rc() {
    want=$1; shift
    set +e
    OUT=$(ctl "$@" 2>&1)
    rc=$?
    set -e
    [ "$rc" -eq "$want" ] || fail "ipsecctl $* exited $rc, wanted $want: $OUT"
    ALL="$ALL
$OUT"
}
ALL=""

cat > "$DIR/config.json" <<'JSON'
{"networks": [
 {"name": "public", "category": "public", "port": "port0", "cidr": "203.0.113.0/24", "gateway": "203.0.113.1",
  "portIp": "203.0.113.2", "ipRanges": [{"name": "r1", "start": "203.0.113.10", "end": "203.0.113.20"}],
  "addressPools": [{"name": "pool1", "cidr": "203.0.113.64/29"}]},
 {"name": "vpc", "category": "private", "port": "port1", "cidr": "10.1.0.0/16", "gateway": "10.1.0.1"},
 {"name": "mgmt", "category": "management", "port": "mgmt0", "cidr": "192.168.100.0/24"}]}
JSON

start_server() {
    "$SRV" --socket "$SOCK" --state-dir "$DIR/state" --config "$DIR/config.json" --fake-auto-ready \
        > "$DIR/server.log" 2>&1 &
    SRV_PID=$!
    i=0
    while [ ! -S "$SOCK" ]; do
        i=$((i + 1)); [ $i -lt 100 ] || fail "server did not start: $(cat "$DIR/server.log")"
        sleep 0.05
    done
}
stop_server() { kill "$SRV_PID"; wait "$SRV_PID" || true; SRV_PID=""; }

# No server yet: exit 3.
expect_rc 3 network list
echo "$OUT" | grep -q "cannot reach ipsecd" || fail "no-server message: $OUT"

start_server
grep -q "FAKE ENGINE" "$DIR/server.log" || fail "test server must say it is the fake engine"
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "socket mode $(stat -c %a "$SOCK")"

# network list: table and JSON
expect_rc 0 network list
echo "$OUT" | head -1 | grep -q "^UUID *NAME *CATEGORY" || fail "network table header: $OUT"
[ "$(echo "$OUT" | wc -l)" -eq 4 ] || fail "network table rows: $OUT"
[ "$(ctl --json network list | jget 'len(d["inventories"])')" = 3 ] || fail "network --json"

# vip create by network name, from a pool by pool name, show/list by name
expect_rc 0 vip create --name vip-a --network public
echo "$OUT" | grep -q "^ip: *203.0.113.10$" || fail "vip create: $OUT"
[ "$(ctl --json vip create --name vip-p --network public --ip-range pool1 | jget 'd["inventory"]["ip"]')" = 203.0.113.65 ] \
    || fail "pool VIP must skip the pool's first address"
expect_rc 0 vip show vip-a
echo "$OUT" | grep -q "^name: *vip-a$" || fail "vip show: $OUT"
expect_rc 0 vip list
echo "$OUT" | grep -q "system-vip-public *203.0.113.2 .* yes" || fail "system VIP in list: $OUT"
expect_rc 1 vip create --name bad --network vpc
echo "$OUT" | grep -q "400 InvalidArgument: l3NetworkUuid" || fail "vip on private network: $OUT"
expect_rc 1 vip show nosuchvip
expect_rc 2 vip create --network public   # --name missing: usage error

# tunnel create with names for the VIP and the local network; key from a file
KEY='Kx7-pQ2_zR9.mW4+vN8-cli'
printf '%s\n' "$KEY" > "$DIR/psk"
expect_rc 0 tunnel create --name site-b --vip vip-a --peer-address 198.51.100.7 --peer-cidr 10.2.0.0/16 \
    --l3-network vpc --auth-key-file "$DIR/psk"
echo "$OUT" | grep -q "^status: *Ready$" || fail "create (fake auto-ready): $OUT"
echo "$OUT" | grep -q "^authKey: *<redacted>$" || fail "authKey must be redacted: $OUT"
echo "$OUT" | grep -q "^warning: *weak: ikeDhGroup 2" || fail "weak warning for the default group: $OUT"
UUID=$(ctl --json tunnel show site-b | jget 'd["inventory"]["uuid"]')
[ ${#UUID} -eq 32 ] || fail "uuid: $UUID"

# validation errors come back with the field, exit 1; --json prints the error object
expect_rc 1 tunnel create --name dup --vip vip-a --peer-address 198.51.100.7 --peer-cidr 10.3.0.0/16 --auth-key-file "$DIR/psk"
echo "$OUT" | grep -q "400 InvalidArgument: peerAddress" || fail "one tunnel per peer: $OUT"
expect_rc 1 tunnel create --name v1 --vip vip-a --peer-address 198.51.100.8 --peer-cidr 10.3.0.0/16 --auth-key-file "$DIR/psk" --ike-version ikev1
echo "$OUT" | grep -q "NotSupported: ikeVersion.*not supported yet" || fail "ikev1: $OUT"
expect_rc 1 tunnel create --name g1 --vip vip-a --peer-address 198.51.100.8 --peer-cidr 10.1.5.0/24 --auth-key-file "$DIR/psk"
echo "$OUT" | grep -q "peerCidrs: 10.1.5.0/24 overlaps" || fail "overlap with private network: $OUT"
set +e
ERRJSON=$(ctl --json tunnel create --name g1 --vip vip-a --peer-address 198.51.100.8 --peer-cidr 10.3.0.0/16 --auth-key 'a b' 2>/dev/null)
set -e
[ "$(printf "%s\n" "$ERRJSON" | jget 'd["error"]["code"]')" = InvalidArgument ] || fail "--json error: $ERRJSON"
expect_rc 2 tunnel create --vip vip-a   # --name missing
expect_rc 2 tunnel frobnicate site-b

# list, show by uuid and by name
expect_rc 0 tunnel list
echo "$OUT" | grep -q "site-b *Enabled *Ready *198.51.100.7 *10.2.0.0/16 *weak" || fail "tunnel list: $OUT"
expect_rc 0 tunnel show "$UUID"
echo "$OUT" | grep -q "^ike: *aes-256 sha256 group 2 lifetime 86400s$" || fail "show: $OUT"

# update (name only), modify (group, added peer CIDR), actions
expect_rc 0 tunnel update site-b --name site-b2 --description "branch office"
echo "$OUT" | grep -q "^name: *site-b2$" || fail "update: $OUT"
expect_rc 0 tunnel modify site-b2 --ike-dh-group 14 --add-peer-cidr 10.3.0.0/16
echo "$OUT" | grep -q "^peerCidrs: *10.2.0.0/16,10.3.0.0/16$" || fail "modify peer cidrs: $OUT"
[ "$(ctl --json tunnel show site-b2 | jget 'd["inventory"]["ikeDhGroup"]')" = 14 ] || fail "modify group"
expect_rc 0 tunnel modify site-b2 --remove-peer-cidr 10.3.0.0/16
expect_rc 2 tunnel modify site-b2
expect_rc 0 tunnel disable site-b2
echo "$OUT" | grep -q "^state: *Disabled$" || fail "disable: $OUT"
echo "$OUT" | grep -q "^status: *Disconnected$" || fail "disabled status: $OUT"
expect_rc 1 tunnel reconnect site-b2
echo "$OUT" | grep -q "409 Conflict" || fail "reconnect of a disabled tunnel: $OUT"
expect_rc 0 tunnel enable site-b2
echo "$OUT" | grep -q "^state: *Enabled$" || fail "enable: $OUT"
expect_rc 0 tunnel reconnect site-b2

# sas (like swanctl --list-sas) and log
expect_rc 0 tunnel sas site-b2
echo "$OUT" | grep -q "site-b2: IKEv2 ESTABLISHED" || fail "sas: $OUT"
echo "$OUT" | grep -q "aes256-sha256-modp2048" || fail "sas ike proposal: $OUT"
echo "$OUT" | grep -q "remote 10.2.0.0/16" || fail "sas selectors: $OUT"
expect_rc 0 tunnel log site-b2 --lines 2
[ "$(echo "$OUT" | wc -l)" -eq 2 ] || fail "log --lines 2: $OUT"
echo "$OUT" | grep -q "fake-engine: reconnect site-b2" || fail "log content: $OUT"
expect_rc 0 metrics
echo "$OUT" | grep -q "ipsec_tunnel_status{tunnel=\"$UUID\",name=\"site-b2\",status=\"Ready\"} 1" || fail "metrics: $OUT"

# ambiguous names are refused
ctl vip create --name twin --network public > /dev/null
ctl vip create --name twin --network public > /dev/null
expect_rc 1 vip show twin
echo "$OUT" | grep -q "give the uuid" || fail "ambiguous name: $OUT"

# the state survives a restart; the state file is 0600
[ "$(stat -c %a "$DIR/state/state.json")" = 600 ] || fail "state file mode"
stop_server
start_server
expect_rc 0 tunnel show site-b2
echo "$OUT" | grep -q "^uuid: *$UUID$" || fail "after restart: $OUT"
echo "$OUT" | grep -q "^description: *branch office$" || fail "description after restart: $OUT"

# delete keeps the VIP; then the VIP can go
expect_rc 1 vip delete vip-a
echo "$OUT" | grep -q "409 Conflict" || fail "VIP in use: $OUT"
expect_rc 0 tunnel delete site-b2
expect_rc 1 tunnel show site-b2
expect_rc 0 vip show vip-a
expect_rc 0 vip delete vip-a

# the PSK appeared in no output at all
case "$ALL" in *"$KEY"*) fail "the pre-shared key was printed" ;; esac
grep -q -- "$KEY" "$DIR/server.log" && fail "the pre-shared key was logged"
echo "ipsecctl CLI tests passed"
