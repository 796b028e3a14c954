# Shared setup of the strongswan_*.sh interop scripts (sourced, bash): two network namespaces
# joined by a veth pair with documentation addresses (moon = us 192.0.2.1, sun = charon
# 192.0.2.2; 10.2.0.1/16 on sun's lo, because kernel-libipsec routes the protected subnet via its
# TUN device with a source address inside it), and charon with kernel-libipsec in sun.
#   charon_ns_require       exit 77 unless root, charon, swanctl and unshare
#   charon_ns_up TAG        NS_US, NS_SW, DIR (temp dir) created; an EXIT trap removes charon,
#                           the namespaces and DIR (and first calls $CHARON_NS_CLEANUP_HOOK)
#   charon_ns_conf LEVEL [LINES]
#                           $DIR/strongswan.conf: charon's filelog $DIR/charon.log with ike/chd
#                           at LEVEL, vici on $DIR/charon.vici, LINES added to charon { }
#   charon_ns_start         starts charon in NS_SW, loads $DIR/swanctl.conf; sets CHARON_PID and
#                           URI (swanctl wants "--uri ..." after the command); 1 on failure
CHARON=${CHARON:-/usr/lib/ipsec/charon}
CHARON_PID=""
CHARON_NS_CLEANUP_HOOK=${CHARON_NS_CLEANUP_HOOK:-}

charon_ns_require() {
    if [ "$(id -u)" != 0 ] || [ ! -x "$CHARON" ] || ! command -v swanctl >/dev/null || ! command -v unshare >/dev/null; then
        echo "SKIP: needs root, charon, swanctl and unshare"
        exit 77
    fi
}

charon_ns_cleanup() {
    [ -n "$CHARON_NS_CLEANUP_HOOK" ] && "$CHARON_NS_CLEANUP_HOOK"
    if [ -n "$CHARON_PID" ]; then
        kill "$CHARON_PID" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$CHARON_PID" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$CHARON_PID" 2>/dev/null
    fi
    ip netns del "$NS_US" 2>/dev/null
    ip netns del "$NS_SW" 2>/dev/null
    [ -n "${DIR:-}" ] && rm -rf "$DIR"
}

charon_ns_up() {
    local tag=$1 ns
    NS_US="$tag-moon"
    NS_SW="$tag-sun"
    DIR=$(mktemp -d "/tmp/$tag.XXXXXX")
    trap charon_ns_cleanup EXIT
    trap 'exit 130' INT TERM
    ip netns add "$NS_US" && ip netns add "$NS_SW" || exit 1
    ip link add "$tag-m" type veth peer name "$tag-s" || exit 1
    ip link set "$tag-m" netns "$NS_US"
    ip link set "$tag-s" netns "$NS_SW"
    ip -n "$NS_US" addr add 192.0.2.1/24 dev "$tag-m"
    ip -n "$NS_SW" addr add 192.0.2.2/24 dev "$tag-s"
    for ns in "$NS_US" "$NS_SW"; do ip -n "$ns" link set lo up; done
    ip -n "$NS_US" link set "$tag-m" up
    ip -n "$NS_SW" link set "$tag-s" up
    ip -n "$NS_SW" addr add 10.2.0.1/16 dev lo
}

charon_ns_conf() {
    cat > "$DIR/strongswan.conf" <<EOT
charon {
  load = random nonce openssl pem pkcs1 pubkey x509 hmac sha1 sha2 aes gmp curve25519 kdf kernel-libipsec kernel-netlink socket-default vici
  install_virtual_ip = no
${2:-}
  filelog {
    charonlog {
      path = $DIR/charon.log
      default = 1
      ike = $1
      chd = $1
      cfg = 2
      flush_line = yes
    }
  }
  plugins {
    vici {
      socket = unix://$DIR/charon.vici
    }
  }
}
EOT
}

charon_ns_start() {
    rm -f "$DIR/charon.vici"  # a killed charon leaves its socket behind
    ip netns exec "$NS_SW" unshare -m sh -c "mount -t tmpfs none /run && STRONGSWAN_CONF=$DIR/strongswan.conf exec $CHARON" \
        > "$DIR/charon.out" 2>&1 &
    CHARON_PID=$!
    URI="--uri unix://$DIR/charon.vici"
    for _ in $(seq 1 50); do [ -S "$DIR/charon.vici" ] && break; sleep 0.1; done
    if ! ip netns exec "$NS_SW" swanctl --load-all $URI --file "$DIR/swanctl.conf" > "$DIR/load.out" 2>&1; then
        cat "$DIR/load.out" "$DIR/charon.out"
        return 1
    fi
}
