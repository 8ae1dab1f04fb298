#!/usr/bin/env python3
"""Failover on three azemu nodes sharing one PostgreSQL store, on loopback: 60 jobs (about 4 s
each) are started one every 50 ms, round-robin; right after the last, one node is killed with
SIGKILL, while jobs of its shards still have steps to go. Measured from the kill: when the two
left hold every lease again, and when a job of the dead node's moves again (its next step
committed by another node, as the change log shows). Three rounds, each on a fresh database.

Usage: failover.py SERVER_URL (a PostgreSQL URL whose user may create databases)."""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

BINARY = os.path.join(os.path.dirname(__file__), "..", "target", "release", "azemu")
SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"
DEVICE = (
    f"{SUB}/resourceGroups/bench-rg/providers/Microsoft.HybridCompute/machines/node-1"
    "/providers/Microsoft.AzureStackHCI/edgeDevices/default"
)
JOB_BODY = {"kind": "HCI", "properties": {"jobType": "CollectLog", "fromDate": "2024-01-29T10:00:00Z", "toDate": "2024-01-29T12:00:00Z"}}


def call(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", "Bearer bench")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def psql(url, sql):
    return subprocess.run(["psql", url, "-tAc", sql], check=True, capture_output=True, text=True).stdout.strip()


def shard_of(key: str) -> int:
    """The shard azemu files a timer under: FNV-1a over its lower-case key, modulo 64."""
    h = 0xCBF29CE484222325
    for b in key.encode():
        h = ((h ^ b) * 0x100000001B3) % (1 << 64)
    return h % 64


def one_round(server, port_base):
    name = f"azemu_failover_{time.time_ns()}"
    psql(server, f"CREATE DATABASE {name}")
    store = server.rsplit("/", 1)[0] + "/" + name
    data = tempfile.mkdtemp(prefix="azemu-failover-")
    nodes = []
    try:
        for i in range(1, 4):
            port = port_base + i
            process = subprocess.Popen(
                [BINARY, "serve", "--tls", "off", "--port", str(port), "--data", data, "--store", store,
                 "--node-id", f"fo-{i}", "--log-level", "warn"],
                stdout=subprocess.DEVNULL,
            )
            nodes.append((process, f"http://127.0.0.1:{port}"))
            for _ in range(100):
                try:
                    call("GET", nodes[-1][1] + "/_azemu/health")
                    break
                except OSError:
                    time.sleep(0.1)
        deadline = time.time() + 20
        while True:
            seen = call("GET", nodes[0][1] + "/_azemu/health").get("nodes", [])
            if len(seen) == 3 and all(n["shards"] > 0 for n in seen) and sum(n["shards"] for n in seen) == 64:
                break
            assert time.time() < deadline, "the nodes never shared the leases"
            time.sleep(0.1)
        base = nodes[0][1]
        call("PUT", f"{base}{SUB}/resourcegroups/bench-rg?api-version=2025-04-01", {"location": "eastus"})
        call("PUT", f"{base}{DEVICE}?api-version=2026-10-01", {"kind": "HCI"})
        jobs = [f"{DEVICE}/jobs/fo-{i}" for i in range(60)]
        for i, job in enumerate(jobs):
            call("PUT", f"{nodes[i % 3][1]}{job}?api-version=2026-10-01", JOB_BODY)
            time.sleep(0.05)
        dead = psql(store, "SELECT origin FROM azemu_nodes WHERE node = 'fo-1'")
        shards = {int(s) for s in psql(store, f"SELECT shard FROM azemu_leases WHERE origin = '{dead}'").split()}
        orphans = [job.lower() for job in jobs if shard_of(job.lower()) in shards]
        head = int(psql(store, "SELECT seq FROM azemu_head"))
        names = ",".join("'" + job + "'" for job in orphans)
        nodes[0][0].kill()
        killed = time.monotonic()
        nodes[0][0].wait()
        leases = moving = None
        while (leases is None or moving is None) and time.monotonic() - killed < 30:
            if leases is None:
                seen = call("GET", nodes[1][1] + "/_azemu/health").get("nodes", [])
                if len(seen) == 2 and sum(n["shards"] for n in seen) == 64:
                    leases = time.monotonic() - killed
            if moving is None:
                stepped = psql(
                    store,
                    f"SELECT count(*) FROM azemu_changes WHERE seq > {head} AND origin <> '{dead}' "
                    f"AND kind IN (1, 7) AND lower(name) IN ({names})",
                )
                if int(stepped) > 0:
                    moving = time.monotonic() - killed
            time.sleep(0.02)
        return len(orphans), leases, moving
    finally:
        for process, _ in nodes:
            process.kill()
            process.wait()
        psql(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main():
    server = sys.argv[1]
    rounds = [one_round(server, 18430 + 10 * r) for r in range(3)]
    print()
    print("| failover (lease timeout 5 s, renewed every 1.7 s) | median | rounds |")
    print("|---|---|---|")
    leases = [r[1] for r in rounds if r[1] is not None]
    moving = [r[2] for r in rounds if r[2] is not None]
    print(f"| kill -9 → the two left hold every lease | {statistics.median(leases):.2f} s | "
          + ", ".join(f"{x:.2f}" for x in leases) + " |")
    print(f"| kill -9 → a dead node's job moves again | {statistics.median(moving):.2f} s | "
          + ", ".join(f"{x:.2f}" for x in moving) + f" ({', '.join(str(r[0]) for r in rounds)} of 60 jobs were the dead node's) |")


if __name__ == "__main__":
    main()
