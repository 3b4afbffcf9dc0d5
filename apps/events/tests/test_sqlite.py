"""The embedded default runs on SQLite, and the scoring path has SQL of its own: play on SQLite too."""

from tests.sqlite import pytest_on_sqlite


def test_events_play_on_the_embedded_default_database(tmp_path):
    result = pytest_on_sqlite(
        tmp_path,
        "apps/events/tests/test_play.py",
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
