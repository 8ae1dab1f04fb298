#!/usr/bin/env bash
# HTTP benchmark on loopback, bounded in time (about four minutes). Two yardsticks: a
# bare hyper server answering a fixed 800-byte body, and bare_durable (the least a durable PUT
# does: parse, make a job-sized document, one group-committed SQLite write, answer; GETs from
# memory). Then azemu (--tls off): GET of one job, and bare hyper answering that GET with azemu's
# response shape (its ceiling); durable PUT of new jobs with their lifecycles
# running, alone, with a light GET load beside it, and with a probe of how late jobs finish
# (lateness_probe.sh); the same PUT with lifecycles paused. Prints each figure as a ratio of bare
# hyper's requests/s (PUTs also of bare_durable's), and memory per stored resource. Needs wrk
# (Debian package `wrk`; installed if missing). DURATION, CONNECTIONS and THREADS tune wrk;
# AZEMU_ARGS adds serve options (e.g. "--journal-size 0").
# shellcheck source=bench/wrk_setup.sh
source "$(dirname "$0")/wrk_setup.sh"

auth=(-H "Authorization: Bearer bench" -H "Content-Type: application/json")
sub=/subscriptions/00000000-0000-0000-0000-000000000001
device="$sub/resourceGroups/bench-rg/providers/Microsoft.HybridCompute/machines/node-1/providers/Microsoft.AzureStackHCI/edgeDevices/default"
job_body='{"kind":"HCI","properties":{"jobType":"CollectLog","fromDate":"2024-01-29T10:00:00Z","toDate":"2024-01-29T12:00:00Z"}}'

start_azemu() { # port, extra args...
    local port=$1; shift
    mkdir -p "$data/$port"
    # shellcheck disable=SC2086 # AZEMU_ARGS holds extra serve options, split on spaces
    target/release/azemu serve --tls off --port "$port" --data "$data/$port" --log-level warn ${AZEMU_ARGS:-} "$@" > /dev/null &
    azemu_pid=$!
    base=http://127.0.0.1:$port
    for _ in $(seq 50); do curl -sf "$base/_azemu/health" >/dev/null && break; sleep 0.1; done
    curl -sf -X PUT "${auth[@]}" -d '{"location":"eastus"}' "$base$sub/resourcegroups/bench-rg?api-version=2025-04-01" >/dev/null
    curl -sf -X PUT "${auth[@]}" -d '{"kind":"HCI"}' "$base$device?api-version=2026-10-01" >/dev/null
}

# wrk's summary as "requests/s p99"; the p99 in ms.
measure() {
    local out
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@")
    if grep -qE "Non-2xx|Socket errors" <<< "$out"; then
        echo "wrk saw errors:" >&2
        grep -E "Non-2xx|Socket errors" <<< "$out" >&2
    fi
    local rps p99
    rps=$(awk '/Requests\/sec/ {print $2}' <<< "$out")
    p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<< "$out")
    echo "$rps $p99"
}

# The PUT load (new jobs under device path $1 at base URL $2) with the light GET load of URL $3
# (wrk options after it) beside it: prints the PUT's "requests/s p99", writes the GETs' to
# $data/gets.
put_with_gets() {
    local device=$1 base=$2 url=$3; shift 3
    wrk -t1 -c4 -d"$DURATION" --latency -s bench/paced.lua "$@" "$url" > "$data/get_during" &
    local get_pid=$!
    AZEMU_BENCH_DEVICE="$device" measure -s bench/put_job.lua "$base"
    wait "$get_pid"
    awk '/Requests\/sec/ {r = $2} $1 == "99%" {p = $2} END {printf "%s req/s, p99 %s\n", r, p}' "$data/get_during" > "$data/gets"
}

# The PUT load alone against azemu at $base, reported as $1, with azemu's own request-duration
# percentiles and its store's commits over the run.
put_phase() {
    local commits before after count
    commits=$(server_commits "$base")
    before=$(server_histogram "$base" "$put_ops")
    report "$1" "$(AZEMU_BENCH_DEVICE="$device" measure -s bench/put_job.lua "$base")" "$bare_rps" "$durable_rps"
    after=$(server_histogram "$base" "$put_ops")
    echo "  inside azemu (its request-duration histogram): p50 $(server_percentile "$before" "$after" 50) ms, p99 $(server_percentile "$before" "$after" 99) ms"
    count=${before%% *}
    count=$(( ${after%% *} - ${count:-0} ))
    echo "  store: $(commit_summary "$commits" "$(server_commits "$base")" "$count")"
}

report_rounds() { # label, ratio_rounds' "median low high rps bare"
    local median low high rps bare
    read -r median low high rps bare <<< "$2"
    printf "%-58s %9.0f req/s  %5.3f of bare (median of %s rounds, %s to %s; bare %s)\n" \
        "$1" "$rps" "$median" "${ROUNDS:-3}" "$low" "$high" "$bare"
}

report() { # label, "rps p99", bare rps[, bare durable rps]
    read -r rps p99 <<< "$2"
    awk -v l="$1" -v r="$rps" -v p="$p99" -v b="$3" -v d="${4:-}" \
        'BEGIN { printf "%-58s %9.0f req/s  %5.3f of bare  p99 %7.2f ms", l, r, r / b, p
                 if (d != "") printf "  (%.2f of bare durable)", r / d
                 print "" }'
}

target/release/examples/bare_hyper 18902 > /dev/null &
bare_pid=$!
sleep 0.3
bare=$(measure http://127.0.0.1:18902/)
bare_rps=${bare%% *}
kill "$bare_pid"; bare_pid=
report "bare hyper, fixed 800-byte body" "$bare" "$bare_rps"

mkdir -p "$data/bare_durable"
target/release/examples/bare_durable 18905 "$data/bare_durable" > /dev/null &
bare_pid=$!
sleep 0.3
durable=$(AZEMU_BENCH_DEVICE=/bare measure -s bench/put_job.lua http://127.0.0.1:18905)
durable_rps=${durable%% *}
report "bare durable, PUT of a 3,150-byte document" "$durable" "$bare_rps"
curl -sf -X PUT -d '{"properties":{}}' http://127.0.0.1:18905/bare/jobs/read >/dev/null
report "  the same, with the GET load beside it" \
    "$(AZEMU_BENCH_RUN=2 put_with_gets /bare http://127.0.0.1:18905 http://127.0.0.1:18905/bare/jobs/read)" "$bare_rps"
echo "  GET of one document during that PUT load: $(cat "$data/gets")"
kill "$bare_pid"; bare_pid=
sync # its writes must not slow azemu's commits

start_azemu 18901
curl -sf -X PUT "${auth[@]}" -d "$job_body" "$base$device/jobs/bench-job?api-version=2026-10-01" >/dev/null
sleep 5 # let the job finish: GET measures a steady document
get_url="$base$device/jobs/bench-job?api-version=2026-10-01"
get_bytes=$(curl -sf "${auth[@]}" "$get_url" | wc -c)
echo "GET job body: $get_bytes bytes"
report_rounds "azemu GET one job" "$(ratio_rounds 18904 "$get_url" -H "Authorization: Bearer bench")"
# The ceiling for that GET: bare hyper answering with azemu's response shape (the same body
# size and headers) and doing nothing else, to the same request.
target/release/examples/bare_hyper 18906 "$get_bytes" azemu-headers > /dev/null &
shaped_pid=$!
sleep 0.3
report_rounds "  bare hyper answering like azemu (its body size, headers)" \
    "$(ratio_rounds 18904 "http://127.0.0.1:18906${get_url#"$base"}" -H "Authorization: Bearer bench")"
kill "$shaped_pid"; shaped_pid=

put_ops=EdgeDeviceJobs_CreateOrUpdate
put_phase "azemu PUT new job (durable, lifecycles running)"

# The same load again with a light GET load beside it (4 connections, 10 ms apart), then once
# more with the lateness probe beside it (apart: the probe's curl processes would slow the GETs).
get_before=$(server_histogram "$base" EdgeDeviceJobs_Get)
put=$(AZEMU_BENCH_RUN=2 put_with_gets "$device" "$base" "$get_url" -H "Authorization: Bearer bench")
get_after=$(server_histogram "$base" EdgeDeviceJobs_Get)
report "  the same, with the GET load beside it" "$put" "$bare_rps" "$durable_rps"
echo "  GET one job during that PUT load: $(cat "$data/gets") (inside azemu: p99 $(server_percentile "$get_before" "$get_after" 99) ms)"
PROBES=$(( ${DURATION%s} * 2 - 2 )) bash bench/lateness_probe.sh "$base" "$device" > "$data/lateness" &
probe_pid=$!
put=$(AZEMU_BENCH_RUN=3 AZEMU_BENCH_DEVICE="$device" measure -s bench/put_job.lua "$base")
wait "$probe_pid"
report "  the same, with the lateness probe beside it" "$put" "$bare_rps" "$durable_rps"
echo "  jobs created during that load finished at most $(cat "$data/lateness") s after their timeline's end"
health=$(curl -sf "$base/_azemu/health")
resources=$(sed -E 's/.*"resources":([0-9]+).*/\1/' <<< "$health")
hwm=$(awk '/VmHWM/ {print $2}' /proc/$azemu_pid/status)
echo "azemu store after the run: $health"
echo "azemu peak RSS: $((hwm / 1024)) MB, $((hwm * 1024 / resources)) bytes per resource"
kill "$azemu_pid"; azemu_pid=
sync # let the first run's writes reach the disk, so they do not slow the next one's commits

# The same PUTs with the lifecycle engine paused (--clock manual): the request path and the
# durable commit alone.
start_azemu 18903 --clock manual
put_phase "azemu PUT new job (durable, lifecycles paused)"
