#!/usr/bin/env bash
# HTTP benchmark on loopback, bounded in time (about twelve minutes at the defaults). Every
# figure is a ratio to a yardstick measured in turns with it (see `alternate` in wrk_setup.sh):
#   - GET of a settled job, to bare hyper answering with azemu's response shape (the same body
#     size and headers) and doing nothing else: the most that GET could reach here;
#   - GETs of work still going (a RemoteSupport job with its session open, an update run walking
#     a 16-node cluster, a VM in transition) and the operation-status GET of a running update,
#     to the same server's GET of a settled resource of the same type;
#   - durable PUTs of new jobs with their lifecycles running, to bare_durable (the least a durable
#     PUT does: parse, make a job-sized document, one group-committed SQLite write, answer), on
#     disk and with both stores on tmpfs, with azemu's own p99 beside wrk's;
# then, as before, the PUT load with a light GET load beside it, how late jobs created under it
# finish, memory per stored resource, and PUTs with lifecycles paused. Needs wrk (Debian package
# `wrk`; installed if missing). DURATION, CONNECTIONS, THREADS tune wrk; ROUNDS the GET pairs
# (default 3), PUT_ROUNDS the PUT pairs (default 5); AZEMU_ARGS adds serve options.
# shellcheck source=bench/wrk_setup.sh
source "$(dirname "$0")/wrk_setup.sh"

bearer="Authorization: Bearer bench"
auth=(-H "$bearer" -H "Content-Type: application/json")
sub=/subscriptions/00000000-0000-0000-0000-000000000001
device="$sub/resourceGroups/bench-rg/providers/Microsoft.HybridCompute/machines/node-1/providers/Microsoft.AzureStackHCI/edgeDevices/default"
clusters="$sub/resourceGroups/bench-rg/providers/Microsoft.AzureStackHCI/clusters"
hci=api-version=2026-10-01
job_body='{"kind":"HCI","properties":{"jobType":"CollectLog","fromDate":"2024-01-29T10:00:00Z","toDate":"2024-01-29T12:00:00Z"}}'

start_azemu() { # port, data directory, extra args...
    local port=$1 dir=$2; shift 2
    mkdir -p "$dir"
    # shellcheck disable=SC2086 # AZEMU_ARGS holds extra serve options, split on spaces
    target/release/azemu serve --tls off --port "$port" --data "$dir" --log-level warn ${AZEMU_ARGS:-} "$@" > /dev/null &
    azemu_pid=$!
    base=http://127.0.0.1:$port
    for _ in $(seq 50); do curl -sf "$base/_azemu/health" >/dev/null && break; sleep 0.1; done
    curl -sf -X PUT "${auth[@]}" -d '{"location":"eastus"}' "$base$sub/resourcegroups/bench-rg?api-version=2025-04-01" >/dev/null
    curl -sf -X PUT "${auth[@]}" -d '{"kind":"HCI"}' "$base$device?$hci" >/dev/null
}

stop_azemu() {
    kill "$azemu_pid"; wait "$azemu_pid" 2>/dev/null || true; azemu_pid=
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

report() { # label, "rps p99", yardstick rps, yardstick name
    read -r rps p99 <<< "$2"
    awk -v l="$1" -v r="$rps" -v p="$p99" -v b="$3" -v n="$4" \
        'BEGIN { printf "%-62s %7.0f req/s  %5.3f of %s  p99 %7.2f ms\n", l, r, r / b, n, p }'
}

# azemu's request-duration p99 for operation $1 over what `$2` (a command) runs.
inside_p99() {
    local op=$1 before after; shift
    before=$(server_histogram "$base" "$op")
    "$@"
    after=$(server_histogram "$base" "$op")
    echo "  inside azemu (its request-duration histogram) over those rounds: p50 $(server_percentile "$before" "$after" 50) ms, p99 $(server_percentile "$before" "$after" 99) ms"
}

# Loads for `alternate`, by the URLs and ports set before each pair.
get_first() { measure -H "$bearer" "$first_url"; }
get_second() { measure -H "$bearer" "$second_url"; }
put_bare() { AZEMU_BENCH_RUN="bare$1" AZEMU_BENCH_DEVICE=/bare measure -s bench/put_job.lua "$bare_url"; }
put_azemu() { AZEMU_BENCH_RUN="$run_tag$1" AZEMU_BENCH_DEVICE="$device" measure -s bench/put_job.lua "$base"; }

# Two GET URLs in turns: prints the second as a share of the first.
get_pair() { # label, first URL, second URL, the first's name
    first_url=$2 second_url=$3
    report_pair "$1" "$(alternate get_first get_second)" "$4"
}

# bare_durable and azemu (lifecycles running), with their stores under $2, taking the PUT load
# in turns PUT_ROUNDS times: the ratio, and azemu's own percentiles over those rounds. Leaves
# both running (`$bare_url`, `$base`).
put_rounds() { # label, directory, bare_durable's port, azemu's port, a tag for the jobs' names
    mkdir -p "$2/bare_durable"
    target/release/examples/bare_durable "$3" "$2/bare_durable" > /dev/null &
    bare_pid=$!
    bare_url=http://127.0.0.1:$3
    sleep 0.3
    start_azemu "$4" "$2/azemu"
    run_tag=$5
    local rounds
    rounds=$(ROUNDS=${PUT_ROUNDS:-5} inside_p99 EdgeDeviceJobs_CreateOrUpdate alternate put_bare put_azemu)
    ROUNDS=${PUT_ROUNDS:-5} report_pair "$1" "$(head -1 <<< "$rounds")" "bare_durable"
    tail -n +2 <<< "$rounds"
}

state_of() { # URL: its properties.state (or provisioningState)
    curl -sf -H "$bearer" "$1" | sed -E 's/.*"(state|provisioningState)":"([A-Za-z]+)".*/\2/'
}

# One HCI cluster with $2 nodes and a Ready update to apply; prints the update's path.
cluster_with_update() { # name, nodes
    curl -sf -X PUT "${auth[@]}" -d "{\"location\":\"eastus\",\"tags\":{\"azemu-node-count\":\"$2\"}}" "$base$clusters/$1?$hci" >/dev/null
    local update="$clusters/$1/updates/Solution10.2411.0.24"
    curl -sf -X PUT "${auth[@]}" -d '{"properties":{"state":"Ready","version":"10.2411.0.24","packageType":"Solution"}}' "$base$update?$hci" >/dev/null
    echo "$update"
}

# Applies an update; prints "run-URL status-URL" (the run's GET, the apply's operation status).
apply() { # update path
    local status run
    status=$(curl -sf -D - -o /dev/null -X POST "${auth[@]}" "$base$1/apply?$hci" | tr -d '\r' \
        | awk -F': ' 'tolower($1) == "azure-asyncoperation" {print $2}')
    run=$(curl -sf -H "$bearer" "$base$1/updateRuns?$hci" | sed -E 's/.*"id":"([^"]+)".*/\1/')
    echo "$base$run?$hci $status"
}

target/release/examples/bare_hyper 18902 > /dev/null &
bare_pid=$!
sleep 0.3
read -r bare_rps bare_p99 <<< "$(measure http://127.0.0.1:18902/)"
kill "$bare_pid"; bare_pid=
printf "%-62s %7.0f req/s  p99 %.2f ms (for scale; not a yardstick below)\n" "bare hyper, fixed 800-byte body" "$bare_rps" "$bare_p99"

# --- GETs: settled, and of work under way, on one server on the real clock ---------------------
start_azemu 18901 "$data/reads"
job_url="$base$device/jobs/bench-job?$hci"
curl -sf -X PUT "${auth[@]}" -d "$job_body" "$job_url" >/dev/null
expiry=$(date -u -d '+2 hours' +%Y-%m-%dT%H:%M:%SZ)
support_url="$base$device/jobs/bench-support?$hci"
curl -sf -X PUT "${auth[@]}" -d "{\"kind\":\"HCI\",\"properties\":{\"jobType\":\"RemoteSupport\",\"accessLevel\":\"Diagnostics\",\"expirationTimestamp\":\"$expiry\",\"type\":\"Enable\"}}" "$support_url" >/dev/null
update=$(cluster_with_update big 16)
sleep 5 # the job finishes: its GET measures a settled document
get_bytes=$(curl -sf -H "$bearer" "$job_url" | wc -c)
echo "GET job body: $get_bytes bytes"
target/release/examples/bare_hyper 18906 "$get_bytes" azemu-headers > /dev/null &
shaped_pid=$!
sleep 0.3
get_pair "azemu GET one settled job" "http://127.0.0.1:18906${job_url#"$base"}" "$job_url" "bare hyper answering like azemu"
kill "$shaped_pid"; shaped_pid=
read -r running_run_url running_status_url <<< "$(apply "$update")"
get_pair "azemu GET one job with its session open (in progress)" "$job_url" "$support_url" "the settled job's GET"
get_pair "azemu GET the running update's operation status" "$job_url" "$running_status_url" "the settled job's GET"
echo "  (the update run it follows, over 16 nodes, is still $(state_of "$running_run_url"))"
stop_azemu
sync

# --- Durable PUTs, on disk, with lifecycles running ----------------------------------------------
put_rounds "azemu PUT new job (durable, lifecycles running)" "$data" 18905 18903 r

# The same load with a light GET load beside it (4 connections, 10 ms apart), then with the
# lateness probe beside it (apart: the probe's curl processes would slow the GETs).
job_url="$base$device/jobs/bench-job?$hci"
curl -sf -X PUT "${auth[@]}" -d "$job_body" "$job_url" >/dev/null
curl -sf -X PUT -d '{"properties":{}}' "$bare_url/bare/jobs/read" >/dev/null
report "  bare_durable with the GET load beside it" \
    "$(AZEMU_BENCH_RUN=g put_with_gets /bare "$bare_url" "$bare_url/bare/jobs/read")" "$bare_rps" "bare hyper"
echo "  its GET of one document during that PUT load: $(cat "$data/gets")"
commits_before=$(server_commits "$base")
get_before=$(server_histogram "$base" EdgeDeviceJobs_Get)
put=$(AZEMU_BENCH_RUN=g put_with_gets "$device" "$base" "$job_url" -H "$bearer")
get_after=$(server_histogram "$base" EdgeDeviceJobs_Get)
report "  azemu with the GET load beside it" "$put" "$bare_rps" "bare hyper"
echo "  GET one job during that PUT load: $(cat "$data/gets") (inside azemu: p99 $(server_percentile "$get_before" "$get_after" 99) ms)"
echo "  store: $(commit_summary "$commits_before" "$(server_commits "$base")" "$(awk -v d="${DURATION%s}" '{print $1 * d}' <<< "$put")")"
PROBES=$(( ${DURATION%s} > 1 ? ${DURATION%s} * 2 - 2 : 1 )) bash bench/lateness_probe.sh "$base" "$device" > "$data/lateness" &
probe_pid=$!
put=$(AZEMU_BENCH_RUN=l AZEMU_BENCH_DEVICE="$device" measure -s bench/put_job.lua "$base")
wait "$probe_pid"
report "  azemu with the lateness probe beside it" "$put" "$bare_rps" "bare hyper"
echo "  jobs created during that load finished at most $(cat "$data/lateness") s after their timeline's end"
health=$(curl -sf "$base/_azemu/health")
resources=$(sed -E 's/.*"resources":([0-9]+).*/\1/' <<< "$health")
hwm=$(awk '/VmHWM/ {print $2}' /proc/$azemu_pid/status)
echo "azemu store after the run: $health"
echo "azemu peak RSS: $((hwm / 1024)) MB, $((hwm * 1024 / resources)) bytes per resource"
stop_azemu
kill "$bare_pid"; bare_pid=
sync

# --- The same PUTs with both stores on tmpfs: the request path and the commit, without the disk --
shm=$(mktemp -d /dev/shm/azemu-bench.XXXXXX)
trap 'rm -rf "$shm"; cleanup' EXIT
put_rounds "azemu PUT new job, stores on tmpfs" "$shm" 18907 18908 t
stop_azemu
kill "$bare_pid"; bare_pid=
rm -rf "$shm"

# --- The manual clock: PUTs with lifecycles paused; a VM in transition ---------------------------
start_azemu 18904 "$data/manual" --clock manual
before=$(server_histogram "$base" EdgeDeviceJobs_CreateOrUpdate)
put=$(AZEMU_BENCH_RUN=m AZEMU_BENCH_DEVICE="$device" measure -s bench/put_job.lua "$base")
after=$(server_histogram "$base" EdgeDeviceJobs_CreateOrUpdate)
report "azemu PUT new job (durable, lifecycles paused)" "$put" "$bare_rps" "bare hyper"
echo "  inside azemu: p50 $(server_percentile "$before" "$after" 50) ms, p99 $(server_percentile "$before" "$after" 99) ms"
vms="$base$sub/resourceGroups/bench-rg/providers/Microsoft.Compute/virtualMachines"
vm_body() { # name
    echo "{\"location\":\"eastus\",\"properties\":{\"hardwareProfile\":{\"vmSize\":\"Standard_D2s_v5\"},\"storageProfile\":{\"imageReference\":{\"publisher\":\"Canonical\",\"offer\":\"0001-com-ubuntu-server-jammy\",\"sku\":\"22_04-lts-gen2\",\"version\":\"latest\"}},\"osProfile\":{\"computerName\":\"$1\",\"adminUsername\":\"azureuser\",\"adminPassword\":\"Passw0rd!Passw0rd\"},\"networkProfile\":{\"networkInterfaces\":[{\"id\":\"$sub/resourceGroups/bench-rg/providers/Microsoft.Network/networkInterfaces/$1-nic\"}]}}}"
}
curl -sf -X PUT "${auth[@]}" -d "$(vm_body settled)" "$vms/settled?api-version=2024-07-01" >/dev/null
curl -sf -X POST "${auth[@]}" -d '{"seconds":120}' "$base/_azemu/clock/advance" >/dev/null
curl -sf -X PUT "${auth[@]}" -d "$(vm_body starting)" "$vms/starting?api-version=2024-07-01" >/dev/null
echo "  (VMs: one $(state_of "$vms/settled?api-version=2024-07-01"), one $(state_of "$vms/starting?api-version=2024-07-01"))"
get_pair "azemu GET one VM in transition (creating)" "$vms/settled?api-version=2024-07-01" \
    "$vms/starting?api-version=2024-07-01" "a running VM's GET"
# Two runs of the same size, one finished and one under way. (On the real clock a run under way
# is rendered again once a second, as its duration moves: one rendering in tens of thousands
# of reads here.)
read -r finished_run_url _ <<< "$(apply "$(cluster_with_update first 16)")"
curl -sf -X POST "${auth[@]}" -d '{"seconds":3600}' "$base/_azemu/clock/advance" >/dev/null
read -r running_run_url _ <<< "$(apply "$(cluster_with_update second 16)")"
curl -sf -X POST "${auth[@]}" -d '{"seconds":100}' "$base/_azemu/clock/advance" >/dev/null
echo "  (update runs over 16 nodes: one $(state_of "$finished_run_url"), one $(state_of "$running_run_url"))"
get_pair "azemu GET one update run walking 16 nodes (in progress)" "$finished_run_url" "$running_run_url" \
    "a finished run's GET"
stop_azemu
