"""The learner's home, completed marks on catalog, scenario and badge pages, and "Next in path"."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.factories import AdminFactory, login_client
from apps.badges import services as badge_services
from apps.environments import services as env_services
from apps.environments.factories import quiz_version
from apps.paths.factories import career_path

pytestmark = pytest.mark.django_db


def _solve_all(user, version, django_capture_on_commit_callbacks):
    session = env_services.env_session_start(user=user, version=version)
    with django_capture_on_commit_callbacks(execute=True):
        env_services.env_session_submit_answer(session=session, actor=user, question_id="q1", answer="RX{quiz}")
        env_services.env_session_submit_answer(session=session, actor=user, question_id="q2", answer="1")
    return session


def test_signed_out_home_is_the_marketing_page():
    page = Client().get("/").content.decode()
    assert "Create an account" in page and 'id="continue"' not in page


def test_home_resumes_the_running_lab_and_names_the_next_path_item(solver, solver_client):
    first, second = quiz_version(title="First Steps"), quiz_version(title="Second Steps")
    career_path(versions=[first, second], title="Beginner path")
    session = env_services.env_session_start(user=solver, version=first)
    env_services.env_session_submit_answer(session=session, actor=solver, question_id="q1", answer="RX{quiz}")
    page = solver_client.get("/").content.decode()
    assert "Resume the lab" in page and f'href="/sessions/{session.pk}/"' in page
    assert "Beginner path" in page and "0 of 2 completed" in page
    assert 'id="next-path-item">Next in path: <a href="/scenarios/' in page and "First Steps</a>" in page
    assert '<dd class="col-5 mb-1" id="points">50</dd>' in page
    assert '<dd class="col-5 mb-0" id="streak">1 day</dd>' in page


def test_a_finished_lab_offers_the_next_path_item_and_pages_mark_it_completed(
    solver, solver_client, django_capture_on_commit_callbacks
):
    first, second = quiz_version(title="First Steps"), quiz_version(title="Second Steps")
    career_path(versions=[first, second], title="Beginner path")
    badge = badge_services.badge_create(
        actor=AdminFactory(), name="First finisher", description="Well done.",
        requirements=[{"requirement_type": "complete_scenario", "scenario": first}],
    )  # fmt: skip
    session = _solve_all(solver, first, django_capture_on_commit_callbacks)

    lab = solver_client.get(f"/sessions/{session.pk}/").content.decode()
    assert 'id="next-steps"' in lab and "Next in Beginner path:" in lab and "Second Steps</a>" in lab

    catalog = solver_client.get("/scenarios/").content.decode()
    card = catalog.split(f'data-scenario="{first.scenario.slug}"')[1].split("</article>")[0]
    assert 'data-testid="completed"' in card
    other = catalog.split(f'data-scenario="{second.scenario.slug}"')[1].split("</article>")[0]
    assert 'data-testid="completed"' not in other
    detail = solver_client.get(f"/scenarios/{first.scenario.slug}/").content.decode()
    assert 'data-testid="completed"' in detail

    badges = solver_client.get("/badges/").content.decode()
    assert "You hold 1 of 1." in badges and 'data-testid="earned"' in badges
    assert 'data-testid="earned"' not in login_client(AdminFactory()).get("/badges/").content.decode()
    home = solver_client.get("/").content.decode()
    assert f'href="/badges/{badge.pk}/">First finisher</a>' in home
    assert "Second Steps</a>" in home.split('id="next-path-item"')[1]
