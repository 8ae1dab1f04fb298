#!/usr/bin/env bash
# The PostgreSQL store and several nodes on it, on loopback, bounded in time (about two minutes at
# the defaults). In one run:
#   - durable PUT rate (each a new CollectLog job whose lifecycle then runs) and GET rate (a
#     settled resource group; before the PUTs, and after them while their jobs run) for one node
#     on SQLite, one node on PostgreSQL, and three nodes on one PostgreSQL, wrk on each node at
#     once (round-robin over nodes by connection);
#   - failover: three nodes, `kill -9` of one mid-way through 60 jobs: the time until the others
#     hold every lease, and until a job of the dead node's moves again (its next step committed
#     by another node).
# Everything shares this machine's cores: PostgreSQL, the nodes and wrk. Needs wrk (installed if
# missing) and a PostgreSQL server (scripts/postgres.sh). DURATION and CONNECTIONS tune wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-48}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
[ -x target/release/azemu ] || cargo build --release --locked
server=$(bash scripts/postgres.sh)

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

sub=/subscriptions/00000000-0000-0000-0000-000000000001
device="$sub/resourceGroups/bench-rg/providers/Microsoft.HybridCompute/machines/node-1/providers/Microsoft.AzureStackHCI/edgeDevices/default"
auth=(-H "Authorization: Bearer bench" -H "Content-Type: application/json")

database() { # a fresh database's URL
    local name
    name=azemu_bench_$(date +%s%N)
    psql "$server" -qc "CREATE DATABASE $name" >/dev/null
    echo "${server%/*}/$name"
}

nodes=()
start_node() { # port, data dir, extra serve args…
    local port=$1 dir=$2; shift 2
    target/release/azemu serve --tls off --port "$port" --data "$dir" --log-level warn "$@" > "$work/node-$port.log" 2>&1 &
    pids+=($!)
    nodes+=("http://127.0.0.1:$port")
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/_azemu/health" >/dev/null && return; sleep 0.1; done
    echo "a node did not start:"; cat "$work/node-$port.log"; exit 1
}

stop_nodes() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    pids=(); nodes=()
}

prepare() {
    local base=${nodes[0]}
    curl -sf -X PUT "${auth[@]}" -d '{"location":"eastus"}' "$base$sub/resourcegroups/bench-rg?api-version=2025-04-01" >/dev/null
    curl -sf -X PUT "${auth[@]}" -d '{"kind":"HCI"}' "$base$device?api-version=2026-10-01" >/dev/null
}

# wrk on every node at once, the connections shared out; prints the summed requests/s.
load() { # run name, path (the Lua script makes its own), wrk args…
    local run=$1 path=$2; shift 2
    local each=$((CONNECTIONS / ${#nodes[@]})) outs=() i=0
    for base in "${nodes[@]}"; do
        AZEMU_BENCH_DEVICE="$device" AZEMU_BENCH_RUN="$run-$i" \
            wrk -t1 -c"$each" -d"$DURATION" "$@" "$base$path" > "$work/wrk-$i.out" 2>&1 &
        outs+=($!); i=$((i + 1))
    done
    for o in "${outs[@]}"; do wait "$o"; done
    if grep -qE "Non-2xx|Socket errors" "$work"/wrk-*.out; then
        echo "wrk saw errors:" >&2; grep -hE "Non-2xx|Socket errors" "$work"/wrk-*.out >&2
    fi
    awk '/Requests\/sec/ {sum += $2} END {printf "%.0f", sum}' "$work"/wrk-*.out
    rm -f "$work"/wrk-*.out
}

runs=0
measure() { # label
    prepare
    local put idle busy group="$sub/resourcegroups/bench-rg?api-version=2025-04-01"
    runs=$((runs + 1))
    idle=$(load "r$runs" "$group" -H "Authorization: Bearer bench")
    put=$(load "r$runs" "" -s bench/put_job.lua)
    busy=$(load "r$runs" "$group" -H "Authorization: Bearer bench")
    printf "| %s | %s | %s | %s |\n" "$1" "$put" "$idle" "$busy"
}

echo "| store | durable PUT/s (new jobs) | GET/s, idle | GET/s while those jobs run |"
echo "|---|---|---|---|"
start_node 18401 "$work/sqlite"
measure "one node, SQLite"
stop_nodes

store=$(database)
start_node 18402 "$work/pg1" --store "$store"
measure "one node, PostgreSQL"
stop_nodes

store=$(database)
for i in 1 2 3; do start_node $((18410 + i)) "$work/pg3" --store "$store" --node-id "bench-$i"; done
measure "three nodes, one PostgreSQL"
stop_nodes

python3 bench/failover.py "$server"
