"""Events as organisers edit them in the admin: the event row and its challenges."""

from __future__ import annotations

import logging

from django.db import transaction

from apps.events.models import Event, EventParticipation, EventScenario
from apps.events.services.scoreboard import scoreboard_publish
from rangex.core.audit import AuditAction, audit_record, full_clean_or_raise
from rangex.core.errors import Conflict, PermissionDenied

logger = logging.getLogger(__name__)


def event_save(*, event: Event, actor, changed: list[str] | None = None) -> Event:
    """Validate and save an event the admin created or edited; audit it and refresh its board."""
    full_clean_or_raise(event)
    creating = event._state.adding
    with transaction.atomic():
        if creating:
            event.created_by_user = event.created_by_user or actor
            event.save()
        else:
            event.save()
        audit_record(
            actor=actor,
            action=AuditAction.EVENT_CREATE if creating else AuditAction.EVENT_UPDATE,
            target=event,
            details={"changed": changed or []},
        )
        transaction.on_commit(lambda: scoreboard_publish(event_id=event.pk))
    return event


def event_challenges_save(*, event: Event, actor, saved: list[EventScenario], removed: list[EventScenario]) -> None:
    """Add, reorder and remove ``event``'s challenges (the admin's inline), with an audit row.

    The scoreboard's task list is cached with the board, so the open pages get a fresh one.
    """
    if not saved and not removed:
        return
    with transaction.atomic():
        for row in removed:
            row.delete()
        for row in saved:
            row.event = event
            full_clean_or_raise(row)
            row.save()
        audit_record(
            actor=actor,
            action=AuditAction.EVENT_CHALLENGES,
            target=event,
            details={
                "saved": [{"version": str(r.scenario_version_id), "sort_order": r.sort_order} for r in saved],
                "removed": [str(r.scenario_version_id) for r in removed],
            },
        )
        transaction.on_commit(lambda: scoreboard_publish(event_id=event.pk))


@transaction.atomic
def event_delete(*, event: Event, actor) -> None:
    """Delete an event nobody has registered for; one with participants keeps its results (hide it instead)."""
    if not getattr(actor, "is_platform_admin", False):
        raise PermissionDenied("Only admins may delete events.")
    event = Event.objects.select_for_update().get(pk=event.pk)
    if EventParticipation.objects.filter(event=event).exists():
        raise Conflict(f"{event.name} has participants and results; it cannot be deleted.")
    audit_record(actor=actor, action=AuditAction.EVENT_DELETE, target=event, details={"name": event.name})
    event.delete()


def team_has_event_results(*, team) -> bool:
    """A ``teams.team_deleting`` receiver: a team that played in an event stays with its results."""
    return EventParticipation.objects.filter(team=team).exists()
