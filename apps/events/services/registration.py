"""Registering for an event, alone or as a team."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from apps.events.models import (
    Event,
    EventParticipation,
    EventRegistration,
)
from apps.events.services.common import event_locked
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


def event_register(*, event: Event, user, team: Team | None = None, on_first_play: bool = False) -> EventParticipation:
    """Register ``user`` (solo) or ``team`` by its leader (team events).

    ``on_first_play`` registers a solver of an event without required registration when they first
    play, which happens after the start by nature.
    """
    with transaction.atomic():
        # The event row lock serialises registrations, so max_participants holds under concurrency.
        event = event_locked(event)
        now = timezone.now()
        if not event.is_public and not user.is_platform_admin:
            raise NotFound("No such event.")
        if now >= event.end_date:
            raise Conflict("This event has ended; registration is closed.")
        if now >= event.start_date and not (event.allow_late_registration or on_first_play):
            raise Conflict("Registration closed when the event started.")
        if team is not None and event.is_team:
            team = Team.objects.select_for_update().get(pk=team.pk)
            if team.leader_id != user.pk:
                raise PermissionDenied("Only the team's leader may register the team.")
            invited = [str(t) for t in event.participating_team_ids or []]
            if invited and str(team.pk) not in invited:
                raise PermissionDenied("This event is by invitation, and your team is not invited.")
            if EventRegistration.objects.filter(event=event, team=team).exists():
                raise Conflict("Your team is already registered for this event.")
            clash = _member_conflict(event, team)
            if clash:
                raise Conflict(f"{clash}, a member of your team, is already registered in this event.")
        elif team is not None:
            raise ValidationFailed("This is an individual event: register yourself, not a team.")
        else:
            if EventRegistration.objects.filter(event=event, user=user).exists():
                raise Conflict("You are already registered for this event.")
            if TeamMember.objects.filter(user=user, team__event_participations__event=event).exists():
                raise Conflict("Your team is already registered in this event; play with it.")
        if EventRegistration.objects.filter(event=event, user=user).exists():
            raise Conflict("You are already registered in this event (with another team or alone).")
        if event.max_participants and event.participations.count() >= event.max_participants:
            raise LimitExceeded(
                f"This event is full ({event.max_participants} participants).", limit="max_participants"
            )
        EventRegistration.objects.create(event=event, user=user, team=team)
        participation = EventParticipation.objects.create(
            event=event,
            user=None if team else user,
            team=team,
            participant_type=EventParticipation.ParticipantType.TEAM
            if team
            else EventParticipation.ParticipantType.USER,
            rank=_new_participant_rank(event),
        )
        audit_record(
            actor=user,
            action=AuditAction.EVENT_REGISTER,
            target=event,
            details={"team": str(team.pk) if team else None},
        )
        recipients = [m.user for m in TeamMember.objects.filter(team=team).select_related("user")] if team else [user]
        for recipient in recipients:
            notification_send(
                user=recipient,
                type=NotificationType.EVENT,
                title=f"Registered for {event.name}",
                body=f"It starts {event.local(event.start_date):%Y-%m-%d %H:%M} ({event.timezone}).",
                link=event.get_absolute_url(),
            )
        transaction.on_commit(lambda: scoreboard_publish(event_id=event.pk))
    return participation
