#!/bin/bash
# Rekey interop against strongSwan (charon 5.9, kernel-libipsec) in two network namespaces joined
# by a veth pair (documentation addresses: moon = us 192.0.2.1, sun = charon 192.0.2.2).
#   A. we rekey: ike-peer initiates with a 12 s CHILD lifetime (rekey at 80-90 %) and a 30 s IKE
#      lifetime, PFS modp2048; three CHILD rekeys and one IKE rekey by us, then our SA set must be
#      charon's (`swanctl --list-sas`: IKE SPIs, CHILD SPIs crosswise)
#   B. charon rekeys: charon initiates with child rekey_time 8 s (PFS) and IKE rekey_time 18 s,
#      we only respond; same comparison after charon's rekeys.
# Everything it creates (namespaces, veth, charon, temp dir) is removed on exit, even on failure.
# usage: strongswan_rekey.sh /path/to/ike-peer        (exit 77 without root/charon)
set -u
PEER_BIN=${1:?usage: $0 ike-peer}
PY=/usr/bin/python3

# shellcheck source=charon_ns.sh
. "$(cd "$(dirname "$0")" && pwd)/charon_ns.sh"
charon_ns_require
US_PID=""
stop_us() { [ -n "$US_PID" ] && kill "$US_PID" 2>/dev/null; }
CHARON_NS_CLEANUP_HOOK=stop_us
charon_ns_up "rk$$"
charon_ns_conf 2

cat > "$DIR/swanctl.conf" <<EOT
connections {
  passive {
    local_addrs = 192.0.2.2
    remote_addrs = 192.0.2.1
    version = 2
    proposals = aes256-sha256-modp2048
    dpd_delay = 0
    local {
      auth = psk
      id = 192.0.2.2
    }
    remote {
      auth = psk
      id = 192.0.2.1
    }
    children {
      net-passive {
        local_ts = 10.2.0.0/16
        remote_ts = 10.1.0.0/16
        esp_proposals = aes256-sha256-modp2048
        start_action = none
      }
    }
  }
  active {
    local_addrs = 192.0.2.2
    remote_addrs = 192.0.2.1
    version = 2
    proposals = aes256-sha256-modp2048
    rekey_time = 18s
    over_time = 30s
    rand_time = 0s
    dpd_delay = 0
    local {
      auth = psk
      id = sun.example.org
    }
    remote {
      auth = psk
      id = moon.example.org
    }
    children {
      net-active {
        local_ts = 10.2.0.0/16
        remote_ts = 10.1.0.0/16
        esp_proposals = aes256-sha256-modp2048
        rekey_time = 8s
        life_time = 30s
        rand_time = 0s
        start_action = none
      }
    }
  }
}
secrets {
  ike-ip {
    id-1 = 192.0.2.1
    id-2 = 192.0.2.2
    secret = "rekey-psk-ip"
  }
  ike-fqdn {
    id-1 = moon.example.org
    id-2 = sun.example.org
    secret = "rekey-psk-fqdn"
  }
}
EOT
echo "rekey-psk-ip" > "$DIR/psk-ip"
echo "rekey-psk-fqdn" > "$DIR/psk-fqdn"

charon_ns_start || exit 1

failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
    echo "--- ike-peer stderr"; grep -v DEBUG "$DIR/us.err" | tail -25
    echo "--- charon log"; tail -25 "$DIR/charon.log"
}

# compare LABEL: our last "sas" event against charon's --list-sas; prints what was compared.
compare() {
    ip netns exec "$NS_SW" swanctl --list-sas $URI > "$DIR/list.out" 2>&1
    $PY - "$DIR/us.out" "$DIR/list.out" <<'PYEOF'
import json, re, sys
ours = None
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("event") == "sas":
        ours = e
if ours is None:
    print("no SA state from ike-peer"); sys.exit(1)
our_ike = {(s["spi_i"], s["spi_r"]) for s in ours["ike"]}
# Our inbound SPI is charon's outbound one and the other way round.
our_child = {(c["out"], c["in"]) for s in ours["ike"] for c in s["children"]}
their_ike, their_child, state = set(), set(), None
pending = {}
for line in open(sys.argv[2]):
    m = re.search(r"ESTABLISHED, IKEv2, ([0-9a-f]{16})_i\*? ([0-9a-f]{16})_r", line)
    if m:
        their_ike.add((m.group(1), m.group(2)))
        continue
    m = re.search(r"reqid \d+, (\w+), TUNNEL", line)
    if m:
        state = m.group(1)
        pending = {}
        continue
    m = re.match(r"\s+(in|out)\s+([0-9a-f]{8})", line)
    if m and state == "INSTALLED":
        pending[m.group(1)] = m.group(2)
        if len(pending) == 2:
            their_child.add((pending["in"], pending["out"]))
ok = our_ike == their_ike and our_child == their_child and len(our_child) == 1 and len(our_ike) == 1
print(("agree" if ok else "DISAGREE") + f": IKE {sorted(our_ike)} / charon {sorted(their_ike)}; "
      f"CHILD (charon in, out) ours {sorted(our_child)} / charon {sorted(their_child)}")
sys.exit(0 if ok else 1)
PYEOF
}

count_events() {  # KIND [FILTER]: number of our JSON events of that kind (keys are sorted)
    grep "\"event\":\"$1\"" "$DIR/us.out" | grep -c -- "${2:-.}"
}

# A. We rekey the CHILD SA (three times) and the IKE SA (once).
: > "$DIR/charon.log"
ip netns exec "$NS_US" "$PEER_BIN" --local 192.0.2.1 --peer 192.0.2.2 --peer-id 192.0.2.2 --psk-file "$DIR/psk-ip" \
    --local-ts 10.1.0.0/16 --peer-ts 10.2.0.0/16 --ike aes256-sha256-modp2048 --esp aes256-sha256-modp2048 \
    --initiate --child-lifetime 12 --ike-lifetime 30 --dpd-delay 0 --run-for 40 --log-level info \
    > "$DIR/us.out" 2> "$DIR/us.err" &
US_PID=$!
sleep 35.5  # third CHILD rekey done (by 32.4 s + grace), fourth not before 38.4 s; IKE rekey at 24-27 s
out=$(compare) ; rc=$?
ins=$(count_events install '"direction":"inbound"')
ikes=$(count_events ike_sa)
if [ $rc = 0 ] && [ "$ins" -ge 4 ] && [ "$ikes" -ge 2 ]; then
    echo "ok   we rekeyed: $((ins - 1)) CHILD rekeys, $((ikes - 1)) IKE rekey(s); $out"
else
    fail "our rekeys ($ins inbound installs, $ikes IKE SAs): $out"
fi
grep -q "CHILD_SA net-passive{[0-9]*} established" "$DIR/charon.log" || fail "charon saw no CHILD SA"
wait "$US_PID" 2>/dev/null
US_PID=""

# B. charon rekeys (it initiates; we only answer).
ip netns exec "$NS_SW" swanctl --terminate $URI --ike passive --force --timeout 2 > /dev/null 2>&1
: > "$DIR/charon.log"
ip netns exec "$NS_US" "$PEER_BIN" --local 192.0.2.1 --peer 192.0.2.2 --local-id @moon.example.org \
    --peer-id @sun.example.org --psk-file "$DIR/psk-fqdn" --local-ts 10.1.0.0/16 --peer-ts 10.2.0.0/16 \
    --ike aes256-sha256-modp2048 --esp aes256-sha256-modp2048 --dpd-delay 0 --run-for 32 --log-level info \
    > "$DIR/us.out" 2> "$DIR/us.err" &
US_PID=$!
sleep 0.3
if ! ip netns exec "$NS_SW" timeout 20 swanctl --initiate $URI --ike active --child net-active --timeout 15 \
        > "$DIR/initiate.out" 2>&1; then
    fail "charon could not initiate: $(tail -3 "$DIR/initiate.out")"
else
    sleep 27.5  # charon's CHILD rekeys at 8, 16, 24 s and IKE rekey at 18 s are done, next at 32 s
    out=$(compare) ; rc=$?
    ins=$(count_events install '"direction":"inbound"')
    ikes=$(count_events ike_sa)
    chd=$(grep -c "rekeying CHILD_SA\|CHILD_SA net-active{[0-9]*} established" "$DIR/charon.log")
    if [ $rc = 0 ] && [ "$ins" -ge 4 ] && [ "$ikes" -ge 2 ]; then
        echo "ok   charon rekeyed: $((ins - 1)) CHILD rekeys (PFS), $((ikes - 1)) IKE rekey(s); $out"
    else
        fail "charon's rekeys ($ins inbound installs, $ikes IKE SAs, charon log lines $chd): $out"
    fi
fi
wait "$US_PID" 2>/dev/null
US_PID=""

echo "$failures failures"
[ "$failures" = 0 ]
