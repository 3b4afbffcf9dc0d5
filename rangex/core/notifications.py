"""Notifications: the one entry point every app uses to tell a user something.

A notification is a row the user sees in the page header (its unread count is pushed live over
Channels), and an email when the user's preferences ask for that type.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from rangex.core.errors import ValidationFailed
from rangex.core.models import Notification, NotificationType
from rangex.core.scheduling import enqueue

logger = logging.getLogger(__name__)


def user_group(user_id) -> str:
    """Return the Channels group that reaches every open page of one user."""
    return f"user-{user_id}"


def email_send(*, to: str, subject: str, body: str) -> None:
    """Send a plain-text email when the surrounding transaction commits (retried by the task)."""
    enqueue("rangex.core.tasks.send_email", to=to, subject=subject, body=body)


def notification_send(*, user, type: str, title: str, body: str = "", link: str = "") -> Notification:
    """Create an in-app notification; email it when the user's preferences say so."""
    if type not in NotificationType.values:
        raise ValidationFailed(f"Unknown notification type {type!r}.")
    notification = Notification.objects.create(user=user, type=type, title=title[:200], body=body, link=link)
    if user.wants_email_for(type):
        text = body + (f"\n\n{settings.SITE_URL}{link}" if link else "")
        email_send(to=user.email, subject=f"[RangeX] {title}", body=text)
    transaction.on_commit(lambda: _push_unread_count(user.pk))
    return notification


def notification_mark_read(*, user, notification_ids: list | None = None) -> int:
    qs = Notification.objects.filter(user=user, is_read=False)
    if notification_ids is not None:
        qs = qs.filter(pk__in=notification_ids)
    changed = qs.update(is_read=True)
    if changed:
        transaction.on_commit(lambda: _push_unread_count(user.pk))
    return changed


def _push_unread_count(user_id) -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    count = Notification.objects.filter(user_id=user_id, is_read=False).count()
    try:
        async_to_sync(layer.group_send)(user_group(user_id), {"type": "notify.unread", "unread": count})
    except Exception:  # A push is a courtesy; the page shows the count on its next load anyway.
        logger.warning("could not push the unread count", exc_info=True)
