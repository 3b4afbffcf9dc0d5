"""Smoke test of the production stack: deploy/prod.sh up, then HTTPS through nginx, then down.

It drives the stack from outside, as a solver's browser and an operator would: the certificate
nginx made on first start is the only trust anchor; the seeded solver signs in through the login
form, starts Pivot Point through /api/v1/, runs `id` in the attacker's terminal over wss://, and
stops the session; then the engine must hold nothing of this install. Marked ``stack`` (deselected
by default): deploy/test.sh runs it after the suite with ``pytest -m stack tests/stack``. It reuses
the images and build cache of earlier runs; a cold run builds everything.
"""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import subprocess
import tarfile
import time
from pathlib import Path

import pytest
import requests
from websockets.sync.client import connect

pytestmark = [pytest.mark.stack, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[2]
PROD = ["bash", str(ROOT / "deploy" / "prod.sh")]
SOLVER = "solver@rangex.local"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Stack:
    def __init__(self, state: Path):
        pid = os.getpid()
        self.state = state
        self.project = f"rangex-smoke-{pid}"
        self.instance = f"smoke-{pid}"
        self.https_port = _free_port()
        self.http_port = _free_port()
        self.base = f"https://localhost:{self.https_port}"
        # A clean environment: the test settings' variables must not reach compose or the stack.
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8",
            "RANGEX_STACK_DIR": str(state),
            "RANGEX_PROJECT": self.project,
            "RANGEX_INSTANCE": self.instance,
            "RANGEX_HOSTNAME": "localhost",
            "RANGEX_HTTPS_PORT": str(self.https_port),
            "RANGEX_HTTP_PORT": str(self.http_port),
            "RANGEX_BIND": "127.0.0.1",
            "RANGEX_SEED_DEMO": "true",
        }

    def prod(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [*PROD, *args], env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and done.returncode != 0:
            logs = subprocess.run(
                [*PROD, "compose", "logs", "--no-color", "--tail", "40"],
                env=self.env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            pytest.fail(
                f"prod.sh {' '.join(args)} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}\n"
                f"--- logs ---\n{logs.stdout[-6000:]}"
            )
        return done

    @property
    def certificate(self) -> str:
        return str(self.state / "tls" / "cert.pem")

    def engine_leftovers(self) -> list[str]:
        """Containers and networks on the engine labelled with this install's instance id."""
        found = []
        for kind in ("container", "network"):
            listing = ["docker", kind, "ls", "-q", "--filter", f"label=rangex.instance={self.instance}"]
            if kind == "container":
                listing.insert(3, "-a")
            found += subprocess.run(listing, capture_output=True, text=True, check=True).stdout.split()
        return found

    def project_leftovers(self) -> list[str]:
        label = f"label=com.docker.compose.project={self.project}"
        found = []
        for listing in (
            ["docker", "ps", "-aq", "--filter", label],
            ["docker", "network", "ls", "-q", "--filter", label],
            ["docker", "volume", "ls", "-q", "--filter", label],
        ):
            found += subprocess.run(listing, capture_output=True, text=True, check=True).stdout.split()
        return found


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("stack"))
    started = time.monotonic()
    try:
        done = stack.prod("up", timeout=1500)
        print(f"\nstack up (build included) in {time.monotonic() - started:.0f} s\n{done.stdout[-1500:]}")
        yield stack
    finally:
        stopped = time.monotonic()
        stack.prod("destroy", "--yes", timeout=300, check=False)
        print(f"stack destroyed in {time.monotonic() - stopped:.0f} s")
        leftovers = stack.project_leftovers() + stack.engine_leftovers()
        assert not leftovers, f"left on the engine after destroy: {leftovers}"


def _session(stack: Stack) -> requests.Session:
    """A browser-like client that trusts only the stack's own certificate."""
    client = requests.Session()
    # Without this, REQUESTS_CA_BUNDLE (set on some machines) would replace the certificate below.
    client.trust_env = False
    client.verify = stack.certificate
    return client


def _sign_in(stack: Stack, email: str, password: str) -> requests.Session:
    client = _session(stack)
    page = client.get(f"{stack.base}/accounts/login/", timeout=30)
    assert page.status_code == 200
    form = {"email": email, "password": password, "csrfmiddlewaretoken": client.cookies["csrftoken"]}
    answer = client.post(
        f"{stack.base}/accounts/login/",
        data=form,
        headers={"Referer": f"{stack.base}/accounts/login/"},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, answer.text[:500]
    return client


def _api(client: requests.Session, stack: Stack, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"X-CSRFToken": client.cookies["csrftoken"], "Referer": f"{stack.base}/"}
    return client.request(method, f"{stack.base}/api/v1/{path}", headers=headers, timeout=60, **kwargs)


def _wait_for_status(client, stack, session_id: str, wanted: set[str], *, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        body = _api(client, stack, "GET", f"sessions/{session_id}/").json()
        if body["status"] in wanted:
            return body
        assert body["status"] not in {"failed", "error"}, body
        assert time.monotonic() < deadline, f"still {body['status']} after {seconds:.0f} s: {body}"
        time.sleep(1)


def _demo_password(stack: Stack, email: str) -> str:
    done = stack.prod("compose", "exec", "-T", "web", "cat", "/var/lib/rangex/demo-credentials.json")
    return json.loads(done.stdout)[email]


def test_stack_answers_over_tls_with_health_static_files_and_an_http_redirect(stack):
    client = _session(stack)
    health = client.get(f"{stack.base}/healthz", timeout=30)
    assert health.status_code == 200
    checks = health.json()["checks"]
    assert {checks[part]["status"] for part in ("database", "cache", "broker", "engine")} == {"ok"}
    # Asset storage is checked only when object storage is selected; the stack stores files locally.
    assert checks["storage"]["status"] == "skipped"

    page = client.get(f"{stack.base}/accounts/login/", timeout=30)
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    stylesheet = re.search(r'href="(/static/vendor/bootstrap/bootstrap\.min\.[0-9a-f]{12}\.css)"', page.text)
    assert stylesheet, "the page names no hashed (collected) stylesheet"
    static = client.get(stack.base + stylesheet.group(1), headers={"Accept-Encoding": "gzip"}, timeout=30)
    assert static.status_code == 200
    assert static.headers["Server"] == "nginx"
    assert static.headers.get("Content-Encoding") == "gzip"

    plain_url = f"http://localhost:{stack.http_port}/accounts/login/?next=/"
    plain = requests.get(plain_url, allow_redirects=False, timeout=30)
    assert plain.status_code == 301
    assert plain.headers["Location"] == f"{stack.base}/accounts/login/?next=/"


def test_check_deploy_is_clean_inside_the_stack(stack):
    done = stack.prod("manage", "check", "--deploy", "--fail-level", "WARNING")
    assert "System check identified no issues" in done.stdout


def test_solver_starts_pivot_point_runs_id_over_wss_and_stopping_leaves_nothing(stack):
    client = _sign_in(stack, SOLVER, _demo_password(stack, SOLVER))
    version = _api(client, stack, "GET", "scenarios/pivot-point/").json()["version_id"]
    started = _api(client, stack, "POST", "sessions/", json={"scenario_version": version})
    assert started.status_code == 202, started.text
    session_id = started.json()["id"]
    _wait_for_status(client, stack, session_id, {"running"}, seconds=300)
    assert stack.engine_leftovers(), "a running session has no containers on the engine"

    page = client.get(f"{stack.base}/sessions/{session_id}/", timeout=30)
    token = re.search(r'data-token="([^"]+)"', page.text).group(1)
    context = ssl.create_default_context(cafile=stack.certificate)
    cookies = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    url = f"wss://localhost:{stack.https_port}/ws/sessions/{session_id}/terminal/attacker/?token={token}"
    seen = bytearray()
    with connect(url, ssl=context, origin=stack.base, additional_headers={"Cookie": cookies}) as terminal:
        terminal.send(json.dumps({"type": "input", "data": "id\n"}))
        deadline = time.monotonic() + 60
        while b"uid=" not in seen:
            assert time.monotonic() < deadline, f"no `id` output: {bytes(seen)[-500:]!r}"
            message = terminal.recv(timeout=deadline - time.monotonic())
            if isinstance(message, bytes):
                seen.extend(message)
                terminal.send(json.dumps({"type": "ack", "bytes": len(message)}))
    assert re.search(rb"uid=\d+\(\w+\)", seen)

    stopped = _api(client, stack, "POST", f"sessions/{session_id}/stop/")
    assert stopped.status_code == 200, stopped.text
    _wait_for_status(client, stack, session_id, {"terminated"}, seconds=120)
    deadline = time.monotonic() + 60
    while stack.engine_leftovers():
        assert time.monotonic() < deadline, f"left on the engine: {stack.engine_leftovers()}"
        time.sleep(1)


def test_backup_from_the_stack_holds_the_database_and_the_manifest(stack, tmp_path):
    stack.prod("backup", str(tmp_path))
    (archive,) = tmp_path.glob("rangex-*.tar.gz")
    assert archive.stat().st_mode & 0o777 == 0o600
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert names[:2] == ["manifest.json", "database.sql"]
    assert manifest["database"]["vendor"] == "mysql"
    assert manifest["instance"] == stack.instance
