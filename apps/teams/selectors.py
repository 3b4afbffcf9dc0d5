"""Reads of teams. Teams are public; join requests are visible to the requester and the leader."""

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.teams import hooks
from apps.teams.models import Team, TeamInvitation, TeamJoinRequest, TeamMember
from rangex.core.errors import NotFound
from rangex.core.selectors import get_one


def team_list() -> QuerySet[Team]:
    return Team.objects.select_related("leader").annotate(member_count=Count("members")).order_by("name")


def team_get(*, pk) -> Team:
    return get_one(Team.objects.select_related("leader", "owner_user"), _("No such team."), pk=pk)


def team_members(*, team: Team) -> QuerySet[TeamMember]:
    return TeamMember.objects.filter(team=team).select_related("user").order_by("joined_at", "id")


def team_is_member(*, team: Team, user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and TeamMember.objects.filter(team=team, user=user).exists()


def teams_led_by(*, user) -> QuerySet[Team]:
    return Team.objects.filter(leader=user).order_by("name")


def join_request_get_for_user(*, user, pk) -> TeamJoinRequest:
    """Return the request if ``user`` made it, is in its team, or is an admin; else 404."""
    request = get_one(TeamJoinRequest.objects.select_related("team", "user"), _("No such join request."), pk=pk)
    visible = request.user_id == user.pk or user.is_platform_admin or team_is_member(team=request.team, user=user)
    if not visible:
        raise NotFound(_("No such join request."))
    return request


def join_request_pending_of(*, team: Team, user) -> TeamJoinRequest | None:
    """Return ``user``'s own request to join ``team`` while it waits for the leader."""
    if not getattr(user, "is_authenticated", False):
        return None
    return TeamJoinRequest.objects.filter(team=team, user=user, status=TeamJoinRequest.Status.PENDING).first()


def join_requests_pending(*, team: Team) -> QuerySet[TeamJoinRequest]:
    return TeamJoinRequest.objects.filter(team=team, status=TeamJoinRequest.Status.PENDING).select_related("user")


def team_public_points(*, team: Team) -> int:
    """Return the team's event points as the public may see them (less what a scoreboard freeze hides)."""
    hidden = sum(result.get(team.pk, 0) for result in hooks.team_points_hidden.send(team_ids=[team.pk]))
    return team.event_points - hidden


def teams_public_points(*, teams) -> dict:
    """Return ``team_public_points`` for many teams at once, by team id."""
    ids = [t.pk for t in teams]
    hidden: dict = {}
    for result in hooks.team_points_hidden.send(team_ids=ids):
        for team_id, points in result.items():
            hidden[team_id] = hidden.get(team_id, 0) + points
    return {t.pk: t.event_points - hidden.get(t.pk, 0) for t in teams}


def team_invitations_open(*, team: Team) -> QuerySet[TeamInvitation]:
    """Return the team's invitations that still work, newest first (its leader sees them)."""
    return TeamInvitation.objects.filter(team=team, revoked_at__isnull=True, expires_at__gt=timezone.now()).order_by(
        "-created_at"
    )


def invitation_by_code(*, code: str) -> TeamInvitation:
    """Return the invitation with ``code`` (even an expired one, so its page can say so); else 404."""
    if not isinstance(code, str) or len(code) > 64:
        raise NotFound(_("No such invitation."))
    return get_one(TeamInvitation.objects.select_related("team", "team__leader"), _("No such invitation."), code=code)


def invitation_get_for_leader(*, user, pk) -> TeamInvitation:
    invitation = get_one(TeamInvitation.objects.select_related("team"), _("No such invitation."), pk=pk)
    if invitation.team.leader_id != user.pk and not user.is_platform_admin:
        raise NotFound(_("No such invitation."))
    return invitation
