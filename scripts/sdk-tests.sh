#!/usr/bin/env bash
# Runs tests/sdk with the official SDKs, in a virtualenv this script makes and keeps in
# target/sdk-venv (rebuilt when tests/sdk/requirements.txt changes).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/sdk-venv
requirements=tests/sdk/requirements.txt
stamp="$venv/.requirements.sha256"
wanted=$(sha256sum "$requirements" | cut -d' ' -f1)

if ! python3 -m venv --help >/dev/null 2>&1; then
    echo "python3 has no venv module; installing Debian's python3-venv" >&2
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
fi
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$wanted" > "$stamp"
fi

[ -x target/release/azemu ] || cargo build --release --locked
cd tests/sdk
AZEMU_BIN="$PWD/../../target/release/azemu" exec "../../$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
