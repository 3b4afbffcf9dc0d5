"""Periodic reconcilers of sessions with the clock and with the engine.

Each one is idempotent and safe to run twice at once: sessions change only through the
environments services, which use conditional updates, so a session is stopped or failed once
however many passes see it. Engine calls happen outside transactions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.environments import services as env_services
from apps.environments.models import (
    LIVE_STATUSES,
    DeploymentEnvironment,
    EnvironmentSession,
    ParkStatus,
    SessionStatus,
)
from apps.images.profiles import profile_limits
from apps.ops.models import AlertLog, HealthCheck, OrphanedTaskLog
from apps.ops.recovery import lab_machines_check
from rangex.core.models import Job
from rangex.core.system import get_settings

logger = logging.getLogger(__name__)

IDLE_WARNING_MINUTES = 5
ORPHAN_GRACE_MINUTES = 10
MAX_WRITABLE_LAYER_BYTES = 1024**3
ORPHAN_CLAIM_MINUTES = 10


def sessions_expire(*, now=None) -> int:
    """Stop every running session past its ``expires_at``, and every session paused longer than allowed.

    A paused lab's timer is frozen, so without the pause limit its machines would stay for ever.
    Return how many this pass stopped.
    """
    now = now or timezone.now()
    stopped = 0
    for session in EnvironmentSession.objects.filter(status=SessionStatus.RUNNING, expires_at__lte=now):
        stopped += env_services.env_session_stop_for_platform(session=session, reason="The session time ran out.")
    limit = get_settings().max_pause_minutes
    for session in EnvironmentSession.objects.filter(
        status=SessionStatus.PAUSED, paused_at__lte=now - timedelta(minutes=limit)
    ):
        stopped += env_services.env_session_stop_for_platform(
            session=session, reason=f"The lab was paused for more than {limit} minutes."
        )
    return stopped


def sessions_stop_idle(*, now=None) -> dict[str, int]:
    """Warn sessions idle for nearly ``idle_timeout_minutes`` and stop those idle past it."""
    now = now or timezone.now()
    timeout = get_settings().idle_timeout_minutes
    warn_after = max(timeout - IDLE_WARNING_MINUTES, 0)
    # A question-only session holds no machines, so it is never stopped for idling.
    running = EnvironmentSession.objects.filter(status=SessionStatus.RUNNING, is_test=False).exclude(
        scenario_version__requires_machines=False
    )
    stopped = warned = 0
    for session in running.filter(last_activity_at__lte=now - timedelta(minutes=timeout)):
        if env_services.env_session_stop_for_platform(
            session=session, reason=f"The lab was idle for {timeout} minutes."
        ):
            stopped += 1
    candidates = running.filter(
        idle_warned=False,
        last_activity_at__lte=now - timedelta(minutes=warn_after),
        last_activity_at__gt=now - timedelta(minutes=timeout),
    ).select_related("user")
    for session in candidates:
        left = timeout - int((now - session.last_activity_at).total_seconds() // 60)
        if env_services.env_session_warn_idle(session=session, minutes_left=max(left, 1)):
            warned += 1
    return {"stopped": stopped, "warned": warned}


@dataclass
class SweepResult:
    orphans_removed: int = 0
    orphans_found: int = 0
    sessions_failed: int = 0
    sessions_broken: int = 0
    sessions_recovered: int = 0
    oversized: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def merge(self, other: SweepResult) -> None:
        self.orphans_removed += other.orphans_removed
        self.orphans_found += other.orphans_found
        self.sessions_failed += other.sessions_failed
        self.sessions_broken += other.sessions_broken
        self.sessions_recovered += other.sessions_recovered
        self.oversized.extend(other.oversized)
        self.errors.extend(other.errors)

    def as_dict(self) -> dict:
        return {
            "orphans_found": self.orphans_found,
            "orphans_removed": self.orphans_removed,
            "sessions_failed": self.sessions_failed,
            "sessions_broken": self.sessions_broken,
            "sessions_recovered": self.sessions_recovered,
            "oversized": self.oversized,
            "errors": self.errors,
        }


def orphans_sweep(
    *,
    dry_run: bool = False,
    now=None,
    grace_minutes: int = ORPHAN_GRACE_MINUTES,
    max_writable_bytes: int = MAX_WRITABLE_LAYER_BYTES,
) -> SweepResult:
    """Reconcile every configured runtime with the database in both directions and record the outcome.

    Each backend (``configured_runtimes()``) is swept on its own: resources labelled as this
    instance's with no live session (older than the grace period) are removed and logged, and the
    sessions that backend started are checked against what it has. An unreachable backend is a
    failed health check and changes no session.
    """
    from apps.runtime import RuntimeFailure, configured_runtimes, get_runtime

    now = now or timezone.now()
    result = SweepResult()
    for key in configured_runtimes():
        try:
            runtime = get_runtime(key)
        except RuntimeFailure as exc:
            HealthCheck.objects.create(
                check_type=HealthCheck.CheckType.ORPHANS,
                service_name=key,
                status=HealthCheck.Status.FAILED,
                message=f"The orphan sweep could not load runtime {key!r}: {exc.message}",
            )
            result.errors.append(exc.message)
            continue
        one = _sweep_backend(
            runtime, dry_run=dry_run, now=now, grace_minutes=grace_minutes, max_writable_bytes=max_writable_bytes
        )
        result.merge(one)
    return result


def _sweep_backend(runtime, *, dry_run: bool, now, grace_minutes: int, max_writable_bytes: int) -> SweepResult:
    from apps.runtime import RuntimeFailure

    result = SweepResult()
    try:
        resources = runtime.list_managed()
    except RuntimeFailure as exc:
        HealthCheck.objects.create(
            check_type=HealthCheck.CheckType.ORPHANS,
            service_name=runtime.key,
            status=HealthCheck.Status.FAILED,
            message=f"The orphan sweep could not list the resources of runtime {runtime.key!r}: {exc.message}",
        )
        result.errors.append(exc.message)
        return result

    session_ids = {r.session_id for r in resources if r.session_id}
    sessions = {
        str(s.pk): s
        for s in EnvironmentSession.objects.filter(pk__in=_valid_uuids(session_ids)).select_related("scenario_version")
    }
    # A warm pool's environment runs under the id its future session will get: it is not an orphan
    # while the pool keeps it (launching, parked, or being handed to a session).
    parked = {
        str(u)
        for u in DeploymentEnvironment.objects.filter(
            session_uuid__in=_valid_uuids(session_ids),
            status__in=(ParkStatus.LAUNCHING, ParkStatus.PARKED, ParkStatus.CLAIMED),
        ).values_list("session_uuid", flat=True)
    }
    grace_edge = now - timedelta(minutes=grace_minutes)

    orphans = []
    for res in resources:
        session = sessions.get(res.session_id)
        if session is not None and session.status in LIVE_STATUSES:
            continue
        if session is None and res.session_id in parked:
            continue
        if res.created_at is not None and res.created_at > grace_edge:
            continue
        orphans.append((res, session))
    result.orphans_found = len(orphans)
    logs = [_orphan_log(res, session, now=now, dry_run=dry_run) for res, session in orphans]
    for log in logs:
        log.metadata["runtime"] = runtime.key
    if dry_run:
        _report(logs)
    else:
        claimed = [log for log in (_claim(log, now=now) for log in logs) if log is not None]
        result.orphans_removed = _remove_claimed(runtime, claimed)

    machines = lab_machines_check(runtime, now=now, started_before=grace_edge, dry_run=dry_run)
    result.sessions_broken = len(machines.broken)
    result.sessions_recovered = len(machines.recovered)
    result.sessions_failed = len(machines.would_fail if dry_run else machines.failed)
    result.errors.extend(machines.errors)
    if not dry_run:
        _resolve_gone_orphans(runtime.key, resources, now=now)
    result.oversized = _oversized(runtime, resources, limit=max_writable_bytes)
    HealthCheck.objects.create(
        check_type=HealthCheck.CheckType.ORPHANS,
        service_name=runtime.key,
        status=HealthCheck.Status.WARNING
        if (result.orphans_found or result.sessions_broken or result.errors)
        else HealthCheck.Status.OK,
        message=(
            f"{runtime.key}: {result.orphans_found} orphaned resource(s) found, {result.orphans_removed} removed; "
            f"{result.sessions_broken} live session(s) with stopped or missing machines, "
            f"{result.sessions_recovered} recovered, {result.sessions_failed} failed."
            + (" (dry run)" if dry_run else "")
        ),
        details=result.as_dict(),
    )
    if result.oversized:
        HealthCheck.objects.create(
            check_type=HealthCheck.CheckType.OVERSIZED,
            service_name=runtime.key,
            status=HealthCheck.Status.WARNING,
            message=f"{len(result.oversized)} machine(s) wrote more than {max_writable_bytes} bytes.",
            details={"containers": result.oversized},
        )
    return result


def _valid_uuids(values) -> list[str]:
    import uuid

    out = []
    for value in values:
        try:
            out.append(str(uuid.UUID(value)))
        except ValueError:
            continue
    return out


def _orphan_log(res, session, *, now, dry_run: bool) -> OrphanedTaskLog:
    """Return the (unsaved) log row of an orphan, with its running minutes and estimated cost."""
    from apps.runtime import ResourceKind

    started = res.created_at or now
    minutes = max(int((now - started).total_seconds() // 60), 0)
    cost = Decimal("0")
    if res.kind == ResourceKind.MACHINE:
        rate = profile_limits(session.env_profile if session is not None else "small").hourly_cost_rm
        cost = (rate * Decimal(minutes) / Decimal(60)).quantize(Decimal("0.0001"))
    last_activity = session.last_activity_at if session is not None else None
    return OrphanedTaskLog(
        task_arn=res.id,
        user_id=session.user_id if session else None,
        scenario_id=session.scenario_version.scenario_id if session else None,
        started_at=res.created_at,
        detected_at=now,
        last_activity=last_activity,
        running_minutes=minutes,
        inactive_minutes=int((now - last_activity).total_seconds() // 60) if last_activity else minutes,
        estimated_cost=cost,
        termination_reason=f"No live session ({session.status})" if session else "No session row for this resource",
        status=OrphanedTaskLog.Status.REPORTED if dry_run else OrphanedTaskLog.Status.DETECTED,
        metadata={"kind": res.kind, "machine": res.machine, "session_id": res.session_id, "dry_run": dry_run},
    )


def _report(logs: list[OrphanedTaskLog]) -> None:
    """Record what a dry run found; a resource already logged keeps its row."""
    known = set(
        OrphanedTaskLog.objects.filter(task_arn__in=[log.task_arn for log in logs]).values_list("task_arn", flat=True)
    )
    OrphanedTaskLog.objects.bulk_create([log for log in logs if log.task_arn not in known], ignore_conflicts=True)


def _remove_claimed(runtime, logs: list[OrphanedTaskLog]) -> int:
    """Remove claimed resources (the runtime knows the order its engine needs), then record each outcome."""
    from apps.runtime import ManagedResource

    resources = [
        ManagedResource(
            kind=log.metadata["kind"],
            id=log.task_arn,
            session_id=log.metadata.get("session_id", ""),
            machine=log.metadata.get("machine", ""),
            expires_at=None,
            created_at=None,
            labels={},
        )
        for log in logs
    ]
    failures = runtime.remove_resources(resources)
    errors = [failures[log.task_arn].message if log.task_arn in failures else "" for log in logs]
    removed = 0
    for log, error in zip(logs, errors, strict=True):
        if error:
            OrphanedTaskLog.objects.filter(pk=log.pk).update(status=OrphanedTaskLog.Status.FAILED, error_message=error)
        else:
            removed += OrphanedTaskLog.objects.filter(pk=log.pk).update(
                status=OrphanedTaskLog.Status.TERMINATED, terminated_at=timezone.now(), error_message=""
            )
    return removed


def _claim(log: OrphanedTaskLog, *, now) -> OrphanedTaskLog | None:
    """Take the orphan for this sweep, or return None when another sweep has it.

    The unique ``task_arn`` makes the first insert win. A row left ``reported`` by a dry run,
    ``failed`` by an earlier attempt or ``detected`` by a worker killed mid-sweep is taken over
    with a conditional update, so the next run converges.
    """
    try:
        with transaction.atomic():
            log.save()
            return log
    except IntegrityError:
        pass
    retryable = Q(status__in=[OrphanedTaskLog.Status.REPORTED, OrphanedTaskLog.Status.FAILED]) | Q(
        status=OrphanedTaskLog.Status.DETECTED, detected_at__lt=now - timedelta(minutes=ORPHAN_CLAIM_MINUTES)
    )
    taken = OrphanedTaskLog.objects.filter(retryable, task_arn=log.task_arn).update(
        status=OrphanedTaskLog.Status.DETECTED,
        detected_at=now,
        running_minutes=log.running_minutes,
        inactive_minutes=log.inactive_minutes,
        estimated_cost=log.estimated_cost,
        termination_reason=log.termination_reason,
        metadata=log.metadata,
    )
    return OrphanedTaskLog.objects.get(task_arn=log.task_arn) if taken else None


def _resolve_gone_orphans(key: str, resources, *, now) -> int:
    """Close the orphan rows of runtime ``key`` whose resource is no longer on it; return how many.

    A row left ``reported`` by a dry run, ``failed`` by a removal that errored, or ``detected`` by
    a killed sweep would otherwise stay open (and on the dashboard) after the resource went away
    by other means. Only the rows this runtime logged (rows from before runtimes were recorded
    belong to the default one): another backend's orphans are not this one's to close.
    """
    from apps.runtime import default_runtime_key

    present = [res.id for res in resources]
    mine = Q(metadata__runtime=key)
    if key == default_runtime_key():
        mine |= Q(metadata__runtime__isnull=True)
    return (
        OrphanedTaskLog.objects.filter(mine)
        .exclude(status=OrphanedTaskLog.Status.TERMINATED)
        .exclude(task_arn__in=present)
        .update(status=OrphanedTaskLog.Status.TERMINATED, terminated_at=now, error_message="")
    )


def _oversized(runtime, resources, *, limit: int) -> list[dict]:
    from apps.runtime import RuntimeFailure

    if not runtime.capabilities.disk_usage:
        return []
    found = []
    from apps.runtime import ResourceKind

    for session_id in sorted({r.session_id for r in resources if r.kind == ResourceKind.MACHINE and r.session_id}):
        try:
            usage = runtime.disk_usage(session_id)
        except RuntimeFailure:
            continue
        for machine, size in usage.items():
            if size > limit:
                found.append({"session_id": session_id, "machine": machine, "bytes": size})
    return found


def retention_purge(*, now=None) -> dict[str, int]:
    """Delete alert, finished job and health check rows older than ``log_retention_days``. Never audit rows."""
    now = now or timezone.now()
    edge = now - timedelta(days=get_settings().log_retention_days)
    with transaction.atomic():
        alerts, _ = AlertLog.objects.filter(created_at__lt=edge).delete()
        jobs, _ = Job.objects.filter(Q(created_at__lt=edge), status__in=Job.FINISHED).delete()
        checks, _ = HealthCheck.objects.filter(checked_at__lt=edge).delete()
    return {"alerts": alerts, "jobs": jobs, "health_checks": checks}
