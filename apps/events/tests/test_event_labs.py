"""Event labs on the Docker engine (issue 25): an answer on the lab's page scores in the event (defect 1),
a shared flag names the member who typed it and the teams by name (defect 10), and the labs follow the
event: a warning before the end, a stop at the end (defect 13)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from apps.accounts.factories import login_client
from apps.environments.factories import STATIC_FLAG
from apps.environments.launch import session_flags
from apps.environments.models import EnvironmentSession, SessionStatus
from apps.events import selectors, services
from apps.events.factories import lab_version, make_event, team_of
from apps.events.models import EventParticipation, EventSolve
from apps.scenarios.grading import AlreadySolved
from apps.teams.models import TeamMember
from rangex.core.models import AuditLog, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(runtime):
    return lab_version()


def _members(team):
    return [m.user for m in TeamMember.objects.filter(team=team).order_by("joined_at", "id").select_related("user")]


def _open_lab(event, user, version, captured, cleanup) -> EnvironmentSession:
    with captured(execute=True):
        event_session = services.event_session_start(event=event, user=user, version_id=version.pk)
    lab = EnvironmentSession.objects.get(pk=event_session.environment_session_id)
    cleanup.append(lab.pk)
    assert lab.status == SessionStatus.RUNNING and lab.event_id == event.pk
    return lab


def test_an_answer_on_the_event_labs_page_scores_for_the_team(
    version, django_capture_on_commit_callbacks, cleanup_sessions
):
    """Defect 1: "Correct! You earned 5 points" on the lab page, the board unchanged, and a teammate
    then told "You have already solved this question", so the team could never score it."""
    event = make_event(versions=[version], format="team", allow_late_registration=True)
    team = team_of(size=2, name="Lab Rats")
    leader, member = _members(team)
    services.event_register(event=event, user=team.leader, team=team)
    lab = _open_lab(event, leader, version, django_capture_on_commit_callbacks, cleanup_sessions)

    response = login_client(leader).post(
        reverse("environments:answer", args=[lab.pk]), {"question_id": "q1", "answer": STATIC_FLAG}, follow=True
    )
    assert "Correct! 10 points." in response.content.decode()
    assert EventSolve.objects.filter(event=event, question_id="q1", user=leader).exists()
    board = selectors.scoreboard(event=event, admin=True)
    assert [(r["name"], r["points"]) for r in board["rows"]] == [("Lab Rats", 10)]
    with pytest.raises(AlreadySolved, match="Your team has"):
        services.event_submit_answer(
            event=event, user=member, version_id=version.pk, question_id="q1", answer=STATIC_FLAG
        )
    # A wrong answer on the lab page is the event's too: it says so and scores nothing.
    wrong = login_client(leader).post(
        reverse("api-session-answers", args=[lab.pk]),
        {"question_id": "q2", "answer": "RX{guess}"},
        content_type="application/json",
    )
    assert wrong.status_code == 200 and wrong.json()["state"]["correct"] is False
    assert EventParticipation.objects.get(event=event).total_points == 10


def test_a_shared_flag_names_the_member_who_typed_it_and_both_teams(
    version, django_capture_on_commit_callbacks, cleanup_sessions, admin_client_2fa
):
    """Defect 10: the report named the lab's owner instead of the member who submitted, and showed
    teams as UUIDs."""
    event = make_event(versions=[version], format="team", environment_mode="shared", allow_late_registration=True)
    red, blue = team_of(size=2, name="Red Team"), team_of(size=2, name="Blue Team")
    for team in (red, blue):
        services.event_register(event=event, user=team.leader, team=team)
    red_lab = _open_lab(event, red.leader, version, django_capture_on_commit_callbacks, cleanup_sessions)
    _open_lab(event, blue.leader, version, django_capture_on_commit_callbacks, cleanup_sessions)
    blue_member = _members(blue)[1]

    stolen = session_flags(red_lab)["q2"]
    result = services.event_submit_answer(
        event=event, user=blue_member, version_id=version.pk, question_id="q2", answer=stolen
    )
    assert not result["correct"]
    (row,) = selectors.suspicions_for_event(event=event)
    assert row["submitter"] == blue_member and row["owner"] == red.leader
    assert (row["submitter_team"], row["owner_team"]) == ("Blue Team", "Red Team")
    assert row["submitter_participation"] == EventParticipation.objects.get(event=event, team=blue)
    page = admin_client_2fa.get(reverse("admin:events_suspicions", args=[event.pk])).content.decode()
    assert "(team Blue Team)" in page and "(team Red Team)" in page and str(blue.pk) not in page
    assert "Disqualify Blue Team" in page


def test_event_labs_get_a_warning_before_the_end_and_stop_at_it(
    version, django_capture_on_commit_callbacks, cleanup_sessions, runtime
):
    """Defect 13: event labs kept running after the event ended."""
    event = make_event(versions=[version], allow_late_registration=True)
    player = team_of(size=1).leader
    services.event_register(event=event, user=player)
    lab = _open_lab(event, player, version, django_capture_on_commit_callbacks, cleanup_sessions)
    assert runtime.status(str(lab.pk))

    with time_machine.travel(event.end_date - timedelta(minutes=5)):
        assert services.event_labs_follow() == {"warned": 1, "stopped": 0}
        assert services.event_labs_follow() == {"warned": 0, "stopped": 0}
    warning = Notification.objects.get(user=player, title="Your event lab stops soon")
    assert "ends in about 5 minute(s)" in warning.body
    lab.refresh_from_db()
    assert lab.status == SessionStatus.RUNNING

    with time_machine.travel(event.end_date + timedelta(seconds=30)), django_capture_on_commit_callbacks(execute=True):
        assert services.event_labs_follow() == {"warned": 0, "stopped": 1}
    lab.refresh_from_db()
    assert lab.status in (SessionStatus.STOPPING, SessionStatus.TERMINATED)
    assert "ended" in lab.reason_stopped
    assert not runtime.status(str(lab.pk))
    assert AuditLog.objects.filter(action_type="event.labs_stopped", target_id=str(event.pk)).exists()
