"""Helpers for the runtime tests: specs, a docker CLI exec, a terminal reader, local registries."""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from apps.runtime import FileSpec, LaunchSpec, MachineSpec, NetworkSpec, Terminal
from tests.engine import can_connect, docker_ids, docker_json, sh  # noqa: F401 (used by the runtime tests)

BUSYBOX = "rangex/busybox:latest"
# Every machine answers on port 80 so reachability is a plain TCP connect (cap_drop ALL rules out ping).
LISTEN = ["sh", "-c", "while true; do nc -l -p 80 </dev/null >/dev/null 2>&1; done"]


def new_session_id() -> str:
    return uuid.uuid4().hex


def duo_spec(session_id: str, *, image: str = BUSYBOX, **victim_options) -> LaunchSpec:
    """Return a small topology for the contract suite: attacker on outer, victim on outer and inner."""
    common = {"command": LISTEN, "memory_mb": 64, "cpus": 0.25, "pids_limit": 64}
    return LaunchSpec(
        session_id=session_id,
        networks=[NetworkSpec("outer"), NetworkSpec("inner")],
        machines=[
            MachineSpec("attacker", image, role="attacker", networks=["outer"], **common),
            MachineSpec("victim", image, role="victim", networks=["outer", "inner"], **{**common, **victim_options}),
        ],
        expires_at=datetime.now(UTC) + timedelta(hours=1),
        labels={"rangex.test": "1"},
    )


def pivot_spec(
    session_id: str,
    *,
    image: str = BUSYBOX,
    victim_image: str | None = None,
    victim_files: list[FileSpec] | None = None,
    **machine_options,
) -> LaunchSpec:
    """Return the demo topology: attacker on outer, pivot on outer+inner, victim on inner only."""
    common = {"command": LISTEN, "memory_mb": 64, "cpus": 0.25, "pids_limit": 64, **machine_options}
    return LaunchSpec(
        session_id=session_id,
        networks=[NetworkSpec("outer"), NetworkSpec("inner")],
        machines=[
            MachineSpec("attacker", image, role="attacker", networks=["outer"], **common),
            MachineSpec("pivot", image, role="service", networks=["outer", "inner"], **common),
            MachineSpec(
                "victim", victim_image or image, role="victim", networks=["inner"], files=victim_files or [], **common
            ),
        ],
        expires_at=datetime.now(UTC) + timedelta(hours=1),
        labels={"rangex.test": "1"},
    )


def read_until(terminal: Terminal, needle: bytes, *, timeout: float = 10) -> bytes:
    """Read from a terminal until ``needle`` appears; fail with what was read otherwise."""
    deadline = time.monotonic() + timeout
    seen = b""
    while needle not in seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{needle!r} not seen in {seen!r}")
        seen += terminal.read(min(remaining, 0.5))
    return seen


class _BasicAuthRegistry(BaseHTTPRequestHandler):
    """Just enough of the registry v2 API for `docker login`: /v2/ with HTTP basic auth."""

    expected = ""

    def do_GET(self):
        registry = "registry/2.0"
        if self.headers.get("Authorization", "") == self.expected:
            self.send_response(200)
            self.send_header("Docker-Distribution-API-Version", registry)
            self.end_headers()
            self.wfile.write(b"{}")
            return
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="rangex-test"')
        self.send_header("Docker-Distribution-API-Version", registry)
        self.end_headers()

    def log_message(self, *args):
        pass


@contextmanager
def fake_registry(username: str, password: str) -> Iterator[str]:
    """Serve a registry on 127.0.0.1 (an insecure registry for the engine by default); yield host:port."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    handler = type("Registry", (_BasicAuthRegistry,), {"expected": f"Basic {token}"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def local_registry(username: str, password: str) -> Iterator[str]:
    """Run Debian's docker-registry on 127.0.0.1 with htpasswd auth for one user; yield host:port.

    deploy/lib.sh (ensure_test_packages) installs docker-registry and htpasswd (apache2-utils).
    The engine trusts registries on 127.0.0.0/8 over plain HTTP, so no certificate is needed.
    """
    import pytest

    binary, htpasswd = shutil.which("docker-registry"), shutil.which("htpasswd")
    if binary is None or htpasswd is None:
        pytest.fail("docker-registry and htpasswd are missing: run `source deploy/lib.sh; ensure_test_packages`")
    folder = Path(tempfile.mkdtemp(prefix="rangex-registry-"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # -i: the password comes on stdin, not on a command line.
    entry = subprocess.run(
        [htpasswd, "-niB", username], input=password, capture_output=True, text=True, check=True
    ).stdout
    (folder / "htpasswd").write_text(entry)
    (folder / "config.yml").write_text(
        "version: 0.1\n"
        "log: {level: error, accesslog: {disabled: true}}\n"
        f"storage: {{filesystem: {{rootdirectory: {folder / 'data'}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: '127.0.0.1:{port}'}}\n"
        f"auth: {{htpasswd: {{realm: rangex-test, path: {folder / 'htpasswd'}}}}}\n"
    )
    log = (folder / "registry.log").open("wb")
    process = subprocess.Popen([binary, "serve", str(folder / "config.yml")], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1).close()
            except urllib.error.HTTPError as exc:
                # 401: up, and asking for the credentials.
                if exc.code == 401:
                    break
            except OSError:
                pass
            else:
                raise AssertionError("docker-registry serves without authentication")
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"docker-registry did not start: {(folder / 'registry.log').read_text()}")
            time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


class PrivateEngine:
    """A dockerd of the test's own: its own data root, socket, containerd and network namespace, so
    stopping and starting it touches no one else's labs. No iptables and no default bridge: the
    runtime's isolated networks need neither.

    The namespace matters: a dockerd started with ``--bridge none`` deletes the host's ``docker0``
    on start (moby removes the default bridge interface when the bridge is disabled), which cuts
    every container on the shared engine's default network. In a namespace of its own it finds
    no ``docker0`` to remove; the test talks to it through its unix socket, which needs no network.
    """

    def __init__(self):
        self.binary = shutil.which("dockerd") or "/usr/sbin/dockerd"
        # A short folder: the engine's unix sockets live under it (108 bytes at most).
        self.folder = Path(tempfile.mkdtemp(prefix="rxd-", dir="/tmp"))
        self.url = f"unix://{self.folder}/docker.sock"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = (self.folder / "dockerd.log").open("ab")
        self.process = subprocess.Popen(
            [
                # unshare execs in place (no fork), so terminating the process stops dockerd itself.
                "unshare", "--net", "--", "sh", "-c", 'ip link set lo up 2>/dev/null; exec "$@"', "dockerd",
                self.binary,
                "--data-root", str(self.folder / "data"),
                "--exec-root", str(self.folder / "exec"),
                "--pidfile", str(self.folder / "dockerd.pid"),
                "--host", self.url,
                "--bridge", "none",
                "--iptables=false",
                "--ip-masq=false",
                "--default-address-pool", "base=10.214.0.0/16,size=24",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 30
        while subprocess.run(["docker", "-H", self.url, "info"], capture_output=True).returncode != 0:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the private dockerd did not start: {(self.folder / 'dockerd.log').read_text()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def load(self, image: str) -> None:
        saved = subprocess.run(["docker", "save", image], capture_output=True, check=True).stdout
        subprocess.run(["docker", "-H", self.url, "load", "-q"], input=saved, capture_output=True, check=True)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
