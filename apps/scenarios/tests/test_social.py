"""Ratings (one per user, changeable, average kept on the scenario) and favourites."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from apps.accounts.factories import AdminFactory, UserFactory
from apps.scenarios import services
from apps.scenarios.factories import published_version
from apps.scenarios.models import ScenarioRating, UserFavorite
from apps.scenarios.social import scenario_favorite_set, scenario_rate
from rangex.core.errors import PermissionDenied, ValidationFailed
from rangex.core.models import AuditLog

pytestmark = pytest.mark.django_db


def test_rating_creates_changes_and_recomputes_the_average(solver):
    scenario = published_version().scenario
    other = UserFactory()
    scenario_rate(user=solver, scenario=scenario, rating=5)
    scenario_rate(user=other, scenario=scenario, rating=2)
    scenario.refresh_from_db()
    assert (scenario.average_rating, scenario.total_ratings) == (Decimal("3.50"), 2)
    scenario_rate(user=solver, scenario=scenario, rating=3)
    scenario.refresh_from_db()
    assert (scenario.average_rating, scenario.total_ratings) == (Decimal("2.50"), 2)
    assert ScenarioRating.objects.filter(user=solver, scenario=scenario).get().rating == 3
    assert AuditLog.objects.filter(action_type="scenario.rate", user=solver).count() == 2


def test_average_is_rounded_to_two_places(solver):
    scenario = published_version().scenario
    for value, user in zip((5, 4, 4), (solver, UserFactory(), UserFactory()), strict=True):
        scenario_rate(user=user, scenario=scenario, rating=value)
    scenario.refresh_from_db()
    assert scenario.average_rating == Decimal("4.33")


@pytest.mark.parametrize("bad", [0, 6, "five", None, 3.5, True, ""])
def test_rating_out_of_range_is_refused_with_a_clear_message(solver, bad):
    scenario = published_version().scenario
    with pytest.raises(ValidationFailed) as exc:
        scenario_rate(user=solver, scenario=scenario, rating=bad)
    assert "1 to 5" in exc.value.message and "rating" in exc.value.fields
    assert not ScenarioRating.objects.exists()


def test_creators_cannot_rate_their_own_scenario():
    version = published_version()
    with pytest.raises(PermissionDenied):
        scenario_rate(user=version.scenario.created_by_user, scenario=version.scenario, rating=5)


def test_unpublished_scenarios_cannot_be_rated(solver):
    version = published_version()
    services.scenario_version_archive(version=version, actor=AdminFactory())
    scenario = version.scenario
    scenario.refresh_from_db()
    with pytest.raises(ValidationFailed):
        scenario_rate(user=solver, scenario=scenario, rating=4)


def test_favourite_toggle_is_idempotent(solver):
    scenario = published_version().scenario
    assert scenario_favorite_set(user=solver, scenario=scenario, on=True) is True
    scenario_favorite_set(user=solver, scenario=scenario, on=True)
    assert UserFavorite.objects.filter(user=solver).count() == 1
    scenario_favorite_set(user=solver, scenario=scenario, on=False)
    scenario_favorite_set(user=solver, scenario=scenario, on=False)
    assert not UserFavorite.objects.exists()
    assert AuditLog.objects.filter(action_type__in=["scenario.favorite", "scenario.unfavorite"]).count() == 2


def test_rating_page_post_with_htmx_updates_the_average(solver_client):
    version = published_version(slug="rate-me")
    response = solver_client.post("/scenarios/rate-me/rate/", {"rating": "4"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    content = response.content.decode()
    assert '<strong id="rating-average">4.00</strong>' in content and 'id="my-rating">4<' in content
    version.scenario.refresh_from_db()
    assert version.scenario.total_ratings == 1


def test_rating_page_post_out_of_range_shows_the_message(solver_client):
    published_version(slug="rate-bad")
    response = solver_client.post("/scenarios/rate-bad/rate/", {"rating": "9"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b'role="alert">A rating is a whole number from 1 to 5.' in response.content
    plain = solver_client.post("/scenarios/rate-bad/rate/", {"rating": "9"})
    assert plain.status_code == 400 and b"1 to 5" in plain.content


def test_anonymous_cannot_rate_or_favourite(client):
    published_version(slug="anon")
    for url in ("/scenarios/anon/rate/", "/scenarios/anon/favorite/"):
        response = client.post(url, {"rating": "5", "on": "1"})
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not ScenarioRating.objects.exists() and not UserFavorite.objects.exists()


def test_favourite_page_toggle_with_htmx(solver_client, solver):
    published_version(slug="fav")
    on = solver_client.post("/scenarios/fav/favorite/", {"on": "1"}, HTTP_HX_REQUEST="true")
    assert on.status_code == 200 and b"Remove from favourites" in on.content
    assert UserFavorite.objects.filter(user=solver).exists()
    off = solver_client.post("/scenarios/fav/favorite/", {"on": "0"})
    assert off.status_code == 302
    assert not UserFavorite.objects.filter(user=solver).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_ratings_keep_the_count_and_average_exact():
    scenario = published_version().scenario
    users = [UserFactory() for _ in range(4)]
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
