"""Event requirements read the events app: first blood at solve time, top N once the event has ended."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.accounts.factories import AdminFactory, UserFactory
from apps.badges import services as badge_services
from apps.badges.models import UserBadge
from apps.events import services as event_services
from apps.events.factories import make_event, version_of
from rangex.core.models import AuditLog

pytestmark = pytest.mark.django_db


def _badge(admin, requirement_type, event, **fields):
    return badge_services.badge_create(
        actor=admin,
        name=f"{requirement_type} {event.pk}",
        requirements=[{"requirement_type": requirement_type, "event_id": event.pk, **fields}],
    )


def test_first_blood_and_top_n_badges(django_capture_on_commit_callbacks):
    admin = AdminFactory()
    event = make_event(admin=admin, registration_required=False)
    first_blood = _badge(admin, "event_first_blood", event)
    winner = _badge(admin, "event_top_n", event, count=1)
    fast, slow = UserFactory(), UserFactory()
    version = version_of(event)
    with django_capture_on_commit_callbacks(execute=True):
        event_services.event_submit_answer(
            event=event, user=fast, version_id=version.pk, question_id="q1", answer="RX{one}"
        )
        event_services.event_submit_answer(
            event=event, user=slow, version_id=version.pk, question_id="q1", answer="RX{one}"
        )
    assert UserBadge.objects.filter(user=fast, badge=first_blood).exists()
    assert not UserBadge.objects.filter(user=slow, badge=first_blood).exists()
    # Top N is decided only once the event has ended.
    assert event_services.events_award_finished() == 0
    with time_machine.travel(event.end_date + timedelta(minutes=30)):
        assert event_services.events_award_finished() >= 1
        assert event_services.events_award_finished() == 0
    assert UserBadge.objects.filter(user=fast, badge=winner).exists()
    assert not UserBadge.objects.filter(user=slow, badge=winner).exists()
    assert timezone.now() < event.end_date


def test_a_winning_team_earns_the_team_badge_once(django_capture_on_commit_callbacks):
    from apps.teams import services as team_services
    from apps.teams.models import TeamBadge

    admin = AdminFactory()
    event = make_event(admin=admin, format="team", allow_late_registration=True)
    winner = _badge(admin, "event_top_n", event, count=1)
    leader, member = UserFactory(), UserFactory()
    team = team_services.team_create(actor=leader, name="Blue Team", open_team=True)
    team_services.team_join(team=team, user=member)
    event_services.event_register(event=event, user=leader, team=team)
    version = version_of(event)
    with django_capture_on_commit_callbacks(execute=True):
        event_services.event_submit_answer(
            event=event, user=member, version_id=version.pk, question_id="q1", answer="RX{one}"
        )
    with time_machine.travel(event.end_date + timedelta(minutes=5)):
        event_services.events_award_finished()
        event_services.events_award_finished()
    assert TeamBadge.objects.filter(team=team, badge=winner).count() == 1
    assert UserBadge.objects.filter(user=leader, badge=winner).exists()


def _two_teams(admin):
    from apps.events.factories import team_of

    event = make_event(admin=admin, format="team", allow_late_registration=True)
    red, blue = team_of(size=2, name="Red"), team_of(size=2, name="Blue")
    for team in (red, blue):
        event_services.event_register(event=event, user=team.leader, team=team)
    return event, red, blue


def test_disqualification_moves_the_winner_badge_and_reruns_make_no_second_winner(django_capture_on_commit_callbacks):
    """Defect 9 (issue 25): badges survived disqualification, and re-running the badge task made a second winner."""
    from apps.events.models import EventParticipation
    from apps.teams.models import TeamBadge, TeamMember

    admin = AdminFactory()
    event, red, blue = _two_teams(admin)
    winner = _badge(admin, "event_top_n", event, count=1)
    version = version_of(event)
    event_services.event_submit_answer(event=event, user=red.leader, version_id=version.pk, question_id="q1",
                                       answer="RX{one}")  # fmt: skip
    event_services.event_submit_answer(event=event, user=blue.leader, version_id=version.pk, question_id="q2",
                                       answer="RX{two}")  # fmt: skip
    red_users = set(TeamMember.objects.filter(team=red).values_list("user", flat=True))
    blue_users = set(TeamMember.objects.filter(team=blue).values_list("user", flat=True))

    def holders():
        return set(UserBadge.objects.filter(badge=winner).values_list("user", flat=True)), set(
            TeamBadge.objects.filter(badge=winner).values_list("team", flat=True)
        )

    with time_machine.travel(event.end_date + timedelta(minutes=5)):
        event_services.events_award_finished()
        assert holders() == (red_users, {red.pk})
        red_row = EventParticipation.objects.get(event=event, team=red)
        with django_capture_on_commit_callbacks(execute=True):
            event_services.participation_disqualify(participation=red_row, actor=admin, reason="Flag sharing")
        assert holders() == (blue_users, {blue.pk})
        event_services.events_award_finished()
        event_services.events_award_finished()
        assert holders() == (blue_users, {blue.pk})
        with django_capture_on_commit_callbacks(execute=True):
            event_services.participation_reinstate(participation=red_row, actor=admin, reason="Appeal upheld")
        assert holders() == (red_users, {red.pk})
    assert AuditLog.objects.filter(action_type="badge.revoke").count() == 4
    assert AuditLog.objects.filter(action_type="team.badge_revoke").count() == 2


def test_nobody_wins_top_n_on_zero_points_and_late_joiners_win_nothing():
    from apps.events.factories import team_of
    from apps.teams import services as team_services

    admin = AdminFactory()
    event = make_event(admin=admin, allow_late_registration=True)
    winner = _badge(admin, "event_top_n", event, count=1)
    idle = UserFactory()
    event_services.event_register(event=event, user=idle)
    team_event = make_event(admin=admin, format="team", allow_late_registration=True)
    team_winner = _badge(admin, "event_top_n", team_event, count=1)
    team = team_of(size=1)
    event_services.event_register(event=team_event, user=team.leader, team=team)
    event_services.event_submit_answer(
        event=team_event, user=team.leader, version_id=version_of(team_event).pk, question_id="q1", answer="RX{one}"
    )
    latecomer = UserFactory()
    with time_machine.travel(team_event.end_date + timedelta(minutes=5)):
        team_services.team_join(team=team, user=latecomer)
        event_services.events_award_finished()
        event_services.events_award_finished()
    assert not UserBadge.objects.filter(badge=winner).exists()
    assert set(UserBadge.objects.filter(badge=team_winner).values_list("user", flat=True)) == {team.leader_id}


def test_a_finisher_badge_goes_to_whoever_solved_every_challenge():
    admin = AdminFactory()
    event = make_event(admin=admin, allow_late_registration=True)
    finisher = _badge(admin, "event_finisher", event)
    done, half = UserFactory(), UserFactory()
    for user in (done, half):
        event_services.event_register(event=event, user=user)
    version = version_of(event)
    for user, questions in ((done, ["q1", "q2"]), (half, ["q1"])):
        for question in questions:
            event_services.event_submit_answer(event=event, user=user, version_id=version.pk, question_id=question,
                                               answer={"q1": "RX{one}", "q2": "RX{two}"}[question])  # fmt: skip
    with time_machine.travel(event.end_date + timedelta(minutes=5)):
        event_services.events_award_finished()
    assert set(UserBadge.objects.filter(badge=finisher).values_list("user", flat=True)) == {done.pk}


def test_first_blood_during_the_freeze_is_awarded_when_the_event_ends(django_capture_on_commit_callbacks):
    """A first-blood badge shows on a public profile: during a freeze it would tell who solved what."""
    from apps.badges.factories import badge

    event = make_event(allow_late_registration=True)
    first_blood = badge(requirements=[{"requirement_type": "event_first_blood", "event_id": event.pk}])
    player = UserFactory()
    event_services.event_register(event=event, user=player)
    event.freeze_at = timezone.now()
    event.save(update_fields=["freeze_at"])
    with django_capture_on_commit_callbacks(execute=True):
        event_services.event_submit_answer(
            event=event, user=player, version_id=version_of(event).pk, question_id="q1", answer="RX{one}"
        )
    assert not UserBadge.objects.filter(badge=first_blood).exists()
    with time_machine.travel(event.end_date + timedelta(minutes=1)):
        event_services.events_award_finished()
    assert UserBadge.objects.filter(badge=first_blood, user=player).exists()
