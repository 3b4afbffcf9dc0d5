"""Registering for an event, alone or as a team."""

from __future__ import annotations

import logging

from django.db import models, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.events.models import (
    Event,
    EventDivision,
    EventParticipation,
    EventRegistration,
)
from apps.events.services.common import event_locked, participant_users
from apps.events.services.scoreboard import scoreboard_publish
from apps.teams.models import Team, TeamMember
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import Conflict, LimitExceeded, NotFound, PermissionDenied, ValidationFailed
from rangex.core.models import NotificationType
from rangex.core.notifications import notification_send

logger = logging.getLogger(__name__)


def _new_participant_rank(event: Event) -> int:
    return EventParticipation.objects.filter(event=event, disqualified=False, total_points__gt=0).count() + 1


def _member_conflict(event: Event, team: Team) -> str | None:
    """Return the name of a member of ``team`` already playing ``event`` (solo or in another team)."""
    member_ids = list(TeamMember.objects.filter(team=team).values_list("user_id", flat=True))
    solo = EventRegistration.objects.filter(event=event, user_id__in=member_ids, team__isnull=True).select_related(
        "user"
    )
    clash = solo.first()
    if clash is not None:
        return clash.user.display_name or clash.user.email
    other = (
        TeamMember.objects.filter(user_id__in=member_ids, team__event_participations__event=event)
        .exclude(team=team)
        .select_related("user")
        .first()
    )
    if other is not None:
        return other.user.display_name or other.user.email
    return None


def _division_for(event: Event, division) -> EventDivision | None:
    if division == "":
        division = None
    divisions = EventDivision.objects.filter(event=event)
    if not divisions.exists():
        if division is not None:
            raise ValidationFailed(_("This event has no divisions."), fields={"division": [_("No divisions.")]})
        return None
    if division is None:
        names = ", ".join(divisions.values_list("name", flat=True))
        raise ValidationFailed(
            _("Choose a division (%(names)s).") % {"names": names}, fields={"division": [_("Required.")]}
        )
    division_id = getattr(division, "pk", division)
    found = divisions.filter(pk=division_id).first() if str(division_id).isdigit() else None
    if found is None:
        raise NotFound(_("This event has no such division."))
    return found


def event_register(
    *, event: Event, user, team: Team | None = None, division=None, on_first_play: bool = False
) -> EventParticipation:
    """Register ``user`` (individual events) or ``team`` by its leader (team events), in ``division`` if any.

    ``on_first_play`` registers a solver of an event without required registration when they first
    play, which happens after the start by nature.
    """
    with transaction.atomic():
        # The event row lock serialises registrations, so max_participants holds under concurrency.
        event = event_locked(event)
        now = timezone.now()
        if not event.is_public and not user.is_platform_admin:
            raise NotFound(_("No such event."))
        if now >= event.end_date:
            raise Conflict(_("This event has ended; registration is closed."))
        if now >= event.start_date and not (event.allow_late_registration or on_first_play):
            raise Conflict(
                _("Registration closed when the event started (%(local_label)s).")
                % {"local_label": event.local_label(event.start_date)}
            )
        if event.is_team:
            if team is None:
                raise ValidationFailed(
                    _("This is a team event: your team's leader registers the team; nobody plays it alone."),
                    fields={"team": [_("Choose your team.")]},
                )
            team = Team.objects.select_for_update().get(pk=team.pk)
            if team.leader_id != user.pk:
                raise PermissionDenied(_("Only the team's leader may register the team."))
            invited = [str(t) for t in event.participating_team_ids or []]
            if invited and str(team.pk) not in invited:
                raise PermissionDenied(_("This event is by invitation, and your team is not invited."))
            if EventRegistration.objects.filter(event=event, team=team).exists():
                raise Conflict(_("Your team is already registered for this event."))
            size = TeamMember.objects.filter(team=team).count()
            if event.max_team_size and size > event.max_team_size:
                raise LimitExceeded(
                    _("Your team has %(size)s members; teams in this event have at most %(max_team_size)s.")
                    % {"size": size, "max_team_size": event.max_team_size},
                    limit="max_team_size",
                )
            clash = _member_conflict(event, team)
            if clash:
                raise Conflict(
                    _("%(clash)s, a member of your team, is already registered in this event.") % {"clash": clash}
                )
        elif team is not None:
            raise ValidationFailed(_("This is an individual event: register yourself, not a team."))
        else:
            if EventRegistration.objects.filter(event=event, user=user).exists():
                raise Conflict(_("You are already registered for this event."))
        if EventRegistration.objects.filter(event=event, user=user).exists():
            raise Conflict(_("You are already registered in this event (with another team or alone)."))
        chosen = _division_for(event, division)
        if event.max_participants and event.participations.count() >= event.max_participants:
            raise LimitExceeded(
                _("This event is full (%(max_participants)s participants).")
                % {"max_participants": event.max_participants},
                limit="max_participants",
            )
        EventRegistration.objects.create(event=event, user=user, team=team)
        participation = EventParticipation.objects.create(
            event=event,
            user=None if team else user,
            team=team,
            division=chosen,
            participant_type=EventParticipation.ParticipantType.TEAM
            if team
            else EventParticipation.ParticipantType.USER,
            rank=_new_participant_rank(event),
        )
        audit_record(
            actor=user,
            action=AuditAction.EVENT_REGISTER,
            target=event,
            details={"team": str(team.pk) if team else None, "division": chosen.name if chosen else None},
        )
        for recipient in participant_users(participation):
            notification_send(
                user=recipient,
                type=NotificationType.EVENT,
                title=format_lazy(gettext_lazy("Registered for {name}"), name=event.name),
                body=format_lazy(
                    gettext_lazy("It starts {local_label}."), local_label=event.local_label(event.start_date)
                ),
                link=event.get_absolute_url(),
            )
        transaction.on_commit(lambda: scoreboard_publish(event_id=event.pk))
    return participation


def event_withdraw(*, event: Event, user) -> None:
    """Withdraw from ``event`` before it starts: a solo player themself, a team by its leader."""
    with transaction.atomic():
        event = event_locked(event)
        if timezone.now() >= event.start_date:
            raise Conflict(_("The event has started; you can no longer withdraw (ask the organisers)."))
        participation = (
            EventParticipation.objects.select_for_update()
            .filter(event=event)
            .filter(models.Q(user=user) | models.Q(team__members__user=user))
            .select_related("team")
            .first()
        )
        if participation is None:
            raise NotFound(_("You are not registered for this event."))
        if participation.team_id and participation.team.leader_id != user.pk:
            raise PermissionDenied(_("Only your team's leader may withdraw the team."))
        recipients = participant_users(participation)
        EventRegistration.objects.filter(event=event).filter(
            models.Q(team_id=participation.team_id) if participation.team_id else models.Q(user=user, team=None)
        ).delete()
        audit_record(
            actor=user,
            action=AuditAction.EVENT_WITHDRAW,
            target=event,
            details={"team": str(participation.team_id) if participation.team_id else None},
        )
        participation.delete()
        for recipient in recipients:
            notification_send(
                user=recipient,
                type=NotificationType.EVENT,
                title=format_lazy(gettext_lazy("Withdrawn from {name}"), name=event.name),
                body=gettext_lazy("You may register again until the event starts.") if recipient == user else "",
                link=event.get_absolute_url(),
            )
        transaction.on_commit(lambda: scoreboard_publish(event_id=event.pk))
