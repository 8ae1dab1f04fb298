#!/usr/bin/env bash
# Memory and start-up at scale (examples/scale_bench.rs): JOBS edge-device jobs (default
# 1,000,000) created on the manual clock over 32 connections, one clock advance that runs all
# their lifecycles, every job read once, then a restart on the filled store; then BURST jobs
# (default 100,000) created at once on the real clock at --speed 1, and how late their steps
# ran. Each figure is also printed as a share of its target. Loopback only; bounded by the job
# counts (about ten minutes and 4 GB of disk in a temporary directory at the defaults).
# AZEMU_ARGS adds serve options (e.g. "--journal-size 0").
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
cargo build --release --locked --quiet --example scale_bench
RUST_BACKTRACE=0 target/release/examples/scale_bench target/release/azemu "${JOBS:-1000000}" "${CONNECTIONS:-32}" "${BURST:-100000}"
