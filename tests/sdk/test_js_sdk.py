"""The official Azure SDKs for JavaScript (@azure/arm-compute, @azure/arm-azurestackhci,
@azure/arm-resources and @azure/identity, installed by scripts/sdk-tests.sh into
tests/js/node_modules) against azemu over HTTPS: tests/js/lro.test.mjs drives every long-running
operation of a scale set and its VMs, a tag change, the resource list, a provider and the deletes
down to the resource group through the SDKs' own pollers, which refuse a finished operation
answered with 204; tests/js/hci.test.mjs drives a cluster through the HCI SDK at its default
api-version, 2022-05-01."""

import os
import shutil
import subprocess

from conftest import ROOT, SUBSCRIPTION

JS = ROOT / "tests" / "js"


def test_javascript_sdk_pollers_complete_every_lro(fast_emulator):
    node = shutil.which("node")
    assert node, "node is missing: scripts/sdk-tests.sh installs it"
    assert (JS / "node_modules" / "@azure" / "arm-compute").exists(), "scripts/sdk-tests.sh installs the JS SDKs"
    env = {
        **os.environ,
        "AZEMU_ENDPOINT": fast_emulator.endpoint,
        "AZEMU_SUBSCRIPTION": SUBSCRIPTION,
        "NODE_EXTRA_CA_CERTS": fast_emulator.ca_file,
    }
    done = subprocess.run(
        [node, "--test", "--test-reporter=spec", str(JS / "lro.test.mjs"), str(JS / "hci.test.mjs")],
        cwd=JS, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
