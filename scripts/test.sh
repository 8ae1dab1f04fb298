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
bash scripts/sdk-tests.sh
