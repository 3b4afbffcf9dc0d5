"""Ratings come from players: a user rates a scenario once a session of it has finished (issue 17).

The rule spans two apps: scenarios refuses a rating unless a ``scenario_played`` receiver knows of a
finished session, and environments answers from the user's sessions. These tests play for real
(start, run, stop, tear down through the services) and then rate.
"""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.accounts.factories import UserFactory
from apps.accounts.services import api_token_create
from apps.environments import services
from apps.environments.factories import finished_session
from apps.scenarios.catalog import catalog_list
from apps.scenarios.factories import published_version
from apps.scenarios.models import ScenarioRating
from apps.scenarios.social import scenario_rate
from rangex.core.errors import PermissionDenied
from rangex.core.models import AuditLog

pytestmark = pytest.mark.django_db


def _player(version, user=None):
    user = user or UserFactory()
    finished_session(user=user, version=version)
    return user


def test_a_finished_session_lets_the_player_rate(solver):
    version = published_version()
    with pytest.raises(PermissionDenied):
        scenario_rate(user=solver, scenario=version.scenario, rating=4)
    _player(version, solver)

    assert scenario_rate(user=solver, scenario=version.scenario, rating=4).rating == 4


def test_a_live_session_is_not_enough_to_rate(solver):
    version = published_version()
    services.env_session_start(user=solver, version=version)

    with pytest.raises(PermissionDenied) as exc:
        scenario_rate(user=solver, scenario=version.scenario, rating=4)
    assert "finished a session" in exc.value.message
    assert not ScenarioRating.objects.exists()


def test_rating_creates_changes_and_recomputes_the_average(solver):
    version = published_version()
    scenario = version.scenario
    _player(version, solver)
    other = _player(version)
    scenario_rate(user=solver, scenario=scenario, rating=5)
    scenario_rate(user=other, scenario=scenario, rating=2)
    scenario.refresh_from_db()
    assert (scenario.average_rating, scenario.total_ratings) == (Decimal("3.50"), 2)
    scenario_rate(user=solver, scenario=scenario, rating=3)
    scenario.refresh_from_db()
    assert (scenario.average_rating, scenario.total_ratings) == (Decimal("2.50"), 2)
    assert ScenarioRating.objects.filter(user=solver, scenario=scenario).get().rating == 3
    assert AuditLog.objects.filter(action_type="scenario.rate", user=solver).count() == 2


def test_average_is_rounded_to_two_places():
    version = published_version()
    for value in (5, 4, 4):
        scenario_rate(user=_player(version), scenario=version.scenario, rating=value)
    version.scenario.refresh_from_db()
    assert version.scenario.average_rating == Decimal("4.33")


def test_rating_page_post_with_htmx_updates_the_average(solver, solver_client):
    version = published_version(slug="rate-me")
    _player(version, solver)
    page = solver_client.get("/scenarios/rate-me/").content.decode()
    assert "Rate 4 out of 5" in page and "Finish a session" not in page
    response = solver_client.post("/scenarios/rate-me/rate/", {"rating": "4"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    content = response.content.decode()
    assert '<strong id="rating-average">4.00</strong>' in content and 'id="my-rating">4<' in content
    version.scenario.refresh_from_db()
    assert version.scenario.total_ratings == 1


def test_rating_by_token_updates_the_average(solver):
    version = published_version(slug="api-rate")
    _player(version, solver)
    _, raw = api_token_create(user=solver, label="tests", expires_in_days=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.put("/api/v1/scenarios/api-rate/rating/", {"rating": 4}, format="json")
    assert response.status_code == 200
    assert response.json() == {"rating": 4, "average_rating": "4.00", "total_ratings": 1}
    changed = client.put("/api/v1/scenarios/api-rate/rating/", {"rating": 2}, format="json").json()
    assert changed["average_rating"] == "2.00" and changed["total_ratings"] == 1


def test_catalog_sorts_by_newest_rating_and_time(solver):
    first = published_version(slug="first", estimated_minutes=90)
    published_version(slug="second", estimated_minutes=15)
    third = published_version(slug="third", estimated_minutes=45)
    for version, ratings in ((first, (5, 4)), (third, (3,))):
        for value in ratings:
            scenario_rate(user=_player(version), scenario=version.scenario, rating=value)
    slugs = lambda sort: [v.scenario.slug for v in catalog_list(user=solver, sort=sort)]  # noqa: E731
    assert slugs("newest") == ["third", "second", "first"]
    assert slugs("rating") == ["first", "third", "second"]
    assert slugs("time") == ["second", "third", "first"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_ratings_keep_the_count_and_average_exact():
    version = published_version()
    scenario = version.scenario
    users = [_player(version) for _ in range(4)]
    errors = []
    barrier = threading.Barrier(len(users))

    def rate(user, value):
        try:
            barrier.wait(timeout=10)
            scenario_rate(user=user, scenario=scenario, rating=value)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=rate, args=(u, v)) for u, v in zip(users, (5, 4, 2, 1), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    scenario.refresh_from_db()
    assert (scenario.total_ratings, scenario.average_rating) == (4, Decimal("3.00"))
