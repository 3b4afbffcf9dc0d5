"""Launches whose worker died: noticed by their stale lease, retried, and failed after a few attempts.

A worker killed during a launch (OOM, a deploy, a crash) leaves its session ``starting`` with a
lease nobody renews, and perhaps half-made machines. Beat runs ``env_session_launches_recover``
every 30 s: a stale launch is handed to another worker (its lease is cleared and the
provisioning task queued again; the launch adopts what the dead worker made), and after
``MAX_LAUNCH_ATTEMPTS`` the session is failed and what it left is removed. So a user waits at
most about LEASE_SECONDS + 30 s before a retry, never the broker's visibility timeout; when the
dead worker ran on the host beat runs on, its lease is over at once (its pid is gone), so the
next pass (at most 30 s) retries it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from apps.environments.models import EnvironmentSession, SessionStatus
from apps.environments.services.provision import (
    LEASE_SECONDS,
    MAX_LAUNCH_ATTEMPTS,
    env_session_mark_failed,
    launch_holder_gone,
)
from rangex.core.scheduling import enqueue

logger = logging.getLogger(__name__)


def env_session_launches_recover(*, now=None) -> dict[str, int]:
    """Retry or fail every ``starting`` session whose launch lease went stale; return how many of each."""
    from apps.runtime import RuntimeFailure, get_runtime

    now = now or timezone.now()
    edge = now - timedelta(seconds=LEASE_SECONDS)
    starting = EnvironmentSession.objects.filter(status=SessionStatus.STARTING).only(
        "pk", "launch_attempts", "launch_heartbeat_at", "launch_holder", "runtime_backend", "created_at"
    )
    # A lease runs out LEASE_SECONDS after its last renewal; one whose holder is a process of this
    # host that died is over at once.
    stale = [
        s
        for s in starting
        if (s.launch_heartbeat_at is None and s.created_at < edge)
        or (s.launch_heartbeat_at is not None and s.launch_heartbeat_at < edge)
        or (s.launch_heartbeat_at is not None and launch_holder_gone(s.launch_holder))
    ]
    retried = failed = 0
    for session in stale:
        if session.launch_attempts >= MAX_LAUNCH_ATTEMPTS:
            session = env_session_mark_failed(
                session=session,
                reason=f"The lab could not start: its launch was interrupted {session.launch_attempts} times.",
            )
            if session.status == SessionStatus.FAILED:
                failed += 1
                try:
                    get_runtime(session.runtime_backend or None).stop(str(session.pk))
                except RuntimeFailure:
                    logger.warning("cleanup of session %s failed; the orphan sweep removes what is left", session.pk)
            continue
        # Hand the lease back (only if nobody renewed it meanwhile) and queue the launch again.
        handed = EnvironmentSession.objects.filter(
            pk=session.pk, status=SessionStatus.STARTING, launch_heartbeat_at=session.launch_heartbeat_at
        ).update(launch_heartbeat_at=None, launch_holder="", progress_message="Starting again after an interruption")
        if handed:
            logger.warning("launch of session %s was interrupted; queued again", session.pk)
            enqueue("apps.environments.tasks.env_session_provision_task", str(session.pk))
            retried += 1
    return {"retried": retried, "failed": failed}
