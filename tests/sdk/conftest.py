"""Starts the azemu binary (HTTPS, generated certificate, on-disk store) for the SDK suite."""

import base64
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from azure.core.credentials import AccessToken

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("AZEMU_BIN", ROOT / "target" / "release" / "azemu"))
SUBSCRIPTION = "fd3c3665-1729-4b7b-9a38-238e83b0f98b"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


class StaticCredential:
    """A credential that hands out an unsigned JWT naming a user; azemu --auth any reads its claims."""

    def __init__(self, upn: str = "sdk-tester@contoso.com"):
        header = _b64({"alg": "none", "typ": "JWT"})
        payload = _b64({"upn": upn, "oid": "00000000-0000-0000-0000-000000000001", "exp": int(time.time()) + 3600})
        self.token = f"{header}.{payload}.c2ln"

    def get_token(self, *scopes, **kwargs):
        return AccessToken(self.token, int(time.time()) + 3600)


class Emulator:
    def __init__(self, data_dir: Path, extra_args=()):
        self.data_dir = data_dir
        self.process = subprocess.Popen(
            [str(BINARY), "serve", "--port", "0", "--data", str(data_dir), "--log-level", "warn", *extra_args],
            stdout=subprocess.PIPE,
            text=True,
        )
        deadline = time.time() + 30
        self.endpoint = None
        while time.time() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            if line.startswith("azemu listening on "):
                self.endpoint = line.split(" on ", 1)[1].strip()
                break
        if self.endpoint is None:
            self.process.kill()
            raise RuntimeError("azemu did not start")
        self.ca_file = str(data_dir / "tls" / "ca.pem")

    def kill(self):
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def data_dir():
    with tempfile.TemporaryDirectory(prefix="azemu-sdk-") as d:
        yield Path(d)


def pytest_addoption(parser):
    parser.addoption(
        "--azemu-cluster",
        action="store_true",
        help="run each scenario against three azemu nodes on one PostgreSQL store, round-robin",
    )


# The fixtures a scenario asks for azemu by; with --azemu-cluster only scenarios using one run.
EMULATOR_FIXTURES = {"emulator", "fast_emulator", "strict_emulator"}


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--azemu-cluster"):
        return
    kept = [item for item in items if EMULATOR_FIXTURES & set(getattr(item, "fixturenames", ()))]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept


def start(request, data_dir, args=()):
    if request.config.getoption("--azemu-cluster"):
        from cluster import Cluster

        return Cluster(Emulator, data_dir, args)
    return Emulator(data_dir, args)


@pytest.fixture
def emulator(request, data_dir):
    emu = start(request, data_dir)
    yield emu
    emu.stop()


@pytest.fixture
def fast_emulator(request, data_dir):
    """Lifecycles at ten times their real pace: a 2-node update apply takes 3.8 s."""
    emu = start(request, data_dir, ["--speed", "10"])
    yield emu
    emu.stop()


@pytest.fixture
def strict_emulator(request, data_dir):
    """Only tokens azemu signed are accepted; lifecycles ten times their real pace."""
    emu = start(request, data_dir, ["--auth", "strict", "--speed", "10", "--subscription", f"{SUBSCRIPTION}=sdk tests"])
    yield emu
    emu.stop()


def hci_client(emu: Emulator):
    from azure.mgmt.azurestackhci import AzureStackHCIClient

    return AzureStackHCIClient(
        credential=StaticCredential(), subscription_id=SUBSCRIPTION, base_url=emu.endpoint, connection_verify=emu.ca_file
    )


def resource_client(emu: Emulator):
    from azure.mgmt.resource.resources import ResourceManagementClient

    return ResourceManagementClient(
        credential=StaticCredential(), subscription_id=SUBSCRIPTION, base_url=emu.endpoint, connection_verify=emu.ca_file
    )
