"""Event pages: list, detail with countdown, registration, challenge board, scoreboard and its JSON feed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.events import selectors, services
from apps.events.models import EnvironmentMode
from apps.events.prerequisites import event_prerequisites_missing
from apps.teams.selectors import team_get, teams_led_by
from rangex.core.errors import ApplicationError
from rangex.core.http import client_ip, user_agent
from rangex.core.markdown import render_markdown
from rangex.core.throttling import throttle_check


def event_list(request: HttpRequest) -> HttpResponse:
    return render(request, "events/event_list.html", {"phases": selectors.events_by_phase(user=request.user)})


def event_detail(request: HttpRequest, pk) -> HttpResponse:
    event = selectors.event_get_for_user(user=request.user, pk=pk)
    participation = services.participation_for(event=event, user=request.user)
    context = {
        "event": event,
        "phase": event.phase(),
        "description_html": render_markdown(event.description or ""),
        "participation": participation,
        "teams": teams_led_by(user=request.user) if request.user.is_authenticated and event.is_team else [],
        "challenges": selectors.event_challenges(event=event),
        "start_local": event.local(event.start_date),
        "end_local": event.local(event.end_date),
        "freeze_local": event.local(event.freeze_at) if event.freeze_at else None,
    }
    return render(request, "events/event_detail.html", context)


@login_required
@require_POST
def event_register(request: HttpRequest, pk) -> HttpResponse:
    event = selectors.event_get_for_user(user=request.user, pk=pk)
    try:
        team = team_get(pk=request.POST["team"]) if request.POST.get("team") else None
        services.event_register(event=event, user=request.user, team=team)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "You are registered.")
    return redirect(event)


@login_required
def event_board(request: HttpRequest, pk) -> HttpResponse:
    event = selectors.event_get_for_user(user=request.user, pk=pk)
    participation = services.participation_for(event=event, user=request.user)
    sessions = selectors.event_sessions_of(participation=participation)
    rows = []
    for challenge in selectors.event_challenges(event=event):
        version = challenge.scenario_version
        session = sessions.get(version.pk)
        solved = (session.answers if session else {}) or {}
        rows.append(
            {
                "version": version,
                "locked": event_prerequisites_missing(event=event, participation=participation, version=version),
                "session": session,
                "questions": [
                    {"q": q, "prompt_html": render_markdown(q.get("prompt", "")), "solved": solved.get(q.get("id"))}
                    for q in version.questions or []
                ],
            }
        )
    context = {
        "event": event,
        "phase": event.phase(),
        "participation": participation,
        "rows": rows,
        "shared": event.is_team and event.environment_mode == EnvironmentMode.SHARED,
    }
    return render(request, "events/event_board.html", context)


@login_required
@require_POST
def event_play(request: HttpRequest, pk, version_id) -> HttpResponse:
    event = selectors.event_get_for_user(user=request.user, pk=pk)
    try:
        throttle_check(request, "session_start")
        event_session = services.event_session_start(
            event=event,
            user=request.user,
            version_id=version_id,
            client_ip=client_ip(request),
            user_agent=user_agent(request),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("events:board", pk=event.pk)
    env = event_session.environment_session
    if env is not None and env.user_id == request.user.pk:
        return redirect("environments:detail", pk=env.pk)
    return redirect("events:board", pk=event.pk)


@login_required
@require_POST
def event_answer(request: HttpRequest, pk, version_id) -> HttpResponse:
    event = selectors.event_get_for_user(user=request.user, pk=pk)
    values = request.POST.getlist("answer")
    answer = values if request.POST.get("multi") else (values[0] if values else "")
    try:
        throttle_check(request, "answer")
        result = services.event_submit_answer(
            event=event,
            user=request.user,
            version_id=version_id,
            question_id=request.POST.get("question_id", ""),
            answer=answer,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        (messages.success if result["correct"] else messages.warning)(request, result["message"])
    return redirect("events:board", pk=event.pk)


def event_scoreboard(request: HttpRequest, pk) -> HttpResponse:
    event = selectors.event_get_for_user(user=request.user, pk=pk)
    admin = getattr(request.user, "is_platform_admin", False)
    board = selectors.scoreboard(event=event, admin=admin)
    return render(request, "events/scoreboard.html", {"event": event, "board": board, "admin_view": admin})


def event_scoreboard_json(request: HttpRequest, pk) -> HttpResponse:
    event = selectors.event_get_for_user(user=request.user, pk=pk)
    return HttpResponse(selectors.ctftime_feed_json(event=event), content_type="application/json")
