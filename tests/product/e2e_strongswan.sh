#!/bin/bash
# End to end: ipsecd's product mode against strongSwan (charon, kernel-libipsec) in network
# namespaces built by tools/demo/topology.sh (site A host -- ipsecd over net_af_packet --
# "internet" 203.0.113.0/24 -- charon -- site B host). Each step is asserted:
#   1. VIP + tunnel created with ipsecctl (product defaults: IKE aes256-sha256-modp1024, ESP
#      aes256-sha256-modp2048), status Ready, ping A -> B and B -> A, `tunnel sas` shows an
#      INSTALLED CHILD SA with packet counters > 0 both ways
#   1b. a 2 MB TCP transfer A -> B arrives intact (SHA-256)
#   2. charon initiates: charon tears the IKE SA down (DELETE), we go Disconnected, charon
#      initiates again, we answer: Ready, ping
#   3. reconnect: new IKE SA (other SPIs), Ready, ping
#   4. disable: charon sees the DELETE, status Disconnected, traffic does not pass (nor leaves
#      in clear); enable: Ready, ping
#   5. kill -9 ipsecd and start it again: the tunnel comes back by itself, ping
#   6. SIGTERM: charon sees the DELETE, ipsecd exits 0; started again, the tunnel is back
#   7. proposal mismatch: charon initiating with aes128-sha1-modp2048 is refused, our tunnel
#      log names both offers; our tunnel modified to aes-128 reports NO_PROPOSAL_CHOSEN with
#      our offer as statusReason
#   7b. modify: new PSK on both sides; peer CIDR added on both sides without interrupting the
#       unchanged pair (same IKE SA, existing CHILD SA kept, no echo lost), ping to both networks
#   8. CHILD SA rekey (lifeTime 30 s) under a running ping: new SPIs, at most 3 echoes lost
#   8b. the peer crashes (kill -9) and restarts: DPD restart brings the tunnel back by itself
#   8c. dpd action hold: the tunnel stays down without traffic, the first packet brings it back
#   9. delete: charon no longer lists the SA
# Everything is removed on exit (topo_down in a trap). usage: e2e_strongswan.sh IPSECD IPSECCTL
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
export IPSECD=${1:?usage: $0 ipsecd ipsecctl}
export IPSECCTL=${2:?usage: $0 ipsecd ipsecctl}
export TOPO=${TOPO:-e2e$$}
PY=/usr/bin/python3
# shellcheck source=../../tools/demo/topology.sh
. "$HERE/../../tools/demo/topology.sh"

if ! why=$(topo_check); then
    echo "SKIP: $why"
    exit 77
fi
trap topo_down EXIT
trap 'exit 130' INT TERM

fail() {
    echo "FAIL: $*"
    for f in ipsecd.log charon.log; do
        [ -f "$TOPO_DIR/$f" ] && { echo "--- last lines of $f"; tail -40 "$TOPO_DIR/$f"; }
    done
    [ -S "$TOPO_DIR/api.sock" ] && { echo "--- tunnel log"; topo_ctl tunnel log t1 2>&1 | tail -30; }
    exit 1
}
ok() { echo "ok   $*"; }
jq_py() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
ping_a_b() { ip netns exec "$NS_AH" ping -c "${1:-3}" -i 0.2 -W 2 "$TOPO_HOST_B" > /dev/null; }
ping_b_a() { ip netns exec "$NS_BH" ping -c "${1:-3}" -i 0.2 -W 2 "$TOPO_HOST_A" > /dev/null; }
# ping until it works (the first packets may meet an SA being replaced or ARP)
ping_until() {
    local i
    for i in $(seq 1 20); do ip netns exec "$NS_AH" ping -c 1 -W 1 "$TOPO_HOST_B" > /dev/null && return 0; done
    return 1
}
charon_has_sa() { topo_swanctl --list-sas 2>/dev/null | grep -q "site-a.*ESTABLISHED"; }
wait_charon_sa() {  # wait_charon_sa yes|no
    local i
    for i in $(seq 1 50); do
        if charon_has_sa; then [ "$1" = yes ] && return 0; else [ "$1" = no ] && return 0; fi
        sleep 0.2
    done
    return 1
}
ike_spi() { topo_ctl --json tunnel sas t1 | jq_py 'd["ikeSas"][0]["spiI"] if d["ikeSas"] else ""'; }
tunnel_status() { topo_ctl --json tunnel show t1 | jq_py 'd["inventory"]["status"]'; }
# charon_crash WANT: charon killed with SIGKILL (no DELETE), then up to 30 s for t1's status to be
# WANT ("!S": anything but S)
charon_crash() {
    local i st
    kill -9 "$TOPO_CHARON_PID"
    wait "$TOPO_CHARON_PID" 2>/dev/null
    TOPO_CHARON_PID=""
    for i in $(seq 1 60); do
        st=$(tunnel_status)
        case "$1" in
            "!"*) [ "$st" != "${1#!}" ] && return 0 ;;
            *) [ "$st" = "$1" ] && return 0 ;;
        esac
        sleep 0.5
    done
    return 1
}

PSK="e2e-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
topo_up || fail "namespaces (or offloads, see topo_up)"
# charon's swanctl.conf from $PSK and $B_TS (site B's protected networks); step 7b changes both
B_TS=$TOPO_SITE_B_NET
charon_conf() {
    echo "connections {"
    topo_charon_conn site-a aes256-sha256-modp1024 aes256-sha256-modp2048 "$B_TS"
    topo_charon_conn mismatch aes128-sha1-modp2048 aes128-sha1 "$TOPO_SITE_B_NET"
    echo "}"
    topo_charon_secret "$PSK"
}
topo_charon_start "$(charon_conf)" || fail "charon did not start"

# short IKE retransmissions (strongswan.conf's charon.retransmit_*): step 8b's dead peer is
# detected in seconds instead of 165 s
TOPO_IPSECD_EXTRA='"ike": {"retransmit_timeout": 1, "retransmit_base": 1.5, "retransmit_tries": 3}'
topo_ipsecd_config
topo_ipsecd_start || fail "ipsecd did not start"

# 1. create, Ready, ping, SAs and counters
topo_ctl vip create --name v1 --network public --required-ip "$TOPO_VIP" > /dev/null || fail "vip create"
printf '%s\n' "$PSK" > "$TOPO_DIR/psk"
topo_ctl tunnel create --name t1 --vip v1 --peer-address "$TOPO_PEER" --peer-cidr "$TOPO_SITE_B_NET" \
    --l3-network vpc-a --auth-key-file "$TOPO_DIR/psk" > /dev/null || fail "tunnel create"
topo_wait_status t1 Ready 40 || fail "1: tunnel not Ready"
ping_until || fail "1: no ping A -> B"
ping_a_b 3 || fail "1: ping A -> B lost packets"
ping_b_a 3 || fail "1: ping B -> A"
SAS=$(topo_ctl --json tunnel sas t1) || fail "tunnel sas"
echo "$SAS" | jq_py 'all([len(d["ikeSas"]) == 1, d["ikeSas"][0]["state"] == "ESTABLISHED",
    d["ikeSas"][0]["algorithms"].startswith("aes256-sha256"), d["ikeSas"][0]["algorithms"].endswith("modp1024"),
    d["ikeSas"][0]["childSas"][0]["state"] == "INSTALLED",
    d["ikeSas"][0]["childSas"][0]["packetsIn"] > 0, d["ikeSas"][0]["childSas"][0]["packetsOut"] > 0,
    d["ikeSas"][0]["childSas"][0]["bytesIn"] > 0])' | grep -q True || fail "1: tunnel sas: $SAS"
topo_swanctl --list-sas | grep -q "AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_1024" ||
    fail "1: charon's IKE SA is not aes256-sha256-modp1024"
wait_charon_sa yes || fail "1: charon has no SA"
topo_ctl tunnel log t1 | grep -q "$PSK" && fail "1: the PSK appears in the tunnel log"
grep -q "$PSK" "$TOPO_DIR/ipsecd.log" && fail "1: the PSK appears in ipsecd's log"
ok "1: tunnel Ready, ping both ways, CHILD SA INSTALLED with counters"

# 1b. a TCP transfer across (2 MB, A -> B, checked by SHA-256 on B's side)
head -c 2097152 /dev/urandom > "$TOPO_DIR/data.bin"
ip netns exec "$NS_BH" "$PY" -c "
import socket, hashlib
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$TOPO_HOST_B', 5001)); s.listen(1); s.settimeout(30)
c, _ = s.accept(); c.settimeout(30); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(65536)
    if not b: break
    h.update(b); n += len(b)
print(n, h.hexdigest())" > "$TOPO_DIR/tcp-server.out" 2>&1 &
SERVER=$!
sleep 0.5
ip netns exec "$NS_AH" timeout 60 "$PY" -c "
import socket
s = socket.create_connection(('$TOPO_HOST_B', 5001), timeout=30)
s.sendall(open('$TOPO_DIR/data.bin', 'rb').read()); s.shutdown(socket.SHUT_WR); s.recv(1)" ||
    fail "1b: TCP client failed"
wait "$SERVER"
WANT="2097152 $(sha256sum "$TOPO_DIR/data.bin" | cut -d' ' -f1)"
[ "$(cat "$TOPO_DIR/tcp-server.out")" = "$WANT" ] || fail "1b: TCP transfer: got '$(cat "$TOPO_DIR/tcp-server.out")'"
ok "1b: 2 MB TCP transfer A -> B intact"

# 2. charon initiates
topo_swanctl --terminate --ike site-a --timeout 5 > /dev/null 2>&1
topo_wait_status t1 Disconnected 15 || fail "2: no Disconnected after charon's DELETE"
topo_swanctl --initiate --child site-a-net --timeout 15 > "$TOPO_DIR/initiate.out" 2>&1 ||
    fail "2: charon could not initiate: $(tail -5 "$TOPO_DIR/initiate.out")"
topo_wait_status t1 Ready 20 || fail "2: not Ready after charon initiated"
[ "$(topo_ctl --json tunnel sas t1 | jq_py 'd["ikeSas"][0]["initiator"]')" = False ] || fail "2: we are not the responder"
ping_until && ping_b_a 2 || fail "2: no ping after charon initiated"
ok "2: charon initiated, we answered, ping"

# 3. reconnect
OLD=$(ike_spi)
topo_ctl tunnel reconnect t1 > /dev/null || fail "3: reconnect"
topo_wait_status t1 Ready 20 || fail "3: not Ready after reconnect"
NEW=$(ike_spi)
[ -n "$NEW" ] && [ "$NEW" != "$OLD" ] || fail "3: the IKE SA was not replaced ($OLD -> $NEW)"
ping_until && ping_a_b 2 || fail "3: no ping after reconnect"
ok "3: reconnect: new IKE SA $NEW, ping"

# 4. disable / enable
topo_ctl tunnel disable t1 > /dev/null || fail "4: disable"
topo_wait_status t1 Disconnected 10 || fail "4: not Disconnected when disabled"
wait_charon_sa no || fail "4: charon still has the SA after disable"
ip netns exec "$NS_AH" ping -c 2 -W 1 "$TOPO_HOST_B" > /dev/null 2>&1 && fail "4: traffic passes while disabled"
topo_ctl tunnel enable t1 > /dev/null || fail "4: enable"
topo_wait_status t1 Ready 20 || fail "4: not Ready after enable"
ping_until && ping_a_b 2 || fail "4: no ping after enable"
ok "4: disable (DELETE seen by charon, no traffic) and enable"

# 5. kill -9 and restart: the tunnel comes back by itself
topo_ipsecd_stop KILL
topo_ipsecd_start || fail "5: ipsecd did not restart"
topo_wait_status t1 Ready 40 || fail "5: tunnel not back after restart"
ping_until && ping_a_b 2 || fail "5: no ping after restart"
ok "5: kill -9 + restart: tunnel Ready again, ping"

# 6. SIGTERM: IKE SAs deleted (charon sees the DELETE), clean exit; the tunnel comes back after
#    the next start
kill -TERM "$TOPO_IPSECD_PID"
wait "$TOPO_IPSECD_PID"
RC=$?
TOPO_IPSECD_PID=""
[ "$RC" = 0 ] || fail "6: ipsecd exited $RC on SIGTERM"
wait_charon_sa no || fail "6: charon still has the SA after ipsecd's SIGTERM"
topo_ipsecd_start || fail "6: ipsecd did not restart"
topo_wait_status t1 Ready 40 || fail "6: tunnel not back after the clean restart"
ping_until || fail "6: no ping after the clean restart"
ok "6: SIGTERM: DELETE seen by charon, exit 0; restarted, Ready"

# 7. proposal mismatch, both directions
topo_swanctl --initiate --child mismatch-net --timeout 10 > /dev/null 2>&1 && fail "7: the mismatched proposal was accepted"
topo_ctl tunnel log t1 -n 300 > "$TOPO_DIR/t1.log" 2>&1
grep -q "NO_PROPOSAL_CHOSEN: peer offered .*aes128.*we accept .*aes256" "$TOPO_DIR/t1.log" ||
    fail "7: the refused proposal with both offers is not in the tunnel log: $(tail -5 "$TOPO_DIR/t1.log")"
topo_ctl tunnel modify t1 --ike-encryption aes-128 > /dev/null || fail "7: modify"
topo_wait_status t1 Disconnected 40 || fail "7: no Disconnected after the mismatched modify"
REASON=$(topo_ctl --json tunnel show t1 | jq_py 'd["inventory"]["statusReason"]')
echo "$REASON" | grep -q "NO_PROPOSAL_CHOSEN.*aes128" || fail "7: statusReason: $REASON"
ok "7: proposal mismatch: log '$(grep -o 'NO_PROPOSAL_CHOSEN: peer offered.*' "$TOPO_DIR/t1.log" | head -1)'; statusReason '$REASON'"
topo_ctl tunnel modify t1 --ike-encryption aes-256 > /dev/null || fail "7: modify back"
topo_wait_status t1 Ready 40 || fail "7: not Ready after the modify back"

# 7b. modify: a new PSK on both sides (the IKE SA is renegotiated), then a peer CIDR added on
#     both sides (site B gets 10.3.0.1 in 10.3.0.0/24): the IKE SA and the existing CHILD SA
#     stay, a CHILD SA for the new pair is negotiated, and a ping running through the modify
#     between the unchanged pair loses nothing
PSK="e2e-new-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
charon_conf > "$TOPO_DIR/swanctl.conf"
topo_swanctl --load-all --file "$TOPO_DIR/swanctl.conf" > /dev/null 2>&1 || fail "7b: charon reload (PSK)"
printf '%s\n' "$PSK" > "$TOPO_DIR/psk2"
SPI_OLD_PSK=$(ike_spi)
topo_ctl tunnel modify t1 --auth-key-file "$TOPO_DIR/psk2" > /dev/null || fail "7b: modify PSK"
topo_wait_status t1 Ready 40 || fail "7b: not Ready with the new PSK"
# Ready on a new IKE SA: authenticated with the new key (charon no longer knows the old one)
for _ in $(seq 1 50); do [ "$(ike_spi)" != "$SPI_OLD_PSK" ] && break; sleep 0.2; done
[ "$(ike_spi)" != "$SPI_OLD_PSK" ] || fail "7b: the PSK change did not renegotiate the IKE SA"
ping_until || fail "7b: no ping with the new PSK"
# the inbound SPIs of the INSTALLED CHILD SAs, space-separated
child_spis() { topo_ctl --json tunnel sas t1 | jq_py '" ".join(c["spiIn"] for s in d["ikeSas"] for c in s["childSas"] if c["state"] == "INSTALLED")'; }
SPI_IKE=$(ike_spi)
SPI_CHILD=$(child_spis)
[ -n "$SPI_CHILD" ] || fail "7b: no INSTALLED CHILD SA before adding a peer CIDR"
ip -n "$NS_BG" addr add 10.3.0.1/24 dev bg-lan
B_TS="$TOPO_SITE_B_NET,10.3.0.0/24"
charon_conf > "$TOPO_DIR/swanctl.conf"
topo_swanctl --load-all --file "$TOPO_DIR/swanctl.conf" > /dev/null 2>&1 || fail "7b: charon reload (TS)"
ip netns exec "$NS_AH" ping -c 60 -i 0.1 -W 1 "$TOPO_HOST_B" > "$TOPO_DIR/modify-ping.out" 2>&1 &
PING_PID=$!
sleep 1
topo_ctl tunnel modify t1 --add-peer-cidr 10.3.0.0/24 > /dev/null || fail "7b: modify --add-peer-cidr"
ok=""
for _ in $(seq 1 40); do ip netns exec "$NS_AH" ping -c 1 -W 1 10.3.0.1 > /dev/null && { ok=1; break; }; done
[ -n "$ok" ] || fail "7b: no ping to the added peer network (10.3.0.1): $(topo_ctl tunnel sas t1 2>&1 | tail -6)"
wait "$PING_PID"
RECEIVED=$(grep -o '[0-9]* received' "$TOPO_DIR/modify-ping.out" | cut -d' ' -f1)
[ "${RECEIVED:-0}" -eq 60 ] ||
    fail "7b: the unchanged pair lost echoes during the modify: $(tail -2 "$TOPO_DIR/modify-ping.out")"
topo_wait_status t1 Ready 5 || fail "7b: not Ready after adding a peer CIDR"
[ "$(ike_spi)" = "$SPI_IKE" ] || fail "7b: adding a peer CIDR replaced the IKE SA"
SPIS=$(child_spis)
case " $SPIS " in *" $SPI_CHILD "*) ;; *) fail "7b: the existing CHILD SA $SPI_CHILD is gone ($SPIS)" ;; esac
[ "$(echo "$SPIS" | wc -w)" -eq 2 ] || fail "7b: expected 2 CHILD SAs after adding a peer CIDR, have: $SPIS"
topo_swanctl --list-sas | grep -q "10.3.0.0/24" || fail "7b: charon has no CHILD SA for 10.3.0.0/24"
topo_ctl --json tunnel show t1 | jq_py '",".join(d["inventory"]["peerCidrs"])' | grep -q "10.3.0.0/24" ||
    fail "7b: peerCidrs does not list 10.3.0.0/24"
ok "7b: modify: new PSK on both sides (new IKE SA); peer CIDR 10.3.0.0/24 added: same IKE SA, CHILD SA $SPI_CHILD kept, one more for the new pair, $RECEIVED/60 echoes across the modify"

# 8. CHILD SA rekey through the data plane: with lifeTime 30 s the CHILD SA is rekeyed (by
#    either side) while a ping runs; the new SPIs carry the traffic (make-before-break: at
#    most a couple of echo requests may be lost around the switch)
# the inbound SPI of the INSTALLED CHILD SA (a rekeyed one stays listed during its grace period)
child_spi() { topo_ctl --json tunnel sas t1 | jq_py '([c["spiIn"] for s in d["ikeSas"] for c in s["childSas"] if c["state"] == "INSTALLED"] + [""])[0]'; }
topo_ctl tunnel modify t1 --lifetime 30 > /dev/null || fail "8: modify --lifetime 30"
topo_wait_status t1 Ready 20 || fail "8: not Ready with lifetime 30"
ping_until || fail "8: no ping with lifetime 30"
SPI0=$(child_spi)
ip netns exec "$NS_AH" ping -c 150 -i 0.2 -W 1 "$TOPO_HOST_B" > "$TOPO_DIR/rekey-ping.out" 2>&1
SPI1=$(child_spi)
[ -n "$SPI1" ] && [ "$SPI1" != "$SPI0" ] || fail "8: the CHILD SA was not rekeyed in 30 s ($SPI0 -> $SPI1)"
RECEIVED=$(grep -o '[0-9]* received' "$TOPO_DIR/rekey-ping.out" | cut -d' ' -f1)
[ "${RECEIVED:-0}" -ge 147 ] || fail "8: ping across the rekey: $(tail -2 "$TOPO_DIR/rekey-ping.out")"
topo_ctl tunnel log t1 -n 300 | grep -q "rekey" || fail "8: no rekey in the tunnel log"
ok "8: CHILD SA rekeyed ($SPI0 -> $SPI1) under traffic, $RECEIVED/150 echo replies"

# 8b. the peer crashes (charon kill -9) and comes back: with dpdDelay 3 s and action restart
#     (and ipsecd's "ike" retransmit settings: 1 s, x1.5, 3 tries) the dead peer is detected,
#     the tunnel is restarted by itself, and charon's new IKE SA is ours
topo_ctl tunnel modify t1 --dpd-delay 3 --dpd-action restart > /dev/null || fail "8b: modify --dpd-delay 3"
topo_wait_status t1 Ready 20 || fail "8b: not Ready with dpd delay 3"
ping_until || fail "8b: no ping with dpd delay 3"
SPI_BEFORE_CRASH=$(ike_spi)
charon_crash '!Ready' || fail "8b: the dead peer was not detected within 30 s"
topo_ctl tunnel log t1 -n 300 | grep -qi "dead\|giving up\|retransmit" || fail "8b: no dead-peer line in the tunnel log"
topo_charon_start "$(charon_conf)" || fail "8b: charon did not start again"
topo_wait_status t1 Ready 75 || fail "8b: the tunnel did not come back after the peer restarted"
[ "$(ike_spi)" != "$SPI_BEFORE_CRASH" ] || fail "8b: still the IKE SA from before the crash"
wait_charon_sa yes || fail "8b: charon has no SA after the restart"
topo_swanctl --list-sas | grep -qi "$(ike_spi)" || fail "8b: charon's IKE SA is not ours ($(ike_spi))"
ping_until || fail "8b: no ping after the peer restarted"
ping_a_b 3 || fail "8b: ping A -> B lost packets after the restart"
ok "8b: peer crashed and restarted: DPD detected it, tunnel restarted on IKE SA $(ike_spi) (charon agrees), ping"

# 8c. dpd action hold (on demand, strongSwan's trap): the peer crashes and comes back, but the
#     tunnel stays down while no traffic wants it (no reconcile either); the first packet
#     towards site B initiates it (acquire) and traffic flows again
topo_ctl tunnel modify t1 --dpd-action hold > /dev/null || fail "8c: modify --dpd-action hold"
topo_wait_status t1 Ready 20 || fail "8c: not Ready with dpd action hold"
ping_until || fail "8c: no ping with dpd action hold"
SPI_HELD=$(ike_spi)
charon_crash Disconnected || fail "8c: the dead peer was not detected within 30 s"
topo_charon_start "$(charon_conf)" || fail "8c: charon did not start again"
sleep 4
[ "$(tunnel_status)" = Disconnected ] || fail "8c: a held tunnel was initiated without traffic"
charon_has_sa && fail "8c: charon has an SA although no traffic asked for one"
ping_until || fail "8c: traffic did not bring the held tunnel back"
topo_wait_status t1 Ready 10 || fail "8c: not Ready after the acquire"
[ "$(ike_spi)" != "$SPI_HELD" ] || fail "8c: still the IKE SA from before the crash"
topo_ctl tunnel log t1 -n 300 | grep -q "acquire" || fail "8c: no acquire in the tunnel log"
ok "8c: dpd action hold: down and quiet after the peer crashed, brought back by traffic (acquire), IKE SA $(ike_spi)"

# 9. delete
topo_ctl tunnel delete t1 > /dev/null || fail "9: delete"
wait_charon_sa no || fail "9: charon still lists the SA after the delete"
ok "9: delete: charon has no SA left"
echo "product:e2e_strongswan: all steps passed"
