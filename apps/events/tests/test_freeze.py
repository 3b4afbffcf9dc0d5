"""Standings never leak during a freeze (issue 25, defect 8; issue 15, finding 5): answers, event pages,
team pages, the teams API, the feed show participants and the public the frozen
standings until the event ends; admins see the live ones, marked as such."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from apps.accounts.factories import AdminFactory, UserFactory, login_client
from apps.events import selectors, services
from apps.events.factories import make_event, team_of, version_of
from apps.events.models import EventParticipation

pytestmark = pytest.mark.django_db


def _answer(event, user, question="q1", answer=None):
    flag = answer or {"q1": "RX{one}", "q2": "RX{two}"}[question]
    return services.event_submit_answer(
        event=event, user=user, version_id=version_of(event).pk, question_id=question, answer=flag
    )


def _freeze_now(event):
    event.freeze_at = timezone.now()
    event.save(update_fields=["freeze_at"])
    services.scoreboard_publish(event_id=event.pk)


def test_a_wrong_answer_during_the_freeze_gives_the_frozen_rank_and_the_event_page_too():
    """Issue 15, finding 5: the wrong-answer response said "rank": 2 and the page "Rank 2" while the
    frozen board showed a tie."""
    event = make_event(allow_late_registration=True)
    leader, follower = UserFactory(display_name="Leader"), UserFactory(display_name="Follower")
    for user in (leader, follower):
        services.event_register(event=event, user=user)
    _freeze_now(event)
    _answer(event, leader)  # after the freeze: live ranks 1 and 2, frozen a tie on zero
    frozen = selectors.scoreboard(event=event, admin=False)
    assert [(r["name"], r["rank"], r["points"]) for r in frozen["rows"]] == [("Leader", 1, 0), ("Follower", 1, 0)]
    assert EventParticipation.objects.get(event=event, user=follower).rank == 2

    wrong = (
        login_client(follower)
        .post(
            reverse("api-event-answers", args=[event.pk]),
            {"scenario_version": str(version_of(event).pk), "question_id": "q1", "answer": "RX{nope}"},
            content_type="application/json",
        )
        .json()
    )
    assert wrong["correct"] is False and wrong["rank"] == 1 and wrong["total_points"] == 0
    page = login_client(follower).get(reverse("events:detail", args=[event.pk])).content.decode()
    assert "Rank 1, 0 points (as of the freeze)" in page and "Rank 2" not in page


def test_the_event_page_shows_a_participant_the_frozen_standing_and_the_admin_the_live_one():
    """Defect 8: participants' event pages said "Rank 1, 1750 points" while the board showed 800."""
    event = make_event(allow_late_registration=True)
    early, late = UserFactory(display_name="Early"), UserFactory(display_name="Late")
    for user in (early, late):
        services.event_register(event=event, user=user)
    _answer(event, early)
    _freeze_now(event)
    result = _answer(event, late)
    _answer(event, late, "q2")
    assert result["points"] == 100 and result["rank"] == 2 and result["total_points"] == 0
    late_page = login_client(late).get(reverse("events:detail", args=[event.pk])).content.decode()
    assert "Rank 2, 0 points (as of the freeze)" in late_page and "150 points" not in late_page
    admin = AdminFactory()
    services.event_register(event=event, user=admin)
    admin_page = login_client(admin).get(reverse("events:detail", args=[event.pk])).content.decode()
    assert "live, participants see the frozen board" in admin_page


def test_team_pages_and_the_teams_api_show_frozen_points_until_the_end(client):
    """Defect 8: public team pages showed live points during the freeze."""
    event = make_event(format="team", allow_late_registration=True)
    team = team_of(size=1, name="Frosty")
    services.event_register(event=event, user=team.leader, team=team)
    _answer(event, team.leader)
    _freeze_now(event)
    _answer(event, team.leader, "q2")
    page = client.get(reverse("teams:detail", args=[team.pk])).content.decode()
    assert "100 event points" in page and "150 event points" not in page and "(as of the scoreboard freeze)" in page
    api = {t["name"]: t["event_points"] for t in client.get(reverse("api-teams")).json()}
    assert api["Frosty"] == 100
    with time_machine.travel(event.end_date + timedelta(minutes=1)):
        assert "150 event points" in client.get(reverse("teams:detail", args=[team.pk])).content.decode()


def test_the_feed_and_the_public_board_stay_frozen_and_open_up_at_the_end(client):
    event = make_event(allow_late_registration=True)
    player = UserFactory(display_name="Quiet")
    services.event_register(event=event, user=player)
    _freeze_now(event)
    _answer(event, player)
    feed = client.get(reverse("events:scoreboard_json", args=[event.pk])).json()
    assert feed["standings"][0]["score"] == 0 and feed["standings"][0]["taskStats"] == {}
    api = client.get(reverse("api-event-scoreboard", args=[event.pk])).json()
    assert api["frozen"] and api["rows"][0]["points"] == 0 and not api["admin_live"]
    with time_machine.travel(event.end_date + timedelta(seconds=1)):
        assert client.get(reverse("events:scoreboard_json", args=[event.pk])).json()["standings"][0]["score"] == 100
        assert not selectors.scoreboard(event=event, admin=False)["frozen"]


def test_solves_during_the_freeze_leave_the_frozen_board_cached():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    event = make_event(allow_late_registration=True)
    players = [UserFactory() for _ in range(3)]
    for user in players:
        services.event_register(event=event, user=user)
    _freeze_now(event)
    selectors.scoreboard(event=event, admin=False, limit=None)
    _answer(event, players[0])
    services.scoreboard_publish(event_id=event.pk, frozen_too=False)
    with CaptureQueriesContext(connection) as ctx:
        selectors.scoreboard(event=event, admin=False, limit=None)
    assert len(ctx.captured_queries) == 0
