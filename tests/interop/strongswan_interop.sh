#!/bin/bash
# Interop against strongSwan (charon 5.9 with kernel-libipsec) in two network namespaces joined by
# a veth pair, documentation addresses only (moon = us 192.0.2.1, sun = charon 192.0.2.2).
# Checks, with check_keys.py as the oracle over charon's filelog (ike = 4, chd = 4):
#   1. us as initiator over the matrix aes128/aes256/aes256gcm16 x sha1/sha256/sha512 x
#      modp1024/modp2048/ecp256/curve25519: IKE SA + CHILD SA up, SK_* and ESP keys equal charon's
#   2. us as responder (charon initiates via swanctl) for several suites
#   3. FQDN identities in both roles, and forced UDP encapsulation from our side
#   4. an additional CHILD SA with PFS (CREATE_CHILD_SA) seen by charon
# Everything it creates (namespaces, veth, charon, temp dir) is removed on exit, even on failure.
# usage: strongswan_interop.sh /path/to/ike-peer [quick]
set -u
PEER_BIN=${1:?usage: $0 ike-peer [quick]}
MODE=${2:-full}
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)

# shellcheck source=charon_ns.sh
. "$(cd "$(dirname "$0")" && pwd)/charon_ns.sh"
charon_ns_require
charon_ns_up "iks$$"
charon_ns_conf 4 "  retransmit_tries = 2"

ALL_IKE="aes128-aes256-sha1-sha256-sha512-modp1024-modp2048-ecp256-curve25519, aes256gcm16-aes128gcm16-prfsha1-prfsha256-prfsha512-modp1024-modp2048-ecp256-curve25519"
ALL_ESP="aes128-aes256-sha1-sha256-sha512, aes256gcm16-aes128gcm16, aes256-sha256-modp2048, aes256gcm16-ecp256"
conn() {  # name ike-proposals esp-proposals local-id remote-id
    cat <<EOT
  $1 {
    local_addrs = 192.0.2.2
    remote_addrs = 192.0.2.1
    version = 2
    proposals = $2
    local {
      auth = psk
      id = $4
    }
    remote {
      auth = psk
      id = $5
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
    conn any "$ALL_IKE" "$ALL_ESP" 192.0.2.2 192.0.2.1
    conn fqdn "$ALL_IKE" "$ALL_ESP" @sun.example.org @moon.example.org
    conn r1 aes256-sha256-modp2048 aes256-sha256 192.0.2.2 192.0.2.1
    conn r2 aes128-sha1-modp1024 aes128-sha1 192.0.2.2 192.0.2.1
    conn r3 aes256-sha512-curve25519 aes256-sha512 192.0.2.2 192.0.2.1
    conn r4 aes128-sha256-ecp256 aes128-sha256 192.0.2.2 192.0.2.1
    conn r5 aes256gcm16-prfsha512-curve25519 aes256gcm16 192.0.2.2 192.0.2.1
    echo "}"
    cat <<EOT
secrets {
  ike-ip {
    id-1 = 192.0.2.1
    id-2 = 192.0.2.2
    secret = "interop-psk-ip"
  }
  ike-fqdn {
    id-1 = moon.example.org
    id-2 = sun.example.org
    secret = "interop-psk-fqdn"
  }
}
EOT
} > "$DIR/swanctl.conf"
echo "interop-psk-ip" > "$DIR/psk-ip"
echo "interop-psk-fqdn" > "$DIR/psk-fqdn"

charon_ns_start || exit 1

failures=0
runs=0
skipped=0
# Debian's charon here has no openssl/gcm plugins unless libstrongswan-standard-plugins is
# installed: ECP groups and AES-GCM then cannot be negotiated with it. Ask charon what it can do
# and report (not hide) the combinations it lacks.
ip netns exec "$NS_SW" swanctl --list-algs $URI > "$DIR/algs.out" 2>&1
charon_has() { grep -q "$1" "$DIR/algs.out"; }
supported() {  # proposal string -> 0 when charon implements every algorithm in it
    case "$1" in *gcm*) charon_has AES_GCM_16 || return 1 ;; esac
    case "$1" in *ecp*) charon_has ECP_256 || return 1 ;; esac
    return 0
}
skip() {
    echo "SKIP $*"
    skipped=$((skipped + 1))
}
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
    echo "--- ike-peer stderr"; tail -20 "$DIR/us.err"
    echo "--- charon log (filtered)"; grep -v "^[0-9]*\[\(IKE\|CHD\)\] *[0-9]*: " "$DIR/charon.log" | grep -v "\[ENC\]" | tail -25
}

# us_initiator NAME IKE ESP EXPECTED_ENC [extra ike-peer args...]
us_initiator() {
    local name=$1 ike=$2 esp=$3 enc=$4
    shift 4
    if ! supported "$ike-$esp"; then skip "initiator $name: charon lacks an algorithm of $ike / $esp"; return; fi
    runs=$((runs + 1))
    : > "$DIR/charon.log"
    if ! ip netns exec "$NS_US" "$PEER_BIN" --local 192.0.2.1 --peer 192.0.2.2 --peer-id 192.0.2.2 \
            --psk-file "$DIR/psk-ip" --local-ts 10.1.0.0/16 --peer-ts 10.2.0.0/16 --ike "$ike" --esp "$esp" \
            --initiate --count 1 --print-keys --timeout 15 "$@" > "$DIR/us.out" 2> "$DIR/us.err"; then
        fail "$name: ike-peer as initiator did not establish"
        return
    fi
    sleep 0.1  # let charon flush its last lines
    if out=$($PY "$HERE/check_keys.py" "$DIR/charon.log" "$DIR/us.out" initiator "$enc" 2>&1); then
        echo "ok   initiator $name: $out"
        # The oracle must tell the directions apart: the same data checked as responder fails.
        if [ "$runs" = 1 ] && $PY "$HERE/check_keys.py" "$DIR/charon.log" "$DIR/us.out" responder > /dev/null 2>&1; then
            fail "check_keys.py accepted swapped key directions"
        fi
    else
        fail "$name: $out"
    fi
}

# us_responder NAME CHARON_CONN EXPECTED_ENC NEEDED_ALGS [extra ike-peer args...]
us_responder() {
    local name=$1 conn=$2 enc=$3 needs=$4
    shift 4
    if ! supported "$needs"; then skip "responder $name: charon lacks an algorithm of $needs"; return; fi
    runs=$((runs + 1))
    # Earlier runs left IKE SAs in charon (ike-peer exits without DELETE): make charon start afresh.
    ip netns exec "$NS_SW" swanctl --terminate $URI --ike "$conn" --force --timeout 2 > /dev/null 2>&1
    : > "$DIR/charon.log"
    ip netns exec "$NS_US" "$PEER_BIN" --local 192.0.2.1 --peer 192.0.2.2 --psk-file "$DIR/psk-ip" \
        --local-ts 10.1.0.0/16 --peer-ts 10.2.0.0/16 --ike aes128-aes256-sha1-sha256-sha512-modp1024-modp2048-ecp256-curve25519 \
        --ike aes256gcm16-prfsha512-prfsha256-curve25519-ecp256 --esp aes128-aes256-sha1-sha256-sha512 --esp aes256gcm16 \
        --count 1 --print-keys --timeout 15 "$@" > "$DIR/us.out" 2> "$DIR/us.err" &
    local pid=$!
    sleep 0.3
    if ! ip netns exec "$NS_SW" timeout 20 swanctl --initiate $URI --ike "$conn" --child "net-$conn" --timeout 15 \
            > "$DIR/initiate.out" 2>&1; then
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        tail -5 "$DIR/initiate.out"
        fail "$name: charon could not initiate to us"
        return
    fi
    if ! wait "$pid"; then
        fail "$name: ike-peer as responder did not install the CHILD SA"
        return
    fi
    sleep 0.1
    if out=$($PY "$HERE/check_keys.py" "$DIR/charon.log" "$DIR/us.out" responder "$enc" 2>&1); then
        echo "ok   responder $name: $out"
    else
        fail "$name: $out"
    fi
}

# 1. The matrix, us as initiator.
if [ "$MODE" = quick ]; then
    ENCS="aes256 aes256gcm16"; INTEGS="sha256"; GROUPS_="modp2048 ecp256 curve25519"
else
    ENCS="aes128 aes256 aes256gcm16"; INTEGS="sha1 sha256 sha512"; GROUPS_="modp1024 modp2048 ecp256 curve25519"
fi
for enc in $ENCS; do
    for integ in $INTEGS; do
        for grp in $GROUPS_; do
            if [ "$enc" = aes256gcm16 ]; then
                us_initiator "$enc-prf$integ-$grp" "$enc-prf$integ-$grp" aes256gcm16 aes256gcm16
            else
                us_initiator "$enc-$integ-$grp" "$enc-$integ-$grp" "$enc-$integ" "$enc-cbc"
            fi
        done
    done
done

# 2. us as responder, charon initiating with several suites.
us_responder r1 r1 aes256-cbc aes256-sha256-modp2048
us_responder r2 r2 aes128-cbc aes128-sha1-modp1024
us_responder r3 r3 aes256-cbc aes256-sha512-curve25519
us_responder r4 r4 aes128-cbc aes128-sha256-ecp256
us_responder r5 r5 aes256gcm16 aes256gcm16-prfsha512-curve25519

# 3. FQDN identities (both roles) and our forced encapsulation.
us_initiator fqdn aes256-sha256-modp2048 aes256-sha256 aes256-cbc \
    --local-id @moon.example.org --peer-id @sun.example.org --psk-file "$DIR/psk-fqdn"
us_responder fqdn fqdn aes128-cbc aes128-sha1-modp1024 --local-id @moon.example.org --peer-id @sun.example.org --psk-file "$DIR/psk-fqdn"
us_initiator force-encap aes256-sha256-modp2048 aes256-sha256 aes256-cbc --force-encap
if grep -q "remote host is behind NAT" "$DIR/charon.log"; then
    echo "ok   charon saw our forced NAT (faked NAT_DETECTION_SOURCE_IP)"
else
    fail "force-encap: charon did not detect a NAT on our side"
fi

# 4. An additional CHILD SA with PFS via CREATE_CHILD_SA.
runs=$((runs + 1))
: > "$DIR/charon.log"
if ip netns exec "$NS_US" "$PEER_BIN" --local 192.0.2.1 --peer 192.0.2.2 --peer-id 192.0.2.2 --psk-file "$DIR/psk-ip" \
        --local-ts 10.1.0.0/16 --peer-ts 10.2.0.0/16 --ike aes256-sha256-modp2048 --esp aes256-sha256-modp2048 \
        --initiate --create-children 1 --count 2 --timeout 15 > "$DIR/us.out" 2> "$DIR/us.err" &&
   [ "$(grep -c 'CHILD_SA net-any{[0-9]*} established' "$DIR/charon.log")" = 2 ]; then
    echo "ok   CREATE_CHILD_SA with PFS (modp2048): charon established a second CHILD SA"
else
    fail "CREATE_CHILD_SA with PFS"
fi

echo "$runs runs, $failures failures, $skipped skipped (charon lacks the algorithm)"
[ "$failures" = 0 ]
