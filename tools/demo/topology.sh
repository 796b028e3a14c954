# Two-site topology in network namespaces, shared by the demo (tools/demo/two-site.sh) and the
# end-to-end tests (tests/product/). Source it with bash; every name carries $TOPO (default
# "ipd$$") so several runs can coexist, and topo_down removes everything topo_up created.
#
#   site A host          site A gateway (ipsecd, DPDK)           site B gateway (charon)    site B host
#   $TOPO-ah             $TOPO-ag                                $TOPO-bg                   $TOPO-bh
#   ah0 10.1.0.10/24 --- ag-priv | ipsecd | ag-pub  ------------ bg-pub 203.0.113.2/24      bh0 10.2.0.10/24
#                        (private port 10.1.0.1/24,              bg-lan 10.2.0.1/24 ------  gw 10.2.0.1
#                         public port 203.0.113.1/24,            kernel-libipsec (ipsec0)
#                         VIPs from 203.0.113.10-20)
#
# Addresses: 203.0.113.0/24 (RFC 5737 documentation) for the "internet", 10.1/10.2 private
# site networks. ipsecd's ports are the veth ends ag-priv / ag-pub opened with net_af_packet; the
# kernel in $TOPO-ag has no addresses on them, so only ipsecd answers there.
#
# Functions: topo_up, topo_charon_start CONF_BODY, topo_charon_stop, topo_ipsecd_config,
# topo_charon_conn, topo_charon_secret, topo_ipsecd_start, topo_ipsecd_stop [SIGNAL], topo_ctl ARGS..., topo_swanctl ARGS...,
# topo_wait_status NAME STATUS [SECONDS], topo_down. Variables: TOPO_DIR (temp dir), IPSECD,
# IPSECCTL (binaries), TOPO_VIP_RANGE, TOPO_IPSECD_EXTRA (more top-level keys for ipsecd's
# config, e.g. '"ike": {...}').

TOPO=${TOPO:-ipd$$}
TOPO_ROOT=${TOPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
IPSECD=${IPSECD:-$TOPO_ROOT/build/release/tools/ipsecd/ipsecd}
IPSECCTL=${IPSECCTL:-$TOPO_ROOT/build/release/tools/ipsecctl/ipsecctl}
CHARON=${CHARON:-/usr/lib/ipsec/charon}
NS_AH=$TOPO-ah
NS_AG=$TOPO-ag
NS_BG=$TOPO-bg
NS_BH=$TOPO-bh
TOPO_DIR=""
TOPO_CHARON_PID=""
TOPO_IPSECD_PID=""
TOPO_SITE_A_NET=10.1.0.0/24
TOPO_SITE_B_NET=10.2.0.0/24
TOPO_HOST_A=10.1.0.10
TOPO_HOST_B=10.2.0.10
TOPO_PEER=203.0.113.2
TOPO_VIP=203.0.113.10        # the first address of the public network's VIP range

# Prints why the topology cannot run here and returns 1 (callers exit 77 in tests).
topo_check() {
    if [ "$(id -u)" != 0 ]; then echo "needs root (network namespaces)"; return 1; fi
    for b in "$IPSECD" "$IPSECCTL" "$CHARON"; do
        [ -x "$b" ] || { echo "missing $b"; return 1; }
    done
    for c in ip swanctl unshare ping; do
        command -v "$c" >/dev/null || { echo "missing $c"; return 1; }
    done
    return 0
}

topo_up() {
    TOPO_DIR=$(mktemp -d "/tmp/$TOPO.XXXXXX")
    chmod 700 "$TOPO_DIR"
    local ns
    for ns in "$NS_AH" "$NS_AG" "$NS_BG" "$NS_BH"; do
        ip netns add "$ns" || return 1
        ip -n "$ns" link set lo up
    done
    # veth names are global until moved: keep them short and unique per run.
    ip link add "$TOPO-1" type veth peer name "$TOPO-2" || return 1   # host A <-> ipsecd private
    ip link add "$TOPO-3" type veth peer name "$TOPO-4" || return 1   # ipsecd public <-> site B
    ip link add "$TOPO-5" type veth peer name "$TOPO-6" || return 1   # site B gateway <-> host B
    ip link set "$TOPO-1" netns "$NS_AH" name ah0
    ip link set "$TOPO-2" netns "$NS_AG" name ag-priv
    ip link set "$TOPO-3" netns "$NS_AG" name ag-pub
    ip link set "$TOPO-4" netns "$NS_BG" name bg-pub
    ip link set "$TOPO-5" netns "$NS_BG" name bg-lan
    ip link set "$TOPO-6" netns "$NS_BH" name bh0
    # The gateway namespace's kernel stays off ipsecd's links (no addresses, no IPv6 chatter).
    for ns in "$NS_AG"; do
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    done
    ip netns exec "$NS_AG" sysctl -qw net.ipv6.conf.ag-priv.disable_ipv6=1 net.ipv6.conf.ag-pub.disable_ipv6=1
    ip -n "$NS_AG" link set ag-priv up
    ip -n "$NS_AG" link set ag-pub up
    ip -n "$NS_AH" addr add "$TOPO_HOST_A/24" dev ah0
    ip -n "$NS_AH" link set ah0 up
    ip -n "$NS_AH" route add default via 10.1.0.1
    ip -n "$NS_BG" addr add "$TOPO_PEER/24" dev bg-pub
    ip -n "$NS_BG" link set bg-pub up
    ip -n "$NS_BG" addr add 10.2.0.1/24 dev bg-lan
    ip -n "$NS_BG" link set bg-lan up
    ip netns exec "$NS_BG" sysctl -qw net.ipv4.ip_forward=1
    ip -n "$NS_BH" addr add "$TOPO_HOST_B/24" dev bh0
    ip -n "$NS_BH" link set bh0 up
    ip -n "$NS_BH" route add default via 10.2.0.1
    # Frames reaching ipsecd's packet sockets must be finished: no TSO/GSO super-segments over
    # the MTU, no partial checksums (veths offload both by default, and TCP then stalls).
    local off="$TOPO_ROOT/tests/dataplane/ethtool_off.py"
    ip netns exec "$NS_AG" /usr/bin/python3 "$off" ag-priv || return 1
    ip netns exec "$NS_AG" /usr/bin/python3 "$off" ag-pub || return 1
    ip netns exec "$NS_AH" /usr/bin/python3 "$off" ah0 || return 1
    ip netns exec "$NS_BG" /usr/bin/python3 "$off" bg-pub || return 1
}

# ipsecd's configuration for site A: two af_packet ports, the networks the product knows, the
# API socket and the state directory inside TOPO_DIR.
topo_ipsecd_config() {
    cat > "$TOPO_DIR/ipsecd.json" <<EOT
{
  "eal": ["--no-huge", "-m", "512", "--no-pci", "--no-telemetry", "--file-prefix=$TOPO-a",
          "--log-level=lib.*:warning",
          "--vdev=net_af_packet0,iface=ag-priv", "--vdev=net_af_packet1,iface=ag-pub"],
  "ports": [
    {"name": "private", "role": "private", "device": "net_af_packet0", "ip": "10.1.0.1/24"},
    {"name": "public", "role": "public", "device": "net_af_packet1", "ip": "203.0.113.1/24"}
  ],
  "idle_sleep_us": 200,
  "summary_interval_ms": 0,
  "networks": [
    {"name": "public", "category": "public", "port": "public", "cidr": "203.0.113.0/24",
     "gateway": "203.0.113.254",
     "ipRanges": [{"name": "vips", "start": "203.0.113.10", "end": "203.0.113.20"}]},
    {"name": "vpc-a", "category": "private", "port": "private", "cidr": "10.1.0.0/24",
     "gateway": "10.1.0.1"}
  ],
  ${TOPO_IPSECD_EXTRA:+$TOPO_IPSECD_EXTRA,}
  "api": {"socket": "$TOPO_DIR/api.sock"},
  "state_dir": "$TOPO_DIR/state"
}
EOT
}

topo_ipsecd_start() {
    [ -f "$TOPO_DIR/ipsecd.json" ] || topo_ipsecd_config
    rm -f "$TOPO_DIR/api.sock"
    ip netns exec "$NS_AG" "$IPSECD" --config "$TOPO_DIR/ipsecd.json" >> "$TOPO_DIR/ipsecd.log" 2>&1 &
    TOPO_IPSECD_PID=$!
    local i
    for i in $(seq 1 150); do
        [ -S "$TOPO_DIR/api.sock" ] && return 0
        kill -0 "$TOPO_IPSECD_PID" 2>/dev/null || { echo "ipsecd exited:"; tail -20 "$TOPO_DIR/ipsecd.log"; return 1; }
        sleep 0.1
    done
    echo "ipsecd API socket did not appear:"; tail -20 "$TOPO_DIR/ipsecd.log"
    return 1
}

# topo_ipsecd_stop [SIGNAL]: TERM (default) stops cleanly, KILL simulates a crash.
topo_ipsecd_stop() {
    local sig=${1:-TERM} i
    [ -n "$TOPO_IPSECD_PID" ] || return 0
    kill "-$sig" "$TOPO_IPSECD_PID" 2>/dev/null
    for i in $(seq 1 50); do kill -0 "$TOPO_IPSECD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$TOPO_IPSECD_PID" 2>/dev/null
    wait "$TOPO_IPSECD_PID" 2>/dev/null
    TOPO_IPSECD_PID=""
}

topo_ctl() { "$IPSECCTL" --socket "$TOPO_DIR/api.sock" "$@"; }

# topo_charon_start CONNECTIONS_AND_SECRETS: starts charon (kernel-libipsec) in site B's
# gateway namespace with its own strongswan.conf, vici socket and log, and loads the given
# swanctl.conf body.
topo_charon_start() {
    cat > "$TOPO_DIR/strongswan.conf" <<EOT
charon {
  load = random nonce openssl pem pkcs1 pubkey x509 hmac sha1 sha2 aes gmp curve25519 kdf kernel-libipsec kernel-netlink socket-default vici updown
  install_virtual_ip = no
  filelog {
    charonlog {
      path = $TOPO_DIR/charon.log
      default = 1
      ike = 2
      chd = 2
      cfg = 2
      flush_line = yes
    }
  }
  plugins {
    vici {
      socket = unix://$TOPO_DIR/charon.vici
    }
  }
}
EOT
    printf '%s\n' "$1" > "$TOPO_DIR/swanctl.conf"
    # a charon killed with SIGKILL leaves its vici socket behind: waiting for the file would
    # then return at once and swanctl would meet "connection refused"
    rm -f "$TOPO_DIR/charon.vici"
    ip netns exec "$NS_BG" unshare -m sh -c \
        "mount -t tmpfs none /run && STRONGSWAN_CONF=$TOPO_DIR/strongswan.conf exec $CHARON" \
        > "$TOPO_DIR/charon.out" 2>&1 &
    TOPO_CHARON_PID=$!
    local i
    for i in $(seq 1 50); do [ -S "$TOPO_DIR/charon.vici" ] && break; sleep 0.1; done
    topo_swanctl --load-all --file "$TOPO_DIR/swanctl.conf" > "$TOPO_DIR/swanctl-load.out" 2>&1 || {
        cat "$TOPO_DIR/swanctl-load.out" "$TOPO_DIR/charon.out"; return 1; }
}

# topo_charon_conn NAME IKE_PROPOSALS ESP_PROPOSALS LOCAL_TS: one swanctl connection of site B
# towards site A's VIP (TOPO_VIP) with PSK auth and IP identities; its child is NAME-net.
topo_charon_conn() {
    cat <<EOT
  $1 {
    local_addrs = $TOPO_PEER
    remote_addrs = $TOPO_VIP
    version = 2
    proposals = $2
    local {
      auth = psk
      id = $TOPO_PEER
    }
    remote {
      auth = psk
      id = $TOPO_VIP
    }
    children {
      $1-net {
        local_ts = $4
        remote_ts = $TOPO_SITE_A_NET
        esp_proposals = $3
        start_action = none
      }
    }
  }
EOT
}

# topo_charon_secret PSK: the swanctl secrets section for site A's VIP and site B.
topo_charon_secret() {
    cat <<EOT
secrets {
  ike-site-a {
    id-1 = $TOPO_VIP
    id-2 = $TOPO_PEER
    secret = "$1"
  }
}
EOT
}

# swanctl against our charon (the --uri option must follow the command).
topo_swanctl() {
    local cmd=$1; shift
    ip netns exec "$NS_BG" swanctl "$cmd" --uri "unix://$TOPO_DIR/charon.vici" "$@"
}

topo_charon_stop() {
    local i
    [ -n "$TOPO_CHARON_PID" ] || return 0
    kill "$TOPO_CHARON_PID" 2>/dev/null
    for i in $(seq 1 20); do kill -0 "$TOPO_CHARON_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$TOPO_CHARON_PID" 2>/dev/null
    wait "$TOPO_CHARON_PID" 2>/dev/null
    TOPO_CHARON_PID=""
}

# topo_wait_status TUNNEL STATUS [SECONDS]: polls the tunnel's status through the API.
topo_wait_status() {
    local name=$1 want=$2 secs=${3:-30} i st
    for i in $(seq 1 $((secs * 5))); do
        st=$(topo_ctl --json tunnel show "$name" 2>/dev/null |
             /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["inventory"]["status"])' 2>/dev/null)
        [ "$st" = "$want" ] && return 0
        sleep 0.2
    done
    echo "tunnel $name: status '$st', wanted '$want'"
    return 1
}

topo_down() {
    topo_ipsecd_stop TERM
    topo_charon_stop
    local ns
    for ns in "$NS_AH" "$NS_AG" "$NS_BG" "$NS_BH"; do ip netns del "$ns" 2>/dev/null; done
    [ -n "$TOPO_DIR" ] && [ -z "${TOPO_KEEP:-}" ] && rm -rf "$TOPO_DIR"
    return 0
}
