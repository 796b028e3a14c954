#!/bin/bash
# The main job: a site-to-site IPsec tunnel between two sites built in network namespaces.
#   site A: a host behind ipsecd (DPDK over net_af_packet), managed with ipsecctl
#   site B: strongSwan's charon (kernel-libipsec) with a host behind it
# It creates the VIP and the tunnel through ipsecd's API with the product's default algorithms
# (IKEv2 aes-256/sha256/group 2, ESP aes-256/sha256 with PFS dh-group14), waits for Ready,
# pings across in both directions, shows the tunnel, its SAs and counters, deletes the tunnel
# (charon sees the DELETE) and removes everything it created. Exit 0 only if all of that worked.
#
# usage: tools/demo/two-site.sh        (as root, after ./scripts/build.sh release)
#        TOPO_KEEP=1 keeps the temp dir with the logs.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=topology.sh
. "$HERE/topology.sh"

if ! why=$(topo_check); then
    echo "two-site demo: $why" >&2
    exit 2
fi

step() { printf '\n== %s\n' "$*"; }
fail() {
    echo "two-site demo FAILED: $*" >&2
    for f in ipsecd.log charon.log; do
        [ -f "$TOPO_DIR/$f" ] && { echo "--- last lines of $f" >&2; tail -25 "$TOPO_DIR/$f" >&2; }
    done
    exit 1
}
trap topo_down EXIT
trap 'exit 130' INT TERM

PSK="demo-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"

step "building the two sites in network namespaces ($NS_AH, $NS_AG, $NS_BG, $NS_BH)"
topo_up || fail "namespaces"
echo "site A: host $TOPO_HOST_A in $TOPO_SITE_A_NET behind ipsecd (public port 203.0.113.1, VIPs 203.0.113.10-20)"
echo "site B: host $TOPO_HOST_B in $TOPO_SITE_B_NET behind strongSwan at $TOPO_PEER"

step "site B: strongSwan with the matching proposals (aes256-sha256-modp1024, ESP aes256-sha256-modp2048)"
topo_charon_start "connections {
$(topo_charon_conn site-a aes256-sha256-modp1024 aes256-sha256-modp2048 "$TOPO_SITE_B_NET")
}
$(topo_charon_secret "$PSK")" || fail "charon did not start"
echo "charon is up"

step "site A: ipsecd (DPDK engine + IKEv2 + API)"
topo_ipsecd_config
topo_ipsecd_start || fail "ipsecd did not start"
topo_ctl network list || fail "network list"

step "ipsecctl vip create --name demo-vip --network public"
topo_ctl vip create --name demo-vip --network public || fail "vip create"

step "ipsecctl tunnel create --name to-site-b ... (product defaults)"
printf '%s\n' "$PSK" > "$TOPO_DIR/psk"
chmod 600 "$TOPO_DIR/psk"
topo_ctl tunnel create --name to-site-b --description "demo tunnel to site B" --vip demo-vip \
    --peer-address "$TOPO_PEER" --peer-cidr "$TOPO_SITE_B_NET" --l3-network vpc-a \
    --auth-key-file "$TOPO_DIR/psk" || fail "tunnel create"

step "waiting for the tunnel to become Ready"
topo_wait_status to-site-b Ready 40 || fail "tunnel not Ready"
echo "Ready"

step "ping site B's host from site A's host, and back"
ip netns exec "$NS_AH" ping -c 3 -i 0.3 -W 2 "$TOPO_HOST_B" || fail "ping A -> B"
ip netns exec "$NS_BH" ping -c 3 -i 0.3 -W 2 "$TOPO_HOST_A" || fail "ping B -> A"

step "ipsecctl tunnel show to-site-b"
topo_ctl tunnel show to-site-b || fail "tunnel show"
step "ipsecctl tunnel sas to-site-b"
topo_ctl tunnel sas to-site-b || fail "tunnel sas"
step "strongSwan's view: swanctl --list-sas"
topo_swanctl --list-sas || fail "swanctl --list-sas"
step "counters (GET /metrics, this tunnel)"
topo_ctl metrics | grep -E '^ipsec_tunnel_(bytes|packets)' || true

step "ipsecctl tunnel delete to-site-b (the VIP stays)"
topo_ctl tunnel delete to-site-b || fail "tunnel delete"
for _ in $(seq 1 25); do
    topo_swanctl --list-sas 2>/dev/null | grep -q "site-a" || break
    sleep 0.2
done
topo_swanctl --list-sas 2>/dev/null | grep -q "site-a" && fail "charon still lists the SA after the delete"
echo "charon received the DELETE: no SA left"
topo_ctl vip list || fail "vip list"

step "tearing down"
trap - EXIT
topo_down
echo "two-site demo: OK"
