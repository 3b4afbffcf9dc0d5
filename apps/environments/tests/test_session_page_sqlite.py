"""The session page's solve counts read JSON and subqueries: run them on the embedded default (SQLite) too."""

from tests.sqlite import pytest_on_sqlite


def test_session_page_extras_on_the_embedded_default_database(tmp_path):
    result = pytest_on_sqlite(
        tmp_path,
        "apps/environments/tests/test_session_page_extras.py",
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
