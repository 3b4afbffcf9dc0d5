"""The session page's extras (issue 17): the solver write-up after the end, solve counts, the topology."""

from __future__ import annotations

import uuid

import pytest

from apps.accounts.factories import UserFactory
from apps.environments import selectors, services
from apps.environments.factories import quiz_version
from apps.environments.models import EnvironmentSession
from apps.scenarios.models import ScenarioVersion

pytestmark = pytest.mark.django_db

SOLVER_WRITEUP = "The flag sat in **plain sight** all along."
ADMIN_WRITEUP = "ADMIN ONLY: grep the image layers."


def _api(user):
    from rest_framework.test import APIClient

    from apps.accounts.services import api_token_create

    _, raw = api_token_create(user=user, label="tests", expires_in_days=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_the_solver_writeup_is_sent_only_after_the_session_ended_and_the_admin_one_never(client):
    user = UserFactory()
    version = quiz_version(solver_writeup=SOLVER_WRITEUP, solution_writeup=ADMIN_WRITEUP)
    session = services.env_session_start(user=user, version=version)
    client.force_login(user)
    api = _api(user)

    live_page = client.get(f"/sessions/{session.pk}/").content.decode()
    live_api = api.get(f"/api/v1/sessions/{session.pk}/").json()
    assert "plain sight" not in live_page and 'id="solver-writeup"' not in live_page
    assert live_api["solver_writeup"] == ""
    assert "plain sight" not in str(live_api)

    services.env_session_stop(session=session, actor=user)
    stopping_page = client.get(f"/sessions/{session.pk}/").content.decode()
    assert "plain sight" not in stopping_page  # stopping is not ended yet
    services.env_session_teardown(session_id=session.pk)
    ended_page = client.get(f"/sessions/{session.pk}/").content.decode()
    ended_api = api.get(f"/api/v1/sessions/{session.pk}/").json()
    assert 'id="solver-writeup"' in ended_page and "<strong>plain sight</strong>" in ended_page
    assert ended_api["solver_writeup"] == SOLVER_WRITEUP
    for body in (live_page, ended_page, str(live_api), str(ended_api)):
        assert "ADMIN ONLY" not in body


def test_the_solver_writeup_is_version_content():
    assert "solver_writeup" in ScenarioVersion.CONTENT_FIELDS
    from apps.scenarios.bundles import VERSION_FIELDS

    assert "solver_writeup" in VERSION_FIELDS


def _solve(user, version, *answers):
    session = services.env_session_start(user=user, version=version)
    for question_id, answer in answers:
        services.env_session_submit_answer(session=session, actor=user, question_id=question_id, answer=answer)
    return session


def test_each_question_shows_its_practice_solve_count_and_first_solver_respecting_privacy(
    client, django_assert_max_num_queries
):
    version = quiz_version()
    hidden = UserFactory(display_name="Hidden Hanna")
    type(hidden).objects.filter(pk=hidden.pk).update(profile_public=False)
    hidden.refresh_from_db()
    bea = UserFactory(display_name="Bea First")
    _solve(hidden, version, ("q1", "RX{quiz}"))
    _solve(bea, version, ("q1", "RX{quiz}"), ("q2", "1"))
    # Another user's failed attempt and an event's lab count for nobody.
    _solve(UserFactory(), version, ("q1", "RX{nope}"))
    in_event = _solve(UserFactory(display_name="Event Eve"), version, ("q2", "1"))
    EnvironmentSession.objects.filter(pk=in_event.pk).update(event_id=uuid.uuid4())

    viewer = UserFactory()
    with django_assert_max_num_queries(3):
        stats = selectors.env_question_solve_stats(version=version, viewer=viewer)
    assert stats["q1"] == {"count": 2, "first": None, "first_private": True}
    assert stats["q2"] == {"count": 1, "first": "Bea First", "first_private": False}
    # The private solver sees their own name.
    assert selectors.env_question_solve_stats(version=version, viewer=hidden)["q1"]["first"] == "Hidden Hanna"

    mine = services.env_session_start(user=viewer, version=version)
    client.force_login(viewer)
    page = client.get(f"/sessions/{mine.pk}/").content.decode()
    assert "Solved by 2 users; first: " in page and "a private profile" in page
    assert "Solved by 1 user; first: <span data-first-solver>Bea First</span>" in page
    assert "Hidden Hanna" not in page and "Event Eve" not in page
