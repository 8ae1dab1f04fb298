#!/usr/bin/env bash
# HTTP benchmark on loopback, bounded in time: GET one job and PUT new jobs against azemu
# (--tls off), and a bare hyper server with a fixed 800-byte body as the yardstick.
# 32 connections, 10 s each. Needs wrk (Debian package `wrk`; installed if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked --quiet
cargo build --release --locked --quiet --example bare_hyper

data=$(mktemp -d)
cleanup() { kill "${azemu_pid:-}" "${bare_pid:-}" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

target/release/azemu serve --tls off --port 18901 --data "$data" --log-level warn > "$data/azemu.out" &
azemu_pid=$!
target/release/examples/bare_hyper 18902 > /dev/null &
bare_pid=$!
for _ in $(seq 50); do curl -sf http://127.0.0.1:18901/_azemu/health >/dev/null && break; sleep 0.1; done

base=http://127.0.0.1:18901
auth=(-H "Authorization: Bearer bench" -H "Content-Type: application/json")
sub=/subscriptions/00000000-0000-0000-0000-000000000001
device="$sub/resourceGroups/bench-rg/providers/Microsoft.HybridCompute/machines/node-1/providers/Microsoft.AzureStackHCI/edgeDevices/default"
curl -sf -X PUT "${auth[@]}" -d '{"location":"eastus"}' "$base$sub/resourcegroups/bench-rg?api-version=2025-04-01" >/dev/null
curl -sf -X PUT "${auth[@]}" -d '{"kind":"HCI"}' "$base$device?api-version=2026-10-01" >/dev/null
curl -sf -X PUT "${auth[@]}" -d '{"kind":"HCI","properties":{"jobType":"CollectLog","fromDate":"2024-01-29T10:00:00Z","toDate":"2024-01-29T12:00:00Z"}}' "$base$device/jobs/bench-job?api-version=2026-10-01" >/dev/null
sleep 5 # let the job finish: GET measures a steady document
echo "GET job body: $(curl -sf "${auth[@]}" "$base$device/jobs/bench-job?api-version=2026-10-01" | wc -c) bytes"

run() { echo "== $1"; shift; wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" | grep -E "Requests/sec|99%|Non-2xx|Socket errors|requests in"; }
run "bare hyper, fixed 800-byte body" http://127.0.0.1:18902/
run "azemu GET one job" -H "Authorization: Bearer bench" "$base$device/jobs/bench-job?api-version=2026-10-01"
AZEMU_BENCH_DEVICE="$device" run "azemu PUT new job (durable)" -s bench/put_job.lua "$base"
echo "azemu peak RSS: $(grep VmHWM /proc/$azemu_pid/status | awk '{print $2, $3}')"
echo "azemu resources after the run: $(curl -sf $base/_azemu/health)"
kill "$azemu_pid"
sync # let the first run's writes reach the disk, so they do not slow this one's commits

# The same PUTs with the lifecycle engine paused (--clock manual): the request path and the
# durable commit alone, without the ~10 simulation steps each new job later writes.
mkdir -p "$data/paused"
target/release/azemu serve --tls off --port 18903 --data "$data/paused" --clock manual --log-level warn > /dev/null &
azemu_pid=$!
base=http://127.0.0.1:18903
for _ in $(seq 50); do curl -sf $base/_azemu/health >/dev/null && break; sleep 0.1; done
curl -sf -X PUT "${auth[@]}" -d '{"location":"eastus"}' "$base$sub/resourcegroups/bench-rg?api-version=2025-04-01" >/dev/null
curl -sf -X PUT "${auth[@]}" -d '{"kind":"HCI"}' "$base$device?api-version=2026-10-01" >/dev/null
AZEMU_BENCH_DEVICE="$device" run "azemu PUT new job (durable, lifecycles paused)" -s bench/put_job.lua "$base"
