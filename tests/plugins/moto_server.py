"""moto's standalone server on 127.0.0.1, for tests that reach AWS the way production does: over HTTP.

Fixtures
--------
``moto_server`` (session)
    Starts ``moto_server`` on a free loopback port once per test process; yields its URL.
``aws_endpoint`` (function)
    Resets the server's state, points boto3 at it through ``AWS_ENDPOINT_URL`` with dummy
    credentials, and yields the URL. Anything that builds a boto3 client during the test (a
    runtime, a Celery task, a beat task) talks to the server; nothing goes to real AWS.

Use them with ``pytest_plugins = ["tests.plugins.moto_server"]`` (or the root conftest). They
need ``moto[server]`` (pyproject's dev extras). Do not mix with in-process ``mock_aws`` in the
same test: the in-process mock would answer first.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def moto_server():
    binary = shutil.which("moto_server") or str(Path(sys.executable).with_name("moto_server"))
    if not Path(binary).exists():
        pytest.fail("moto_server is missing: pip install -c requirements.lock 'moto[server]'")
    port = _free_port()
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"moto-server-{port}.log"
    log = log_path.open("wb")
    process = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()  # noqa: S310 (loopback)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"moto_server did not start: {log_path.read_text()[-2000:]}") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def aws_endpoint(moto_server, monkeypatch):
    request = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")  # noqa: S310 (loopback)
    urllib.request.urlopen(request, timeout=5).close()  # noqa: S310 (loopback)
    for name, value in {
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    yield moto_server
