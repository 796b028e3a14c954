#!/bin/sh
# Install every Debian 12 package the project needs (idempotent; run as root).
set -eu
export DEBIAN_FRONTEND=noninteractive
PKGS="build-essential cmake ninja-build pkg-config git \
 libdpdk-dev dpdk-dev dpdk libipsec-mb-dev libssl-dev openssl \
 libboost1.74-dev libfmt-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libpcap-dev \
 catch2 clang libclang-rt-14-dev \
 python3 python3-scapy python3-cryptography tshark tcpdump iproute2 iputils-ping procps \
 strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-extra-plugins libstrongswan-standard-plugins"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing:$missing"
  apt-get update -q
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing
fi
# charon must not start as a system service in CI containers; tests run their own instances.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now strongswan-starter strongswan 2>/dev/null || true; fi
echo "setup: all packages present"
