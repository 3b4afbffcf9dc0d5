"""Helpers for the DockerRuntime tests: specs, a docker CLI exec, and a reader for terminals."""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from apps.runtime import FileSpec, LaunchSpec, MachineSpec, NetworkSpec, Terminal

BUSYBOX = "rangex/busybox:latest"
# Every machine answers on port 80 so reachability is a plain TCP connect (cap_drop ALL rules out ping).
LISTEN = ["sh", "-c", "while true; do nc -l -p 80 </dev/null >/dev/null 2>&1; done"]


def new_session_id() -> str:
    return uuid.uuid4().hex


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


def sh(container_id: str, script: str, *, user: str = "root", timeout: float = 30) -> tuple[int, str]:
    """Run a shell script in a container through the docker CLI; return (exit code, stdout+stderr)."""
    result = subprocess.run(
        ["docker", "exec", "-u", user, container_id, "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return result.returncode, result.stdout + result.stderr


def can_connect(container_id: str, host: str, port: int = 80) -> bool:
    code, _ = sh(container_id, f"nc -w 1 {host} {port} </dev/null")
    return code == 0


def docker_json(*argv: str):
    return json.loads(subprocess.run(["docker", *argv], capture_output=True, text=True, check=True).stdout)


def docker_ids(kind: str, session_id: str) -> list[str]:
    """Return the ids of containers or networks labelled with a session, straight from the CLI."""
    command = ["docker", "ps", "-aq"] if kind == "container" else ["docker", "network", "ls", "-q"]
    out = subprocess.run(
        [*command, "--filter", f"label=rangex.session={session_id}"], capture_output=True, text=True, check=True
    ).stdout
    return out.split()


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
