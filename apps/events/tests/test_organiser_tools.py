"""Organisers' tools (issue 25): disqualify and reinstate with a reason, told and audited; announcements;
the CSV with members and per-challenge columns, the printable results; the CTFtime feed; the event
form (invited teams by name, event badges, the late-registration warning); pause and hide actions."""

import csv
import io
import zoneinfo
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.factories import UserFactory, login_client
from apps.events import hooks, selectors, services
from apps.events.factories import make_event, quiz_version, team_of, version_of
from apps.events.models import Event, EventParticipation
from apps.teams.models import Team, TeamMember
from rangex.core.errors import Conflict, ValidationFailed
from rangex.core.models import AuditLog, Notification

pytestmark = pytest.mark.django_db


def _solve(event, user, question="q1", version=None):
    flag = {"q1": "RX{one}", "q2": "RX{two}"}[question]
    return services.event_submit_answer(
        event=event, user=user, version_id=(version or version_of(event)).pk, question_id=question, answer=flag
    )


def _team_event(**fields):
    event = make_event(format="team", allow_late_registration=True, **fields)
    red, blue = team_of(size=2, name="Red"), team_of(size=2, name="Blue")
    for team in (red, blue):
        services.event_register(event=event, user=team.leader, team=team)
    return event, red, blue


def test_disqualification_tells_the_team_and_reinstatement_puts_it_back():
    """Defect 12: disqualification was silent and final."""
    event, red, blue = _team_event()
    admin = event.created_by_user
    _solve(event, red.leader)
    _solve(event, blue.leader, "q2")
    red_row = EventParticipation.objects.get(event=event, team=red)
    with pytest.raises(ValidationFailed, match="reason"):
        services.participation_disqualify(participation=red_row, actor=admin, reason=" ")
    services.participation_disqualify(participation=red_row, actor=admin, reason="Shared flags with Blue")
    for member in TeamMember.objects.filter(team=red).select_related("user"):
        note = Notification.objects.get(user=member.user, title__contains="disqualified")
        assert "Shared flags with Blue" in note.body
    assert Team.objects.get(pk=red.pk).event_points == 0
    assert EventParticipation.objects.get(event=event, team=blue).rank == 1

    with pytest.raises(ValidationFailed, match="reason"):
        services.participation_reinstate(participation=red_row, actor=admin, reason="")
    back = services.participation_reinstate(participation=red_row, actor=admin, reason="Appeal upheld")
    assert not back.disqualified and back.rank == 1
    assert EventParticipation.objects.get(event=event, team=blue).rank == 2
    assert Team.objects.get(pk=red.pk).event_points == 100
    assert Notification.objects.filter(user=red.leader, title__contains="back in", body__contains="Appeal").exists()
    reinstated = AuditLog.objects.get(action_type="event.reinstate")
    assert reinstated.details["reason"] == "Appeal upheld"
    assert reinstated.details["disqualified_for"] == "Shared flags with Blue"
    with pytest.raises(Conflict, match="not disqualified"):
        services.participation_reinstate(participation=red_row, actor=admin, reason="again")


def test_the_participants_page_disqualifies_and_reinstates(admin_client_2fa):
    event, red, _blue = _team_event()
    row = EventParticipation.objects.get(event=event, team=red)
    url = reverse("admin:events_participants", args=[event.pk])
    page = admin_client_2fa.get(url).content.decode()
    assert "Red leader" in page and "Red member 1" in page
    admin_client_2fa.post(url, {"participation": row.pk, "action": "disqualify", "reason": "Bots"})
    row.refresh_from_db()
    assert row.disqualified and row.disqualified_reason == "Bots"
    admin_client_2fa.post(url, {"participation": row.pk, "action": "reinstate", "reason": "Humans after all"})
    row.refresh_from_db()
    assert not row.disqualified


def test_an_announcement_reaches_every_participant_and_stays_listed(client):
    event, red, blue = _team_event()
    admin = event.created_by_user
    with pytest.raises(ValidationFailed):
        services.event_announce(event=event, actor=admin, title="  ")
    services.event_announce(event=event, actor=admin, title="Hint for web", body="Look at **robots.txt**")
    members = TeamMember.objects.filter(team__in=[red, blue]).values_list("user", flat=True)
    notified = set(Notification.objects.filter(title__endswith="Hint for web").values_list("user", flat=True))
    assert notified == set(members)
    page = client.get(reverse("events:announcements", args=[event.pk])).content.decode()
    assert "Hint for web" in page and "<strong>robots.txt</strong>" in page
    assert client.get(reverse("events:detail", args=[event.pk])).content.decode().count("Hint for web") == 1
    api = client.get(reverse("api-event-announcements", args=[event.pk])).json()
    assert api[0]["title"] == "Hint for web"
    assert AuditLog.objects.filter(action_type="event.announce", target_id=str(event.pk)).exists()


def test_the_csv_has_members_and_a_column_per_challenge(admin_client_2fa):
    first, second = quiz_version(title="Web 100"), quiz_version(title="Pwn 200")
    event, red, blue = _team_event(versions=[first, second])
    _solve(event, red.leader, version=first)
    _solve(event, blue.leader, version=first)
    _solve(event, blue.leader, "q2", version=second)
    services.participation_disqualify(
        participation=EventParticipation.objects.get(event=event, team=red), actor=event.created_by_user, reason="x"
    )
    response = admin_client_2fa.get(reverse("admin:events_scoreboard_csv", args=[event.pk]))
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["participant"] for r in rows] == ["Blue", "Red"]
    assert rows[0]["rank"] == "1" and rows[0]["Web 100"] == "100" and rows[0]["Pwn 200"] == "50"
    assert "Blue leader <" in rows[0]["members"] and "Blue member 1 <" in rows[0]["members"]
    assert rows[1]["disqualified"] == "yes" and rows[1]["Web 100"] == "100" and rows[1]["Pwn 200"] == "0"

    results = admin_client_2fa.get(reverse("admin:events_results", args=[event.pk])).content.decode()
    assert "Web 100" in results and "Blue member 1" in results and "DQ" in results
    certificates = admin_client_2fa.get(reverse("admin:events_results", args=[event.pk]) + "?certificates=1")
    text = certificates.content.decode()
    assert text.count("Certificate of participation") == 2 and "#1" in text


def test_the_ctftime_feed_has_task_stats_per_team_and_a_last_accept_for_everyone(client):
    """Defect 11: no taskStats, and lastAccept null for a team without solves."""
    event, red, _blue = _team_event()
    _solve(event, red.leader)
    feed = client.get(reverse("events:scoreboard_json", args=[event.pk])).json()
    title = version_of(event).title
    assert feed["tasks"] == [f"{title}/q1", f"{title}/q2"]
    top, bottom = feed["standings"]
    assert top["team"] == "Red" and top["pos"] == 1 and top["score"] == 100
    solve_time = int(EventParticipation.objects.get(team=red).last_solve_at.timestamp())
    assert top["taskStats"] == {f"{title}/q1": {"points": 100, "time": solve_time}}
    assert top["lastAccept"] == solve_time
    assert bottom["team"] == "Blue" and bottom["taskStats"] == {} and bottom["lastAccept"] == 0
    for standing in feed["standings"]:
        assert set(standing) == {"pos", "team", "score", "taskStats", "lastAccept"}
        assert all(isinstance(standing[k], int) for k in ("pos", "score", "lastAccept"))


def _event_form(**overrides):
    data = {
        "name": "Form CTF",
        "description": "",
        "cover_image_url": "",
        "is_public": "on",
        "timezone": "Asia/Kuala_Lumpur",
        "start_date_0": "2030-01-10",
        "start_date_1": "09:00:00",
        "end_date_0": "2030-01-10",
        "end_date_1": "17:00:00",
        "freeze_at_0": "",
        "freeze_at_1": "",
        "format": "team",
        "max_participants": "",
        "max_team_size": "4",
        "registration_required": "on",
        "environment_mode": "own",
        "scoring_mode": "static",
        "dynamic_initial": "500",
        "dynamic_minimum": "100",
        "dynamic_decay": "10",
        "first_blood_bonus": "0",
        "scenarios-TOTAL_FORMS": "0",
        "scenarios-INITIAL_FORMS": "0",
        "scenarios-MIN_NUM_FORMS": "0",
        "scenarios-MAX_NUM_FORMS": "1000",
        "divisions-TOTAL_FORMS": "0",
        "divisions-INITIAL_FORMS": "0",
        "divisions-MIN_NUM_FORMS": "0",
        "divisions-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def test_the_event_form_picks_invited_teams_by_name_and_sets_up_the_event_badges(admin_client_2fa):
    invited = team_of(size=1, name="Invited Crew")
    data = _event_form(
        invited_teams=[str(invited.pk)], badge_first_blood="on", badge_top_n="3", badge_finisher="on",
        **{"divisions-TOTAL_FORMS": "1", "divisions-0-sort_order": "1", "divisions-0-name": "Students"},
    )  # fmt: skip
    response = admin_client_2fa.post(reverse("admin:events_event_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = Event.objects.get(name="Form CTF")
    assert event.participating_team_ids == [str(invited.pk)] and event.max_team_size == 4
    assert list(event.divisions.values_list("name", flat=True)) == ["Students"]
    assert hooks.event_badges_current.first(event=event) == {"first_blood": True, "top_n": 3, "finisher": True}
    page = admin_client_2fa.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()
    assert f'<option value="{invited.pk}" selected>Invited Crew</option>' in page

    data["badge_top_n"] = "1"
    data["badge_first_blood"] = ""
    data["divisions-TOTAL_FORMS"] = "0"
    admin_client_2fa.post(reverse("admin:events_event_change", args=[event.pk]), data)
    assert hooks.event_badges_current.first(event=event) == {"first_blood": False, "top_n": 1, "finisher": True}


def test_saving_a_started_event_without_late_registration_warns(admin_client_2fa):
    kl = zoneinfo.ZoneInfo("Asia/Kuala_Lumpur")
    start = timezone.localtime(timezone.now() - timedelta(hours=1), kl)
    end = start + timedelta(hours=5)
    data = _event_form(
        start_date_0=f"{start:%Y-%m-%d}", start_date_1=f"{start:%H:%M:%S}",
        end_date_0=f"{end:%Y-%m-%d}", end_date_1=f"{end:%H:%M:%S}",
    )  # fmt: skip
    response = admin_client_2fa.post(reverse("admin:events_event_add"), data, follow=True)
    assert "late registration is off: nobody can register" in response.content.decode()


def test_the_admin_pauses_and_hides_events_from_the_list(admin_client_2fa):
    event = make_event()
    url = reverse("admin:events_event_changelist")
    admin_client_2fa.post(url, {"action": "pause_events", "_selected_action": [str(event.pk)]})
    admin_client_2fa.post(url, {"action": "hide_events", "_selected_action": [str(event.pk)]})
    event.refresh_from_db()
    assert event.is_paused and not event.is_public
    assert login_client(UserFactory()).get(reverse("events:detail", args=[event.pk])).status_code == 404


def test_the_admin_board_during_a_freeze_is_live_and_says_so(admin_client_2fa, client):
    event, red, _blue = _team_event()
    event.freeze_at = timezone.now()
    event.save(update_fields=["freeze_at"])
    _solve(event, red.leader)
    services.scoreboard_publish(event_id=event.pk)
    admin_page = admin_client_2fa.get(reverse("events:scoreboard", args=[event.pk])).content.decode()
    assert "these are the live standings" in admin_page
    assert selectors.scoreboard(event=event, admin=True)["admin_live"]
    public = client.get(reverse("events:scoreboard", args=[event.pk])).content.decode()
    assert 'id="board-admin-live" class="alert alert-warning d-none"' in public
