"""Liveness of the Celery worker and beat: their heartbeats, and an alert when one stops.

Each process watches the other, so one that stops is reported by the one still running:

- beat runs ``LivenessScheduler`` (``CELERY_BEAT_SCHEDULER``): every tick records beat's heartbeat,
  and beat alerts when the worker's heartbeat is stale;
- every worker starts a small thread when it is ready: every ``heartbeat_seconds()`` it sends
  ``heartbeat_task`` through the broker (a pool process that runs it records the worker's heartbeat,
  so the heartbeat proves the worker consumes its queue, not only that the process exists), and it
  alerts when beat's heartbeat is stale.

``health_check`` (the command an operator's cron runs) alerts about both as well.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections
from django_celery_beat.schedulers import DatabaseScheduler

from apps.ops.alerts import alert_send
from apps.ops.models import AlertLog
from rangex.core.heartbeats import BEAT, STALE_SECONDS, WORKER, heartbeat_age, heartbeat_record

logger = logging.getLogger(__name__)


def heartbeat_seconds() -> int:
    """How often beat and each worker record their heartbeat (``RANGEX_HEARTBEAT_SECONDS``, 30 by default)."""
    return settings.RANGEX_HEARTBEAT_SECONDS


HEARTBEAT_TASK = "apps.ops.tasks.heartbeat_task"

NEXT_STEP = {
    WORKER: "Start the Celery worker (docker compose: `bash deploy/prod.sh compose up -d worker`) and read its log.",
    BEAT: "Start Celery beat (docker compose: `bash deploy/prod.sh compose up -d beat`) and read its log.",
}


def liveness_expected(name: str) -> bool:
    """Whether a separate process ``name`` should be heartbeating in this configuration.

    With eager tasks there is no worker. Without Redis the cache is private to each process and beat
    runs inside the web process (``rangex.embedded_beat``), so another process cannot see it.
    """
    if name == WORKER:
        return not settings.CELERY_TASK_ALWAYS_EAGER
    return bool(settings.REDIS_URL)


def liveness_state(name: str, *, now: float | None = None) -> dict:
    """Return ``{"status": ok|down|skipped, "age_seconds", "message"}`` of process ``name``."""
    if not liveness_expected(name):
        return {"status": "skipped", "age_seconds": None, "message": f"No separate {name} in this configuration."}
    age = heartbeat_age(name, now=now)
    if age is None:
        return {"status": "down", "age_seconds": None, "message": f"No {name} heartbeat has ever been recorded."}
    if age >= STALE_SECONDS:
        return {
            "status": "down",
            "age_seconds": round(age),
            "message": f"The last {name} heartbeat is {age:.0f} s old.",
        }
    return {"status": "ok", "age_seconds": round(age), "message": f"{name} heartbeat {age:.0f} s ago."}


def liveness_alert_if_stale(name: str, *, now: float | None = None) -> bool:
    """Alert the admins (once an hour) when process ``name`` should heartbeat and does not.

    Return whether it is down.
    """
    state = liveness_state(name, now=now)
    if state["status"] != "down":
        return False
    alert_send(
        alert_type=AlertLog.AlertType.HEALTH,
        priority=AlertLog.Priority.CRITICAL,
        subject=f"The Celery {name} stopped heartbeating",
        message=f"{state['message']} {NEXT_STEP[name]}",
        metadata={"process": name, "age_seconds": state["age_seconds"]},
        dedupe_key=f"liveness:{name}",
    )
    return True


def beat_tick(*, started: float, now: float | None = None) -> None:
    """Record beat's heartbeat; alert about the worker once beat has run longer than the stale limit."""
    now = time.time() if now is None else now
    heartbeat_record(BEAT, at=now)
    if now - started >= STALE_SECONDS:
        liveness_alert_if_stale(WORKER, now=now)


class LivenessScheduler(DatabaseScheduler):
    """django-celery-beat's scheduler, recording beat's heartbeat at least every ``heartbeat_seconds()``."""

    def __init__(self, *args, **kwargs):
        self._liveness_started = time.time()
        self._liveness_last = 0.0
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs):
        if time.monotonic() - self._liveness_last >= heartbeat_seconds():
            self._liveness_last = time.monotonic()
            try:
                beat_tick(started=self._liveness_started)
            except Exception:
                # A heartbeat must never stop the schedule.
                logger.exception("beat could not record its heartbeat")
        return min(super().tick(*args, **kwargs), heartbeat_seconds())


def worker_tick(*, app, started: float, now: float | None = None) -> None:
    """Send the heartbeat task through the broker; alert about beat once the worker has run long enough."""
    now = time.time() if now is None else now
    app.send_task(HEARTBEAT_TASK, expires=heartbeat_seconds() * 2)
    if now - started >= STALE_SECONDS:
        liveness_alert_if_stale(BEAT, now=now)


def worker_ready(sender=None, **kwargs) -> None:
    """Start the worker's heartbeat thread (the ``worker_ready`` signal)."""
    app = sender.app
    heartbeat_record(WORKER)
    started = time.time()

    def run():
        while True:
            close_old_connections()
            try:
                worker_tick(app=app, started=started)
            except Exception:
                logger.exception("the worker could not send its heartbeat")
            time.sleep(heartbeat_seconds())

    threading.Thread(target=run, name="rangex-heartbeat", daemon=True).start()


def liveness_alerts_check() -> list[str]:
    """Alert about every expected process that stopped heartbeating; return their names."""
    return [name for name in (WORKER, BEAT) if liveness_alert_if_stale(name)]
