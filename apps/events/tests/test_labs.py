"""Event play with real labs on the Docker engine: event sessions start environment sessions, a team
shares one lab in shared mode, and a flag from another participant's lab is recorded against both."""

from __future__ import annotations

import pytest

from apps.accounts.factories import AdminFactory, UserFactory
from apps.environments.factories import STATIC_FLAG, pivot_version
from apps.environments.launch import session_flags
from apps.environments.models import EnvironmentSession, SessionStatus
from apps.events import selectors, services
from apps.events.factories import make_event
from apps.events.models import EventParticipation, EventSession
from apps.teams import services as team_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(runtime):
    return pivot_version()


def _start(event, user, version, captured, cleanup):
    with captured(execute=True):
        event_session = services.event_session_start(event=event, user=user, version_id=version.pk)
    env = EnvironmentSession.objects.get(pk=event_session.environment_session_id)
    cleanup.append(env.pk)
    return event_session, env


def test_flag_from_another_participants_lab_is_recorded_against_both(
    version, django_capture_on_commit_callbacks, cleanup_sessions
):
    event = make_event(versions=[version], allow_late_registration=True)
    owner, copier = UserFactory(display_name="Owner"), UserFactory(display_name="Copier")
    for user in (owner, copier):
        services.event_register(event=event, user=user)
    _, owner_env = _start(event, owner, version, django_capture_on_commit_callbacks, cleanup_sessions)
    _start(event, copier, version, django_capture_on_commit_callbacks, cleanup_sessions)
    assert owner_env.status == SessionStatus.RUNNING and owner_env.event_id == event.pk

    stolen = session_flags(owner_env)["q2"]
    result = services.event_submit_answer(
        event=event, user=copier, version_id=version.pk, question_id="q2", answer=stolen
    )
    assert not result["correct"]
    rows = selectors.suspicions_for_event(event=event)
    assert [(r["submitter"], r["owner"]) for r in rows] == [(copier, owner)]

    assert services.event_submit_answer(
        event=event, user=owner, version_id=version.pk, question_id="q2", answer=stolen
    )["correct"]
    participation = EventParticipation.objects.get(event=event, user=copier)
    services.participation_disqualify(participation=participation, actor=AdminFactory(), reason="Flag sharing")
    board = selectors.scoreboard(event=event, admin=True)
    assert [r["name"] for r in board["rows"]] == ["Owner"]


def test_team_in_shared_mode_plays_one_lab(version, django_capture_on_commit_callbacks, cleanup_sessions):
    event = make_event(versions=[version], format="team", environment_mode="shared", allow_late_registration=True)
    leader, member = UserFactory(), UserFactory()
    team = team_services.team_create(actor=leader, name="Shared Lab", open_team=True)
    team_services.team_join(team=team, user=member)
    services.event_register(event=event, user=leader, team=team)
    first, env = _start(event, leader, version, django_capture_on_commit_callbacks, cleanup_sessions)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.event_session_start(event=event, user=member, version_id=version.pk)
    assert second.pk == first.pk and second.environment_session_id == env.pk
    assert env.team_id == team.pk
    result = services.event_submit_answer(
        event=event, user=member, version_id=version.pk, question_id="q1", answer=STATIC_FLAG
    )
    assert result["correct"]
    session = EventSession.objects.get(pk=first.pk)
    assert set(session.answers) == {"q1"} and services.event_session_verify(event_session=session)
    # Every member may open the shared lab (its page and terminals); nobody else may.
    from apps.environments.selectors import env_session_get_for_user
    from rangex.core.errors import NotFound

    assert env_session_get_for_user(user=member, pk=env.pk) == env
    with pytest.raises(NotFound):
        env_session_get_for_user(user=UserFactory(), pk=env.pk)


def test_a_practice_lab_of_the_same_challenge_is_named_instead_of_reused(version):
    from apps.environments import services as env_services
    from rangex.core.errors import Conflict

    event = make_event(versions=[version], allow_late_registration=True)
    player = UserFactory()
    services.event_register(event=event, user=player)
    practice = env_services.env_session_start(user=player, version=version)  # never provisioned here
    with pytest.raises(Conflict, match="outside this event"):
        services.event_session_start(event=event, user=player, version_id=version.pk)
    assert not EventSession.objects.filter(participation__event=event).exists()
    assert list(EnvironmentSession.objects.filter(user=player)) == [practice]
