"""The periodic schedule inside the web process, for the embedded default (no broker, no beat).

Production runs ``celery beat``. An install started with ``deploy/run.sh`` has no beat process, yet
its labs must expire, idle ones stop, orphans be swept and badges be awarded all the same. So the
web process of the embedded default runs Celery's own beat service on a thread, with the same
scheduler production uses (django-celery-beat's ``DatabaseScheduler``): the same entries
(``apps.ops.beat.SCHEDULE``, seeded by the migrations), from the same database table, at the same
intervals (an admin's change in *Periodic tasks* applies here too). With eager tasks, a due task
runs on the beat thread itself.

It starts once per process, only when ``RANGEX_EMBEDDED_BEAT`` is true (the default when there is
no ``REDIS_URL`` and tasks run eagerly in the background, as in the embedded default); set it to
false to turn it off.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_service = None


def embedded_beat_start(*, force: bool = False):
    """Start the beat thread once (when enabled, or with ``force``); return it, or None when off."""
    global _service
    if not (force or settings.RANGEX_EMBEDDED_BEAT):
        return None
    with _lock:
        if _service is None:
            from celery.beat import EmbeddedService

            from rangex.celery import app

            _service = EmbeddedService(app, thread=True, scheduler_cls=settings.CELERY_BEAT_SCHEDULER)
            _service.start()
            logger.info("embedded beat started: the periodic schedule runs in this process")
        return _service


def embedded_beat_stop() -> None:
    """Stop the beat thread (tests; a process exiting needs nothing, the thread is a daemon)."""
    global _service
    with _lock:
        if _service is not None:
            _service.stop()
            _service.join(timeout=10)
            _service = None
