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
