"""Provisioning, run by tasks outside transactions: launch on the runtime, then mark the session running or failed."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from datetime import timedelta
from pathlib import Path

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.environments.models import (
    LIVE_STATUSES,
    EnvironmentMachine,
    EnvironmentSession,
    SessionNetworkTopology,
    SessionSecurityGroup,
    SessionStatus,
)
from apps.environments.services.common import (
    push,
    session_duration_minutes,
    session_runtime,
)
from rangex.core.audit import AuditAction, audit_record

logger = logging.getLogger(__name__)


def _set_progress(session_id, step: int, total: int, message: str) -> None:
    pct = int(100 * step / max(total, 1))
    EnvironmentSession.objects.filter(pk=session_id, status=SessionStatus.STARTING).update(
        progress=min(pct, 99), progress_message=message[:255], launch_heartbeat_at=timezone.now()
    )
    push(session_id, {"type": "progress", "progress": min(pct, 99), "message": message})


# A launch holds a lease on its session: the worker renews ``launch_heartbeat_at`` every
# HEARTBEAT_SECONDS while it launches, and a lease older than LEASE_SECONDS belongs to a worker
# that died. The beat task ``env_session_launches_recover`` then hands the launch to another
# worker (the launch is idempotent: it adopts what the dead one made) up to MAX_LAUNCH_ATTEMPTS.
HEARTBEAT_SECONDS = 15
LEASE_SECONDS = 60
MAX_LAUNCH_ATTEMPTS = 3


def launch_holder() -> str:
    """Return who launches in this process: host and pid, so a holder on the same host can be checked."""
    return f"{socket.gethostname()}:{os.getpid()}"[:128]


def launch_holder_gone(holder: str) -> bool:
    """Return True when ``holder`` is a process of this host that no longer runs (killed, or a zombie).

    A holder on another host cannot be checked from here; its lease then runs out instead.
    """
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    # The state follows the command name in parentheses; Z is a process that has ended.
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def env_session_launch_claim(*, session_id) -> bool:
    """Take the launch lease of a ``starting`` session and count the attempt; False when a live worker holds it.

    A lease is free when no worker took it yet (or the recovery handed it back), when its holder
    stopped renewing it, or when its holder is a process of this host that died (a killed
    prefork child whose task the broker delivers again at once).
    """
    now = timezone.now()
    free = Q(launch_heartbeat_at__isnull=True) | Q(launch_heartbeat_at__lt=now - timedelta(seconds=LEASE_SECONDS))
    row = (
        EnvironmentSession.objects.filter(pk=session_id, status=SessionStatus.STARTING)
        .values("launch_heartbeat_at", "launch_holder")
        .first()
    )
    if row is None:
        return False
    if row["launch_heartbeat_at"] is not None and launch_holder_gone(row["launch_holder"]):
        # Conditional on the lease read, so two workers taking over a dead one's launch act once.
        free = Q(launch_heartbeat_at=row["launch_heartbeat_at"], launch_holder=row["launch_holder"])
    return bool(
        EnvironmentSession.objects.filter(free, pk=session_id, status=SessionStatus.STARTING).update(
            launch_attempts=F("launch_attempts") + 1, launch_heartbeat_at=now, launch_holder=launch_holder()
        )
    )


@contextlib.contextmanager
def _heartbeat(session_id):
    """Renew the launch lease every HEARTBEAT_SECONDS on a thread of its own, until the block ends.

    The thread dies with the worker process, so a killed worker stops renewing at once.
    """
    done = threading.Event()

    def beat() -> None:
        try:
            while not done.wait(HEARTBEAT_SECONDS):
                EnvironmentSession.objects.filter(pk=session_id, status=SessionStatus.STARTING).update(
                    launch_heartbeat_at=timezone.now()
                )
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"launch-heartbeat-{session_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=5)


def env_session_provision(*, session_id) -> EnvironmentSession | None:
    """Make the machines of a ``starting`` session. Idempotent: a retry adopts or cleans up.

    Returns None (and does nothing) when the session is not starting or another live worker
    holds its launch lease.
    """
    from apps.environments.launch import build_launch_spec
    from apps.runtime import RuntimeFailure, RuntimeNotConfigured

    if not env_session_launch_claim(session_id=session_id):
        return None
    session = EnvironmentSession.objects.select_related("scenario_version", "user").get(pk=session_id)
    try:
        runtime = session_runtime(session)
    except RuntimeNotConfigured as exc:
        return env_session_mark_failed(session=session, reason=f"The lab could not start: {exc.message}")
    try:
        spec = build_launch_spec(session)
        absent = _absent_images(runtime, spec)
        with _heartbeat(session_id):
            result = runtime.launch(spec, progress=lambda s, t, m: _set_progress(session_id, s, t, m))
    except RuntimeFailure as exc:
        _cleanup(runtime, session_id)
        return env_session_mark_failed(session=session, reason=f"The lab could not start: {exc}")
    except Exception:
        logger.exception("launch of session %s failed", session_id)
        _cleanup(runtime, session_id)
        return env_session_mark_failed(session=session, reason="The lab could not start because of an internal error.")
    session = env_session_mark_running(session=session, result=result)
    if absent is not None:
        from apps.images.catalog import docker_images_observe

        docker_images_observe(refs=[m.image for m in spec.machines], pulled=absent)
    if session.status != SessionStatus.RUNNING:
        # Stopped while we were launching: take down what we just made.
        _cleanup(runtime, session_id)
    return session


def _absent_images(runtime, spec) -> set[str] | None:
    """Return the images of ``spec`` the Docker engine lacks (the launch pulls them), for the catalogue.

    None for other backends: the image catalogue follows this install's Docker engine only.
    """
    if runtime.name != "docker":
        return None
    return {m.image for m in spec.machines if not runtime.image_present(m.image)}


def _cleanup(runtime, session_id) -> None:
    try:
        runtime.stop(str(session_id))
    except Exception:
        logger.exception("cleanup of session %s failed", session_id)


def env_session_mark_running(*, session: EnvironmentSession, result) -> EnvironmentSession:
    """Record what the runtime made and move ``starting`` to ``running``; act only if still starting."""
    now = timezone.now()
    duration = session_duration_minutes(session.scenario_version)
    gateway = getattr(result, "gateway", None)  # results without one (no gateway, hand-made results)
    with transaction.atomic():
        changed = EnvironmentSession.objects.filter(pk=session.pk, status=SessionStatus.STARTING).update(
            status=SessionStatus.RUNNING,
            started_at=now,
            expires_at=now + timedelta(minutes=duration),
            last_activity_at=now,
            progress=100,
            progress_message="Running",
            # On ECS: the session's own task (its terminal gateway; machines keep theirs on their rows).
            aws_task_arn=gateway.id if gateway else None,
            gateway_ip=(gateway.ip or None) if gateway else None,
            version=F("version") + 1,
        )
        session.refresh_from_db()
        if not changed:
            return session
        rows = {m.machine_name: m for m in session.machines.all()}
        networks = dict(result.networks or {})
        topology = []
        for name, handle in result.machines.items():
            row = rows.get(name)
            if row is None:
                continue
            ips = dict(handle.ips)
            row.task_arn = handle.id
            row.private_ip = next(iter(ips.values()), None)
            row.status = EnvironmentMachine.Status.RUNNING
            row.save(update_fields=["task_arn", "private_ip", "status"])
            for group, ip in ips.items():
                network = networks.get(group)
                topology.append(
                    SessionNetworkTopology(
                        session=session,
                        machine_name=name,
                        machine_role=row.role,
                        network_group=group,
                        network_id=network.id if network is not None else "",
                        subnet_id=(network.subnet or None) if network is not None else None,
                        task_arn=handle.id,
                        private_ip=ip,
                    )
                )
        SessionNetworkTopology.objects.bulk_create(topology)
        # A retried launch adopts the networks an earlier attempt made, so their rows may exist.
        known = set(
            SessionSecurityGroup.objects.filter(security_group_id__in=[n.id for n in networks.values()]).values_list(
                "security_group_id", flat=True
            )
        )
        SessionSecurityGroup.objects.bulk_create(
            SessionSecurityGroup(
                session=session,
                security_group_id=network.id,
                network_group=group,
                security_group_name=(network.name or f"{session.pk}:{group}")[:255],
            )
            for group, network in networks.items()
            if network.id not in known
        )
        audit_record(actor=None, action=AuditAction.SESSION_RUNNING, target=session)
        transaction.on_commit(lambda: push(session.pk, {"type": "status", "status": "running"}))
    return session


def env_session_mark_failed(*, session: EnvironmentSession, reason: str) -> EnvironmentSession:
    """Mark a live session failed with ``reason`` (shown to the solver); act only if still live."""
    now = timezone.now()
    with transaction.atomic():
        changed = EnvironmentSession.objects.filter(pk=session.pk, status__in=LIVE_STATUSES).update(
            status=SessionStatus.FAILED,
            stopped_at=now,
            ended_at=now,
            reason_stopped=reason[:2000],
            version=F("version") + 1,
        )
        session.refresh_from_db()
        if changed:
            session.machines.update(status=EnvironmentMachine.Status.REMOVED)
            audit_record(actor=None, action=AuditAction.SESSION_FAILED, target=session, details={"reason": reason})
            transaction.on_commit(lambda: push(session.pk, {"type": "status", "status": "failed", "reason": reason}))
    return session
