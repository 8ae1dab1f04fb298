"""Three azemu nodes on one PostgreSQL store, behind a proxy that sends each request to the next
node in turn: the SDK scenarios run against it as against one azemu (`pytest --azemu-cluster`)."""

import http.client
import http.server
import itertools
import os
import ssl
import subprocess
import threading
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Headers that belong to one connection, not to the request.
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


def fresh_database() -> str:
    """A new database on the test PostgreSQL server (scripts/postgres.sh finds or starts one)."""
    server = os.environ.get("AZEMU_TEST_POSTGRES")
    if not server:
        script = ROOT / "scripts" / "postgres.sh"
        server = subprocess.run(["bash", str(script)], check=True, capture_output=True, text=True).stdout.strip()
    name = "azemu_sdk_" + uuid.uuid4().hex
    subprocess.run(["psql", server, "-v", "ON_ERROR_STOP=1", "-qc", f"CREATE DATABASE {name}"], check=True)
    return server.rsplit("/", 1)[0] + "/" + name


class _Forward(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        host, port = self.server.next_node()
        connections = self.__dict__.setdefault("connections", {})
        connection = connections.get((host, port))
        if connection is None:
            connection = http.client.HTTPSConnection(host, port, context=self.server.client_context, timeout=120)
            connections[(host, port)] = connection
        # The Host header goes as the client sent it: the URLs azemu hands out name the proxy.
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            connections.pop((host, port), None)
            self.send_error(502)
            return
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _forward


class RoundRobinProxy(http.server.ThreadingHTTPServer):
    """HTTPS on loopback with azemu's own certificate; each request goes to the next node."""

    daemon_threads = True

    def __init__(self, endpoints, tls_dir: Path):
        super().__init__(("127.0.0.1", 0), _Forward)
        server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_context.load_cert_chain(str(tls_dir / "cert.pem"), str(tls_dir / "key.pem"))
        self.socket = server_context.wrap_socket(self.socket, server_side=True)
        self.client_context = ssl.create_default_context(cafile=str(tls_dir / "ca.pem"))
        nodes = [e.split("://", 1)[1].rsplit(":", 1) for e in endpoints]
        self._nodes = itertools.cycle([(host, int(port)) for host, port in nodes])
        self._lock = threading.Lock()
        self.endpoint = f"https://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def next_node(self):
        with self._lock:
            return next(self._nodes)


class Cluster:
    """Looks like one Emulator to the tests: `endpoint`, `ca_file`, `stop()`."""

    def __init__(self, emulator_class, data_dir: Path, extra_args=()):
        self.data_dir = data_dir
        store = fresh_database()
        # One after the other: the first makes the TLS material and keys the others read.
        self.nodes = [
            emulator_class(data_dir, ["--store", store, "--node-id", f"sdk-{i}", *extra_args]) for i in range(1, 4)
        ]
        self.proxy = RoundRobinProxy([n.endpoint for n in self.nodes], data_dir / "tls")
        self.endpoint = self.proxy.endpoint
        self.ca_file = str(data_dir / "tls" / "ca.pem")

    def stop(self):
        self.proxy.shutdown()
        self.proxy.server_close()
        for node in self.nodes:
            node.stop()
