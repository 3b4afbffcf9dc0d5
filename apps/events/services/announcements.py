"""Announcements: organisers tell every participant something, on the event's open pages and by notification."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.events.models import Event, EventAnnouncement, EventParticipation
from apps.events.services.common import participant_users
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import PermissionDenied, ValidationFailed
from rangex.core.markdown import render_markdown
from rangex.core.models import NotificationType
from rangex.core.notifications import notification_send

logger = logging.getLogger(__name__)

MAX_BODY = 5000


def announcement_group(event_id) -> str:
    return f"event-{event_id}-announcements"


def event_announce(*, event: Event, actor, title: str, body: str = "") -> EventAnnouncement:
    """Post an announcement: kept in the event's list, pushed to its open pages, notified to every participant."""
    if not getattr(actor, "is_platform_admin", False):
        raise PermissionDenied(_("Only admins may announce."))
    title = title.strip() if isinstance(title, str) else ""
    body = body.strip() if isinstance(body, str) else ""
    if not title:
        raise ValidationFailed(_("Give the announcement a title."), fields={"title": [_("Required.")]})
    if len(title) > 200 or len(body) > MAX_BODY:
        raise ValidationFailed(
            _("An announcement has a title of at most 200 characters and a text of at most %(MAX_BODY)s.")
            % {"MAX_BODY": MAX_BODY},
            fields={"body": [_("Too long.")]},
        )
    with transaction.atomic():
        announcement = EventAnnouncement.objects.create(
            event=event, title=title, body=body, created_by=actor, created_at=timezone.now()
        )
        recipients = {}
        for participation in EventParticipation.objects.filter(event=event).select_related("user", "event"):
            for user in participant_users(participation):
                recipients[user.pk] = user
        for user in recipients.values():
            notification_send(
                user=user,
                type=NotificationType.EVENT,
                title=format_lazy(gettext_lazy("{name}: {title}"), name=event.name, title=title),
                body=body,
                link=f"{event.get_absolute_url()}announcements/",
            )
        audit_record(
            actor=actor,
            action=AuditAction.EVENT_ANNOUNCE,
            target=event,
            details={"announcement": announcement.pk, "title": title, "recipients": len(recipients)},
        )
        transaction.on_commit(lambda: _push(announcement))
    return announcement


def _push(announcement: EventAnnouncement) -> None:
    """Send the announcement to every open page of its event; never fails the caller."""
    try:
        from asgiref.sync import async_to_sync
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        if layer is None:
            return
        message = {
            "type": "event.announcement",
            "announcement": {
                "id": announcement.pk,
                "title": announcement.title,
                "body_html": str(render_markdown(announcement.body)),
                "created_at": announcement.created_at.isoformat(),
                "label": announcement.event.local_label(announcement.created_at),
            },
        }
        async_to_sync(layer.group_send)(announcement_group(announcement.event_id), message)
    except Exception:
        logger.warning("announcement push for event %s failed", announcement.event_id, exc_info=True)
