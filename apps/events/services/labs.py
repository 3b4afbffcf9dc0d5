"""Labs follow the event: a warning some minutes before the end, and every event lab stops at the end.

Run periodically (``apps.ops.beat``); both steps are idempotent, so overlapping runs act once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from apps.environments.models import EnvironmentSession, SessionStatus
from apps.events.models import Event
from rangex.core.audit import AuditAction, audit_record
from rangex.core.models import NotificationType
from rangex.core.notifications import notification_send

logger = logging.getLogger(__name__)

WARNING_MINUTES = 10
RUNNING_LAB = (SessionStatus.STARTING, SessionStatus.RUNNING, SessionStatus.PAUSED)


def _event_labs(event_ids):
    return EnvironmentSession.objects.filter(event_id__in=list(event_ids), status__in=RUNNING_LAB, is_test=False)


def event_labs_warn(*, now=None, minutes: int = WARNING_MINUTES) -> int:
    """Warn the players of events that end within ``minutes`` that their labs stop then; return labs warned."""
    from apps.environments.services.common import push

    now = now or timezone.now()
    warned = 0
    ending = Event.objects.filter(end_date__gt=now, end_date__lte=now + timedelta(minutes=minutes))
    for event in ending.filter(labs_warned_at__isnull=True):
        with transaction.atomic():
            # A conditional update: of two workers, one warns.
            if not Event.objects.filter(pk=event.pk, labs_warned_at__isnull=True).update(labs_warned_at=now):
                continue
            labs = list(_event_labs([event.pk]).select_related("user"))
            left = max(1, round((event.end_date - now).total_seconds() / 60))
            message = format_lazy(
                gettext_lazy(
                    "{name} ends in about {left} minute(s), at {local_label}; "
                    "its labs stop then. Your answers and points are kept."
                ),
                name=event.name,
                left=left,
                local_label=event.local_label(event.end_date),
            )
            for lab in labs:
                notification_send(
                    user=lab.user,
                    type=NotificationType.EVENT,
                    title=gettext_lazy("Your event lab stops soon"),
                    body=message,
                    link=f"/sessions/{lab.pk}/",
                )
                page = {"type": "idle_warning", "message": str(message)}
                transaction.on_commit(lambda lab_id=lab.pk, page=page: push(lab_id, page))
            audit_record(actor=None, action=AuditAction.EVENT_LABS_WARNED, target=event, details={"labs": len(labs)})
            warned += len(labs)
    return warned


def event_labs_stop_ended(*, now=None) -> int:
    """Stop every lab of an event that has ended; return how many this call stopped."""
    from apps.environments.services import env_session_stop_for_platform

    now = now or timezone.now()
    live = _event_labs(
        EnvironmentSession.objects.filter(event_id__isnull=False, status__in=RUNNING_LAB)
        .values_list("event_id", flat=True)
        .distinct()
    )
    ended = {e.pk: e for e in Event.objects.filter(pk__in=live.values("event_id"), end_date__lte=now)}
    stopped: dict = {}
    for lab in live.filter(event_id__in=list(ended)):
        event = ended[lab.event_id]
        # Outside any transaction: the stop queues the runtime's teardown on its own commit.
        if env_session_stop_for_platform(session=lab, reason=f"{event.name} ended; its labs stop with it."):
            stopped[event.pk] = stopped.get(event.pk, 0) + 1
    for event_id, count in stopped.items():
        audit_record(
            actor=None, action=AuditAction.EVENT_LABS_STOPPED, target=ended[event_id], details={"stopped": count}
        )
    return sum(stopped.values())


def event_labs_follow(*, now=None) -> dict[str, int]:
    """The periodic step: warn before the end, stop after it."""
    return {"warned": event_labs_warn(now=now), "stopped": event_labs_stop_ended(now=now)}
