#!/bin/sh
# Build one flavour: release (default), asan (ASan+UBSan, tests only) or fuzz (clang libFuzzer).
set -eu
cd "$(dirname "$0")/.."
flavour="${1:-release}"
jobs="${JOBS:-$(nproc)}"
case "$flavour" in
  release) cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DIPSEC_WERROR=ON >/dev/null ;;
  asan)    cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIPSEC_SANITIZE=ON \
             -DIPSEC_BENCH=OFF -DIPSEC_WERROR=ON >/dev/null ;;
  fuzz)    CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
             -DIPSEC_FUZZ=ON -DIPSEC_BENCH=OFF -DIPSEC_WERROR=ON >/dev/null ;;
  *) echo "usage: $0 [release|asan|fuzz]" >&2; exit 2 ;;
esac
case "$flavour" in
  # The sanitizer flavour builds only what its test run uses (in-process suites, fuzz replays,
  # ipsec-vector); DPDK processes and namespace tests run in the release flavour.
  asan) cmake --build build/asan -j "$jobs" --target sanitizer_tests ;;
  *)    cmake --build "build/$flavour" -j "$jobs" ;;
esac
