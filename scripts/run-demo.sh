#!/bin/sh
# The README's main job: install packages, build what the demo runs, and run the two-site demo
# (site A: ipsecd managed with ipsecctl; site B: strongSwan; in network namespaces; see
# tools/demo/two-site.sh). The ESP vector demo of the first milestone stays available as
# scripts/demo-vector.sh.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh release ipsecd ipsecctl
exec ./tools/demo/two-site.sh
