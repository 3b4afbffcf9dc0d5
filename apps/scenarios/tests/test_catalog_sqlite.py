"""The embedded default runs on SQLite: the catalog's tag links must work there too."""

from tests.sqlite import pytest_on_sqlite


def test_tag_links_work_on_the_embedded_default_database(tmp_path):
    result = pytest_on_sqlite(
        tmp_path,
        "apps/scenarios/tests/test_catalog_tags.py",
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "4 passed" in result.stdout
