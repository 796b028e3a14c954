#!/bin/sh
# Build one flavour: release (default), asan (ASan+UBSan, tests only) or fuzz (clang libFuzzer).
# Optional target names after the flavour build only those (e.g. `build.sh release ipsecd`).
set -eu
cd "$(dirname "$0")/.."
flavour="${1:-release}"
[ $# -gt 0 ] && shift
jobs="${JOBS:-$(nproc)}"
case "$flavour" in
  release) cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DIPSEC_WERROR=ON >/dev/null ;;
  asan)    cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIPSEC_SANITIZE=ON \
             -DIPSEC_BENCH=OFF -DIPSEC_WERROR=ON >/dev/null ;;
  fuzz)    CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
             -DIPSEC_FUZZ=ON -DIPSEC_BENCH=OFF -DIPSEC_WERROR=ON >/dev/null ;;
  *) echo "usage: $0 [release|asan|fuzz] [TARGET...]" >&2; exit 2 ;;
esac
case "$flavour" in
  # The sanitizer flavour builds only what its test run uses (in-process suites, fuzz replays,
  # ipsec-vector); DPDK processes and namespace tests run in the release flavour.
  asan) [ $# -gt 0 ] || set -- sanitizer_tests
        cmake --build build/asan -j "$jobs" --target "$@" ;;
  *)    if [ $# -gt 0 ]; then cmake --build "build/$flavour" -j "$jobs" --target "$@"
        else cmake --build "build/$flavour" -j "$jobs"; fi ;;
esac
