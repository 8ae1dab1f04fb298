#!/usr/bin/env bash
# The whole test suite: Rust unit and integration tests (including the kill -9 durability
# test), then the official Azure SDK for Python driving azemu over HTTPS.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked
cargo test --release --locked
bash scripts/sdk-tests.sh
