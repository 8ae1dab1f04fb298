#!/usr/bin/env bash
# Soak (not part of CI): every family under load at once on loopback, fault rules firing
# (errors, latency, dropped connections, failed operations and steps), azemu killed with
# SIGKILL and restarted every minute. Bounded: DURATION seconds of load (default 600), then at
# most five minutes for the lifecycles to end. Prints requests, acknowledged writes, writes
# lost, lifecycles that never ended, unexpected 5xx and RSS; exits 1 if any of the last three
# is not zero.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
exec python3 bench/soak.py --duration "${DURATION:-600}" --restart-every "${RESTART_EVERY:-60}"
