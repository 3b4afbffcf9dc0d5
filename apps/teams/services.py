"""Every state change of a team: create, profile, join requests, leave, kick, leadership.

Membership changes lock the team row first, so ``max_members`` holds when many users join at once
(MariaDB has no partial unique constraints to do it for us).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.teams import hooks
from apps.teams.models import MAX_TEAM_SIZE, Team, TeamInvitation, TeamJoinRequest, TeamMember
from rangex.core.audit import AuditAction, audit_record, full_clean_or_raise, model_update
from rangex.core.errors import Conflict, InvalidTransition, LimitExceeded, NotFound, PermissionDenied, ValidationFailed
from rangex.core.models import NotificationType
from rangex.core.notifications import notification_send

PROFILE_FIELDS = (
    "name",
    "description",
    "motto",
    "country",
    "avatar_url",
    "max_members",
    "open_team",
    "registrations_open",
)


REQUEST_ACTIONS = {
    TeamJoinRequest.Status.APPROVED: AuditAction.TEAM_REQUEST_APPROVED,
    TeamJoinRequest.Status.DECLINED: AuditAction.TEAM_REQUEST_DECLINED,
    TeamJoinRequest.Status.CANCELLED: AuditAction.TEAM_REQUEST_CANCELLED,
}


def _locked(team: Team) -> Team:
    return Team.objects.select_for_update().get(pk=team.pk)


def _require_leader(team: Team, actor) -> None:
    if actor is None or (team.leader_id != actor.pk and not getattr(actor, "is_platform_admin", False)):
        raise PermissionDenied(_("Only the team's leader may do this."))


def _notify(user, title: str, body: str, team: Team) -> None:
    notification_send(user=user, type=NotificationType.TEAM, title=title, body=body, link=team.get_absolute_url())


def _clean_profile(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown team fields: %(items)s.") % {"items": ", ".join(sorted(unknown))})
    cleaned = dict(values)
    for key in ("name", "description", "motto", "avatar_url"):
        if key in cleaned:
            if not isinstance(cleaned[key], str):
                raise ValidationFailed(
                    _("The %(replace)s must be text.") % {"replace": key.replace("_", " ")},
                    fields={key: [_("Must be text.")]},
                )
            cleaned[key] = cleaned[key].strip()
    if "country" in cleaned:
        country = cleaned["country"]
        if not isinstance(country, str) or (country and (len(country) != 2 or not country.isalpha())):
            raise ValidationFailed(_("Give the country as a two-letter code."), fields={"country": [_("Two letters.")]})
        cleaned["country"] = country.upper()
    if "max_members" in cleaned and (
        isinstance(cleaned["max_members"], bool) or not isinstance(cleaned["max_members"], int)
    ):
        raise ValidationFailed(
            _("The team size must be a whole number."), fields={"max_members": [_("A whole number.")]}
        )
    return cleaned


def _save_new(team: Team) -> None:
    full_clean_or_raise(team)
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError as exc:
        raise Conflict(_("A team with this name already exists."), fields={"name": [_("Taken.")]}) from exc


def team_create(*, actor, name: str, **profile: Any) -> Team:
    """Create a team; ``actor`` owns it and becomes its leader and first member."""
    values = _clean_profile({"name": name, **profile})
    if not values.get("name"):
        raise ValidationFailed(_("Name the team."), fields={"name": [_("This field is required.")]})
    with transaction.atomic():
        if Team.objects.filter(name__iexact=values["name"]).exists():
            raise Conflict(_("A team with this name already exists."), fields={"name": [_("Taken.")]})
        team = Team(owner_user=actor, leader=actor, **values)
        _save_new(team)
        TeamMember.objects.create(team=team, user=actor, role=TeamMember.Role.LEADER)
        audit_record(actor=actor, action=AuditAction.TEAM_CREATE, target=team, details={"name": team.name})
    return team


def team_update_profile(*, team: Team, actor, **changes: Any) -> Team:
    """Change a team's profile (leader or admin)."""
    values = _clean_profile(changes)
    with transaction.atomic():
        team = _locked(team)
        _require_leader(team, actor)

        def check(before: dict[str, Any]) -> None:
            if "max_members" in values and values["max_members"] < team.members.count():
                raise Conflict(
                    _("The team has %(count)s members; the size cannot go below that.")
                    % {"count": team.members.count()},
                    fields={"max_members": [_("Below the current member count.")]},
                )
            if "name" in values and Team.objects.filter(name__iexact=values["name"]).exclude(pk=team.pk).exists():
                raise Conflict(_("A team with this name already exists."), fields={"name": [_("Taken.")]})

        model_update(
            instance=team,
            actor=actor,
            data=values,
            allowed=PROFILE_FIELDS,
            action=AuditAction.TEAM_UPDATE,
            check=check,
            details=lambda changes: changes,
        )
    return team


def _add_member(team: Team, user) -> TeamMember:
    """Add ``user`` to the locked ``team`` within its size limit and the rules of the events it plays."""
    if TeamMember.objects.filter(team=team, user=user).exists():
        raise Conflict(_("You are already a member of this team."))
    count = TeamMember.objects.filter(team=team).count()
    if count >= team.max_members:
        raise LimitExceeded(
            _("The team is full (%(max_members)s members).") % {"max_members": team.max_members}, limit="max_members"
        )
    hooks.team_member_adding.send(team=team, user=user, members=count)
    return TeamMember.objects.create(team=team, user=user, role=TeamMember.Role.MEMBER)


def team_join(*, team: Team, user, message: str = "") -> TeamJoinRequest:
    """Ask to join ``team``: an open team accepts at once, a closed one waits for its leader."""
    if not isinstance(message, str) or len(message) > 500:
        raise ValidationFailed(
            _("The message must be text of at most 500 characters."), fields={"message": [_("Too long.")]}
        )
    with transaction.atomic():
        team = _locked(team)
        if not team.registrations_open:
            raise Conflict(_("This team is not taking new members."))
        if TeamMember.objects.filter(team=team, user=user).exists():
            raise Conflict(_("You are already a member of this team."))
        if TeamJoinRequest.objects.filter(team=team, user=user, status=TeamJoinRequest.Status.PENDING).exists():
            raise Conflict(_("You already asked to join this team; wait for the leader's answer."))
        if team.open_team:
            _add_member(team, user)
            request = TeamJoinRequest.objects.create(
                team=team,
                user=user,
                message=message.strip(),
                status=TeamJoinRequest.Status.APPROVED,
                decided_at=timezone.now(),
            )
            audit_record(actor=user, action=AuditAction.TEAM_JOIN, target=team, details={"open": True})
            _notify(
                team.leader,
                format_lazy(gettext_lazy("{who} joined {name}"), who=user.display_name or user.email, name=team.name),
                "",
                team,
            )
            return request
        if TeamMember.objects.filter(team=team).count() >= team.max_members:
            raise LimitExceeded(
                _("The team is full (%(max_members)s members).") % {"max_members": team.max_members},
                limit="max_members",
            )
        request = TeamJoinRequest.objects.create(team=team, user=user, message=message.strip())
        audit_record(actor=user, action=AuditAction.TEAM_JOIN_REQUEST, target=team, details={"request": request.pk})
        _notify(
            team.leader,
            format_lazy(gettext_lazy("{who} asks to join {name}"), who=user.display_name or user.email, name=team.name),
            message.strip(),
            team,
        )
    return request


def _decide(*, request: TeamJoinRequest, actor, to: str, response_message: str) -> TeamJoinRequest:
    if not isinstance(response_message, str) or len(response_message) > 500:
        raise ValidationFailed(
            _("The message must be text of at most 500 characters."), fields={"message": [_("Too long.")]}
        )
    with transaction.atomic():
        team = _locked(request.team)
        request = TeamJoinRequest.objects.select_for_update().get(pk=request.pk)
        if to == TeamJoinRequest.Status.CANCELLED:
            if actor is None or actor.pk != request.user_id:
                raise NotFound(_("No such join request."))
        else:
            _require_leader(team, actor)
        if to not in TeamJoinRequest.TRANSITIONS[request.status]:
            raise InvalidTransition(_("This request was already %(status)s.") % {"status": request.status})
        if to == TeamJoinRequest.Status.APPROVED:
            _add_member(team, request.user)
        request.status = to
        request.response_message = response_message.strip()
        request.decided_by = actor
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "response_message", "decided_by", "decided_at", "updated_at"])
        audit_record(actor=actor, action=REQUEST_ACTIONS[to], target=team, details={"request": request.pk})
        if to != TeamJoinRequest.Status.CANCELLED:
            if to == TeamJoinRequest.Status.APPROVED:
                title = format_lazy(gettext_lazy("{name} accepted your request"), name=team.name)
            else:
                title = format_lazy(gettext_lazy("{name} declined your request"), name=team.name)
            _notify(request.user, title, request.response_message, team)
    return request


def team_join_request_approve(*, request: TeamJoinRequest, actor, message: str = "") -> TeamJoinRequest:
    return _decide(request=request, actor=actor, to=TeamJoinRequest.Status.APPROVED, response_message=message)


def team_join_request_decline(*, request: TeamJoinRequest, actor, message: str = "") -> TeamJoinRequest:
    return _decide(request=request, actor=actor, to=TeamJoinRequest.Status.DECLINED, response_message=message)


def team_join_request_cancel(*, request: TeamJoinRequest, actor) -> TeamJoinRequest:
    return _decide(request=request, actor=actor, to=TeamJoinRequest.Status.CANCELLED, response_message="")


DECISIONS = {
    "approve": TeamJoinRequest.Status.APPROVED,
    "decline": TeamJoinRequest.Status.DECLINED,
    "cancel": TeamJoinRequest.Status.CANCELLED,
}


def team_join_request_decide(*, request: TeamJoinRequest, actor, decision: str, message: str = "") -> TeamJoinRequest:
    """Apply a decision named in a URL: the leader's approve or decline, the requester's cancel."""
    to = DECISIONS.get(decision)
    if to is None:
        raise NotFound(_("No such decision."))
    if to == TeamJoinRequest.Status.CANCELLED:
        message = ""  # withdrawing a request carries no reply
    return _decide(request=request, actor=actor, to=to, response_message=message)


INVITATION_CODE_BYTES = 12
MAX_INVITATION_HOURS = 24 * 30
MAX_MEMBERS_ALLOWED = MAX_TEAM_SIZE


def _whole(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def team_invitation_create(*, team: Team, actor, hours: int = 72, max_uses: int | None = None) -> TeamInvitation:
    """Make an invitation link/code for ``team`` (leader or admin) that works for ``hours`` and ``max_uses`` joins."""
    if not _whole(hours, 1, MAX_INVITATION_HOURS):
        days = MAX_INVITATION_HOURS // 24
        raise ValidationFailed(
            _("An invitation lasts from 1 hour to %(days)s days.") % {"days": days},
            fields={"hours": [_("Out of range.")]},
        )
    if max_uses is not None and not _whole(max_uses, 1, MAX_MEMBERS_ALLOWED):
        raise ValidationFailed(
            _("An invitation is used from 1 to %(MAX_MEMBERS_ALLOWED)s times.")
            % {"MAX_MEMBERS_ALLOWED": MAX_MEMBERS_ALLOWED},
            fields={"max_uses": [_("Out of range.")]},
        )
    with transaction.atomic():
        team = _locked(team)
        _require_leader(team, actor)
        invitation = TeamInvitation.objects.create(
            team=team,
            code=secrets.token_urlsafe(INVITATION_CODE_BYTES),
            created_by=actor,
            expires_at=timezone.now() + timedelta(hours=hours),
            max_uses=max_uses,
        )
        audit_record(
            actor=actor,
            action=AuditAction.TEAM_INVITE_CREATE,
            target=team,
            details={"invitation": invitation.pk, "hours": hours, "max_uses": max_uses},
        )
    return invitation


def team_invitation_revoke(*, invitation: TeamInvitation, actor) -> TeamInvitation:
    """End an invitation before it expires (leader or admin)."""
    with transaction.atomic():
        team = _locked(invitation.team)
        _require_leader(team, actor)
        invitation = TeamInvitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.revoked_at is None:
            invitation.revoked_at = timezone.now()
            invitation.save(update_fields=["revoked_at"])
            audit_record(
                actor=actor, action=AuditAction.TEAM_INVITE_REVOKE, target=team, details={"invitation": invitation.pk}
            )
    return invitation


def team_invitation_accept(*, code: str, user) -> TeamMember:
    """Join the team of an invitation code: no request to wait for, within the team's size limit."""
    if not isinstance(code, str) or not code.strip() or len(code) > 64:
        raise NotFound(_("No such invitation."))
    invitation = TeamInvitation.objects.select_related("team").filter(code=code.strip()).first()
    if invitation is None:
        raise NotFound(_("No such invitation."))
    with transaction.atomic():
        team = _locked(invitation.team)
        invitation = TeamInvitation.objects.select_for_update().get(pk=invitation.pk)
        now = timezone.now()
        if invitation.revoked_at is not None:
            raise Conflict(_("This invitation was withdrawn by the team's leader."))
        if now >= invitation.expires_at:
            raise Conflict(
                _("This invitation expired on %(expires_at)s UTC; ask for a new one.")
                % {"expires_at": format(invitation.expires_at, "%Y-%m-%d %H:%M")}
            )
        if invitation.max_uses is not None and invitation.uses >= invitation.max_uses:
            raise Conflict(_("This invitation has been used up; ask for a new one."))
        member = _add_member(team, user)
        invitation.uses += 1
        invitation.save(update_fields=["uses"])
        TeamJoinRequest.objects.filter(team=team, user=user, status=TeamJoinRequest.Status.PENDING).update(
            status=TeamJoinRequest.Status.APPROVED, decided_at=now, decided_by=invitation.created_by
        )
        audit_record(
            actor=user, action=AuditAction.TEAM_INVITE_ACCEPT, target=team, details={"invitation": invitation.pk}
        )
        _notify(
            team.leader,
            format_lazy(
                gettext_lazy("{who} joined {name} by invitation"), who=user.display_name or user.email, name=team.name
            ),
            "",
            team,
        )
    return member


def team_leave(*, team: Team, user) -> None:
    """Leave ``team``; a leader must hand over leadership first unless they are the last member."""
    with transaction.atomic():
        team = _locked(team)
        member = TeamMember.objects.filter(team=team, user=user).first()
        if member is None:
            raise NotFound(_("You are not a member of this team."))
        others = TeamMember.objects.filter(team=team).exclude(pk=member.pk)
        if team.leader_id == user.pk and others.exists():
            raise Conflict(_("Hand the leadership to another member before you leave."))
        member.delete()
        audit_record(actor=user, action=AuditAction.TEAM_LEAVE, target=team)
        if team.leader_id != user.pk:
            _notify(
                team.leader,
                format_lazy(gettext_lazy("{who} left {name}"), who=user.display_name or user.email, name=team.name),
                "",
                team,
            )


def team_kick(*, team: Team, actor, user) -> None:
    """Remove ``user`` from ``team`` (leader only; the leader cannot kick themself)."""
    with transaction.atomic():
        team = _locked(team)
        _require_leader(team, actor)
        if user.pk == team.leader_id:
            raise Conflict(_("The leader cannot be removed; transfer the leadership first."))
        deleted, _per_model = TeamMember.objects.filter(team=team, user=user).delete()
        if not deleted:
            raise NotFound(_("This user is not a member of the team."))
        audit_record(actor=actor, action=AuditAction.TEAM_KICK, target=team, details={"user": str(user.pk)})
        _notify(user, format_lazy(gettext_lazy("You were removed from {name}"), name=team.name), "", team)


def team_transfer_leadership(*, team: Team, actor, to_user) -> Team:
    """Make ``to_user`` (a member) the leader."""
    with transaction.atomic():
        team = _locked(team)
        _require_leader(team, actor)
        new = TeamMember.objects.filter(team=team, user=to_user).first()
        if new is None:
            raise ValidationFailed(
                _("The new leader must be a member of the team."), fields={"user": [_("Not a member.")]}
            )
        old_leader_id = team.leader_id
        TeamMember.objects.filter(team=team, user_id=old_leader_id).update(role=TeamMember.Role.MEMBER)
        new.role = TeamMember.Role.LEADER
        new.save(update_fields=["role"])
        team.leader = to_user
        team.save(update_fields=["leader"])
        audit_record(
            actor=actor,
            action=AuditAction.TEAM_TRANSFER,
            target=team,
            details={"from": str(old_leader_id), "to": str(to_user.pk)},
        )
        _notify(to_user, format_lazy(gettext_lazy("You now lead {name}"), name=team.name), "", team)
    return team


@transaction.atomic
def team_delete(*, team: Team, actor) -> None:
    """Disband a team (its leader or an admin); its members are told. A team with event results stays."""
    team = _locked(team)
    if not getattr(actor, "is_platform_admin", False):
        _require_leader(team, actor)
    if hooks.team_deleting.any(team=team):
        raise Conflict(
            _("%(name)s has played in events, whose results keep it; it cannot be deleted.") % {"name": team.name}
        )
    members = [m.user for m in TeamMember.objects.filter(team=team).select_related("user")]
    audit_record(actor=actor, action=AuditAction.TEAM_DELETE, target=team, details={"members": len(members)})
    for member in members:
        if member.pk != getattr(actor, "pk", None):
            notification_send(
                user=member,
                type=NotificationType.TEAM,
                title=format_lazy(gettext_lazy("{name} was disbanded"), name=team.name),
                body="",
                link="/teams/",
            )
    team.delete()
