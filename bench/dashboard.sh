#!/usr/bin/env bash
# The dashboard under load: 10,000 resources (resource groups) and 100 running edge-device jobs
# on a manual clock, the page open in headless Chromium. Reports the time to first render (the
# page's navigation to its tree drawn) and the time to apply 1,000 and more change events (the
# first event's arrival to the tree drawn after the last), with the longest main-thread task
# meanwhile. Needs scripts/sdk-tests.sh's playwright-core and Chromium. Loopback only; azemu is
# stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d tests/js/node_modules/playwright-core ] || { echo "run scripts/sdk-tests.sh once first (it installs playwright-core)"; exit 1; }
cargo build --release --locked --quiet
work=$(mktemp -d)
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
target/release/azemu serve --port 0 --tls off --clock manual --data "$work/data" --log-level warn > "$work/serve.log" &
pid=$!
url=""
for _ in $(seq 1 200); do
    url=$(sed -n 's/^azemu listening on \(.*\)$/\1/p' "$work/serve.log" | head -1)
    [ -n "$url" ] && break
    sleep 0.05
done
[ -n "$url" ] || { echo "azemu did not start"; exit 1; }
AZEMU_ENDPOINT="$url" RESOURCES="${RESOURCES:-10000}" JOBS="${JOBS:-100}" node bench/dashboard.mjs
