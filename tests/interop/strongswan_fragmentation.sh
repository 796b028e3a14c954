#!/bin/bash
# IKE fragmentation (RFC 7383) interop against strongSwan (charon 5.9, kernel-libipsec) in two
# network namespaces joined by a veth pair (documentation addresses: moon = us 192.0.2.1, sun =
# charon 192.0.2.2); same setup as strongswan_interop.sh. Both sides use a small fragment size
# (ours: ike-peer --fragment-size, charon: charon.fragment_size and fragmentation = force in the
# connection), so IKE_AUTH is fragmented in both directions:
#   1. us as initiator, 2. us as responder (charon initiates with swanctl), 3. us as initiator
#      with aes256gcm16 (AEAD fragments) when charon has the gcm plugin, 4. CREATE_CHILD_SA with
#      PFS (KE payloads) after IKE_AUTH, fragmented both ways as well.
# Each run must establish, the keys must equal charon's (check_keys.py, as in the matrix), our
# counters must show fragments sent and a message reassembled, and charon's log must show it split
# its IKE_AUTH message and reassembled ours.
# Everything it creates (namespaces, veth, charon, temp dir) is removed on exit, even on failure.
# usage: strongswan_fragmentation.sh /path/to/ike-peer        (exit 77 without root/charon)
set -u
PEER_BIN=${1:?usage: $0 ike-peer}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
FRAG_US=256     # our fragment size (whole IP datagram), RFC 7383 2.5.1
FRAG_CHARON=256 # charon.fragment_size

# shellcheck source=charon_ns.sh
. "$(cd "$(dirname "$0")" && pwd)/charon_ns.sh"
charon_ns_require
charon_ns_up "frg$$"
charon_ns_conf 4 "  retransmit_tries = 2
  fragment_size = $FRAG_CHARON"

# Long FQDN identities make IKE_AUTH large in both directions.
ID_US=moon-gateway-for-ike-fragmentation-interop.example.org
ID_SW=sun-gateway-for-ike-fragmentation-interop.example.org
conn() {  # name ike-proposals esp-proposals
    cat <<EOT
  $1 {
    local_addrs = 192.0.2.2
    remote_addrs = 192.0.2.1
    version = 2
    proposals = $2
    fragmentation = force
    local {
      auth = psk
      id = @$ID_SW
    }
    remote {
      auth = psk
      id = @$ID_US
    }
    children {
      net-$1 {
        local_ts = 10.2.0.0/16
        remote_ts = 10.1.0.0/16
        esp_proposals = $3
        start_action = none
      }
    }
  }
EOT
}
{
    echo "connections {"
    conn frag "aes256-sha256-modp2048, aes256gcm16-prfsha256-ecp256" "aes256-sha256, aes128-sha1, aes256gcm16, aes256-sha256-modp2048"
    echo "}"
    cat <<EOT
secrets {
  ike-frag {
    id-1 = $ID_US
    id-2 = $ID_SW
    secret = "interop-psk-fragments"
  }
}
EOT
} > "$DIR/swanctl.conf"
echo "interop-psk-fragments" > "$DIR/psk"

charon_ns_start || exit 1
ip netns exec "$NS_SW" swanctl --list-algs $URI > "$DIR/algs.out" 2>&1

failures=0
runs=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
    echo "--- ike-peer stderr"; tail -20 "$DIR/us.err"
    echo "--- charon log (filtered)"; grep -v "^[0-9]*\[\(IKE\|CHD\)\] *[0-9]*: " "$DIR/charon.log" | grep -v "\[ENC\] *[0-9]*:" | tail -25
}
US_ARGS=(--local 192.0.2.1 --peer 192.0.2.2 --local-id "@$ID_US" --peer-id "@$ID_SW" --psk-file "$DIR/psk"
         --local-ts 10.1.0.0/16 --peer-ts 10.2.0.0/16 --fragment-size "$FRAG_US" --count 1 --print-keys --timeout 20)

# check NAME ROLE ENC: keys against charon's, fragments on both sides.
check() {
    local name=$1 role=$2 enc=$3
    sleep 0.2  # let charon flush its last lines
    local out
    if ! out=$($PY "$HERE/check_keys.py" "$DIR/charon.log" "$DIR/us.out" "$role" "$enc" 2>&1); then
        fail "$name: $out"
        return
    fi
    # Our side (ike-peer's ike_sa event): fragmentation negotiated, IKE_AUTH split and the peer's
    # IKE_AUTH reassembled from authenticated fragments.
    local ours
    if ! ours=$($PY - "$DIR/us.out" <<'EOPY'
import json, sys
sa = [json.loads(l) for l in open(sys.argv[1]) if '"event":"ike_sa"' in l][0]
f = sa["fragments"]
ok = sa["fragmentation"] and f["messages_fragmented"] >= 1 and f["sent"] >= 2 and f["received"] >= 2 \
    and f["reassembled"] >= 1 and f["dropped_icv"] == 0
print(f"ours: {f['sent']} fragments sent, {f['received']} received, {f['reassembled']} reassembled")
sys.exit(0 if ok else 1)
EOPY
    ); then
        fail "$name: our fragment counters: $ours"
        return
    fi
    # charon's side: it split its IKE_AUTH message and reassembled ours.
    local split reasm
    split=$(grep -c "splitting IKE message" "$DIR/charon.log")
    reasm=$(grep -c "reassembled fragmented IKE message" "$DIR/charon.log")
    if [ "$split" -lt 1 ] || [ "$reasm" -lt 1 ]; then
        fail "$name: charon split $split and reassembled $reasm messages"
        return
    fi
    echo "ok   $name: $out; $ours; charon: $(grep -m1 -o "splitting IKE message.*" "$DIR/charon.log")"
}

# 1. us as initiator.
us_initiator() {  # name ike esp enc
    runs=$((runs + 1))
    : > "$DIR/charon.log"
    if ! ip netns exec "$NS_US" "$PEER_BIN" "${US_ARGS[@]}" --ike "$2" --esp "$3" --initiate \
            > "$DIR/us.out" 2> "$DIR/us.err"; then
        fail "$1: ike-peer as initiator did not establish"
        return
    fi
    check "$1" initiator "$4"
}
us_initiator "initiator aes256-sha256-modp2048" aes256-sha256-modp2048 aes256-sha256 aes256-cbc

# 2. us as responder: charon initiates (afresh: run 1 left its IKE SA in charon, ike-peer exits
# without DELETE).
runs=$((runs + 1))
ip netns exec "$NS_SW" swanctl --terminate $URI --ike frag --force --timeout 2 > /dev/null 2>&1
: > "$DIR/charon.log"
ip netns exec "$NS_US" "$PEER_BIN" "${US_ARGS[@]}" --ike aes256-sha256-modp2048 --esp aes256-sha256 \
    > "$DIR/us.out" 2> "$DIR/us.err" &
pid=$!
sleep 0.3
if ! ip netns exec "$NS_SW" timeout 25 swanctl --initiate $URI --ike frag --child net-frag --timeout 20 \
        > "$DIR/initiate.out" 2>&1; then
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    tail -5 "$DIR/initiate.out"
    fail "responder: charon could not initiate to us"
elif ! wait "$pid"; then
    fail "responder: ike-peer did not install the CHILD SA"
else
    check "responder aes256-sha256-modp2048" responder aes256-cbc
fi
ip netns exec "$NS_SW" swanctl --terminate $URI --ike frag --force --timeout 2 > /dev/null 2>&1

# 3. AEAD (AES-GCM) fragments, when charon can do it.
if grep -q AES_GCM_16 "$DIR/algs.out" && grep -q ECP_256 "$DIR/algs.out"; then
    us_initiator "initiator aes256gcm16-prfsha256-ecp256" aes256gcm16-prfsha256-ecp256 aes256gcm16 aes256gcm16
else
    echo "SKIP initiator aes256gcm16: charon lacks AES_GCM_16 or ECP_256"
fi

# 4. CREATE_CHILD_SA with PFS (a 256-byte KE each way) after IKE_AUTH: fragmented both ways too.
runs=$((runs + 1))
ip netns exec "$NS_SW" swanctl --terminate $URI --ike frag --force --timeout 2 > /dev/null 2>&1
: > "$DIR/charon.log"
if ip netns exec "$NS_US" "$PEER_BIN" "${US_ARGS[@]}" --ike aes256-sha256-modp2048 --esp aes256-sha256-modp2048 \
        --initiate --create-children 1 --count 2 > "$DIR/us.out" 2> "$DIR/us.err" &&
   [ "$(grep -c 'CHILD_SA net-frag{[0-9]*} established' "$DIR/charon.log")" = 2 ]; then
    split=$(grep -c "splitting IKE message" "$DIR/charon.log")
    reasm=$(grep -c "reassembled fragmented IKE message" "$DIR/charon.log")
    if grep -q "parsed CREATE_CHILD_SA request 2 \[ SA No KE TSi TSr \]" "$DIR/charon.log" && [ "$split" -ge 2 ] &&
       [ "$reasm" -ge 2 ]; then
        echo "ok   CREATE_CHILD_SA with PFS fragmented: charon split $split and reassembled $reasm messages (IKE_AUTH and CREATE_CHILD_SA)"
    else
        fail "CREATE_CHILD_SA: charon split $split and reassembled $reasm messages"
    fi
else
    fail "CREATE_CHILD_SA with PFS and fragments"
fi

echo "$runs runs, $failures failures"
[ "$failures" = 0 ]
