"""Reads of teams. Teams are public; join requests are visible to the requester and the leader."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from apps.teams.models import Team, TeamJoinRequest, TeamMember
from rangex.core.errors import NotFound
from rangex.core.selectors import get_one


def team_list() -> QuerySet[Team]:
    return Team.objects.select_related("leader").annotate(member_count=Count("members")).order_by("name")


def team_get(*, pk) -> Team:
    return get_one(Team.objects.select_related("leader", "owner_user"), "No such team.", pk=pk)


def team_members(*, team: Team) -> QuerySet[TeamMember]:
    return TeamMember.objects.filter(team=team).select_related("user").order_by("joined_at", "id")


def team_is_member(*, team: Team, user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and TeamMember.objects.filter(team=team, user=user).exists()


def teams_led_by(*, user) -> QuerySet[Team]:
    return Team.objects.filter(leader=user).order_by("name")


def join_request_get_for_user(*, user, pk) -> TeamJoinRequest:
    """Return the request if ``user`` made it, is in its team, or is an admin; else 404."""
    request = get_one(TeamJoinRequest.objects.select_related("team", "user"), "No such join request.", pk=pk)
    visible = request.user_id == user.pk or user.is_platform_admin or team_is_member(team=request.team, user=user)
    if not visible:
        raise NotFound("No such join request.")
    return request


def join_request_pending_of(*, team: Team, user) -> TeamJoinRequest | None:
    """Return ``user``'s own request to join ``team`` while it waits for the leader."""
    if not getattr(user, "is_authenticated", False):
        return None
    return TeamJoinRequest.objects.filter(team=team, user=user, status=TeamJoinRequest.Status.PENDING).first()


def join_requests_pending(*, team: Team) -> QuerySet[TeamJoinRequest]:
    return TeamJoinRequest.objects.filter(team=team, status=TeamJoinRequest.Status.PENDING).select_related("user")
