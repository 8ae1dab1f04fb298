#!/usr/bin/env python3
"""An 800-resource template (ARM's limit) deployed to azemu at --speed 100: 20 scale sets of 2
instances each waiting for its own network, and 760 generic resources (networks, public IPs,
network security groups) in copy loops. Reports the time from the PUT to the deployment's end
and azemu's peak memory (VmHWM). Loopback only; ends by itself (at most 10 minutes).

    cargo build --release && python3 bench/deploy800.py
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BINARY = Path(os.environ.get("AZEMU_BIN", ROOT / "target" / "release" / "azemu"))
SUB = "fd3c3665-1729-4b7b-9a38-238e83b0f98b"
SETS = 20
GENERIC = 800 - 2 * SETS  # each set has its network


def template():
    per_kind = GENERIC // 3
    loops = [
        ("Microsoft.Network/virtualNetworks", "extra-net", per_kind, {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}),
        ("Microsoft.Network/publicIPAddresses", "ip", per_kind, {"publicIPAllocationMethod": "Static"}),
        ("Microsoft.Network/networkSecurityGroups", "nsg", GENERIC - 2 * per_kind, {"securityRules": []}),
    ]
    resources = [
        {
            "type": kind,
            "apiVersion": "2022-01-01",
            "name": f"[concat('{name}-', copyIndex())]",
            "location": "[resourceGroup().location]",
            "copy": {"name": name, "count": count},
            "properties": properties,
        }
        for kind, name, count, properties in loops
    ]
    resources.append(
        {
            "type": "Microsoft.Network/virtualNetworks",
            "apiVersion": "2022-01-01",
            "name": "[concat('set-net-', copyIndex())]",
            "location": "[resourceGroup().location]",
            "copy": {"name": "setNets", "count": SETS},
            "properties": {"addressSpace": {"addressPrefixes": ["[format('10.{0}.0.0/16', copyIndex())]"]}},
        }
    )
    resources.append(
        {
            "type": "Microsoft.Compute/virtualMachineScaleSets",
            "apiVersion": "2024-07-01",
            "name": "[concat('set-', copyIndex())]",
            "location": "[resourceGroup().location]",
            "copy": {"name": "sets", "count": SETS},
            "dependsOn": ["[resourceId('Microsoft.Network/virtualNetworks', concat('set-net-', copyIndex()))]"],
            "sku": {"name": "Standard_D2s_v3", "tier": "Standard", "capacity": 2},
            "properties": {
                "upgradePolicy": {"mode": "Manual"},
                "virtualMachineProfile": {
                    "osProfile": {"computerNamePrefix": "vm", "adminUsername": "azureuser", "adminPassword": "Secret-123!"},
                    "storageProfile": {"imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}},
                    "networkProfile": {"networkInterfaceConfigurations": []},
                },
            },
        }
    )
    return {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0", "resources": resources}


def request(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers={"content-type": "application/json", "authorization": "Bearer bench"})
    with urllib.request.urlopen(req, timeout=30) as response:
        return json.loads(response.read() or b"null")


def memory(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def main():
    with tempfile.TemporaryDirectory(prefix="azemu-deploy800-") as data:
        process = subprocess.Popen(
            [str(BINARY), "serve", "--port", "0", "--tls", "off", "--data", data, "--speed", "100", "--log-level", "warn"],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            line = process.stdout.readline()
            base = line.split(" on ", 1)[1].strip()
            group = f"/subscriptions/{SUB}/resourcegroups/bench"
            request(base, "PUT", f"{group}?api-version=2024-11-01", {"location": "westus"})
            deployment = f"{group}/providers/Microsoft.Resources/deployments/big?api-version=2024-11-01"
            before = memory(process.pid, "VmRSS")
            started = time.monotonic()
            request(base, "PUT", deployment, {"properties": {"template": template(), "mode": "Incremental"}})
            deadline = started + 600
            while time.monotonic() < deadline:
                doc = request(base, "GET", deployment)
                state = doc["properties"]["provisioningState"]
                if state in ("Succeeded", "Failed", "Canceled"):
                    break
                time.sleep(0.1)
            took = time.monotonic() - started
            peak = memory(process.pid, "VmHWM")
            deployed = len(doc["properties"].get("outputResources", []))
            print(f"deployment: {state}, {deployed} resources, {took:.1f} s from PUT to end")
            print(f"azemu memory: {before:.0f} MiB before, peak {peak:.0f} MiB (VmHWM)")
            return 0 if state == "Succeeded" and deployed == 800 else 1
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
