"""Team pages: list, team page (members, badges, event history), create, join, invitations and leader actions.

Every action says what happened (a message on the next page), as every refusal says why.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.teams import hooks, selectors, services
from rangex.core.errors import ApplicationError, NotFound, ValidationFailed


def team_list(request: HttpRequest) -> HttpResponse:
    return render(request, "teams/team_list.html", {"teams": selectors.team_list()[:200]})


def team_detail(request: HttpRequest, pk) -> HttpResponse:
    team = selectors.team_get(pk=pk)
    user = request.user
    is_leader = user.is_authenticated and (team.leader_id == user.pk or user.is_platform_admin)
    context = {
        "team": team,
        "public_points": selectors.team_public_points(team=team),
        "members": selectors.team_members(team=team),
        "badges": team.badges.select_related("badge")[:50],
        "is_member": selectors.team_is_member(team=team, user=user),
        "is_leader": is_leader,
        "pending": selectors.join_requests_pending(team=team) if is_leader else [],
        "invitations": selectors.team_invitations_open(team=team) if is_leader else [],
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
                **_size(request),
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return render(request, "teams/team_create.html", {"values": request.POST}, status=exc.status_code)
        messages.success(
            request, _("Team %(name)s is created; you lead it. Invite your teammates below.") % {"name": team.name}
        )
        return redirect(team)
    return render(request, "teams/team_create.html", {"values": {}})


def _size(request: HttpRequest) -> dict:
    raw = request.POST.get("max_members", "").strip()
    if not raw:
        return {}
    if not raw.isdigit():
        raise ValidationFailed(
            _("The team size must be a whole number."), fields={"max_members": [_("A whole number.")]}
        )
    return {"max_members": int(raw)}


def _act(request: HttpRequest, team, action, done: str = "") -> HttpResponse:
    try:
        action()
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if done:
            messages.success(request, done)
    return redirect(team)


@login_required
@require_POST
def team_join(request: HttpRequest, pk) -> HttpResponse:
    team = selectors.team_get(pk=pk)
    try:
        join = services.team_join(team=team, user=request.user, message=request.POST.get("message", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if join.status == join.Status.APPROVED:
            messages.success(request, _("You joined %(name)s.") % {"name": team.name})
        else:
            messages.success(
                request, _("Your request to join %(name)s was sent; the leader decides.") % {"name": team.name}
            )
    return redirect(team)


@login_required
@require_POST
def team_leave(request: HttpRequest, pk) -> HttpResponse:
    team = selectors.team_get(pk=pk)
    return _act(
        request,
        team,
        lambda: services.team_leave(team=team, user=request.user),
        _("You left %(name)s.") % {"name": team.name},
    )


def _member(pk):
    user = get_user_model().objects.filter(pk=pk).first()
    if user is None:
        raise NotFound(_("No such user."))
    return user


@login_required
@require_POST
def team_kick(request: HttpRequest, pk, user_id) -> HttpResponse:
    team = selectors.team_get(pk=pk)
    return _act(
        request,
        team,
        lambda: services.team_kick(team=team, actor=request.user, user=_member(user_id)),
        _("The member was removed."),
    )


@login_required
@require_POST
def team_transfer(request: HttpRequest, pk, user_id) -> HttpResponse:
    team = selectors.team_get(pk=pk)
    return _act(
        request,
        team,
        lambda: services.team_transfer_leadership(team=team, actor=request.user, to_user=_member(user_id)),
        _("The leadership is handed over."),
    )


@login_required
@require_POST
def join_request_decide(request: HttpRequest, request_id, decision: str) -> HttpResponse:
    join_request = selectors.join_request_get_for_user(user=request.user, pk=request_id)
    if decision not in services.DECISIONS:
        raise NotFound(_("No such decision."))
    done = {
        "approve": _("%(who)s is now a member.") % {"who": join_request.user.display_name or join_request.user.email},
        "decline": _("The request is declined."),
        "cancel": _("Your request is withdrawn."),
    }[decision]
    return _act(
        request,
        join_request.team,
        lambda: services.team_join_request_decide(
            request=join_request, actor=request.user, decision=decision, message=request.POST.get("message", "")
        ),
        done,
    )


@login_required
@require_POST
def invitation_create(request: HttpRequest, pk) -> HttpResponse:
    team = selectors.team_get(pk=pk)
    try:
        hours = int(request.POST.get("hours") or 72)
        uses = request.POST.get("max_uses", "").strip()
        max_uses = int(uses) if uses else None
    except ValueError:
        messages.error(request, _("Give the hours and the number of uses as whole numbers."))
        return redirect(team)
    return _act(
        request,
        team,
        lambda: services.team_invitation_create(team=team, actor=request.user, hours=hours, max_uses=max_uses),
        _("Invitation created: copy the link or the code below and send it to your teammates."),
    )


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, invitation_id) -> HttpResponse:
    invitation = selectors.invitation_get_for_leader(user=request.user, pk=invitation_id)
    return _act(
        request,
        invitation.team,
        lambda: services.team_invitation_revoke(invitation=invitation, actor=request.user),
        _("The invitation no longer works."),
    )


@login_required
def invitation_accept(request: HttpRequest, code: str) -> HttpResponse:
    """GET: show whose invitation it is; POST: join the team."""
    invitation = selectors.invitation_by_code(code=code)
    if request.method == "POST":
        try:
            services.team_invitation_accept(code=code, user=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("You joined %(name)s.") % {"name": invitation.team.name})
            return redirect(invitation.team)
    return render(request, "teams/invitation.html", {"invitation": invitation, "now": timezone.now()})


@login_required
def invitation_by_code(request: HttpRequest) -> HttpResponse:
    """The form a player types a code into: leads to the invitation's page."""
    code = request.GET.get("code", "").strip()
    if code:
        return redirect("teams:invitation", code=code)
    return render(request, "teams/invitation.html", {"invitation": None})
