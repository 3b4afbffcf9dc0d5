"""Disqualification, and what happens when an event ends."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.events import hooks
from apps.events.models import (
    Event,
    EventParticipation,
)
from apps.events.services.common import event_locked
from apps.events.services.ranking import rank_recompute
from apps.events.services.scoreboard import scoreboard_publish
from apps.teams.models import Team
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import Conflict, PermissionDenied, ValidationFailed

logger = logging.getLogger(__name__)


def events_award_finished(*, within_hours: int = 2) -> int:
    """Tell the badges app about the events that ended in the last ``within_hours``.

    Run periodically; awarding is idempotent, so overlapping windows only cost a re-check.
    """
    from datetime import timedelta

    now = timezone.now()
    awarded = 0
    for event in Event.objects.filter(end_date__lte=now, end_date__gte=now - timedelta(hours=within_hours)):
        user_ids = set(
            EventParticipation.objects.filter(event=event, user__isnull=False).values_list("user_id", flat=True)
        )
        user_ids |= set(
            EventParticipation.objects.filter(event=event, team__isnull=False).values_list(
                "team__members__user_id", flat=True
            )
        )
        user_ids.discard(None)
        awarded += sum(hooks.event_finished.send(event=event, user_ids=user_ids))
    return awarded


def participation_disqualify(*, participation: EventParticipation, actor, reason: str) -> EventParticipation:
    """Take a participant off the board (admin), with the reason in the audit log."""
    if not actor or not actor.is_platform_admin:
        raise PermissionDenied("Only admins may disqualify.")
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed("Give the reason for the disqualification.", fields={"reason": ["Required."]})
    with transaction.atomic():
        event = event_locked(participation.event)
        participation = EventParticipation.objects.select_for_update().get(pk=participation.pk)
        if participation.disqualified:
            raise Conflict("This participant is already disqualified.")
        participation.disqualified = True
        participation.disqualified_reason = reason.strip()[:500]
        participation.disqualified_at = timezone.now()
        participation.rank = None
        participation.save(update_fields=["disqualified", "disqualified_reason", "disqualified_at", "rank"])
        if participation.team_id:
            # The team's standing across events loses what it scored here.
            Team.objects.filter(pk=participation.team_id).update(
                event_points=F("event_points") - participation.total_points
            )
        rank_recompute(event=event)
        audit_record(
            actor=actor,
            action=AuditAction.EVENT_DISQUALIFY,
            target=participation,
            details={
                "event": str(event.pk),
                "reason": participation.disqualified_reason,
                "points": participation.total_points,
            },
        )
        transaction.on_commit(lambda: scoreboard_publish(event_id=event.pk))
    return participation
