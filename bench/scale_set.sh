#!/usr/bin/env bash
# A 10,000-instance scale set on loopback, bounded in time (about a minute): how long its PUT
# takes to answer and the set to reach Succeeded, how long listing its VMs takes (every page,
# following nextLink), the set's instance view, azemu's memory, and GET of one VM's instance
# view under wrk (32 connections, DURATION) as a ratio of a bare hyper server's requests/s,
# the median of ROUNDS rounds measured in turns. Needs wrk (Debian package `wrk`; installed if missing). INSTANCES changes the size.
# shellcheck source=bench/wrk_setup.sh
source "$(dirname "$0")/wrk_setup.sh"
INSTANCES=${INSTANCES:-10000}

auth=(-H "Authorization: Bearer bench" -H "Content-Type: application/json")
api=api-version=2024-07-01
set_path=/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/bench-rg/providers/Microsoft.Compute/virtualMachineScaleSets/big
set_body=$(cat <<EOF
{"location":"eastus","sku":{"name":"Standard_D2s_v3","tier":"Standard","capacity":$INSTANCES},
 "properties":{"upgradePolicy":{"mode":"Manual"},"singlePlacementGroup":false,"virtualMachineProfile":{
  "osProfile":{"computerNamePrefix":"big","adminUsername":"azureuser","adminPassword":"Secret-123!"},
  "storageProfile":{"imageReference":{"publisher":"Canonical","offer":"ubuntu-24_04-lts","sku":"server","version":"latest"}},
  "networkProfile":{"networkInterfaceConfigurations":[{"name":"nic","properties":{"primary":true}}]}}}}
EOF
)

target/release/azemu serve --tls off --port 18911 --data "$data" --log-level warn > /dev/null &
azemu_pid=$!
base=http://127.0.0.1:18911
for _ in $(seq 50); do curl -sf "$base/_azemu/health" >/dev/null && break; sleep 0.1; done
curl -sf -X PUT "${auth[@]}" -d '{"location":"eastus"}' "$base/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/bench-rg?api-version=2025-04-01" >/dev/null
rss_before=$(ps -o rss= -p "$azemu_pid")

start=$(date +%s.%N)
put_seconds=$(curl -sf -o /dev/null -w '%{time_total}' -X PUT "${auth[@]}" -d "$set_body" "$base$set_path?$api")
for _ in $(seq 600); do
    state=$(curl -sf "${auth[@]}" "$base$set_path?$api" | python3 -c 'import json,sys; print(json.load(sys.stdin)["properties"]["provisioningState"])')
    [ "$state" = Succeeded ] && break
    sleep 0.1
done
done_seconds=$(echo "$(date +%s.%N) - $start" | bc)
echo "PUT of a $INSTANCES-instance set answered in ${put_seconds}s; the set was Succeeded after ${done_seconds}s"

python3 - "$base$set_path/virtualMachines?$api" <<'EOF'
import json, sys, time, urllib.request
url, count, pages, started = sys.argv[1], 0, 0, time.monotonic()
while url:
    request = urllib.request.Request(url, headers={"Authorization": "Bearer bench"})
    page = json.load(urllib.request.urlopen(request))
    count, pages, url = count + len(page["value"]), pages + 1, page.get("nextLink")
print(f"listed {count} VMs in {pages} pages in {time.monotonic() - started:.2f}s")
EOF
view_seconds=$(curl -sf -o /dev/null -w '%{time_total}' "${auth[@]}" "$base$set_path/instanceView?$api")
echo "the set's instance view (counts over every VM) answered in ${view_seconds}s"
rss_after=$(ps -o rss= -p "$azemu_pid")
awk -v b="$rss_before" -v a="$rss_after" -v n="$INSTANCES" \
    'BEGIN { printf "RSS %.1f MB before, %.1f MB with the set: %.1f KB per instance\n", b/1024, a/1024, (a-b)/n }'

view_url="$base$set_path/virtualMachines/$((INSTANCES / 2))/instanceView?$api"
echo "GET instance view body: $(curl -sf "${auth[@]}" "$view_url" | wc -c) bytes"
read -r median low high view_rps view_bare <<< "$(ratio_rounds 18913 "$view_url" -H "Authorization: Bearer bench")"
printf "GET one VM instance view: %.0f req/s, %.3f of bare (median of %s rounds, %s to %s; bare %s)\n" \
    "$view_rps" "$median" "${ROUNDS:-3}" "$low" "$high" "$view_bare"
