# Sourced by bench scripts: a scratch directory `$work`, removed at exit with the azemu started
# in it, and `start_azemu BINARY ARGS…`, which starts `BINARY serve --port 0 --data $work/data
# --log-level warn ARGS…` and sets `$pid` and `$url` once it answers.
work=$(mktemp -d)
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

start_azemu() {
    local binary=$1
    shift
    "$binary" serve --port 0 --data "$work/data" --log-level warn "$@" > "$work/serve.log" &
    pid=$!
    url=""
    for _ in $(seq 1 200); do
        url=$(sed -n 's/^azemu listening on \(.*\)$/\1/p' "$work/serve.log" | head -1)
        [ -n "$url" ] && curl -kfsS "$url/_azemu/health" > /dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "azemu did not start"
    cat "$work/serve.log"
    exit 1
}
