"""A free-text answer given in an event's lab waits for a reviewer; an accepted one reaches the event's board."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from apps.accounts.factories import CreatorFactory, UserFactory
from apps.environments import services as env_services
from apps.environments.models import EnvironmentSession
from apps.events import selectors, services
from apps.events.factories import make_event
from apps.events.models import EventParticipation, EventSolve
from apps.scenarios.factories import published_version

pytestmark = pytest.mark.django_db

QUESTIONS = [{"id": "essay", "type": "free_text", "prompt": "How did you pivot?", "points": 30, "max_attempts": 2}]


def _lab(event, user, version) -> EnvironmentSession:
    # Provisioning is queued on commit and never run here: the lab is marked running without containers.
    event_session = services.event_session_start(event=event, user=user, version_id=version.pk)
    lab = EnvironmentSession.objects.get(pk=event_session.environment_session_id)
    return env_services.env_session_mark_running(session=lab, result=SimpleNamespace(machines={}, networks={}))


@pytest.fixture
def waiting():
    creator = CreatorFactory()
    version = published_version(creator=creator, questions=QUESTIONS, hints=[], validation_mode="manual")
    event = make_event(versions=[version], allow_late_registration=True, first_blood_bonus=0)
    player = UserFactory(display_name="Player")
    services.event_register(event=event, user=player)
    lab = _lab(event, player, version)
    result = services.event_submit_answer(
        event=event, user=player, version_id=version.pk, question_id="essay", answer="Through the jump host."
    )
    assert not result["correct"] and result["points"] == 0
    lab.refresh_from_db()
    assert lab.answers["essay"]["pending_review"]
    return SimpleNamespace(creator=creator, version=version, event=event, player=player, lab=lab)


def test_an_accepted_answer_scores_on_the_event_board(waiting, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        env_services.env_answer_review(
            session=waiting.lab, question_id="essay", accepted=True, comment="Good.", actor=waiting.creator
        )
    participation = EventParticipation.objects.get(event=waiting.event, user=waiting.player)
    assert participation.total_points == 30 and participation.rank == 1
    solve = EventSolve.objects.get(event=waiting.event, question_id="essay")
    assert solve.points == 30 and solve.user == waiting.player
    board = selectors.scoreboard(event=waiting.event, admin=True)
    assert [(r["name"], r["points"]) for r in board["rows"]] == [("Player", 30)]

    # A repeated notice (a retried hook) does not score twice.
    services.event_lab_answer_accepted(session_id=waiting.lab.pk, question_id="essay", actor=waiting.creator)
    assert EventSolve.objects.filter(event=waiting.event).count() == 1


def test_a_rejected_answer_leaves_the_board_alone(waiting, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        env_services.env_answer_review(
            session=waiting.lab, question_id="essay", accepted=False, comment="Say more.", actor=waiting.creator
        )
    assert not EventSolve.objects.filter(event=waiting.event).exists()
    assert EventParticipation.objects.get(event=waiting.event, user=waiting.player).total_points == 0
