#!/bin/sh
# Install packages, build release + sanitizer flavours, and run the whole test suite.
# This is the README's test command and what .ci/run calls.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh release
./scripts/build.sh asan
echo "== release: all tests"
# -j 3 on 2 cores: the longest tests (strongSwan and namespace tests, COST first) mostly wait on
# timers; the ipsecd namespace tests never run beside each other (RESOURCE_LOCK ipsecd_netns).
(cd build/release && ctest --output-on-failure -j 3 --timeout 900)
echo "== asan+ubsan: unit, exchange, vector and fuzz-corpus tests (DPDK and namespace tests run in release only)"
(cd build/asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure -j 2 --timeout 900 -L "unit|fuzz|vectors")
echo "== all tests passed"
