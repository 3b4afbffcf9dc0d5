import zoneinfo
from datetime import datetime

import pytest
from django.urls import reverse

from apps.accounts.factories import UserFactory
from apps.events import services
from apps.events.factories import make_event, quiz_version, version_of
from apps.events.models import Event, EventScenario
from rangex.core.models import AuditLog

pytestmark = pytest.mark.django_db

DIVISIONS_NONE = {
    "divisions-TOTAL_FORMS": "0",
    "divisions-INITIAL_FORMS": "0",
    "divisions-MIN_NUM_FORMS": "0",
    "divisions-MAX_NUM_FORMS": "1000",
}


def test_admin_creates_an_event_with_times_in_its_time_zone_and_ordered_challenges(admin_client_2fa):
    first, second = quiz_version(), quiz_version()
    data = {
        "name": "KL CTF",
        "description": "Hack",
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
        "max_participants": "50",
        "registration_required": "on",
        "environment_mode": "shared",
        "scoring_mode": "dynamic",
        "dynamic_initial": "500",
        "dynamic_minimum": "100",
        "dynamic_decay": "10",
        "first_blood_bonus": "10",
        "scenarios-TOTAL_FORMS": "2",
        "scenarios-INITIAL_FORMS": "0",
        "scenarios-MIN_NUM_FORMS": "0",
        "scenarios-MAX_NUM_FORMS": "1000",
        "scenarios-0-sort_order": "2",
        "scenarios-0-scenario_version": str(first.pk),
        "scenarios-1-sort_order": "1",
        "scenarios-1-scenario_version": str(second.pk),
        **DIVISIONS_NONE,
    }
    response = admin_client_2fa.post(reverse("admin:events_event_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    event = Event.objects.get(name="KL CTF")
    kl = zoneinfo.ZoneInfo("Asia/Kuala_Lumpur")
    assert event.start_date == datetime(2030, 1, 10, 9, 0, tzinfo=kl)
    assert event.first_blood_bonus == 10 and event.environment_mode == "shared"
    assert list(EventScenario.objects.filter(event=event).values_list("scenario_version", flat=True)) == [
        second.pk,
        first.pk,
    ]
    assert AuditLog.objects.filter(action_type="event.create", target_id=str(event.pk)).exists()
    added = AuditLog.objects.get(action_type="event.challenges", target_id=str(event.pk))
    assert {row["version"] for row in added.details["saved"]} == {str(first.pk), str(second.pk)}
    page = admin_client_2fa.get(reverse("admin:events_event_change", args=[event.pk]))
    assert "2030-01-10" in page.content.decode() and "09:00:00" in page.content.decode()

    # Removing a challenge on the change page is audited too.
    rows = list(EventScenario.objects.filter(event=event).order_by("sort_order"))
    change = {k: v for k, v in data.items() if not k.startswith("scenarios-")}
    change.update(
        {
            "scenarios-TOTAL_FORMS": "2",
            "scenarios-INITIAL_FORMS": "2",
            "scenarios-MIN_NUM_FORMS": "0",
            "scenarios-MAX_NUM_FORMS": "1000",
        }
    )
    for i, row in enumerate(rows):
        change.update(
            {
                f"scenarios-{i}-id": str(row.pk),
                f"scenarios-{i}-event": str(event.pk),
                f"scenarios-{i}-sort_order": str(row.sort_order),
                f"scenarios-{i}-scenario_version": str(row.scenario_version_id),
            }
        )
    change["scenarios-0-DELETE"] = "on"
    response = admin_client_2fa.post(reverse("admin:events_event_change", args=[event.pk]), change)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(EventScenario.objects.filter(event=event).values_list("scenario_version", flat=True)) == [first.pk]
    removed = AuditLog.objects.filter(action_type="event.challenges", target_id=str(event.pk)).order_by("-timestamp")
    assert removed.first().details["removed"] == [str(second.pk)]


def test_admin_refuses_an_end_before_the_start(admin_client_2fa):
    data = {
        "name": "Backwards",
        "timezone": "UTC",
        "start_date_0": "2030-01-10",
        "start_date_1": "09:00:00",
        "end_date_0": "2030-01-09",
        "end_date_1": "09:00:00",
        "format": "individual",
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
        **DIVISIONS_NONE,
    }
    response = admin_client_2fa.post(reverse("admin:events_event_add"), data)
    assert response.status_code in (200, 302)
    assert not Event.objects.filter(name="Backwards").exists()


def test_admin_csv_export_and_suspicions_page(admin_client_2fa):
    event = make_event(allow_late_registration=True)
    user = UserFactory(display_name="Csv Person")
    services.event_register(event=event, user=user)
    services.event_submit_answer(
        event=event, user=user, version_id=version_of(event).pk, question_id="q1", answer="RX{one}"
    )
    csv_text = admin_client_2fa.get(reverse("admin:events_scoreboard_csv", args=[event.pk])).content.decode()
    assert "Csv Person" in csv_text and f",1,Csv Person,user,,Csv Person <{user.email}>,100," in csv_text
    page = admin_client_2fa.get(reverse("admin:events_suspicions", args=[event.pk]))
    assert page.status_code == 200 and "No suspected sharing" in page.content.decode()
    participation = event.participations.get()
    admin_client_2fa.post(
        reverse("admin:events_suspicions", args=[event.pk]), {"participation": participation.pk, "reason": "Sharing"}
    )
    participation.refresh_from_db()
    assert participation.disqualified and participation.rank is None
    assert AuditLog.objects.filter(action_type="event.disqualify").exists()


def test_pages_render(client, solver_client, solver):
    event = make_event(allow_late_registration=True, description="**Welcome**")
    assert client.get(reverse("events:list")).status_code == 200
    detail = client.get(reverse("events:detail", args=[event.pk]))
    assert detail.status_code == 200 and "countdown" in detail.content.decode()
    response = solver_client.post(reverse("events:register", args=[event.pk]))
    assert response.status_code == 302
    board = solver_client.get(reverse("events:board", args=[event.pk]))
    assert board.status_code == 200 and "Flag one?" in board.content.decode()
    solver_client.post(
        reverse("events:answer", args=[event.pk, version_of(event).pk]), {"question_id": "q1", "answer": "RX{one}"}
    )
    scoreboard = client.get(reverse("events:scoreboard", args=[event.pk]))
    assert scoreboard.status_code == 200 and "score-chart" in scoreboard.content.decode()
    feed = client.get(reverse("events:scoreboard_json", args=[event.pk])).json()
    assert feed["standings"][0]["score"] == 100 and feed["standings"][0]["pos"] == 1
    assert len(feed["tasks"]) == 2


def test_api_register_twice_answer_and_scoreboard(solver_client, solver):
    event = make_event(allow_late_registration=True)
    url = reverse("api-event-register", args=[event.pk])
    assert solver_client.post(url, {}, content_type="application/json").status_code == 201
    again = solver_client.post(url, {}, content_type="application/json")
    assert again.status_code == 409 and "already registered" in again.json()["error"]["message"]
    answer = solver_client.post(
        reverse("api-event-answers", args=[event.pk]),
        {"scenario_version": str(version_of(event).pk), "question_id": "q1", "answer": "RX{one}"},
        content_type="application/json",
    )
    assert answer.status_code == 200 and answer.json()["points"] == 100
    bad = solver_client.post(
        reverse("api-event-answers", args=[event.pk]),
        {"scenario_version": str(version_of(event).pk), "question_id": "nope", "answer": "x"},
        content_type="application/json",
    )
    assert bad.status_code == 404
    board = solver_client.get(reverse("api-event-scoreboard", args=[event.pk])).json()
    assert board["rows"][0]["points"] == 100
    assert solver_client.get(reverse("api-events")).status_code == 200
    assert solver_client.get(reverse("api-event", args=[event.pk])).json()["challenges"]


def test_registering_with_a_malformed_team_id_is_refused_not_a_500(solver_client, solver):
    event = make_event(allow_late_registration=True)
    response = solver_client.post(reverse("events:register", args=[event.pk]), {"team": "not-a-team"})
    assert response.status_code == 302
    assert not event.participations.exists()


def test_admin_cannot_delete_board_rows_join_requests_or_team_badges():
    from django.contrib import admin as django_admin
    from django.test import RequestFactory

    from apps.accounts.factories import AdminFactory
    from apps.events.models import EventParticipation
    from apps.teams.models import TeamBadge, TeamJoinRequest

    request = RequestFactory().get("/admin/")
    request.user = AdminFactory()
    for model in (EventParticipation, TeamJoinRequest, TeamBadge):
        model_admin = django_admin.site._registry[model]
        assert not model_admin.has_delete_permission(request), model.__name__
        assert not model_admin.has_add_permission(request), model.__name__
