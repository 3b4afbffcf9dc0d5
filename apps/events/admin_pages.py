"""The event admin's own pages: participants (disqualify, reinstate), announcements, suspected flag
sharing, printable results and the CSV export. Thin: each POST calls one service."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext

from apps.events import results, selectors, services
from apps.events.models import EventParticipation
from rangex.core.errors import ApplicationError
from rangex.core.selectors import get_one


def urls(model_admin) -> list:
    site = model_admin.admin_site

    def view(func):
        return site.admin_view(lambda request, pk: func(model_admin, request, pk))

    return [
        path("<uuid:pk>/participants/", view(participants_view), name="events_participants"),
        path("<uuid:pk>/announcements/", view(announcements_view), name="events_announcements"),
        path("<uuid:pk>/suspicions/", view(suspicions_view), name="events_suspicions"),
        path("<uuid:pk>/results/", view(results_view), name="events_results"),
        path("<uuid:pk>/scoreboard.csv", view(csv_view), name="events_scoreboard_csv"),
        path("<uuid:pk>/prewarm/", view(prewarm_view), name="events_prewarm"),
    ]


def _context(model_admin, request, event, title: str) -> dict:
    return {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "event": event,
        "opts": model_admin.model._meta,
    }


def _discipline(request, event) -> None:
    """Disqualify or reinstate the participant named in the POST, with the reason given."""
    participation = get_one(
        EventParticipation.objects.filter(event=event).select_related("event"),
        gettext("Choose a participant."),
        pk=request.POST.get("participation"),
    )
    reason = request.POST.get("reason", "")
    if request.POST.get("action") == "reinstate":
        services.participation_reinstate(participation=participation, actor=request.user, reason=reason)
        messages.success(request, gettext("%(participant)s is reinstated.") % {"participant": participation})
    else:
        services.participation_disqualify(participation=participation, actor=request.user, reason=reason)
        messages.success(
            request, gettext("%(participant)s is disqualified; they were told why.") % {"participant": participation}
        )


def participants_view(model_admin, request, pk):
    event = selectors.event_get_for_user(user=request.user, pk=pk)
    if request.method == "POST":
        try:
            _discipline(request, event)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect(reverse("admin:events_participants", args=[event.pk]))
    context = {
        **_context(model_admin, request, event, gettext("Participants: %(event)s") % {"event": event.name}),
        "rows": results.results_rows(event=event),
        "live_note": event.is_frozen(),
    }
    return TemplateResponse(request, "admin/events/participants.html", context)


def announcements_view(model_admin, request, pk):
    event = selectors.event_get_for_user(user=request.user, pk=pk)
    if request.method == "POST":
        try:
            services.event_announce(
                event=event, actor=request.user, title=request.POST.get("title", ""), body=request.POST.get("body", "")
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, gettext("Announced to every participant."))
        return redirect(reverse("admin:events_announcements", args=[event.pk]))
    context = {
        **_context(model_admin, request, event, gettext("Announcements: %(event)s") % {"event": event.name}),
        "announcements": selectors.event_announcements(event=event),
    }
    return TemplateResponse(request, "admin/events/announcements.html", context)


def suspicions_view(model_admin, request, pk):
    event = selectors.event_get_for_user(user=request.user, pk=pk)
    if request.method == "POST":
        try:
            _discipline(request, event)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect(reverse("admin:events_suspicions", args=[event.pk]))
    context = {
        **_context(model_admin, request, event, gettext("Suspected flag sharing: %(event)s") % {"event": event.name}),
        "rows": selectors.suspicions_for_event(event=event),
        "participations": EventParticipation.objects.filter(event=event, disqualified=False).select_related(
            "user", "team"
        ),
    }
    return TemplateResponse(request, "admin/events/suspicions.html", context)


def results_view(model_admin, request, pk):
    event = selectors.event_get_for_user(user=request.user, pk=pk)
    rows = results.results_rows(event=event)
    context = {
        "event": event,
        "challenges": results.results_challenges(event=event),
        "rows": rows,
        "ranked": [r for r in rows if not r["disqualified"]],
        "certificates": request.GET.get("certificates") == "1",
        "final": event.phase() == "past",
    }
    return TemplateResponse(request, "admin/events/results.html", context)


def csv_view(model_admin, request, pk):
    return csv_response([selectors.event_get_for_user(user=request.user, pk=pk)])


def csv_response(events) -> HttpResponse:
    """The results of ``events`` as CSV: one row per participant, with its members and a column per challenge."""
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="scoreboard.csv"'
    writer = csv.writer(response)
    for index, event in enumerate(events):
        challenges = results.results_challenges(event=event)
        if index:
            writer.writerow([])
        writer.writerow(
            [
                "event",
                "rank",
                "participant",
                "type",
                "division",
                "members",
                "points",
                "challenges_completed",
                f"last_solve_at ({event.timezone})",
                "disqualified",
                "reason",
                *[c.scenario_version.title for c in challenges],
            ]
        )
        for row in results.results_rows(event=event):
            writer.writerow(
                [
                    event.name,
                    row["rank"] or "",
                    row["name"],
                    row["type"],
                    row["division"],
                    "; ".join(f"{u.display_name or ''} <{u.email}>".strip() for u in row["members"]),
                    row["points"],
                    row["completed"],
                    f"{event.local(row['last_solve_at']):%Y-%m-%d %H:%M:%S}" if row["last_solve_at"] else "",
                    "yes" if row["disqualified"] else "",
                    row["reason"],
                    *row["cells"],
                ]
            )
    return response


def prewarm_view(model_admin, request, pk):
    """Pre-warm for start: show the plan (labs per challenge, window, hourly cost), then make the pool windows."""
    event = selectors.event_get_for_user(user=request.user, pk=pk)
    count = None
    lines = None
    if request.method == "POST":
        raw = (request.POST.get("count") or "").strip()
        try:
            count = int(raw) if raw else None
            lines = services.event_prewarm(event=event, actor=request.user, count=count)
        except ValueError:
            messages.error(request, gettext("Enter the number of labs as a whole number, or leave it empty."))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            done = sum(1 for line in lines if line.ok)
            (messages.success if done == len(lines) else messages.warning)(
                request,
                gettext("Pre-warmed %(done)d of %(n)d lab challenge(s) for the start.")
                % {"done": done, "n": len(lines)},
            )
    context = {
        **_context(model_admin, request, event, gettext("Pre-warm for start: %(event)s") % {"event": event.name}),
        "players": services.event_expected_players(event),
        "lead": services.prewarm.LEAD_MINUTES,
        "hold": services.prewarm.HOLD_MINUTES,
        "lines": lines if lines is not None else services.event_prewarm_plan(event=event, count=count),
        "done": lines is not None,
    }
    return TemplateResponse(request, "admin/events/prewarm.html", context)
