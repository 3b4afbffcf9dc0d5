"""Team pages: list, team page (members, badges, event history), create, join and leader actions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.teams import hooks, selectors, services
from rangex.core.errors import ApplicationError, NotFound


def team_list(request: HttpRequest) -> HttpResponse:
    return render(request, "teams/team_list.html", {"teams": selectors.team_list()[:200]})


def team_detail(request: HttpRequest, pk) -> HttpResponse:
    team = selectors.team_get(pk=pk)
    user = request.user
    is_leader = user.is_authenticated and team.leader_id == user.pk
    context = {
        "team": team,
        "members": selectors.team_members(team=team),
        "badges": team.badges.select_related("badge")[:50],
        "is_member": selectors.team_is_member(team=team, user=user),
        "is_leader": is_leader,
        "pending": selectors.join_requests_pending(team=team) if is_leader else [],
        "my_request": selectors.join_request_pending_of(team=team, user=user),
    }
    for extra in hooks.team_page_context.send(team=team):
        context.update(extra)
    return render(request, "teams/team_detail.html", context)


@login_required
def team_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            team = services.team_create(
                actor=request.user,
                name=request.POST.get("name", ""),
                motto=request.POST.get("motto", ""),
                country=request.POST.get("country", ""),
                description=request.POST.get("description", ""),
                open_team=request.POST.get("open_team") == "on",
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return render(request, "teams/team_create.html", {"values": request.POST}, status=exc.status_code)
        return redirect(team)
    return render(request, "teams/team_create.html", {"values": {}})


def _act(request: HttpRequest, team, action) -> HttpResponse:
    try:
        action()
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect(team)


@login_required
@require_POST
def team_join(request: HttpRequest, pk) -> HttpResponse:
    team = selectors.team_get(pk=pk)
    return _act(
        request, team, lambda: services.team_join(team=team, user=request.user, message=request.POST.get("message", ""))
    )


@login_required
@require_POST
def team_leave(request: HttpRequest, pk) -> HttpResponse:
    team = selectors.team_get(pk=pk)
    return _act(request, team, lambda: services.team_leave(team=team, user=request.user))


def _member(pk):
    user = get_user_model().objects.filter(pk=pk).first()
    if user is None:
        raise NotFound("No such user.")
    return user


@login_required
@require_POST
def team_kick(request: HttpRequest, pk, user_id) -> HttpResponse:
    team = selectors.team_get(pk=pk)
    return _act(request, team, lambda: services.team_kick(team=team, actor=request.user, user=_member(user_id)))


@login_required
@require_POST
def team_transfer(request: HttpRequest, pk, user_id) -> HttpResponse:
    team = selectors.team_get(pk=pk)
    return _act(
        request,
        team,
        lambda: services.team_transfer_leadership(team=team, actor=request.user, to_user=_member(user_id)),
    )


@login_required
@require_POST
def join_request_decide(request: HttpRequest, request_id, decision: str) -> HttpResponse:
    join_request = selectors.join_request_get_for_user(user=request.user, pk=request_id)
    if decision not in services.DECISIONS:
        raise NotFound("No such decision.")
    return _act(
        request,
        join_request.team,
        lambda: services.team_join_request_decide(
            request=join_request, actor=request.user, decision=decision, message=request.POST.get("message", "")
        ),
    )
