"""Players' tools and the rules they meet (issue 25): team-only registration, team size, divisions,
withdrawing, hints and current values, solve counts and first solvers, releases, pauses, and the lab
limit inside events."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from apps.accounts.factories import AdminFactory, UserFactory, login_client
from apps.events import scoring, selectors, services
from apps.events.factories import lab_version, make_event, quiz_version, team_of, version_of
from apps.events.models import EventDivision, EventParticipation, EventSolve
from apps.teams import services as team_services
from apps.teams.models import TeamMember
from rangex.core.errors import Conflict, LimitExceeded, NotFound, PermissionDenied, ValidationFailed
from rangex.core.models import AuditLog

pytestmark = pytest.mark.django_db

HINTS = [{"id": "h1", "question_id": "q1", "text": "Try RX{one}.", "cost": 5}]


def _answer(event, user, question="q1", version=None, answer=None):
    flag = answer or {"q1": "RX{one}", "q2": "RX{two}"}[question]
    return services.event_submit_answer(
        event=event, user=user, version_id=(version or version_of(event)).pk, question_id=question, answer=flag
    )


def _players(event, n):
    users = [UserFactory(display_name=f"Player {i}") for i in range(n)]
    for user in users:
        services.event_register(event=event, user=user)
    return users


def test_dynamic_scoring_takes_the_hints_off_the_current_value():
    """Defect 7: a 5-point hint, then the full dynamic value (550 with first blood) was awarded."""
    version = quiz_version(hints=HINTS, hint_mode="penalty")
    event = make_event(
        versions=[version], scoring_mode="dynamic", dynamic_initial=500, dynamic_minimum=100, dynamic_decay=10,
        first_blood_bonus=50, allow_late_registration=True,
    )  # fmt: skip
    hinted, plain = _players(event, 2)
    hint = services.event_take_hint(event=event, user=hinted, version_id=version.pk, hint_id="h1")
    assert hint["text"] == "Try RX{one}." and hint["cost"] == 5
    assert _answer(event, hinted)["points"] == 500 - 5 + 50
    second = scoring.dynamic_value(initial=500, minimum=100, decay=10, solves_before=1)
    assert _answer(event, plain)["points"] == second
    assert AuditLog.objects.filter(action_type="event.hint", target_id=str(event.pk)).count() == 1


def test_the_challenge_list_shows_current_values_solves_first_solvers_and_hints():
    """Defect 7's labels, and the players' tools on each challenge: value, solves, first solver, hints."""
    version = quiz_version(hints=HINTS, hint_mode="penalty")
    event = make_event(
        versions=[version], scoring_mode="dynamic", dynamic_initial=500, dynamic_minimum=100, dynamic_decay=10,
        allow_late_registration=True,
    )  # fmt: skip
    first, viewer = _players(event, 2)
    _answer(event, first)
    client = login_client(viewer)
    page = client.get(reverse("events:board", args=[event.pk])).content.decode()
    value = scoring.dynamic_value(initial=500, minimum=100, decay=10, solves_before=1)
    assert f"{value} pts" in page and "100 pts" not in page
    assert "1 solve · first: Player 0" in page and "0 solves" in page
    assert "Hint 1 (costs 5 pts)" in page and "Try RX{one}." not in page
    response = client.post(reverse("events:hint", args=[event.pk, version.pk]), {"hint_id": "h1"}, follow=True)
    assert "Hint: Try RX{one}." in response.content.decode()
    assert "Try RX{one}." in client.get(reverse("events:board", args=[event.pk])).content.decode()


def test_team_members_share_the_hints_they_take():
    version = quiz_version(hints=HINTS, hint_mode="penalty")
    event = make_event(versions=[version], format="team", allow_late_registration=True)
    team = team_of(size=2)
    leader, member = (m.user for m in TeamMember.objects.filter(team=team).order_by("joined_at"))
    services.event_register(event=event, user=leader, team=team)
    services.event_take_hint(event=event, user=member, version_id=version.pk, hint_id="h1")
    assert _answer(event, leader)["points"] == 95


def test_a_player_opens_a_lab_per_challenge_inside_an_event():
    """Defect 3: the one-lab-per-user limit refused a member's second challenge inside an event."""
    from apps.environments import services as env_services
    from rangex.core.system import system_settings_update

    admin = AdminFactory()
    system_settings_update(actor=admin, max_sessions_per_user=1)
    first, second, practice = lab_version(), lab_version(), lab_version()
    event = make_event(versions=[first, second], allow_late_registration=True, admin=admin)
    (player,) = _players(event, 1)
    # Provisioning waits for a commit that never comes here: the sessions stay "starting", which is live.
    one = services.event_session_start(event=event, user=player, version_id=first.pk)
    two = services.event_session_start(event=event, user=player, version_id=second.pk)
    assert one.environment_session_id and two.environment_session_id
    assert one.environment_session_id != two.environment_session_id
    # Outside events the per-user limit still holds for practice labs.
    env_services.env_session_start(user=player, version=practice)
    with pytest.raises(LimitExceeded, match="running lab"):
        env_services.env_session_start(user=player, version=lab_version())


def test_withdrawing_is_for_the_player_or_the_team_leader_before_the_start():
    event = make_event(live=False, format="team")
    team = team_of(size=2)
    leader, member = (m.user for m in TeamMember.objects.filter(team=team).order_by("joined_at"))
    services.event_register(event=event, user=leader, team=team)
    with pytest.raises(PermissionDenied, match="leader"):
        services.event_withdraw(event=event, user=member)
    services.event_withdraw(event=event, user=leader)
    assert not EventParticipation.objects.filter(event=event).exists()
    assert AuditLog.objects.filter(action_type="event.withdraw", target_id=str(event.pk)).exists()
    assert member.notifications.filter(title__startswith="Withdrawn").exists()
    services.event_register(event=event, user=leader, team=team)

    started = make_event(allow_late_registration=True)
    (player,) = _players(started, 1)
    with pytest.raises(Conflict, match="has started"):
        services.event_withdraw(event=started, user=player)
    with pytest.raises(NotFound):
        services.event_withdraw(event=event, user=UserFactory())


def test_a_challenge_stays_hidden_until_its_release_time():
    now = timezone.now()
    later = quiz_version(title="Second wave")
    event = make_event(versions=[quiz_version(title="First wave"), later], allow_late_registration=True)
    event.scenarios.filter(scenario_version=later).update(release_at=now + timedelta(minutes=30))
    services.scoreboard_publish(event_id=event.pk)
    (player,) = _players(event, 1)
    client = login_client(player)
    page = client.get(reverse("events:board", args=[event.pk])).content.decode()
    assert "First wave" in page and "Second wave" not in page and "next challenge is released" in page
    with pytest.raises(Conflict, match="not released yet"):
        _answer(event, player, version=later)
    with pytest.raises(Conflict, match="not released yet"):
        services.event_take_hint(event=event, user=player, version_id=later.pk, hint_id="h1")
    assert all(not t.startswith("Second wave") for t in selectors.ctftime_feed(event=event)["tasks"])
    with time_machine.travel(now + timedelta(minutes=31)):
        assert "Second wave" in client.get(reverse("events:board", args=[event.pk])).content.decode()
        assert _answer(event, player, version=later)["correct"]
        assert any(t.startswith("Second wave") for t in selectors.ctftime_feed(event=event)["tasks"])


def test_a_paused_event_refuses_answers_hints_and_labs_until_it_resumes():
    version = quiz_version(hints=HINTS, hint_mode="penalty")
    event = make_event(versions=[version], allow_late_registration=True)
    (player,) = _players(event, 1)
    admin = event.created_by_user
    services.event_set_paused(event=event, actor=admin, paused=True)
    event.refresh_from_db()
    for attempt in (
        lambda: _answer(event, player),
        lambda: services.event_take_hint(event=event, user=player, version_id=version.pk, hint_id="h1"),
        lambda: services.event_session_start(event=event, user=player, version_id=version.pk),
    ):
        with pytest.raises(Conflict, match="paused"):
            attempt()
    assert not EventSolve.objects.filter(event=event).exists()
    services.event_set_paused(event=event, actor=admin, paused=False)
    event.refresh_from_db()
    assert _answer(event, player)["correct"]
    actions = set(AuditLog.objects.filter(target_id=str(event.pk)).values_list("action_type", flat=True))
    assert {"event.pause", "event.resume"} <= actions
    with pytest.raises(PermissionDenied):
        services.event_set_paused(event=event, actor=player, paused=True)


def test_a_hidden_event_is_gone_for_players_and_there_for_admins():
    event = make_event(allow_late_registration=True, name="Secret CTF")
    services.event_set_public(event=event, actor=event.created_by_user, public=False)
    player = login_client(UserFactory())
    assert player.get(reverse("events:detail", args=[event.pk])).status_code == 404
    assert "Secret CTF" not in player.get(reverse("events:list")).content.decode()
    assert AuditLog.objects.filter(action_type="event.hide", target_id=str(event.pk)).exists()


def test_team_size_of_the_event_holds_at_registration_and_when_members_join():
    event = make_event(live=False, format="team", max_team_size=2)
    big = team_of(size=3, name="Three")
    with pytest.raises(LimitExceeded, match="at most 2"):
        services.event_register(event=event, user=big.leader, team=big)
    pair = team_of(size=1, name="Pair")
    services.event_register(event=event, user=pair.leader, team=pair)
    team_services.team_join(team=pair, user=UserFactory())
    with pytest.raises(LimitExceeded, match=r"plays .* at most 2 members"):
        team_services.team_join(team=pair, user=UserFactory())
    assert TeamMember.objects.filter(team=pair).count() == 2


def test_someone_playing_an_event_cannot_join_another_team_in_it():
    event = make_event(live=False, format="team")
    red, blue = team_of(size=2, name="Red"), team_of(size=1, name="Blue")
    services.event_register(event=event, user=red.leader, team=red)
    services.event_register(event=event, user=blue.leader, team=blue)
    with pytest.raises(Conflict, match="already play"):
        team_services.team_join(team=blue, user=red.leader)


def test_divisions_are_chosen_at_registration_and_have_a_board_each():
    event = make_event(live=False)
    students = EventDivision.objects.create(event=event, name="Students", sort_order=1)
    pros = EventDivision.objects.create(event=event, name="Professionals", sort_order=2)
    student, pro, other_pro = UserFactory(display_name="S"), UserFactory(display_name="P"), UserFactory()
    with pytest.raises(ValidationFailed, match="Choose a division"):
        services.event_register(event=event, user=student)
    with pytest.raises(NotFound):
        services.event_register(event=event, user=student, division=999999)
    services.event_register(event=event, user=student, division=students.pk)
    services.event_register(event=event, user=pro, division=str(pros.pk))
    services.event_register(event=event, user=other_pro, division=pros)
    with time_machine.travel(event.start_date + timedelta(minutes=1)):
        _answer(event, pro)
        _answer(event, student, "q2")
        overall = selectors.scoreboard(event=event, admin=False)
        student_board = selectors.scoreboard(event=event, admin=False, division_id=students.pk)
        feed = selectors.ctftime_feed(event=event, division_id=students.pk)
    assert [(r["name"], r["rank"]) for r in overall["rows"][:2]] == [("P", 1), ("S", 2)]
    assert [(r["name"], r["rank"]) for r in student_board["rows"]] == [("S", 1)]
    assert [(s["team"], s["pos"]) for s in feed["standings"]] == [("S", 1)]


def test_the_event_page_never_offers_a_solo_button_in_a_team_event():
    """Defect 4: a member whose team had not registered was offered "Myself (solo)"."""
    event = make_event(live=False, format="team")
    team = team_of(size=2)
    leader, member = (m.user for m in TeamMember.objects.filter(team=team).order_by("joined_at"))
    member_page = login_client(member).get(reverse("events:detail", args=[event.pk])).content.decode()
    assert "your team's leader registers the team" in member_page
    assert 'id="register-form"' not in member_page and "solo" not in member_page.lower()
    leader_page = login_client(leader).get(reverse("events:detail", args=[event.pk])).content.decode()
    assert "Register the team" in leader_page and "Myself" not in leader_page


def test_a_closed_registration_says_why_on_the_page():
    event = make_event(live=True)
    page = login_client(UserFactory()).get(reverse("events:detail", args=[event.pk])).content.decode()
    assert "Registration closed when the event started" in page and 'id="register-form"' not in page
