from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.factories import UserFactory
from apps.events import services
from apps.events.factories import make_event
from apps.events.models import EventParticipation, EventRegistration
from apps.teams import services as team_services
from rangex.core.errors import Conflict, LimitExceeded, PermissionDenied, ValidationFailed
from rangex.core.models import AuditLog

pytestmark = pytest.mark.django_db


def _team(leader, *members, name=None):
    team = team_services.team_create(actor=leader, name=name or f"Team of {leader.email}", open_team=True)
    for member in members:
        team_services.team_join(team=team, user=member)
    return team


def test_solo_registration_creates_a_board_row_and_refuses_twice():
    event = make_event(live=False)
    user = UserFactory()
    participation = services.event_register(event=event, user=user)
    assert participation.rank == 1 and participation.participant_type == "user"
    assert AuditLog.objects.filter(action_type="event.register").exists()
    with pytest.raises(Conflict, match="already registered"):
        services.event_register(event=event, user=user)
    assert EventRegistration.objects.count() == 1


def test_registration_after_start_is_refused_unless_late_registration_is_allowed():
    started = make_event(live=True)
    with pytest.raises(Conflict, match="closed when the event started"):
        services.event_register(event=started, user=UserFactory())
    late = make_event(live=True, allow_late_registration=True)
    services.event_register(event=late, user=UserFactory())
    ended = make_event(live=False)
    ended.start_date = timezone.now() - timedelta(days=2)
    ended.end_date = timezone.now() - timedelta(days=1)
    ended.save()
    with pytest.raises(Conflict, match="ended"):
        services.event_register(event=ended, user=UserFactory())
    assert EventParticipation.objects.filter(event__in=[started, ended]).count() == 0


def test_max_participants_is_enforced():
    event = make_event(live=False, max_participants=1)
    services.event_register(event=event, user=UserFactory())
    with pytest.raises(LimitExceeded):
        services.event_register(event=event, user=UserFactory())


def test_team_registration_by_leader_only_and_for_invited_teams():
    event = make_event(live=False, format="team")
    leader, member = UserFactory(), UserFactory()
    team = _team(leader, member)
    with pytest.raises(PermissionDenied):
        services.event_register(event=event, user=member, team=team)
    participation = services.event_register(event=event, user=leader, team=team)
    assert participation.team == team and participation.participant_type == "team"
    with pytest.raises(Conflict):
        services.event_register(event=event, user=leader, team=team)

    invited_only = make_event(live=False, format="team", participating_team_ids=[str(team.pk)])
    outsider_leader = UserFactory()
    outsider = _team(outsider_leader, name="Outsiders")
    with pytest.raises(PermissionDenied, match="invitation"):
        services.event_register(event=invited_only, user=outsider_leader, team=outsider)
    services.event_register(event=invited_only, user=leader, team=team)


def test_team_event_refuses_solo_registration_so_a_member_never_blocks_the_team():
    """Defect 4 (issue 25): a solo row in a team event showed on the team board, the feed and the CSV,
    and kept the member's team from registering."""
    event = make_event(live=False, format="team")
    leader, member = UserFactory(), UserFactory()
    team = _team(leader, member)
    with pytest.raises(ValidationFailed, match="team event"):
        services.event_register(event=event, user=member)
    assert not EventParticipation.objects.filter(event=event, user=member).exists()
    services.event_register(event=event, user=leader, team=team)
    assert list(EventParticipation.objects.filter(event=event).values_list("team", flat=True)) == [team.pk]


def test_individual_event_refuses_teams():
    event = make_event(live=False)
    leader = UserFactory()
    with pytest.raises(ValidationFailed):
        services.event_register(event=event, user=leader, team=_team(leader))
