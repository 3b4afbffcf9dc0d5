"""Badge pages and profiles: privacy on the pages and the API, and a query count that does not grow."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.accounts.factories import AdminFactory, UserFactory, login_client
from apps.badges import services as badge_services
from apps.paths.factories import completed_session_row
from apps.scenarios.factories import published_version

pytestmark = pytest.mark.django_db


def _queries(client, url) -> int:
    """Return how many queries a GET of ``url`` makes, leaving out the system-settings cache refill.

    The settings row is cached with a short lifetime, so whether a request reloads it depends on timing.
    """
    client.get(url)
    # A full query log (9000 entries, reached in long runs) would make the captured slice empty.
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    count = len([q for q in ctx.captured_queries if "`system_settings`" not in q["sql"]])
    assert count > 0
    return count


def _award(user, name="Starter"):
    v = published_version()
    badge = badge_services.badge_create(
        actor=AdminFactory(), name=name, requirements=[{"requirement_type": "complete_scenario", "scenario": v}]
    )
    completed_session_row(user=user, version=v)
    badge_services.badges_evaluate_for(user=user, trigger="test")
    return badge


def test_profile_privacy_on_pages_badge_page_and_api(solver, solver_client):
    hidden = UserFactory()
    hidden.profile_public = False
    hidden.save(update_fields=["profile_public"])
    shown = UserFactory()
    badge = _award(hidden)
    badge_services.badges_evaluate_for(user=shown, trigger="test")
    completed_session_row(user=shown, version=badge.requirements.get().scenario)
    badge_services.badges_evaluate_for(user=shown, trigger="test")

    assert solver_client.get(f"/badges/users/{hidden.pk}/").status_code == 404
    assert solver_client.get(f"/api/v1/users/{hidden.pk}/badges/").status_code == 404
    assert solver_client.get(f"/badges/users/{shown.pk}/").status_code == 200
    assert solver_client.get(f"/api/v1/users/{shown.pk}/badges/").json()[0]["badge"]["name"] == "Starter"
    page = solver_client.get(f"/badges/{badge.pk}/").content.decode()
    assert shown.public_name in page and hidden.public_name not in page
    # The owner always sees their own profile.
    own = login_client(hidden).get(f"/badges/users/{hidden.pk}/")
    assert own.status_code == 200 and "Starter" in own.content.decode()
    assert Client().get(f"/badges/users/{hidden.pk}/").status_code == 404


def test_profile_query_count_does_not_grow_with_badges(solver, solver_client):
    _award(solver, "One")
    url = f"/badges/users/{solver.pk}/"
    first_count = _queries(solver_client, url)
    assert first_count <= 10
    for n in range(4):
        _award(solver, f"More {n}")
    assert _queries(solver_client, url) == first_count
    response = solver_client.get(url)
    assert "More 3" in response.content.decode()
    assert "weekly-data" in response.content.decode()
