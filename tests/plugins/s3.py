"""An S3 endpoint for tests: moto's standalone server on a free loopback port, over real HTTP.

``s3_server`` starts ``moto_server`` once per test session and stops it at the end;
``s3_storage`` points the system settings' object-storage fields at it with a fresh bucket.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _moto_server_command(port: int) -> list[str]:
    script = Path(sys.executable).with_name("moto_server")
    if script.exists():
        return [str(script), "-H", "127.0.0.1", "-p", str(port)]
    return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]


@pytest.fixture(scope="session")
def s3_server():
    """Yield the endpoint URL of a running moto server; stopped (by its own pid) after the session."""
    port = _free_port()
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    proc = subprocess.Popen(_moto_server_command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1)  # noqa: S310 - loopback only
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("moto_server did not start") from None
            time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def s3_storage(s3_server, db):
    """Select object storage in the system settings, pointed at the moto server with a new bucket."""
    from rangex.core.storage import asset_storage
    from rangex.core.system import invalidate_settings_cache, system_settings_update

    bucket = f"rangex-test-{uuid.uuid4().hex[:12]}"
    host, port = s3_server.removeprefix("http://").split(":")
    system_settings_update(
        actor=None,
        storage_driver="minio",
        minio_endpoint=host,
        minio_port=int(port),
        minio_use_ssl=False,
        minio_access_key="testing",
        minio_secret_key="testing",
        minio_bucket=bucket,
    )
    invalidate_settings_cache()
    storage = asset_storage()
    storage.connection.meta.client.create_bucket(Bucket=bucket)
    return storage
