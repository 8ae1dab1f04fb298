#!/usr/bin/env bash
# The whole test suite: Rust unit and integration tests (including the kill -9 durability
# tests, on SQLite and on PostgreSQL), then the official Azure SDKs and CLI driving azemu.
set -euo pipefail
cd "$(dirname "$0")/.."

# tests/watch.rs drives `azemu watch` in a real terminal.
if ! command -v tmux >/dev/null; then
    echo "installing Debian's tmux for the terminal test of azemu watch" >&2
    apt-get update -qq && apt-get install -y -qq tmux >/dev/null
fi

# The PostgreSQL store's tests need a server: the one AZEMU_TEST_POSTGRES names, or a throwaway
# cluster scripts/postgres.sh starts (installing Debian's postgresql when it is missing) and
# stops when the tests end.
if [ -z "${AZEMU_TEST_POSTGRES:-}" ]; then
    AZEMU_TEST_POSTGRES=$(bash scripts/postgres.sh)
    export AZEMU_TEST_POSTGRES
    trap 'bash scripts/postgres.sh stop' EXIT
fi

cargo build --release --locked
cargo test --release --locked
# The fidelity figures (the test itself ran above): how many of the specs' examples each family
# answers in shape.
cargo test --release --locked --test conformance -- --nocapture 2>&1 | grep -A3 "^conformance" || true
bash scripts/sdk-tests.sh
