"""Free-text answers: the scenario's creator or an admin accepts or rejects them; the solver hears (issue 17)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from apps.accounts.factories import AdminFactory, CreatorFactory, UserFactory, enable_2fa, login_client
from apps.accounts.services import api_token_create
from apps.environments import selectors, services
from apps.scenarios.factories import published_version
from rangex.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from rangex.core.models import AuditLog, Notification

pytestmark = pytest.mark.django_db

QUESTIONS = [
    {"id": "essay", "type": "free_text", "prompt": "How did you pivot?", "points": 30, "max_attempts": 2},
    {"id": "flag", "type": "flag", "prompt": "Flag?", "points": 10, "answer": "RX{demo}", "match": "exact"},
]


@pytest.fixture
def waiting():
    """A running session whose free-text answer waits for review; its scenario's creator."""
    creator = CreatorFactory()
    version = published_version(creator=creator, questions=QUESTIONS, hints=[], validation_mode="manual")
    solver = UserFactory()
    session = services.env_session_start(user=solver, version=version)
    session = services.env_session_mark_running(session=session, result=SimpleNamespace(machines={}, networks={}))
    services.env_session_submit_answer(session=session, actor=solver, question_id="flag", answer="RX{demo}")
    result = services.env_session_submit_answer(
        session=session, actor=solver, question_id="essay", answer="Through the jump host."
    )
    assert result["state"]["pending_review"]
    session.refresh_from_db()
    return session, creator


def test_the_creator_accepts_an_answer_the_score_and_completion_follow(waiting, django_capture_on_commit_callbacks):
    session, creator = waiting
    assert [item["answer"] for item in selectors.env_answers_pending_review(user=creator)] == ["Through the jump host."]

    with django_capture_on_commit_callbacks(execute=True):
        result = services.env_answer_review(
            session=session, question_id="essay", accepted=True, comment="Nice pivot.", actor=creator
        )

    session.refresh_from_db()
    assert result["state"]["correct"] and session.score == 40 and session.completed_at is not None
    assert session.answers["essay"]["review"]["comment"] == "Nice pivot."
    note = Notification.objects.get(user=session.user)
    assert "accepted" in note.title and note.body == "Nice pivot." and str(session.pk) in note.link
    assert AuditLog.objects.filter(action_type="session.answer_reviewed").count() == 1
    assert selectors.env_answers_pending_review(user=creator) == []
    with pytest.raises(Conflict):
        services.env_answer_review(session=session, question_id="essay", accepted=True, actor=creator)


def test_a_rejected_answer_scores_nothing_and_can_be_answered_again(waiting):
    session, _ = waiting
    admin = AdminFactory()
    services.env_answer_review(session=session, question_id="essay", accepted=False, comment="Too vague.", actor=admin)

    session.refresh_from_db()
    assert session.score == 10
    state = session.answers["essay"]
    assert not state["correct"] and not state["pending_review"] and state["remaining_attempts"] == 1
    assert "not accepted" in Notification.objects.get(user=session.user).title


def test_only_the_creator_or_an_admin_may_review(waiting):
    session, _ = waiting
    for outsider in (CreatorFactory(), UserFactory(), session.user):
        with pytest.raises(PermissionDenied):
            services.env_answer_review(session=session, question_id="essay", accepted=True, actor=outsider)
        with pytest.raises(NotFound):
            selectors.env_session_get_for_reviewer(user=outsider, pk=session.pk)
    assert selectors.env_answers_pending_review(user=CreatorFactory()) == []
    assert len(selectors.env_answers_pending_review(user=AdminFactory())) == 1


def test_review_input_is_checked(waiting):
    session, creator = waiting
    with pytest.raises(ValidationFailed) as exc:
        services.env_answer_review(
            session=session, question_id="essay", accepted=True, comment="x" * 2001, actor=creator
        )
    assert "comment" in exc.value.fields
    with pytest.raises(ValidationFailed):
        services.env_answer_review(session=session, question_id="essay", accepted=None, actor=creator)
    with pytest.raises(Conflict):
        services.env_answer_review(session=session, question_id="flag", accepted=True, actor=creator)
    with pytest.raises(NotFound):
        services.env_answer_review(session=session, question_id="nope", accepted=True, actor=creator)


def test_the_review_api_lists_and_decides_with_clear_errors(waiting):
    session, creator = waiting
    _, raw = api_token_create(user=creator, label="tests", expires_in_days=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    listed = client.get("/api/v1/sessions/reviews/").json()
    assert [(row["question_id"], row["answer"]) for row in listed] == [("essay", "Through the jump host.")]
    url = f"/api/v1/sessions/{session.pk}/reviews/"
    bad = client.post(url, {"question_id": "essay", "accepted": "maybe"}, format="json")
    assert bad.status_code == 400 and "accepted" in bad.json()["error"]["fields"]
    done = client.post(url, {"question_id": "essay", "accepted": True, "comment": "Good."}, format="json")
    assert done.status_code == 200 and done.json()["score"] == 40
    again = client.post(url, {"question_id": "essay", "accepted": True}, format="json")
    assert again.status_code == 409

    _, other = api_token_create(user=UserFactory(), label="tests", expires_in_days=None)
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION=f"Bearer {other}")
    assert stranger.post(url, {"question_id": "essay", "accepted": True}, format="json").status_code == 404
    assert stranger.get("/api/v1/sessions/reviews/").json() == []


def test_the_review_page_is_for_creators_and_admins(waiting):
    session, creator = waiting
    secret, _ = enable_2fa(creator)
    page = login_client(creator, secret=secret)
    content = page.get("/sessions/reviews/").content.decode()
    assert "Through the jump host." in content and "How did you pivot?" in content
    response = page.post(
        f"/sessions/{session.pk}/review/", {"question_id": "essay", "decision": "reject", "comment": "Say more."}
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.answers["essay"]["review"] == {**session.answers["essay"]["review"], "accepted": False}
    assert login_client(UserFactory()).get("/sessions/reviews/").status_code == 403
