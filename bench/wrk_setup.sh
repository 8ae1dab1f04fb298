# Sourced by the wrk benchmarks: wrk's settings (DURATION, CONNECTIONS, THREADS), wrk itself
# (Debian package `wrk`, installed if missing), release builds of azemu and the bare hyper
# yardstick, a scratch directory `$data`, and a cleanup that stops `$azemu_pid` / `$bare_pid` /
# `$shaped_pid`.
set -euo pipefail
trap 'echo "bench: failed at line $LINENO" >&2' ERR
cd "$(dirname "$0")/.."
DURATION=${DURATION:-${DEFAULT_DURATION:-10s}}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked --quiet
cargo build --release --locked --quiet --example bare_hyper --example bare_durable

data=$(mktemp -d)
cleanup() { kill "${azemu_pid:-}" "${bare_pid:-}" "${shaped_pid:-}" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

# Requests/s of the bare hyper server (fixed 800-byte body) on port $1, under the same wrk load.
# Once: see `ratio_rounds` for figures that should hold from one run to the next.
bare_hyper_rps() {
    target/release/examples/bare_hyper "$1" > /dev/null &
    bare_pid=$!
    sleep 0.3
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "http://127.0.0.1:$1/" | awk '/Requests\/sec/ {print $2}'
    kill "$bare_pid"; bare_pid=
}

# A GET figure as a ratio of bare hyper that holds from run to run: bare hyper (port $1) and
# azemu ($2, a URL; wrk options after it) are measured in turns, ROUNDS times (default 3), and
# the median ratio is printed with the range, as "median min max azemu_rps bare_rps" of the
# median round. On a small shared machine one pair of runs can differ by a fifth either way.
# SHOW_ROUNDS=1 prints every round on stderr.
ratio_rounds() {
    local port=$1 url=$2; shift 2
    target/release/examples/bare_hyper "$port" > /dev/null &
    bare_pid=$!
    sleep 0.3
    local rounds=() bare azemu
    for _ in $(seq "${ROUNDS:-3}"); do
        bare=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "http://127.0.0.1:$port/" | awk '/Requests\/sec/ {print $2}')
        azemu=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "$@" "$url" | awk '/Requests\/sec/ {print $2}')
        rounds+=("$(awk -v a="$azemu" -v b="$bare" 'BEGIN { printf "%.4f %.0f %.0f", a / b, a, b }')")
    done
    kill "$bare_pid"; bare_pid=
    [ -z "${SHOW_ROUNDS:-}" ] || printf 'round: ratio %s azemu %s bare %s\n' ${rounds[@]} >&2
    printf '%s\n' "${rounds[@]}" | sort -n | awk '
        { r[NR] = $1; a[NR] = $2; b[NR] = $3 }
        END { m = int((NR + 1) / 2); printf "%.3f %.3f %.3f %s %s\n", r[m], r[1], r[NR], a[m], b[m] }'
}

# Two loads measured in turns, ROUNDS times (default 3): `$1` and `$2` name functions that run
# one load (given the round's number) and print "requests/s p99". Prints the ratio of the second
# load's requests/s to the first's in the median round, with the lowest and highest, as
# "median low high second_rps first_rps second_p99_max first_p99_max". Measuring in turns keeps
# the machine's drift (other work, the disk, frequency) out of the ratio.
alternate() {
    local first=$1 second=$2 rounds=() a b
    for round in $(seq "${ROUNDS:-3}"); do
        a=$("$first" "$round")
        b=$("$second" "$round")
        rounds+=("$(awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ")
            printf "%.4f %.0f %.0f %s %s", y[1] / x[1], y[1], x[1], y[2], x[2] }')")
    done
    [ -z "${SHOW_ROUNDS:-}" ] || printf 'round: %s\n' "${rounds[@]}" >&2
    printf '%s\n' "${rounds[@]}" | sort -n | awk '
        { r[NR] = $1; b[NR] = $2; a[NR] = $3; if ($4 > pb) pb = $4; if ($5 > pa) pa = $5 }
        END { m = int((NR + 1) / 2); printf "%.3f %.3f %.3f %s %s %s %s\n", r[m], r[1], r[NR], b[m], a[m], pb, pa }'
}

# One line for an `alternate` result ($2): label $1, the yardstick's name $3.
report_pair() {
    local median low high rps yard p99 yard_p99
    read -r median low high rps yard p99 yard_p99 <<< "$2"
    printf "%-62s %7.0f req/s  %5.3f of %s (median of %s rounds, %s to %s; it: %.0f req/s); p99 at most %s ms (it: %s ms)\n" \
        "$1" "$rps" "$median" "$3" "${ROUNDS:-3}" "$low" "$high" "$yard" "$p99" "$yard_p99"
}

# azemu's own request-duration histogram for one operationId, from /metrics at $1, as
# "count le1 cumulative1 le2 cumulative2 ...": save one before a load and one after it.
server_histogram() {
    curl -sf "$1/metrics" | awk -v op="operation=\"$2\"" '
        index($0, "azemu_request_duration_seconds_bucket{") == 1 && index($0, op) {
            match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5)
            n++; les[n] = le; counts[n] = $NF
        }
        END { printf "%s", counts[n]; for (i = 1; i <= n; i++) printf " %s %s", les[i], counts[i]; print "" }'
}

# The percentile $3 (e.g. 99) of the requests between two `server_histogram` snapshots ($1
# before, $2 after), as the histogram's bucket bound in ms ("<= 6.4"): time spent inside azemu,
# from reading the request to its response, without the wait for a runtime worker or the client.
server_percentile() {
    awk -v p="$3" -v before="$1" -v after="$2" 'BEGIN {
        nb = split(before, b, " "); na = split(after, a, " ")
        total = a[1] - (nb ? b[1] : 0)
        if (total <= 0) { print "n/a"; exit }
        for (i = 2; i < na; i += 2) {
            if (a[i + 1] - (nb ? b[i + 1] : 0) >= total * p / 100) {
                if (a[i] == "+Inf") print "> " a[i - 2] * 1000; else printf "<= %g\n", a[i] * 1000
                exit
            }
        }
    }'
}

# azemu's store commits so far, from /metrics at $1, as "count seconds".
server_commits() {
    curl -sf "$1/metrics" | awk '
        $1 == "azemu_store_commit_duration_seconds_count" { c = $2 }
        $1 == "azemu_store_commit_duration_seconds_sum" { s = $2 }
        END { print c + 0, s + 0 }'
}

# The commits between two `server_commits` snapshots ($1 before, $2 after), with requests $3
# answered between them: how many, their mean duration, and the most requests/s that
# CONNECTIONS clients, each waiting for its write's commit, can reach at that duration.
commit_summary() {
    awk -v before="$1" -v after="$2" -v reqs="$3" -v conns="$CONNECTIONS" 'BEGIN {
        split(before, b, " "); split(after, a, " ")
        n = a[1] - b[1]; s = a[2] - b[2]
        if (n <= 0) { print "no commits"; exit }
        printf "%d commits, %.1f requests each, mean %.2f ms (fsync included): %d connections waiting on commits reach at most %.0f req/s\n",
            n, reqs / n, s / n * 1000, conns, conns / (s / n)
    }'
}
