"""The embedded default runs on SQLite and accrues cost every minute: the accrual and the cap run there too."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_costs_add_up_on_the_embedded_default_database(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'costs.db'}"}
    env.pop("PYTEST_XDIST_WORKER", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:xdist",
            "-p",
            "no:cacheprovider",
            "apps/ops/tests/test_costs.py",
            "apps/ops/tests/test_sessions_sweeps.py::test_accrual_charges_rate_times_hours_to_session_and_user",
            "apps/ops/tests/test_sessions_sweeps.py::test_soft_limit_warns_once_and_hard_limit_stops",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
