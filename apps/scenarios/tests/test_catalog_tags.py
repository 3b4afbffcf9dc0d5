"""Tag links: the catalog page and the API filter by tag on every database RangeX ships with.

``test_sqlite.py`` runs this module again on SQLite, the embedded default, where JSON containment
lookups do not exist.
"""

import pytest
from django.urls import reverse

from apps.scenarios.catalog import catalog_list
from apps.scenarios.factories import published_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def tagged():
    published_version(slug="pivot-point", title="Pivot Point", tags=["pivoting", "linux"])
    published_version(slug="web-only", title="Web Only", tags=["web", "pivoting-advanced"])
    published_version(slug="odd-tag", title="Odd Tag", tags=['quote"d', "50%_off", "Überblick"])


def test_tag_filter_matches_whole_tags_only(tagged, solver):
    assert [v.scenario.slug for v in catalog_list(user=solver, tags=["pivoting"])] == ["pivot-point"]
    assert [v.scenario.slug for v in catalog_list(user=solver, tags=["pivoting", "linux"])] == ["pivot-point"]
    assert [v.scenario.slug for v in catalog_list(user=solver, tags=["pivoting", "web"])] == []
    assert [v.scenario.slug for v in catalog_list(user=solver, tags=["pivot"])] == []


def test_tag_filter_keeps_quotes_wildcards_and_accents_literal(tagged, solver):
    for tag in ['quote"d', "50%_off", "Überblick"]:
        assert [v.scenario.slug for v in catalog_list(user=solver, tags=[tag])] == ["odd-tag"], tag
    assert list(catalog_list(user=solver, tags=["50%"])) == []


def test_tag_link_on_the_catalog_page_lists_the_tagged_scenarios(tagged, client):
    response = client.get(reverse("scenarios:catalog"), {"tag": "pivoting"})

    assert response.status_code == 200
    assert b"Pivot Point" in response.content
    assert b"Web Only" not in response.content


def test_api_filters_by_repeated_tags(tagged, client):
    response = client.get(reverse("api-catalog"), {"tag": ["pivoting", "linux"]})

    assert response.status_code == 200
    assert [row["slug"] for row in response.json()["results"]] == ["pivot-point"]
    assert client.get(reverse("api-catalog"), {"tag": "nothing-has-this"}).json()["results"] == []
