"""Notifications: the one entry point every app uses to tell a user something.

A notification is a row the user sees in the page header (its unread count is pushed live over
Channels), and an email when the user's preferences ask for that type.

Both are written in the recipient's language: callers pass titles and bodies as lazy strings
(``gettext_lazy``, ``format_lazy``), which are rendered here under ``User.language`` (the
default language when it is empty) and stored or sent as plain text.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import translation

from rangex.core.errors import ValidationFailed
from rangex.core.models import Notification, NotificationType
from rangex.core.scheduling import enqueue

logger = logging.getLogger(__name__)


def user_group(user_id) -> str:
    """Return the Channels group that reaches every open page of one user."""
    return f"user-{user_id}"


def recipient_language(user=None, *, email: str = "") -> str:
    """The language to write to a user (or to the account behind ``email``): theirs, else the default."""
    if user is None and email:
        user = get_user_model().objects.filter(email__iexact=email).only("language").first()
    language = getattr(user, "language", "") or ""
    codes = {code for code, _name in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


def render_in(language: str, value: Any) -> str:
    """Render a (lazy) string in ``language``."""
    with translation.override(language):
        return str(value)


def email_send(*, to: str, subject: Any, body: Any, language: str | None = None) -> None:
    """Send a plain-text email when the surrounding transaction commits (retried by the task).

    ``subject`` and ``body`` may be lazy strings: they are rendered in ``language``, by default the
    language of the account with the address ``to``.
    """
    language = language or recipient_language(email=to)
    with translation.override(language):
        subject, body = str(subject), str(body)
    enqueue("rangex.core.tasks.send_email", to=to, subject=subject, body=body)


def notification_send(*, user, type: str, title: Any, body: Any = "", link: str = "") -> Notification:
    """Create an in-app notification in the user's language; email it when their preferences say so."""
    if type not in NotificationType.values:
        raise ValidationFailed(f"Unknown notification type {type!r}.")
    language = recipient_language(user)
    with translation.override(language):
        title, body = str(title), str(body)
    notification = Notification.objects.create(user=user, type=type, title=title[:200], body=body, link=link)
    if user.wants_email_for(type):
        text = body + (f"\n\n{settings.SITE_URL}{link}" if link else "")
        email_send(to=user.email, subject=f"[RangeX] {title}", body=text, language=language)
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
