#!/usr/bin/env bash
# Prints the URL of a PostgreSQL server the tests may create databases on.
#
# AZEMU_TEST_POSTGRES, when set, names one already running (a URL whose user may CREATE
# DATABASE). Otherwise this starts a throwaway cluster in a temporary directory, on loopback,
# and keeps it for later runs (its URL is in target/postgres-test.url); `stop` ends it.
# Debian's postgresql is installed when the machine has none. PostgreSQL refuses to run as
# root, so as root the cluster runs as the `postgres` user.
set -euo pipefail
cd "$(dirname "$0")/.."
state=target/postgres-test.url
pidfile=target/postgres-test.dir

# The newest server binaries Debian installed.
pg_bin() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$found" ] && [ -x "$found/$1" ] && echo "$found/$1"
}

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "${1:-}" = stop ]; then
    if [ -f "$pidfile" ]; then
        dir=$(cat "$pidfile")
        as_owner "$(pg_bin pg_ctl)" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
        rm -rf "$dir" "$pidfile" "$state"
    fi
    exit 0
fi

if [ -n "${AZEMU_TEST_POSTGRES:-}" ]; then
    echo "$AZEMU_TEST_POSTGRES"
    exit 0
fi

if ! pg_bin initdb >/dev/null; then
    echo "installing Debian's postgresql for the PostgreSQL store's tests" >&2
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
fi
initdb=$(pg_bin initdb)
pg_ctl=$(pg_bin pg_ctl)
pg_isready=$(pg_bin pg_isready || command -v pg_isready)

# A cluster started by an earlier run, still answering.
if [ -f "$state" ] && "$pg_isready" -q -d "$(cat "$state")" 2>/dev/null; then
    cat "$state"
    exit 0
fi
[ -f "$pidfile" ] && rm -rf "$(cat "$pidfile")"

mkdir -p target
dir=$(mktemp -d /tmp/azemu-postgres.XXXXXX)
chmod 755 "$dir"
[ "$(id -u)" = 0 ] && chown postgres: "$dir"
echo "$dir" > "$pidfile"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_owner "$initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
# Enough connections for three nodes per test and many tests at once.
as_owner "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=400" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
url="postgres://postgres@127.0.0.1:$port/postgres"
echo "$url" > "$state"
echo "$url"
