import contextlib
import random
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.factories import AdminFactory, UserFactory
from apps.events import selectors, services
from apps.events.factories import make_event, quiz_version, version_of
from apps.events.models import EventParticipation, EventSession, EventSolve
from apps.scenarios.grading import AlreadySolved
from apps.teams import services as team_services
from apps.teams.models import Team
from rangex.core.errors import Conflict, PermissionDenied

pytestmark = pytest.mark.django_db


def _register(event, n):
    users = [UserFactory() for _ in range(n)]
    event.allow_late_registration = True
    event.save(update_fields=["allow_late_registration"])
    for user in users:
        services.event_register(event=event, user=user)
    return users


def _answer(event, user, question="q1", answer=None, version=None):
    version = version or version_of(event)
    flag = {"q1": "RX{one}", "q2": "RX{two}"}[question] if answer is None else answer
    return services.event_submit_answer(
        event=event, user=user, version_id=version.pk, question_id=question, answer=flag
    )


def _ranks(event):
    return dict(EventParticipation.objects.filter(event=event).values_list("user_id", "rank"))


def test_static_solve_scores_and_ranks_in_one_go():
    event = make_event()
    alice, bob = _register(event, 2)
    result = _answer(event, alice)
    assert result["correct"] and result["points"] == 100 and result["rank"] == 1
    assert _ranks(event) == {alice.pk: 1, bob.pk: 2}
    wrong = _answer(event, bob, answer="RX{nope}")
    assert not wrong["correct"] and wrong["points"] == 0
    with pytest.raises(AlreadySolved):
        _answer(event, alice)


def test_unregistered_users_and_answers_outside_the_window_are_refused():
    event = make_event()
    (player,) = _register(event, 1)
    with pytest.raises(PermissionDenied, match="Register"):
        _answer(event, UserFactory())
    event.end_date = timezone.now() - timedelta(minutes=1)
    event.start_date = timezone.now() - timedelta(hours=2)
    event.save()
    with pytest.raises(Conflict, match="over"):
        _answer(event, player)
    assert not EventSolve.objects.exists()


def test_open_event_registers_on_first_answer():
    event = make_event(registration_required=False)
    user = UserFactory()
    assert _answer(event, user)["correct"]
    assert EventParticipation.objects.get(event=event).user == user


def test_rank_tie_break_goes_to_whoever_reached_the_total_first():
    event = make_event()
    first, second, third = _register(event, 3)
    _answer(event, first)
    _answer(event, second)
    assert _ranks(event) == {first.pk: 1, second.pk: 2, third.pk: 3}
    _answer(event, second, "q2")
    assert _ranks(event) == {second.pk: 1, first.pk: 2, third.pk: 3}


def test_incremental_ranks_match_a_full_recompute():
    versions = [quiz_version(), quiz_version(), quiz_version()]
    event = make_event(versions=versions)
    users = _register(event, 12)
    rng = random.Random(5)
    for _ in range(45):
        user, version, question = rng.choice(users), rng.choice(versions), rng.choice(["q1", "q2"])
        with contextlib.suppress(AlreadySolved):
            _answer(event, user, question, version=version)
        incremental = _ranks(event)
        services.rank_recompute(event=event)
        assert _ranks(event) == incremental
    # Scorers hold a place each; whoever is still on zero shares the one after them.
    totals = dict(EventParticipation.objects.filter(event=event).values_list("user_id", "total_points"))
    scorers = sum(1 for t in totals.values() if t > 0)
    assert sorted(r for u, r in incremental.items() if totals[u] > 0) == list(range(1, scorers + 1))
    assert {r for u, r in incremental.items() if totals[u] == 0} <= {scorers + 1}


def test_an_exact_tie_goes_to_whoever_registered_first_and_a_riser_counts_everyone_ahead():
    event = make_event()
    first, second, riser = _register(event, 3)
    at = timezone.now() - timedelta(minutes=5)
    EventParticipation.objects.filter(event=event, user__in=[first, second]).update(total_points=200, last_solve_at=at)
    services.rank_recompute(event=event)
    assert _ranks(event) == {first.pk: 1, second.pk: 2, riser.pk: 3}
    assert _answer(event, riser)["rank"] == 3
    # Reaching the same total later ranks behind; the incremental ranks agree with a recompute.
    lone = _register(event, 1)[0]
    assert _answer(event, lone)["rank"] == 4
    incremental = _ranks(event)
    services.rank_recompute(event=event)
    assert _ranks(event) == incremental == {first.pk: 1, second.pk: 2, riser.pk: 3, lone.pk: 4}


def test_a_riser_overtakes_an_exact_tie_in_board_order():
    event = make_event(versions=[quiz_version(), quiz_version()])
    users = _register(event, 4)
    at = timezone.now() - timedelta(minutes=5)
    # Three rows tied to the microsecond on 100 points; the last registered rises past the other two.
    EventParticipation.objects.filter(event=event, user__in=users[:3]).update(total_points=100, last_solve_at=at)
    services.rank_recompute(event=event)
    assert _ranks(event) == {users[0].pk: 1, users[1].pk: 2, users[2].pk: 3, users[3].pk: 4}
    assert _answer(event, users[2])["rank"] == 1
    incremental = _ranks(event)
    services.rank_recompute(event=event)
    assert _ranks(event) == incremental == {users[2].pk: 1, users[0].pk: 2, users[1].pk: 3, users[3].pk: 4}


def test_a_row_without_a_known_place_is_ranked_by_a_recompute():
    event = make_event()
    ahead, edited = _register(event, 2)
    _answer(event, ahead)
    # Points without a time, and no rank: only a hand edit makes such a row.
    EventParticipation.objects.filter(event=event, user=edited).update(total_points=50, last_solve_at=None, rank=None)
    assert _answer(event, edited)["rank"] == 1  # 150 points beats 100
    assert _ranks(event) == {edited.pk: 1, ahead.pk: 2}


def test_first_blood_bonus_goes_to_the_first_solver_only():
    event = make_event(first_blood_bonus=25)
    alice, bob = _register(event, 2)
    assert _answer(event, alice)["points"] == 125
    assert _answer(event, bob)["points"] == 100
    assert list(EventSolve.objects.filter(first_blood=True).values_list("user", flat=True)) == [alice.pk]


def test_dynamic_scoring_without_retroactive_keeps_earlier_points():
    event = make_event(scoring_mode="dynamic", dynamic_initial=500, dynamic_minimum=100, dynamic_decay=2)
    a, b, c = _register(event, 3)
    assert [_answer(event, u)["points"] for u in (a, b, c)] == [500, 400, 100]
    totals = dict(EventParticipation.objects.filter(event=event).values_list("user_id", "total_points"))
    assert totals == {a.pk: 500, b.pk: 400, c.pk: 100}


def test_dynamic_scoring_retroactive_lowers_every_solver_to_the_current_value():
    event = make_event(
        scoring_mode="dynamic", dynamic_initial=500, dynamic_minimum=100, dynamic_decay=2, dynamic_retroactive=True
    )
    a, b, c = _register(event, 3)
    for user in (a, b, c):
        _answer(event, user)
    totals = dict(EventParticipation.objects.filter(event=event).values_list("user_id", "total_points"))
    assert totals == {a.pk: 100, b.pk: 100, c.pk: 100}
    assert _ranks(event) == {a.pk: 1, b.pk: 2, c.pk: 3}
    assert sorted(EventSession.objects.filter(event=event).values_list("score", flat=True)) == [100, 100, 100]


def test_team_members_share_answers_and_score():
    event = make_event(format="team", allow_late_registration=True)
    leader, member = UserFactory(), UserFactory()
    team = team_services.team_create(actor=leader, name="Sharers", open_team=True)
    team_services.team_join(team=team, user=member)
    services.event_register(event=event, user=leader, team=team)
    assert _answer(event, member)["points"] == 100
    with pytest.raises(AlreadySolved, match="team"):
        _answer(event, leader)
    assert _answer(event, leader, "q2")["total_points"] == 150
    session = EventSession.objects.get(event=event)
    assert set(session.answers) == {"q1", "q2"} and session.score == 150 and session.progress_pct == 100
    assert session.status == "finished"
    participation = EventParticipation.objects.get(event=event)
    assert participation.total_points == 150 and participation.challenges_completed == 1
    assert Team.objects.get(pk=team.pk).event_points == 150
    # Disqualified, the team's standing loses what it scored in this event; the board row keeps it.
    services.participation_disqualify(participation=participation, actor=AdminFactory(), reason="Shared flags")
    assert Team.objects.get(pk=team.pk).event_points == 0
    assert EventParticipation.objects.get(pk=participation.pk).total_points == 150


def test_answers_hash_chain_verifies_and_shows_tampering():
    event = make_event()
    (user,) = _register(event, 1)
    _answer(event, user)
    _answer(event, user, "q2")
    session = EventSession.objects.get(event=event)
    assert len(session.answers_hash) == 64
    assert services.event_session_verify(event_session=session)
    answers = dict(session.answers)
    answers["q2"] = {**answers["q2"], "points": 5000}
    EventSession.objects.filter(pk=session.pk).update(answers=answers)
    session.refresh_from_db()
    assert not services.event_session_verify(event_session=session)


def test_freeze_shows_participants_the_frozen_board_and_admins_the_live_one():
    event = make_event()
    early, late, _idle = _register(event, 3)
    _answer(event, early)
    event.freeze_at = timezone.now()
    event.save(update_fields=["freeze_at"])
    _answer(event, late)
    _answer(event, late, "q2")
    public = selectors.scoreboard(event=event, admin=False)
    live = selectors.scoreboard(event=event, admin=True)
    assert public["frozen"] and [(r["points"], r["rank"]) for r in public["rows"]] == [(100, 1), (0, 2), (0, 2)]
    assert not live["frozen"] and [(r["points"], r["rank"]) for r in live["rows"]] == [(150, 1), (100, 2), (0, 3)]


def test_disqualification_removes_the_participant_from_the_board():
    event = make_event()
    cheat, honest = _register(event, 2)
    _answer(event, cheat)
    admin = event.created_by_user
    participation = EventParticipation.objects.get(event=event, user=cheat)
    services.participation_disqualify(participation=participation, actor=admin, reason="Shared flags")
    assert _ranks(event) == {cheat.pk: None, honest.pk: 1}
    assert [r["name"] for r in selectors.scoreboard(event=event, admin=True)["rows"]] == [honest.display_name]
    with pytest.raises(PermissionDenied):
        _answer(event, cheat, "q2")
    with pytest.raises(PermissionDenied):
        services.participation_disqualify(participation=participation, actor=honest, reason="x")


def test_scoreboard_query_count_does_not_grow_with_participants():
    def queries_for(n):
        event = make_event()
        users = _register(event, n)
        for user in users[: n // 2]:
            _answer(event, user)
        services.scoreboard_publish(event_id=event.pk)
        with CaptureQueriesContext(connection) as ctx:
            board = selectors.scoreboard(event=event, admin=False, limit=None)
            selectors.ctftime_feed(event=event)
        assert len(board["rows"]) == n
        return len(ctx.captured_queries)

    queries_for(2)  # Warm up the process-wide caches (content types and the like).
    assert queries_for(3) == queries_for(12) <= 4


def test_scoreboard_is_served_from_the_cache_between_solves():
    event = make_event()
    (user,) = _register(event, 1)
    selectors.scoreboard(event=event, admin=False)
    with CaptureQueriesContext(connection) as ctx:
        selectors.scoreboard(event=event, admin=False)
    assert len(ctx.captured_queries) == 0
    _answer(event, user)
    services.scoreboard_publish(event_id=event.pk)
    assert selectors.scoreboard(event=event, admin=False)["rows"][0]["points"] == 100
