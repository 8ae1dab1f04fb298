#!/usr/bin/env python3
"""Soak: every family under load at once, fault rules firing, and azemu killed with SIGKILL and
restarted every minute, for a bounded time on loopback. Prints requests, acknowledged writes,
writes lost, lifecycles that never ended, unexpected 5xx and memory; exits 1 if any of the
three must-be-zero figures is not. Standard library only."""

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time

SUB = "00000000-0000-0000-0000-0000000050a4"
RG = f"/subscriptions/{SUB}/resourceGroups/soak"
GROUPS_API = "api-version=2021-04-01"
HCI_API = "api-version=2026-10-01"
EDGE_API = "api-version=2025-09-15-preview"
COMPUTE_API = "api-version=2024-07-01"
PARTNER_API = "api-version=2017-10-31"
TERMINAL = {"Succeeded", "Failed", "Canceled", "succeeded", "failed", "canceled", "completed"}

FAULT_RULES = [
    # Errors, latency and dropped connections on requests.
    {"match": {"method": "PUT", "path": "/subscriptions/*/resourcegroups/*"},
     "action": {"error": {"status": 503, "code": "SoakInjected", "message": "soak"}}, "probability": 0.03, "seed": 1},
    {"match": {"method": "GET"}, "action": {"latency": {"ms": 100}}, "probability": 0.02, "seed": 2},
    {"match": {"method": "GET", "path": "/subscriptions/*/resourcegroups/*"},
     "action": {"dropConnection": True}, "probability": 0.02, "seed": 3},
    # Failed operations and steps.
    {"match": {"operation": "VirtualMachineScaleSets_Restart"},
     "action": {"failOperation": {"code": "SoakFailed", "message": "soak"}}, "probability": 0.3, "seed": 4},
    {"match": {"step": "CollectNodeLogs"}, "action": {"failStep": {"code": "SoakStep", "message": "soak"}},
     "probability": 0.2, "seed": 5},
    {"match": {"step": "Certification"}, "action": {"failStep": {"message": "soak"}}, "probability": 0.2, "seed": 6},
]


class Dropped(Exception):
    """The connection closed without an answer (a fault rule, or azemu being killed)."""


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {"requests": 0, "acknowledged writes": 0, "injected errors": 0, "dropped connections": 0,
                       "refused while restarting": 0, "unexpected 5xx": 0}
        self.samples = []

    def add(self, name, n=1):
        with self.lock:
            self.counts[name] += n

    def unexpected(self, what):
        with self.lock:
            self.counts["unexpected 5xx"] += 1
            if len(self.samples) < 5:
                self.samples.append(what)


class Emulator:
    def __init__(self, binary, data, port):
        self.binary, self.data, self.port, self.process = binary, data, port, None

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "serve", "--tls", "off", "--port", str(self.port), "--data", self.data, "--speed", "20",
             "--operation-retention", "10min", "--log-level", "error", "--publisher", "soak"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for line in self.process.stdout:
            if line.startswith("azemu listening on"):
                break
        threading.Thread(target=lambda out: [None for _ in out], args=(self.process.stdout,), daemon=True).start()
        for rule in FAULT_RULES:
            status, _, _ = request(self.port, "POST", "/_azemu/faults", rule)
            assert status == 201, status

    def kill9(self):
        self.process.kill()
        self.process.wait()

    def rss_kib(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def request(port, method, path, body=None, headers=None):
    """One request on its own connection: (status, JSON body or None, headers)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        sent = {"Authorization": "Bearer soak", "Content-Type": "application/json", **(headers or {})}
        connection.request(method, path, json.dumps(body) if body is not None else None, sent)
        response = connection.getresponse()
        text = response.read()
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = None
        return response.status, parsed, {k.lower(): v for k, v in response.getheaders()}
    except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError,
            socket.timeout, http.client.IncompleteRead) as e:
        raise Dropped(str(e)) from e
    finally:
        connection.close()


class Load:
    """The clients: each family's worker loops until told to stop."""

    def __init__(self, port, stats):
        self.port, self.stats = port, stats
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked = set()        # paths whose PUT was acknowledged: each must exist at the end
        self.operations = set()   # status URLs of accepted long-running work: each must end
        self.by_family = {}       # acknowledged writes and operations started, per family

    def call(self, method, path, body=None, headers=None):
        while not self.stop.is_set():
            try:
                self.stats.add("requests")
                status, parsed, got = request(self.port, method, path, body, headers)
            except Dropped:
                # A killed azemu refuses until it is back; a fault rule drops one request.
                self.stats.add("dropped connections")
                time.sleep(0.2)
                continue
            if status >= 500:
                code = (parsed or {}).get("error", {}).get("code")
                if code == "SoakInjected":
                    self.stats.add("injected errors")
                    continue
                self.stats.unexpected(f"{method} {path}: {status} {parsed}")
            return status, parsed, got
        return None, None, {}

    def count(self, family, what):
        with self.lock:
            counts = self.by_family.setdefault(family, {"writes": 0, "operations": 0})
            counts[what] += 1

    def acknowledged(self, family, path):
        with self.lock:
            self.acked.add(path)
        self.count(family, "writes")
        self.stats.add("acknowledged writes")

    def started(self, family, got):
        url = got.get("azure-asyncoperation") or got.get("operation-location") or got.get("location")
        if url:
            path = url.split(f":{self.port}", 1)[-1]
            with self.lock:
                self.operations.add(path)
            self.count(family, "operations")
            return path
        return None

    def wait_for(self, path, bound=120):
        """Polls an operation until it ends (or the bound passes, or the run stops)."""
        deadline = time.time() + bound
        while time.time() < deadline and not self.stop.is_set():
            status, parsed, _ = self.call("GET", path)
            if status == 404 or (status in (200, 204) and (parsed is None or parsed.get("status") in TERMINAL)):
                return
            time.sleep(0.3)

    def groups(self, worker):
        n = 0
        while not self.stop.is_set():
            n += 1
            # A bounded set of names, rewritten over and over: the store's size levels off.
            path = f"/subscriptions/{SUB}/resourcegroups/g-{worker}-{n % 1000}?{GROUPS_API}"
            status, _, _ = self.call("PUT", path, {"location": "westus", "tags": {"soak": str(n)}})
            if status in (200, 201):
                self.acknowledged("resource groups", path)
            self.call("GET", f"/subscriptions/{SUB}/resourcegroups/g-{worker}-{random.randint(1, n) % 1000}?{GROUPS_API}")

    def jobs(self, worker):
        device = (f"{RG}/providers/Microsoft.HybridCompute/machines/node-{worker}"
                  "/providers/Microsoft.AzureStackHCI/edgeDevices/default")
        self.call("PUT", f"{device}?{EDGE_API}", {"kind": "HCI"})
        n = 0
        while not self.stop.is_set():
            n += 1
            path = f"{device}/jobs/logs-{n % 200}?{EDGE_API}"
            body = {"kind": "HCI", "properties": {"jobType": "CollectLog", "fromDate": "2024-01-29T10:00:00Z",
                                                  "toDate": "2024-01-29T12:00:00Z"}}
            status, _, got = self.call("PUT", path, body)
            if status in (200, 201):
                self.acknowledged("edge-device jobs", path)
                self.started("edge-device jobs", got)
            for _ in range(5):
                self.call("GET", path)
                time.sleep(0.1)

    def scale_set(self):
        path = f"{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/soak-set"
        body = {"location": "westus", "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": 2},
                "properties": {"upgradePolicy": {"mode": "Manual"}, "virtualMachineProfile": {
                    "osProfile": {"computerNamePrefix": "vm", "adminUsername": "azureuser", "adminPassword": "Secret-123!"},
                    "storageProfile": {"imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts",
                                                          "sku": "server", "version": "latest"}},
                    "networkProfile": {"networkInterfaceConfigurations": []}}}}
        status, _, got = self.call("PUT", f"{path}?{COMPUTE_API}", body)
        if status in (200, 201):
            self.acknowledged("scale sets", f"{path}?{COMPUTE_API}")
            operation = self.started("scale sets", got)
            if operation:
                self.wait_for(operation)
        actions = ["powerOff", "start", "restart", "deallocate", "start"]
        n = 0
        while not self.stop.is_set():
            action = actions[n % len(actions)]
            n += 1
            status, _, got = self.call("POST", f"{path}/{action}?{COMPUTE_API}")
            operation = self.started("scale sets", got) if status == 202 else None
            if operation:
                self.wait_for(operation)
            self.call("GET", f"{path}/virtualMachines/0/instanceView?{COMPUTE_API}")

    def updates(self):
        cluster = f"{RG}/providers/Microsoft.AzureStackHCI/clusters/soak-cluster"
        self.call("PUT", f"{cluster}?{HCI_API}", {"location": "westus", "tags": {"azemu-node-count": "2"}})
        n = 0
        while not self.stop.is_set():
            n += 1
            update = f"{cluster}/updates/Solution10.2411.{n}.0"
            body = {"properties": {"state": "Ready", "version": f"10.2411.{n}.0", "packageType": "Solution",
                                   "displayName": f"Solution 10.2411.{n}.0"}}
            status, _, _ = self.call("PUT", f"{update}?{HCI_API}", body)
            if status == 200:
                self.acknowledged("updates", f"{update}?{HCI_API}")
            status, _, got = self.call("POST", f"{update}/apply?{HCI_API}")
            operation = self.started("updates", got) if status == 202 else None
            if operation:
                self.wait_for(operation, bound=300)

    def partner(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            offer = f"/api/publishers/soak/offers/offer-{n % 50}"
            body = {"offerTypeId": "microsoft-azure-virtualmachines", "publisherId": "soak", "id": f"offer-{n % 50}",
                    "definition": {"displayText": f"Offer {n}", "plans": [{"planId": "standard"}]}}
            status, _, _ = self.call("PUT", f"{offer}?{PARTNER_API}", body, {"If-Match": "*"})
            if status in (200, 201):
                self.acknowledged("partner offers", f"{offer}?{PARTNER_API}")
            status, _, got = self.call("POST", f"{offer}/publish?{PARTNER_API}",
                                       {"metadata": {"notification-emails": "ops@contoso.com"}})
            operation = self.started("partner offers", got) if status == 202 else None
            if operation:
                self.wait_for(operation)

    def run(self):
        status = None
        while status not in (200, 201):
            status, _, _ = self.call("PUT", f"{RG}?{GROUPS_API}", {"location": "westus"})
        workers = [lambda: self.groups(1), lambda: self.groups(2), lambda: self.jobs(1), lambda: self.jobs(2),
                   self.scale_set, self.updates, self.partner]
        self.threads = [threading.Thread(target=w, daemon=True) for w in workers]
        for thread in self.threads:
            thread.start()

    def finish(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def missing(port, paths):
    """Acknowledged writes that are gone."""
    lost = []
    for path in sorted(paths):
        status = None
        for _ in range(20):
            try:
                status, _, _ = request(port, "GET", path)
                break
            except Dropped:
                time.sleep(0.1)
        if status != 200:
            lost.append((path, status))
    return lost


def unfinished(port, operations, bound):
    """Long-running work that has not ended by the bound."""
    deadline = time.time() + bound
    left = set(operations)
    while left and time.time() < deadline:
        for path in sorted(left):
            try:
                status, parsed, _ = request(port, "GET", path)
            except Dropped:
                continue
            if status == 404 or (status in (200, 204) and (parsed is None or parsed.get("status") in TERMINAL)):
                left.discard(path)
        time.sleep(1)
    return left


def slope(points):
    """Least-squares slope of (minute, KiB) points, in KiB a minute."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", default="target/release/azemu")
    parser.add_argument("--duration", type=float, default=600, help="seconds of load")
    parser.add_argument("--restart-every", type=float, default=60, help="seconds between kill -9 restarts")
    args = parser.parse_args()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = tempfile.mkdtemp(prefix="azemu-soak-")
    stats = Stats()
    emulator = Emulator(args.binary, data, port)
    emulator.start()
    started = time.time()
    rss = [(0.0, emulator.rss_kib())]
    load = Load(port, stats)
    load.run()
    restarts, lost = 0, []
    while time.time() - started < args.duration:
        time.sleep(min(args.restart_every, max(0.0, args.duration - (time.time() - started))))
        if time.time() - started >= args.duration:
            break
        rss.append(((time.time() - started) / 60, emulator.rss_kib()))
        emulator.kill9()
        emulator.start()
        restarts += 1
        with load.lock:
            acked = set(load.acked)
        lost += missing(port, acked)
        print(f"{time.time() - started:6.0f} s: restart {restarts}, {stats.counts['requests']} requests, "
              f"{len(acked)} acknowledged writes, {len(lost)} lost, RSS {rss[-1][1] // 1024} MiB", flush=True)
    load.finish()
    rss.append(((time.time() - started) / 60, emulator.rss_kib()))
    with load.lock:
        acked, operations = set(load.acked), set(load.operations)
    lost += missing(port, acked)
    never_ended = unfinished(port, operations, bound=300)
    emulator.stop()
    half = len(rss) // 2
    counts = stats.counts
    print()
    print(f"soak: {args.duration:.0f} s, {restarts} kill -9 restarts, every family under load, fault rules firing")
    for name in ["requests", "acknowledged writes", "injected errors", "dropped connections"]:
        print(f"  {name}: {counts[name]}")
    print(f"  long-running operations started: {len(operations)}")
    for family, counted in sorted(load.by_family.items()):
        print(f"    {family}: {counted['writes']} writes acknowledged, {counted['operations']} operations started")
    print(f"  writes lost: {len(lost)}" + (f" {lost[:5]}" if lost else ""))
    print(f"  lifecycles that never ended: {len(never_ended)}" + (f" {sorted(never_ended)[:5]}" if never_ended else ""))
    print(f"  unexpected 5xx: {counts['unexpected 5xx']}" + (f" {stats.samples}" if stats.samples else ""))
    print(f"  RSS: {rss[0][1] // 1024} MiB at start, {rss[-1][1] // 1024} MiB at the end; before each kill "
          + ", ".join(str(kib // 1024) for _, kib in rss[1:-1]) + " MiB")
    print(f"  RSS slope: {slope(rss):.0f} KiB a minute over the run, {slope(rss[half:]):.0f} over its second half")
    subprocess.run(["rm", "-rf", data], check=False)
    sys.exit(1 if lost or never_ended or counts["unexpected 5xx"] else 0)


if __name__ == "__main__":
    main()
