#!/usr/bin/env bash
# Runs tests/sdk with the official SDKs, in a virtualenv this script makes and keeps in
# target/sdk-venv (rebuilt when tests/sdk/requirements.txt changes), the Azure CLI in
# target/cli-venv (from tests/cli/requirements.txt), the JavaScript SDKs and playwright-core in
# tests/js, and Debian's Chromium for the dashboard's browser tests. The families' scenarios, the
# JavaScript SDK's and the Azure CLI's run a second time on a three-node cluster (a PostgreSQL
# server from scripts/postgres.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -m venv --help >/dev/null 2>&1; then
    echo "python3 has no venv module; installing Debian's python3-venv" >&2
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
fi

# Makes (or keeps) the virtualenv $1 with the packages of requirements file $2.
make_venv() {
    local venv=$1 requirements=$2
    local stamp="$venv/.requirements.sha256" wanted
    wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
    if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
        echo "$wanted" > "$stamp"
    fi
}

venv=target/sdk-venv
make_venv "$venv" tests/sdk/requirements.txt
# The Azure CLI pins its own SDK versions, so it lives apart from the SDKs under test.
make_venv target/cli-venv tests/cli/requirements.txt

# The JavaScript SDKs (tests/js), as the lock file pins them; Debian's Node.js when none is there.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "installing Debian's nodejs and npm for the JavaScript SDK tests" >&2
    apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
# The dashboard's browser tests drive Debian's Chromium headless (through playwright-core).
if ! command -v chromium >/dev/null; then
    echo "installing Debian's chromium for the dashboard's browser tests" >&2
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
js_stamp=tests/js/node_modules/.package-lock.sha256
js_wanted=$(sha256sum tests/js/package-lock.json | cut -d' ' -f1)
if [ "$(cat "$js_stamp" 2>/dev/null)" != "$js_wanted" ]; then
    (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
    echo "$js_wanted" > "$js_stamp"
fi

[ -x target/release/azemu ] || cargo build --release --locked
cd tests/sdk
export AZEMU_BIN="$PWD/../../target/release/azemu" AZEMU_AZ="$PWD/../../target/cli-venv/bin/az"
"../../$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
# Without a selection, the families' SDK scenarios, the JavaScript SDK's and the Azure CLI's again, on three nodes sharing one PostgreSQL
# store behind a round-robin proxy (tests/sdk/cluster.py).
if [ $# -eq 0 ]; then
    "../../$venv/bin/python" -m pytest -q -p no:cacheprovider --azemu-cluster \
        test_hci_sdk.py test_updates_sdk.py test_update_runs_sdk.py test_clusters_sdk.py test_compute_sdk.py \
        test_virtual_machines_sdk.py test_deployments_sdk.py test_faults_sdk.py test_identity_sdk.py \
        test_js_sdk.py test_azure_cli.py
fi
