"""Question-only scenarios (``requires_machines=False``): answered from their page without a lab."""

from __future__ import annotations

import uuid

import pytest

from apps.accounts.factories import UserFactory
from apps.environments import services
from apps.environments.factories import QUIZ_QUESTIONS, quiz_version
from apps.environments.models import SessionStatus
from rangex.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from rangex.core.models import AuditLog
from rangex.core.system import system_settings_update

pytestmark = pytest.mark.django_db


def test_start_creates_a_running_session_without_machines_and_queues_nothing(django_capture_on_commit_callbacks):
    user = UserFactory()
    version = quiz_version()
    with django_capture_on_commit_callbacks() as callbacks:
        session = services.env_session_start(user=user, version=version, client_ip="10.0.0.9")
    assert callbacks == []  # no provisioning task: nothing touches the runtime
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING
    assert session.started_at is not None and session.expires_at is None
    assert session.machines.count() == 0 and not session.has_lab
    assert session.client_ip == "10.0.0.9"
    assert AuditLog.objects.filter(action_type="session.start", target_id=str(session.pk)).count() == 1
    # Starting again returns the live session instead of a second one.
    assert services.env_session_start(user=user, version=version).pk == session.pk


def test_answers_hints_and_score_work_as_in_a_lab(django_capture_on_commit_callbacks):
    user = UserFactory()
    session = services.env_session_start(user=user, version=quiz_version())

    hint = services.env_session_take_hint(session=session, actor=user, hint_id="h1")
    assert hint["text"] == "It starts with RX." and hint["cost"] == 5

    wrong = services.env_session_submit_answer(session=session, actor=user, question_id="q1", answer="RX{nope}")
    assert not wrong["state"]["correct"] and wrong["state"]["remaining_attempts"] == 1 and wrong["score"] == 0

    right = services.env_session_submit_answer(session=session, actor=user, question_id="q1", answer="RX{quiz}")
    assert right["state"]["correct"] and right["score"] == 45  # 50 minus the hint's 5
    assert not right["completed"]

    with django_capture_on_commit_callbacks(execute=True):
        last = services.env_session_submit_answer(session=session, actor=user, question_id="q2", answer="1")
    assert last["score"] == 55 and last["completed"]
    session.refresh_from_db()
    assert session.score == 55 and session.completed_at is not None


def test_completion_fires_the_completion_hooks(django_capture_on_commit_callbacks):
    from apps.environments import hooks

    seen = []

    def receiver(*, session_id):
        seen.append(session_id)

    hooks.session_completed.register(receiver)
    try:
        user = UserFactory()
        session = services.env_session_start(user=user, version=quiz_version(questions=[dict(QUIZ_QUESTIONS[0])]))
        with django_capture_on_commit_callbacks(execute=True):
            services.env_session_submit_answer(session=session, actor=user, question_id="q1", answer="RX{quiz}")
    finally:
        hooks.session_completed.unregister(receiver)
    assert seen == [session.pk]


def test_bad_answers_and_hints_give_clear_errors():
    user, other = UserFactory(), UserFactory()
    session = services.env_session_start(user=user, version=quiz_version())
    with pytest.raises(NotFound, match="no question"):
        services.env_session_submit_answer(session=session, actor=user, question_id="q9", answer="x")
    with pytest.raises(ValidationFailed):
        services.env_session_submit_answer(session=session, actor=user, question_id="", answer="x")
    with pytest.raises(NotFound, match="no hint"):
        services.env_session_take_hint(session=session, actor=user, hint_id="h9")
    with pytest.raises(NotFound):
        services.env_session_submit_answer(session=session, actor=other, question_id="q1", answer="RX{quiz}")


def test_question_only_sessions_are_outside_the_lab_limits_and_have_no_timer():
    system_settings_update(actor=None, max_sessions_per_user=1, max_sessions_per_hour=1)
    user = UserFactory()
    first = services.env_session_start(user=user, version=quiz_version())
    second = services.env_session_start(user=user, version=quiz_version())
    assert first.pk != second.pk and second.status == SessionStatus.RUNNING
    with pytest.raises(InvalidTransition, match="no lab"):
        services.env_session_pause(session=first, actor=user)
    with pytest.raises(InvalidTransition, match="no lab"):
        services.env_session_extend(session=first, actor=user)


def test_stop_ends_without_a_runtime_call_and_start_again_makes_a_new_session(settings):
    # A runtime that fails every call: the teardown must not need it.
    settings.RANGEX_RUNTIMES = {settings.RANGEX_DEFAULT_RUNTIME: {"BACKEND": "apps.runtime.missing.NoSuchRuntime"}}
    user = UserFactory()
    version = quiz_version()
    session = services.env_session_start(user=user, version=version)
    services.env_session_submit_answer(session=session, actor=user, question_id="q2", answer="1")
    services.env_session_stop(session=session, actor=user)
    session = services.env_session_teardown(session_id=session.pk)
    assert session.status == SessionStatus.TERMINATED and session.score == 10
    again = services.env_session_start(user=user, version=version)
    # The new session starts with the learner's earlier standing (issue 26: progress per learner).
    assert again.pk != session.pk and again.status == SessionStatus.RUNNING and again.score == 10


def test_inside_an_event_a_question_only_version_still_has_no_session():
    with pytest.raises(Conflict, match="no machines"):
        services.env_session_start(user=UserFactory(), version=quiz_version(), event_id=uuid.uuid4())


def _api(user):
    from rest_framework.test import APIClient

    from apps.accounts.services import api_token_create

    _, raw = api_token_create(user=user, label="tests", expires_in_days=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_api_starts_answers_and_refuses_bad_input():
    user = UserFactory()
    version = quiz_version()
    client = _api(user)

    started = client.post("/api/v1/sessions/", {"scenario_version": str(version.pk)}, format="json")
    assert started.status_code == 202
    body = started.json()
    assert body["status"] == "running" and body["machines"] == [] and body["expires_at"] is None
    url = f"/api/v1/sessions/{body['id']}"

    hint = client.post(f"{url}/hints/", {"hint_id": "h1"}, format="json")
    assert hint.status_code == 200 and hint.json()["cost"] == 5
    right = client.post(f"{url}/answers/", {"question_id": "q1", "answer": "RX{quiz}"}, format="json")
    assert right.status_code == 200 and right.json()["score"] == 45

    missing = client.post(f"{url}/answers/", {"answer": "RX{quiz}"}, format="json")
    assert missing.status_code == 400 and "question_id" in missing.json()["error"]["fields"]
    unknown = client.post(f"{url}/answers/", {"question_id": "q9", "answer": "x"}, format="json")
    assert unknown.status_code == 404
    bad_choice = client.post(f"{url}/answers/", {"question_id": "q2", "answer": "seven"}, format="json")
    assert bad_choice.status_code == 400
    assert client.post(f"{url}/hints/", {"hint_id": "h9"}, format="json").status_code == 404
    assert client.post(f"{url}/pause/", {}, format="json").status_code == 409
    assert client.post(f"{url}/extend/", {}, format="json").status_code == 409
    bad_version = client.post("/api/v1/sessions/", {"scenario_version": "not-a-uuid"}, format="json")
    assert bad_version.status_code == 400
    assert _api(UserFactory()).post(f"{url}/answers/", {"question_id": "q1", "answer": "x"}).status_code == 404

    stopped = client.post(f"{url}/stop/", {}, format="json")
    assert stopped.status_code in (200, 202)
    late = client.post(f"{url}/answers/", {"question_id": "q2", "answer": "1"}, format="json")
    assert late.status_code == 409


def test_scenario_page_offers_answer_questions_and_the_session_page_has_no_lab(solver, solver_client):
    version = quiz_version()
    page = solver_client.get(f"/scenarios/{version.scenario.slug}/").content.decode()
    assert "Answer questions" in page and "Start lab" not in page

    response = solver_client.post(f"/sessions/start/{version.pk}/")
    assert response.status_code == 302
    session_page = solver_client.get(response["Location"]).content.decode()
    assert 'id="question-q1"' in session_page and 'id="question-q2"' in session_page
    assert "No lab to start" in session_page
    assert 'id="terminals"' not in session_page and "Time left" not in session_page and "Pause" not in session_page


def test_an_answer_on_the_page_returns_the_new_score_out_of_band(solver, solver_client):
    # The live socket also pushes the score; the answer's own response must not depend on it.
    session = services.env_session_start(user=solver, version=quiz_version())
    response = solver_client.post(
        f"/sessions/{session.pk}/answer/", {"question_id": "q1", "answer": "RX{quiz}"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert '<span id="score" hx-swap-oob="true">50</span>' in response.content.decode()
