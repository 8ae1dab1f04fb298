#!/usr/bin/env bash
# Memory and start-up at scale (examples/scale_bench.rs): JOBS edge-device jobs (default
# 200,000) created on the manual clock over 32 connections, one clock advance that runs all
# their lifecycles, every job read once, then a restart on the filled store. Loopback only;
# bounded by the job count (a few minutes, a few GB of disk in a temporary directory).
# AZEMU_ARGS adds serve options (e.g. "--journal-size 0").
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
cargo build --release --locked --quiet --example scale_bench
RUST_BACKTRACE=0 target/release/examples/scale_bench target/release/azemu "${JOBS:-200000}" "${CONNECTIONS:-32}"
