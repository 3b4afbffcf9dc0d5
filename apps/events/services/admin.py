"""Events as organisers edit them in the admin: the event row and its challenges."""

from __future__ import annotations

import logging

from django.db import transaction

from apps.events.models import Event, EventDivision, EventParticipation, EventScenario
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
        elif "end_date" in (changed or []):
            # A new end gets its own warning before the labs stop.
            event.labs_warned_at = None
        event.save()
        audit_record(
            actor=actor,
            action=AuditAction.EVENT_CREATE if creating else AuditAction.EVENT_UPDATE,
            target=event,
            details={"changed": changed or []},
        )
        transaction.on_commit(lambda: scoreboard_publish(event_id=event.pk))
    return event


def event_set_paused(*, event: Event, actor, paused: bool) -> Event:
    """Pause an event (answers, hints and new labs are refused) or resume it; audited, boards refreshed."""
    return _toggle(event, actor, "is_paused", paused, AuditAction.EVENT_PAUSE, AuditAction.EVENT_RESUME)


def event_set_public(*, event: Event, actor, public: bool) -> Event:
    """Show an event to everyone or hide it (then only admins see it); audited."""
    return _toggle(event, actor, "is_public", public, AuditAction.EVENT_SHOW, AuditAction.EVENT_HIDE)


def _toggle(event: Event, actor, field: str, value: bool, on, off) -> Event:
    if not getattr(actor, "is_platform_admin", False):
        raise PermissionDenied("Only admins may change events.")
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        if getattr(event, field) == value:
            return event
        setattr(event, field, value)
        event.save(update_fields=[field, "updated_at"])
        audit_record(actor=actor, action=on if value else off, target=event, details={"name": event.name})
        transaction.on_commit(lambda: scoreboard_publish(event_id=event.pk))
    return event


def event_divisions_save(*, event: Event, actor, saved: list[EventDivision], removed: list[EventDivision]) -> None:
    """Add, rename and remove ``event``'s divisions (the admin's inline); a division with participants stays."""
    if not saved and not removed:
        return
    with transaction.atomic():
        for row in removed:
            if EventParticipation.objects.filter(division_id=row.pk).exists():
                raise Conflict(f"Participants play in the division {row.name}; it cannot be removed.")
            row.delete()
        for row in saved:
            row.event = event
            full_clean_or_raise(row)
            row.save()
        audit_record(
            actor=actor,
            action=AuditAction.EVENT_DIVISIONS,
            target=event,
            details={"saved": [r.name for r in saved], "removed": [r.name for r in removed]},
        )
        transaction.on_commit(lambda: scoreboard_publish(event_id=event.pk))


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
                "saved": [
                    {
                        "version": str(r.scenario_version_id),
                        "sort_order": r.sort_order,
                        "release_at": r.release_at.isoformat() if r.release_at else None,
                    }
                    for r in saved
                ],
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
