#!/usr/bin/env bash
# `az vmss create` of 1,000 Flexible instances against azemu at --speed 100, as a user runs it:
# the Azure CLI pinned in tests/cli/requirements.txt (target/cli-venv, made by scripts/sdk-tests.sh),
# signed in to azemu over HTTPS. Reports the time from the command's start to its end (the set
# Succeeded, every instance running) and azemu's memory per instance (RSS after minus before).
# Loopback only; ends by itself (the CLI command is bounded to 10 minutes).
#
#     cargo build --release && bash bench/vmss_create1000.sh
set -euo pipefail
cd "$(dirname "$0")/.."
AZ=${AZEMU_AZ:-target/cli-venv/bin/az}
[ -x "$AZ" ] || { echo "$AZ is missing: run scripts/sdk-tests.sh once to install the Azure CLI" >&2; exit 1; }
COUNT=${COUNT:-1000}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
target/release/azemu serve --port 0 --data "$work/data" --speed 100 --log-level warn > "$work/out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/out" && break; sleep 0.1; done
endpoint=$(sed -n 's/^azemu listening on //p' "$work/out")
export AZURE_CONFIG_DIR="$work/az" AZURE_CORE_COLLECT_TELEMETRY=no AZURE_CORE_ONLY_SHOW_ERRORS=true
export REQUESTS_CA_BUNDLE="$work/data/tls/ca.pem"
"$AZ" cloud register -n azemu --endpoint-resource-manager "$endpoint" >/dev/null
"$AZ" cloud set -n azemu
"$AZ" login --service-principal -u bench -p any-secret --tenant 7e5a1e00-a2e0-4c0d-8e00-000000000001 >/dev/null
"$AZ" group create -n bench -l westus >/dev/null
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"; }
before=$(rss)
started=$(date +%s.%N)
timeout 600 "$AZ" vmss create -g bench -n fleet --image Ubuntu2204 --instance-count "$COUNT" \
    --admin-username azureuser --admin-password 'Passw0rd!Passw0rd' -o none
ended=$(date +%s.%N)
state=$("$AZ" vmss show -g bench -n fleet --query provisioningState -o tsv)
members=$("$AZ" vm list -g bench --query "length([?virtualMachineScaleSet])" -o tsv)
after=$(rss)
peak=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
awk -v s="$started" -v e="$ended" -v n="$COUNT" -v st="$state" -v m="$members" -v b="$before" -v a="$after" -v p="$peak" 'BEGIN {
    printf "az vmss create (Flexible, %d instances, --speed 100): %s with %d VMs in %.1f s\n", n, st, m, e - s
    printf "azemu RSS: %.0f MiB before, %.0f MiB after (peak %.0f MiB): %.1f KiB per instance\n", b / 1024, a / 1024, p / 1024, (a - b) / n
}'
[ "$state" = Succeeded ] && [ "$members" = "$COUNT" ]
