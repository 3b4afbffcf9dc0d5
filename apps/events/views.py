"""Event pages: list, detail with countdown, registration, challenges, hints, announcements, the
scoreboard (one per division) and its JSON feed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.environments.selectors import env_session_can_access
from apps.events import selectors, selectors_board, services
from apps.events.models import EnvironmentMode
from apps.teams.selectors import team_get, teams_led_by
from rangex.core.errors import ApplicationError
from rangex.core.http import client_ip, user_agent
from rangex.core.markdown import render_markdown
from rangex.core.throttling import throttle_check


def _is_admin(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_platform_admin", False))


def event_list(request: HttpRequest) -> HttpResponse:
    return render(request, "events/event_list.html", {"phases": selectors.events_by_phase(user=request.user)})


def _registration_context(request: HttpRequest, event, participation) -> dict:
    """What the registration box offers: never a solo button in a team event, and a reason when closed."""
    user = request.user
    now = timezone.now()
    closed = None
    if now >= event.end_date:
        closed = _("The event is over.")
    elif now >= event.start_date and not event.allow_late_registration:
        if event.registration_required or event.is_team:
            closed = _("Registration closed when the event started (%(start)s).") % {
                "start": event.local_label(event.start_date)
            }
        else:
            closed = _("No registration needed: your first answer registers you.")
    teams = []
    if user.is_authenticated and event.is_team and participation is None:
        teams = list(teams_led_by(user=user))
    return {
        "registration_closed": closed,
        "teams": teams,
        "divisions": list(selectors.event_divisions(event=event)),
        "can_withdraw": participation is not None
        and now < event.start_date
        and (participation.team_id is None or participation.team.leader_id == user.pk),
    }


def event_detail(request: HttpRequest, pk) -> HttpResponse:
    event = selectors.event_get_for_user(user=request.user, pk=pk)
    participation = services.participation_for(event=event, user=request.user)
    admin = _is_admin(request)
    context = {
        "event": event,
        "phase": event.phase(),
        "description_html": render_markdown(event.description or ""),
        "participation": participation,
        "standing": selectors.standing_of(event=event, participation=participation, admin=admin)
        if participation
        else None,
        "admin_view": admin,
        "challenge_count": selectors.event_challenges(event=event, released_only=not admin).count(),
        "announcements": selectors.event_announcements(event=event, limit=5),
        **_registration_context(request, event, participation),
    }
    return render(request, "events/event_detail.html", context)


@login_required
@require_POST
def event_register(request: HttpRequest, pk) -> HttpResponse:
    event = selectors.event_get_for_user(user=request.user, pk=pk)
    try:
        team = team_get(pk=request.POST["team"]) if request.POST.get("team") else None
        services.event_register(event=event, user=request.user, team=team, division=request.POST.get("division"))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Your team %(name)s is registered.") % {"name": team.name} if team else _("You are registered.")
        )
    return redirect(event)


@login_required
@require_POST
def event_withdraw(request: HttpRequest, pk) -> HttpResponse:
    event = selectors.event_get_for_user(user=request.user, pk=pk)
    try:
        services.event_withdraw(event=event, user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("You withdrew from %(name)s.") % {"name": event.name})
    return redirect(event)


@login_required
def event_board(request: HttpRequest, pk) -> HttpResponse:
    event = selectors.event_get_for_user(user=request.user, pk=pk)
    admin = _is_admin(request)
    participation = services.participation_for(event=event, user=request.user)
    context = {
        "event": event,
        "phase": event.phase(),
        "participation": participation,
        "rows": selectors_board.challenge_board(
            event=event, user=request.user, participation=participation, admin=admin
        ),
        "shared": event.is_team and event.environment_mode == EnvironmentMode.SHARED,
        "next_release": selectors.event_next_release(event=event),
        "admin_view": admin,
        "frozen": event.is_frozen() and not admin,
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
    # The lab's owner and, in a shared lab, every teammate go to the lab's page.
    if env is not None and env_session_can_access(user=request.user, session=env):
        return redirect("environments:detail", pk=env.pk)
    messages.info(request, _("This challenge has no lab to open; answer its questions here."))
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


@login_required
@require_POST
def event_hint(request: HttpRequest, pk, version_id) -> HttpResponse:
    event = selectors.event_get_for_user(user=request.user, pk=pk)
    try:
        hint = services.event_take_hint(
            event=event, user=request.user, version_id=version_id, hint_id=request.POST.get("hint_id", "")
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        cost = f" It costs {hint['cost']} points of the question's value." if hint["cost"] else ""
        messages.info(request, _("Hint: %(text)s%(cost)s") % {"text": hint["text"], "cost": cost})
    return redirect("events:board", pk=event.pk)


def event_announcements(request: HttpRequest, pk) -> HttpResponse:
    event = selectors.event_get_for_user(user=request.user, pk=pk)
    rows = [
        {"announcement": a, "body_html": render_markdown(a.body)}
        for a in selectors.event_announcements(event=event, limit=200)
    ]
    return render(request, "events/announcements.html", {"event": event, "rows": rows})


def _division(request: HttpRequest, event):
    return selectors.event_division_get(event=event, raw=request.GET.get("division"))


def event_scoreboard(request: HttpRequest, pk) -> HttpResponse:
    event = selectors.event_get_for_user(user=request.user, pk=pk)
    admin = _is_admin(request)
    division = _division(request, event)
    board = selectors.scoreboard(event=event, admin=admin, division_id=division.pk if division else None)
    context = {
        "event": event,
        "board": board,
        "admin_view": admin,
        "division": division,
        "divisions": selectors.event_divisions(event=event),
    }
    return render(request, "events/scoreboard.html", context)


def event_scoreboard_json(request: HttpRequest, pk) -> HttpResponse:
    event = selectors.event_get_for_user(user=request.user, pk=pk)
    division = _division(request, event)
    feed = selectors.ctftime_feed_json(event=event, division_id=division.pk if division else None)
    return HttpResponse(feed, content_type="application/json")
