#!/usr/bin/env bash
# Used by http.sh: while the PUT load runs, creates a probe job every half second and times its
# operation to Succeeded against the job's timeline (3.8 s at --speed 1). Prints the worst
# lateness in seconds (polled every 0.2 s). Bounded: PROBES jobs, each polled for at most 12 s.
# Usage: lateness_probe.sh BASE_URL DEVICE_PATH
set -euo pipefail
base=$1 device=$2
auth=(-H "Authorization: Bearer bench" -H "Content-Type: application/json")
body='{"kind":"HCI","properties":{"jobType":"CollectLog","fromDate":"2024-01-29T10:00:00Z","toDate":"2024-01-29T12:00:00Z"}}'
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

probe() { # index
    local start op late
    start=$(date +%s.%N)
    op=$(curl -sf -D - -o /dev/null -X PUT "${auth[@]}" -d "$body" "$base$device/jobs/probe-$1?api-version=2026-10-01" \
        | tr -d '\r' | awk -F': ' 'tolower($1) == "azure-asyncoperation" {print $2}')
    for _ in $(seq 60); do
        curl -sf "${auth[@]}" "$op" | grep -q '"Succeeded"' && break
        sleep 0.2
    done
    echo "$(date +%s.%N) - $start - 3.8" | bc > "$results/$1"
}

for i in $(seq 1 "${PROBES:-16}"); do
    probe "$i" &
    sleep 0.5
done
wait
sort -g "$results"/* | tail -1
