"""Disqualification, and what happens when an event ends."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.events import hooks
from apps.events.models import (
    Event,
    EventParticipation,
)
from apps.events.services.common import event_locked, participant_users
from apps.events.services.ranking import rank_recompute
from apps.events.services.scoreboard import scoreboard_publish
from apps.teams.models import Team
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import Conflict, PermissionDenied, ValidationFailed
from rangex.core.models import NotificationType
from rangex.core.notifications import notification_send

logger = logging.getLogger(__name__)


def events_award_finished(*, within_hours: int = 2) -> int:
    """Tell the badges app about the events that ended in the last ``within_hours``.

    Run periodically; awarding is idempotent, so overlapping windows only cost a re-check.
    """
    from datetime import timedelta

    from apps.events.selectors import event_participant_user_ids

    now = timezone.now()
    awarded = 0
    for event in Event.objects.filter(end_date__lte=now, end_date__gte=now - timedelta(hours=within_hours)):
        awarded += sum(hooks.event_finished.send(event=event, user_ids=event_participant_user_ids(event=event)))
    return awarded


def _require_reason(actor, reason, what: str) -> str:
    if not actor or not actor.is_platform_admin:
        raise PermissionDenied(_("Only admins may %(what)s.") % {"what": what})
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed(_("Give the reason to %(what)s.") % {"what": what}, fields={"reason": [_("Required.")]})
    return reason.strip()[:500]


def _tell(participation, title: str, body: str) -> None:
    for user in participant_users(participation):
        notification_send(
            user=user, type=NotificationType.EVENT, title=title, body=body, link=participation.event.get_absolute_url()
        )


def _standings_changed(event: Event) -> None:
    """After the commit: new boards for the open pages, and the receivers (badges) recompute what they gave."""
    scoreboard_publish(event_id=event.pk)
    for receiver in hooks.standings_changed.receivers:
        try:
            receiver(event=event)
        except Exception:
            logger.exception("standings receiver %s failed for event %s", receiver, event.pk)


def participation_disqualify(*, participation: EventParticipation, actor, reason: str) -> EventParticipation:
    """Take a participant off the board (admin): told the reason, audited, badges and ranks recomputed."""
    reason = _require_reason(actor, reason, _("disqualify"))
    with transaction.atomic():
        event = event_locked(participation.event)
        participation = EventParticipation.objects.select_for_update().select_related("event").get(pk=participation.pk)
        if participation.disqualified:
            raise Conflict(_("This participant is already disqualified."))
        participation.disqualified = True
        participation.disqualified_reason = reason
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
            details={"event": str(event.pk), "reason": reason, "points": participation.total_points},
        )
        who = "Your team was" if participation.team_id else "You were"
        _tell(
            participation,
            format_lazy(gettext_lazy("{who} disqualified from {name}"), who=who, name=event.name),
            format_lazy(gettext_lazy("Reason: {reason}"), reason=reason),
        )
        transaction.on_commit(lambda: _standings_changed(event))
    return participation


def participation_reinstate(*, participation: EventParticipation, actor, reason: str) -> EventParticipation:
    """Put a disqualified participant back on the board (admin), with its points: told, audited, recomputed."""
    reason = _require_reason(actor, reason, _("reinstate"))
    with transaction.atomic():
        event = event_locked(participation.event)
        participation = EventParticipation.objects.select_for_update().select_related("event").get(pk=participation.pk)
        if not participation.disqualified:
            raise Conflict(_("This participant is not disqualified."))
        previous = participation.disqualified_reason
        participation.disqualified = False
        participation.disqualified_reason = ""
        participation.disqualified_at = None
        participation.save(update_fields=["disqualified", "disqualified_reason", "disqualified_at"])
        if participation.team_id:
            Team.objects.filter(pk=participation.team_id).update(
                event_points=F("event_points") + participation.total_points
            )
        rank_recompute(event=event)
        audit_record(
            actor=actor,
            action=AuditAction.EVENT_REINSTATE,
            target=participation,
            details={"event": str(event.pk), "reason": reason, "disqualified_for": previous},
        )
        who = "Your team is" if participation.team_id else "You are"
        _tell(
            participation,
            format_lazy(gettext_lazy("{who} back in {name}"), who=who, name=event.name),
            format_lazy(gettext_lazy("Reason: {reason}"), reason=reason),
        )
        transaction.on_commit(lambda: _standings_changed(event))
    participation.refresh_from_db(fields=["rank"])
    return participation
