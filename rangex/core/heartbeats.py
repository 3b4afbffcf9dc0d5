"""Liveness heartbeats of the background processes (Celery worker and beat), kept in the cache.

A process that is alive records ``heartbeat_record(name)`` every few seconds; ``heartbeat_age`` tells a
reader (``platform_status``, ``health_check``, ``/metrics``, the liveness alerts) how long ago that was.
The cache is the shared Redis whenever a separate worker or beat runs (both need ``REDIS_URL`` for
their broker), so every process sees every heartbeat. Without Redis there is no worker and no beat
process: tasks run in the web process and beat runs on its thread (``rangex.embedded_beat``).
"""

from __future__ import annotations

import time

from django.core.cache import cache

WORKER, BEAT = "worker", "beat"
# A heartbeat older than this means the process has stopped: each one records at least every 30 s.
STALE_SECONDS = 180
_KEY = "heartbeat:{}"
# Kept a day, so a process stopped for hours still shows when it was last seen.
_KEEP_SECONDS = 24 * 60 * 60


def heartbeat_record(name: str, *, at: float | None = None) -> None:
    """Record that process ``name`` is alive now (or at the Unix time ``at``)."""
    cache.set(_KEY.format(name), time.time() if at is None else at, timeout=_KEEP_SECONDS)


def heartbeat_last(name: str) -> float | None:
    """Return the Unix time of the last heartbeat of ``name``, or None when none is known."""
    value = cache.get(_KEY.format(name))
    return float(value) if value is not None else None


def heartbeat_age(name: str, *, now: float | None = None) -> float | None:
    """Return the seconds since the last heartbeat of ``name``, or None when none is known."""
    last = heartbeat_last(name)
    if last is None:
        return None
    return max(0.0, (time.time() if now is None else now) - last)


def heartbeat_alive(name: str, *, now: float | None = None) -> bool:
    age = heartbeat_age(name, now=now)
    return age is not None and age < STALE_SECONDS
