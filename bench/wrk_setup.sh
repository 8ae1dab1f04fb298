# Sourced by the wrk benchmarks: wrk's settings (DURATION, CONNECTIONS, THREADS), wrk itself
# (Debian package `wrk`, installed if missing), release builds of azemu and the bare hyper
# yardstick, a scratch directory `$data`, and a cleanup that stops `$azemu_pid` / `$bare_pid`.
set -euo pipefail
trap 'echo "bench: failed at line $LINENO" >&2' ERR
cd "$(dirname "$0")/.."
DURATION=${DURATION:-${DEFAULT_DURATION:-10s}}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked --quiet
cargo build --release --locked --quiet --example bare_hyper

data=$(mktemp -d)
cleanup() { kill "${azemu_pid:-}" "${bare_pid:-}" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

# Requests/s of the bare hyper server (fixed 800-byte body) on port $1, under the same wrk load.
bare_hyper_rps() {
    target/release/examples/bare_hyper "$1" > /dev/null &
    bare_pid=$!
    sleep 0.3
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "http://127.0.0.1:$1/" | awk '/Requests\/sec/ {print $2}'
    kill "$bare_pid"; bare_pid=
}
