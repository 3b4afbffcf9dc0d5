"""Alerts to operators: one ``alert_send`` that records every delivery in ``alert_logs``.

Each recipient on each channel (an admin address by email, the Slack webhook) is one row.
Rows are written at once; delivery runs after the commit in a task that retries with backoff,
so an unreachable SMTP server or webhook is a recorded failure, never a crashed caller.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from datetime import UTC, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext

from apps.ops.models import AlertLog
from rangex.core.notifications import recipient_language
from rangex.core.scheduling import enqueue
from rangex.core.system import get_settings

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
DEDUPE_MINUTES = 60
WEBHOOK_TIMEOUT_SECONDS = 5


def alert_send(
    *,
    alert_type: str,
    subject: Any,
    message: Any = "",
    priority: str = AlertLog.Priority.MEDIUM,
    metadata: dict[str, Any] | None = None,
    dedupe_key: str = "",
    dedupe_minutes: int = DEDUPE_MINUTES,
    queue: bool = True,
    link: str = "",
    next_step: str = "",
) -> list[AlertLog]:
    """Record an alert for every admin address and the Slack webhook, and queue the deliveries.

    The message carries its context, so an operator paged at night knows where and what: the
    instance, the time, what happened (``message``), a link to the admin page (``link``, a path)
    and the next step (``next_step``).

    An alert with the same ``dedupe_key`` within ``dedupe_minutes`` is not sent again. Error
    alerts are sent only when ``send_error_notifications`` is on. Return the rows created.
    With ``queue=False`` nothing is queued: the caller delivers them itself (``alert_deliver``).

    ``subject``, ``message`` and ``next_step`` may be lazy strings: each email row is written in the
    language of the account with that address (the default language for others and for Slack).
    """
    conf = get_settings()
    if alert_type == AlertLog.AlertType.ERROR and not conf.send_error_notifications:
        return []
    now = timezone.now()
    metadata = {**(metadata or {}), "link": link, "next_step": str(next_step)}
    targets = [(AlertLog.Channel.EMAIL, address) for address in conf.admin_email_list]
    webhook = str(conf.slack_webhook_url or "")
    if webhook:
        targets.append((AlertLog.Channel.SLACK, _redact_url(webhook)))
    if not targets:
        logger.warning("alert %r not sent: no admin_emails and no slack_webhook_url", subject)
        return []
    with transaction.atomic():
        if dedupe_key:
            # The lock on the settings row serialises senders of one key, so two workers raising
            # the same alert at once record it once.
            from rangex.core.models import SystemSettings

            SystemSettings.objects.select_for_update().filter(pk=SystemSettings.SINGLETON_ID).first()
            recent = AlertLog.objects.filter(
                dedupe_key=dedupe_key[:191], created_at__gte=now - timedelta(minutes=dedupe_minutes)
            )
            if recent.exists():
                return []
        rows = []
        for channel, recipient in targets:
            language = recipient_language(email=recipient) if channel == AlertLog.Channel.EMAIL else None
            with translation.override(language or settings.LANGUAGE_CODE):
                text = alert_context(str(message), now=now, link=link, next_step=str(next_step))
                row = AlertLog.objects.create(
                    alert_type=alert_type,
                    priority=priority,
                    channel=channel,
                    recipient=recipient[:255],
                    subject=str(subject)[:255],
                    message=text,
                    metadata=metadata or {},
                    dedupe_key=dedupe_key[:191],
                    created_at=now,
                )
            rows.append(row)

        for row in rows if queue else []:
            enqueue("apps.ops.tasks.alert_deliver_task", row.pk)
    return rows


def alert_context(message: str, *, now, link: str = "", next_step: str = "") -> str:
    """Return ``message`` followed by the instance, the time, the admin link and the next step."""
    site = settings.SITE_URL.rstrip("/")
    lines = [message.strip()] if message.strip() else []
    lines += [
        "",
        gettext("Instance: %(instance)s (%(site)s)") % {"instance": settings.RANGEX_INSTANCE, "site": site},
        gettext("Time: %(time)s UTC") % {"time": f"{now.astimezone(UTC):%Y-%m-%d %H:%M:%S}"},
    ]
    if link:
        lines.append(gettext("Admin: %(url)s") % {"url": f"{site}{link}"})
    if next_step:
        lines.append(gettext("Next step: %(step)s") % {"step": next_step})
    return "\n".join(lines).strip()


def alert_subject(alert: AlertLog) -> str:
    return f"[RangeX {settings.RANGEX_INSTANCE}] {alert.subject}"


def _redact_url(url: str) -> str:
    """Return the webhook's scheme and host only: the path of a Slack webhook is its secret."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.netloc else "(malformed webhook URL)"


def alert_deliver(*, alert_id: int) -> AlertLog | None:
    """Try one delivery of a pending alert. Return the row; its status says what happened.

    On failure the row stays ``pending`` with ``retry_count`` raised until ``MAX_ATTEMPTS``,
    then becomes ``failed``. A row that is no longer pending (sent by a racing worker) is left alone.
    """
    alert = AlertLog.objects.filter(pk=alert_id).first()
    if alert is None or alert.status != AlertLog.Status.PENDING:
        return alert
    try:
        if alert.channel == AlertLog.Channel.EMAIL:
            send_mail(alert_subject(alert), alert.message, settings.DEFAULT_FROM_EMAIL, [alert.recipient])
        else:
            _post_webhook(str(get_settings().slack_webhook_url or ""), alert)
    except Exception as exc:
        attempts = alert.retry_count + 1
        status = AlertLog.Status.FAILED if attempts >= MAX_ATTEMPTS else AlertLog.Status.PENDING
        AlertLog.objects.filter(pk=alert_id, status=AlertLog.Status.PENDING).update(
            retry_count=F("retry_count") + 1, status=status, error_message=str(exc)[:2000]
        )
        logger.warning("alert %s delivery attempt %s failed: %s", alert_id, attempts, exc)
    else:
        AlertLog.objects.filter(pk=alert_id, status=AlertLog.Status.PENDING).update(
            status=AlertLog.Status.SENT, sent_at=timezone.now(), error_message=""
        )
    alert.refresh_from_db()
    return alert


def alert_deliver_until_done(*, alert_id: int) -> AlertLog | None:
    """Deliver a pending alert now, retrying up to ``MAX_ATTEMPTS``: it ends ``sent`` or ``failed``, never pending."""
    alert = alert_deliver(alert_id=alert_id)
    while alert is not None and alert.status == AlertLog.Status.PENDING:
        alert = alert_deliver(alert_id=alert_id)
    return alert


STALE_PENDING_MINUTES = 15


def alerts_retry_stale(*, now=None, older_than_minutes: int = STALE_PENDING_MINUTES) -> dict[str, int]:
    """Try again the alerts left pending (their delivery task was lost); each ends sent or failed in time.

    A row gets one more attempt per pass, so after ``MAX_ATTEMPTS`` attempts in all it is
    ``failed`` with its last error, and the dashboard shows it so.
    """
    now = now or timezone.now()
    stale = AlertLog.objects.filter(
        status=AlertLog.Status.PENDING, created_at__lte=now - timedelta(minutes=older_than_minutes)
    ).values_list("pk", flat=True)
    counts = {"retried": 0, "sent": 0, "failed": 0}
    for alert_id in list(stale[:200]):
        alert = alert_deliver(alert_id=alert_id)
        counts["retried"] += 1
        if alert is not None and alert.status in (AlertLog.Status.SENT, AlertLog.Status.FAILED):
            counts[alert.status] += 1
    return counts


def _post_webhook(url: str, alert: AlertLog) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("The Slack webhook URL is malformed (expected http(s)://host/...).")
    body = json.dumps({"text": f"*[{alert.priority.upper()}] {alert_subject(alert)}*\n{alert.message}"}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")  # noqa: S310 (scheme checked above)
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(url, response.status, "webhook refused the alert", response.headers, None)


def task_failure_alert(sender=None, task_id=None, exception=None, **kwargs) -> None:
    """Alert the admins when a Celery task fails for good (only with ``send_error_notifications``)."""
    name = getattr(sender, "name", str(sender))
    try:
        alert_send(
            alert_type=AlertLog.AlertType.ERROR,
            priority=AlertLog.Priority.HIGH,
            subject=f"Task {name} failed",
            message=f"{type(exception).__name__}: {exception}",
            metadata={"task": name, "task_id": task_id},
            dedupe_key=f"task-failure:{name}",
            link="/admin/core/job/",
            next_step=f"Find task id {task_id} in the worker's log for the traceback; the task's own "
            "retries have stopped, so run its command again once the cause is fixed.",
        )
    except Exception:
        logger.exception("could not record the failure alert of task %s", name)
