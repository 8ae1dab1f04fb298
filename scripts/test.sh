#!/usr/bin/env bash
# The whole test suite: Rust unit and integration tests (including the kill -9 durability
# test), then the official Azure SDK for Python driving azemu over HTTPS.
set -euo pipefail
cd "$(dirname "$0")/.."

# tests/watch.rs drives `azemu watch` in a real terminal.
if ! command -v tmux >/dev/null; then
    echo "installing Debian's tmux for the terminal test of azemu watch" >&2
    apt-get update -qq && apt-get install -y -qq tmux >/dev/null
fi

cargo build --release --locked
cargo test --release --locked
# The fidelity figures (the test itself ran above): how many of the specs' examples each family
# answers in shape.
cargo test --release --locked --test conformance -- --nocapture 2>&1 | grep -A3 "^conformance" || true
bash scripts/sdk-tests.sh
