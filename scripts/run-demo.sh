#!/bin/sh
# Install packages, build, and run the main job. Until the two-site tunnel demo exists this
# runs ipsec-vector over the bundled sample: encrypt, decrypt, and compare with the input.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh release
exec ./scripts/demo-vector.sh
