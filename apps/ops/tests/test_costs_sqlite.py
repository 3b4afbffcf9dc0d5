"""The embedded default runs on SQLite and accrues cost every minute: the accrual and the cap run there too."""

from tests.sqlite import pytest_on_sqlite


def test_costs_add_up_on_the_embedded_default_database(tmp_path):
    result = pytest_on_sqlite(
        tmp_path,
        "apps/ops/tests/test_costs.py",
        "apps/ops/tests/test_sessions_sweeps.py::test_accrual_charges_rate_times_hours_to_session_and_user",
        "apps/ops/tests/test_sessions_sweeps.py::test_soft_limit_warns_once_and_hard_limit_stops",
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
