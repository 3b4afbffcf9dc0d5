"""deploy/run.sh's banner and the links in emails follow RANGEX_BIND (deploy/lib.sh's site_address)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

ROOT = settings.BASE_DIR


def _address(tmp_path: Path, env: dict[str, str], dot_env: str | None = None) -> str:
    (tmp_path / "deploy").mkdir(exist_ok=True)
    shutil.copy(Path(ROOT) / "deploy" / "lib.sh", tmp_path / "deploy" / "lib.sh")
    if dot_env is not None:
        (tmp_path / ".env").write_text(dot_env)
    result = subprocess.run(
        ["bash", "-c", f"source {tmp_path}/deploy/lib.sh; site_address; echo exported=$SITE_URL"],
        check=True,
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], **env},
        timeout=30,
    )
    shown, exported = result.stdout.strip().splitlines()
    assert exported == f"exported={shown}"
    return shown


@pytest.mark.parametrize(
    ("bind", "url"),
    [
        (None, "http://127.0.0.1:8000"),
        ("127.0.0.1:8123", "http://127.0.0.1:8123"),
        ("0.0.0.0:9000", "http://127.0.0.1:9000"),
        ("8080", "http://127.0.0.1:8080"),
        ("lab.example.org:8443", "http://lab.example.org:8443"),
    ],
)
def test_the_site_address_follows_rangex_bind(tmp_path, bind, url):
    assert _address(tmp_path, {"RANGEX_BIND": bind} if bind else {}) == url


def test_a_configured_site_url_wins(tmp_path):
    assert _address(tmp_path, {"RANGEX_BIND": "0.0.0.0:9000", "SITE_URL": "https://r.example"}) == "https://r.example"
    assert _address(tmp_path, {"RANGEX_BIND": "0.0.0.0:9000"}, "SITE_URL=https://from.env\n") == "https://from.env"


def test_run_sh_announces_the_address_it_serves():
    text = (Path(ROOT) / "deploy" / "run.sh").read_text()
    assert "Open http://127.0.0.1:8000" not in text and "Open $SITE_URL" in text
