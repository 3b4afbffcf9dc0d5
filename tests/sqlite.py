"""Run some of the suite again on SQLite, the embedded default's database, in a child pytest.

Shared by the tests that guard SQL of their own (a plain module, like tests/engine.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pytest_on_sqlite(tmp_path: Path, *targets: str) -> subprocess.CompletedProcess:
    """Run ``targets`` (test files or node ids) with a fresh SQLite database; return the finished process."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'embedded.db'}"}
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider", *targets],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
