#!/usr/bin/env bash
# The dashboard under load: 10,000 resources (resource groups) and 100 running edge-device jobs
# on a manual clock, the page open in headless Chromium. Reports the time to first render (the
# page's navigation to its tree drawn) and the time to apply 1,000 and more change events (the
# first event's arrival to the tree drawn after the last), with the longest main-thread task
# meanwhile; then, on a running clock, how long after its time each change of 100 live jobs
# reaches the page. Needs scripts/sdk-tests.sh's playwright-core and Chromium. Loopback only; azemu is
# stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d tests/js/node_modules/playwright-core ] || { echo "run scripts/sdk-tests.sh once first (it installs playwright-core)"; exit 1; }
cargo build --release --locked --quiet
source bench/lib.sh
start_azemu target/release/azemu --tls off --clock manual
AZEMU_ENDPOINT="$url" RESOURCES="${RESOURCES:-10000}" JOBS="${JOBS:-100}" node bench/dashboard.mjs
