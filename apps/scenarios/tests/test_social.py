"""Ratings (one per user, changeable, average kept on the scenario) and favourites."""

import pytest

from apps.accounts.factories import AdminFactory
from apps.scenarios import services
from apps.scenarios.factories import published_version
from apps.scenarios.models import ScenarioRating, UserFavorite
from apps.scenarios.social import scenario_favorite_set, scenario_rate
from rangex.core.errors import PermissionDenied, ValidationFailed
from rangex.core.models import AuditLog

pytestmark = pytest.mark.django_db


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


def test_a_scenario_cannot_be_rated_before_it_was_played(solver, solver_client):
    """No receiver knows of a finished session of a scenario nobody played: the rating is refused clearly."""
    version = published_version(slug="unplayed")
    with pytest.raises(PermissionDenied) as exc:
        scenario_rate(user=solver, scenario=version.scenario, rating=5)
    assert "finished a session" in exc.value.message
    response = solver_client.post("/scenarios/unplayed/rate/", {"rating": "5"}, HTTP_HX_REQUEST="true")
    assert b"finished a session" in response.content
    api = solver_client.put("/api/v1/scenarios/unplayed/rating/", {"rating": 5}, content_type="application/json")
    assert api.status_code == 403 and "finished a session" in api.json()["error"]["message"]
    assert not ScenarioRating.objects.exists()


def test_the_scenario_page_asks_to_play_before_rating(solver_client):
    published_version(slug="play-first")
    content = solver_client.get("/scenarios/play-first/").content.decode()
    assert "Finish a session of this scenario to rate it." in content and "Rate 4 out of 5" not in content


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
