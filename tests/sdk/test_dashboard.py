"""The dashboard at /_azemu/ui/ in headless Chromium (Debian's, which scripts/sdk-tests.sh
installs, driven by playwright-core from tests/js): tests/js/dashboard.test.mjs makes resources
through the API on a manual clock and checks that the page shows them moving without a reload,
adds and deletes a fault rule from the page, drives the clock, and signs in to a second azemu
whose control API is guarded."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from conftest import ROOT, SUBSCRIPTION, Emulator

JS = ROOT / "tests" / "js"
SECRET = "dashboard-test-secret"


def test_the_dashboard_in_a_real_browser(data_dir):
    node = shutil.which("node")
    assert node, "node is missing: scripts/sdk-tests.sh installs it"
    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing: scripts/sdk-tests.sh installs it"
    assert (JS / "node_modules" / "playwright-core").exists(), "scripts/sdk-tests.sh installs playwright-core"
    manual = Emulator(data_dir, ["--clock", "manual"])
    with tempfile.TemporaryDirectory(prefix="azemu-guarded-") as other:
        guarded = Emulator(Path(other), ["--control-api", "token", "--control-token", SECRET])
        try:
            cas = Path(other) / "both-cas.pem"
            cas.write_text(Path(manual.ca_file).read_text() + Path(guarded.ca_file).read_text())
            env = {
                **os.environ,
                "AZEMU_ENDPOINT": manual.endpoint,
                "AZEMU_GUARDED_ENDPOINT": guarded.endpoint,
                "AZEMU_GUARDED_SECRET": SECRET,
                "AZEMU_SUBSCRIPTION": SUBSCRIPTION,
                "CHROMIUM": chromium,
                "NODE_EXTRA_CA_CERTS": str(cas),
            }
            done = subprocess.run(
                [node, "--test", "--test-reporter=spec", str(JS / "dashboard.test.mjs")],
                cwd=JS, env=env, capture_output=True, text=True, timeout=300,
            )
            assert done.returncode == 0, done.stdout + done.stderr
        finally:
            guarded.stop()
            manual.stop()
