"""Pre-warming an event's labs for its start: a warm-pool window per lab challenge, sized from who registered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from apps.environments import services as env_services
from apps.events.models import Event, EventFormat
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import ApplicationError, ValidationFailed

LEAD_MINUTES = 5
HOLD_MINUTES = 30


@dataclass
class PrewarmLine:
    """One lab challenge of the plan: how many labs, when, what it costs an hour, and the outcome."""

    title: str
    scenario_id: object
    count: int
    hourly_rm: Decimal
    outcome: str = ""
    ok: bool = True


def event_expected_players(event: Event) -> int:
    """Return how many labs a challenge needs at the start: registered users, or teams in a team event."""
    registrations = event.registrations.all()
    if event.format == EventFormat.TEAM:
        return registrations.exclude(team=None).values("team").distinct().count()
    return registrations.values("user").distinct().count()


def event_prewarm_plan(*, event: Event, count: int | None = None) -> list[PrewarmLine]:
    """Return the plan for every lab challenge open at the start (released by then, with machines)."""
    players = event_expected_players(event) if count is None else count
    lines = []
    for challenge in event.scenarios.select_related("scenario_version__scenario").order_by("sort_order"):
        version = challenge.scenario_version
        if not version.requires_machines:
            continue
        if challenge.release_at is not None and challenge.release_at > event.start_date:
            continue
        lines.append(
            PrewarmLine(
                title=version.title,
                scenario_id=version.scenario_id,
                count=players,
                hourly_rm=(env_services.version_hourly_rm(version) * players).quantize(Decimal("0.01")),
            )
        )
    return lines


def event_prewarm(
    *, event: Event, actor, count: int | None = None, lead_minutes: int = LEAD_MINUTES, hold_minutes: int = HOLD_MINUTES
) -> list[PrewarmLine]:
    """Give every lab challenge open at the start a pool window from ``lead_minutes`` before the start
    to ``hold_minutes`` after it, of ``count`` labs (default: the registered players or teams).

    Each challenge is judged on its own (a pool over the budget is refused with its reason); the
    lines say what happened to each. Running it again replaces the event's windows.
    """
    if count is not None and count < 1:
        raise ValidationFailed(_("Pre-warm at least one lab."), fields={"count": [_("At least 1.")]})
    lines = event_prewarm_plan(event=event, count=count)
    if not lines:
        raise ValidationFailed(_("This event has no lab challenge open at its start; there is nothing to pre-warm."))
    if lines[0].count < 1:
        raise ValidationFailed(
            _("Nobody has registered yet, so there is nothing to size the pools from; enter a number of labs."),
            fields={"count": [_("Enter how many labs each challenge should have ready.")]},
        )
    starts_at = event.start_date - timedelta(minutes=lead_minutes)
    ends_at = event.start_date + timedelta(minutes=hold_minutes)
    for line in lines:
        try:
            with transaction.atomic():
                window = env_services.pool_prewarm(
                    scenario_id=line.scenario_id,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    min_ready=line.count,
                    note=f"Start of {event.name}"[:255],
                )
                audit_record(
                    actor=actor,
                    action=AuditAction.POOL_PREWARM,
                    target=window.pool,
                    details={"event": str(event.pk), "count": line.count, "from": str(starts_at), "to": str(ends_at)},
                )
            line.outcome = f"{line.count} ready from {starts_at:%H:%M} to {ends_at:%H:%M} UTC"
        except ApplicationError as exc:
            line.ok, line.outcome = False, exc.message
    return lines
