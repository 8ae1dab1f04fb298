#!/usr/bin/env bash
# What strict auth costs on loopback, bounded in time (about 40 s): GET of one resource group
# under wrk (32 connections, DURATION) with --auth any and an opaque token, then with
# --auth strict and a token from azemu's own token endpoint, each as a ratio of a bare hyper
# server's requests/s in the same run. Also the token endpoint itself (POST, client
# credentials). Needs wrk (Debian package `wrk`; installed if missing).
DEFAULT_DURATION=8s
# shellcheck source=bench/wrk_setup.sh
source "$(dirname "$0")/wrk_setup.sh"

group=/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/bench-rg?api-version=2025-04-01

rps() { wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "$@" | awk '/Requests\/sec/ {print $2}'; }
report() { awk -v l="$1" -v r="$2" -v b="$3" 'BEGIN { printf "%-52s %9.0f req/s  %5.3f of bare\n", l, r, r / b }'; }

bare=$(bare_hyper_rps 18912)
report "bare hyper, fixed 800-byte body" "$bare" "$bare"

start_azemu() { # port, auth mode
    target/release/azemu serve --tls off --port "$1" --data "$data/$1" --auth "$2" --log-level warn > /dev/null &
    azemu_pid=$!
    base=http://127.0.0.1:$1
    for _ in $(seq 50); do curl -sf "$base/_azemu/health" >/dev/null && break; sleep 0.1; done
}

start_azemu 18913 any
curl -sf -X PUT -H "Authorization: Bearer bench" -H "Content-Type: application/json" -d '{"location":"eastus"}' "$base$group" >/dev/null
report "GET resource group, --auth any" "$(rps -H "Authorization: Bearer bench" "$base$group")" "$bare"
kill "$azemu_pid"; azemu_pid=

start_azemu 18914 strict
form='grant_type=client_credentials&client_id=bench&client_secret=s&scope=https%3A%2F%2Fmanagement.azure.com%2F.default'
token=$(curl -sf -d "$form" "$base/adfs/oauth2/token" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
curl -sf -X PUT -H "Authorization: Bearer $token" -H "Content-Type: application/json" -d '{"location":"eastus"}' "$base$group" >/dev/null
report "GET resource group, --auth strict (azemu's token)" "$(rps -H "Authorization: Bearer $token" "$base$group")" "$bare"
cat > "$data/token.lua" <<LUA
wrk.method = "POST"
wrk.body = "$form"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
LUA
report "POST /adfs/oauth2/token (client credentials)" "$(rps -s "$data/token.lua" "$base/adfs/oauth2/token")" "$bare"
