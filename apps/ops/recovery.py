"""Live labs whose machines stopped behind the platform's back: bring them back, or fail them.

An engine restart, a crash or someone's ``docker stop`` leaves a lab's machines exited while its
session says running. Each pass asks every configured runtime about the live sessions it started:

- every machine as it should be (running, or paused for a paused lab): healthy;
- some machine exited, starting, unknown or gone: *broken*. When the backend can recover, it
  starts what exited (and re-pauses a paused lab) and re-checks readiness; a lab that is whole
  again is *recovered*, its page says what happened, and the time it was down is not charged.
  Otherwise the session is *failed*: its cost stops at the moment its machines stopped, the user
  is told, and what is left is removed.

A dry run finds the same broken sessions and changes nothing, so its counts match the real run's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.utils import timezone

from apps.environments import services as env_services
from apps.environments.models import EnvironmentMachine, EnvironmentSession, SessionStatus
from apps.ops import costs
from apps.ops.models import HealthCheck
from rangex.core.locks import single_flight

logger = logging.getLogger(__name__)


@dataclass
class MachineCheck:
    checked: int = 0
    broken: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    would_fail: list[str] = field(default_factory=list)  # dry run: broken with no way back
    errors: list[str] = field(default_factory=list)

    def merge(self, other: MachineCheck) -> None:
        for name in ("broken", "recovered", "failed", "would_fail", "errors"):
            getattr(self, name).extend(getattr(other, name))
        self.checked += other.checked

    def as_dict(self) -> dict:
        return {
            "checked": self.checked,
            "broken": self.broken,
            "recovered": self.recovered,
            "failed": self.failed,
            "would_fail": self.would_fail,
            "errors": self.errors,
        }


def sessions_of_runtime(key: str, queryset):
    """Return the sessions of ``queryset`` whose recorded backend resolves to the configured ``key``."""
    from apps.runtime import RuntimeNotConfigured, resolve_runtime_key

    resolved: dict[str, str | None] = {}
    chosen = []
    for session in queryset:
        value = session.runtime_backend or ""
        if value not in resolved:
            try:
                resolved[value] = resolve_runtime_key(value or None)
            except RuntimeNotConfigured:
                resolved[value] = None
        if resolved[value] == key:
            chosen.append(session)
    return chosen


def _live_sessions(runtime, *, started_before) -> list[EnvironmentSession]:
    # A session is marked running only once its launch finished, so a fresh one is checked too.
    live = EnvironmentSession.objects.filter(status__in=[SessionStatus.RUNNING, SessionStatus.PAUSED])
    if started_before is not None:
        live = live.filter(started_at__lte=started_before)
    return sessions_of_runtime(runtime.key, live)


def lab_machines_check(runtime, *, now=None, started_before=None, dry_run: bool = False) -> MachineCheck:
    """Check (and unless ``dry_run`` recover or fail) the live sessions ``runtime`` started."""
    from apps.runtime import MachineState, RuntimeFailure

    now = now or timezone.now()
    result = MachineCheck()
    sessions = _live_sessions(runtime, started_before=started_before)
    expected: dict[str, set[str]] = {}
    for session_id, name in EnvironmentMachine.objects.filter(
        environment_session_id__in=[s.pk for s in sessions]
    ).values_list("environment_session_id", "machine_name"):
        expected.setdefault(str(session_id), set()).add(name)
    for session in sessions:
        sid = str(session.pk)
        names = expected.get(sid, set())
        result.checked += 1
        try:
            states = runtime.status(sid)
        except RuntimeFailure as exc:
            result.errors.append(f"{sid}: {exc.message}")
            continue
        wanted = MachineState.PAUSED if session.status == SessionStatus.PAUSED else MachineState.RUNNING
        # A machine in the other live state (paused while running) is a pause or resume in flight.
        bad = sorted(
            n for n in names if states.get(n, MachineState.MISSING) not in (MachineState.RUNNING, MachineState.PAUSED)
        )
        if not bad:
            continue
        result.broken.append(sid)
        gone = [n for n in bad if n not in states]
        if dry_run:
            if gone or not runtime.capabilities.can_recover:
                result.would_fail.append(sid)
            continue
        with single_flight(f"lab-machines:{sid}", ttl_seconds=300) as mine:
            if mine:
                _repair(runtime, session, names=names, bad=bad, gone=gone, wanted=wanted, now=now, result=result)
    return result


def _repair(runtime, session, *, names, bad, gone, wanted, now, result: MachineCheck) -> None:
    from apps.runtime import MachineState, RuntimeFailure

    sid = str(session.pk)
    try:
        exited = runtime.exited_at(sid)
    except RuntimeFailure:
        exited = {}
    known = [exited[n] for n in bad if n in exited]
    down_since = min(known) if known else now
    after: dict = {}
    if not gone and runtime.capabilities.can_recover:
        try:
            after = runtime.recover(sid, paused=wanted == MachineState.PAUSED)
        except RuntimeFailure as exc:
            logger.warning("recovery of session %s failed: %s", sid, exc.message)
    still = sorted(n for n in names if after.get(n) != wanted)
    charge = session.status == SessionStatus.RUNNING
    if not still:
        if env_services.env_session_mark_recovered(session=session, down_since=down_since, machines=bad):
            if charge:
                costs.cost_skip_downtime(session_id=session.pk, down_since=down_since, until=timezone.now())
            result.recovered.append(sid)
        return
    if gone:
        reason = f"The lab's machines disappeared from the engine ({', '.join(gone)})."
    else:
        reason = f"The lab's machines stopped and could not be started again ({', '.join(still)})."
    if env_services.env_session_fail_broken(session=session, reason=reason):
        if charge:
            costs.cost_skip_downtime(session_id=session.pk, down_since=down_since, until=timezone.now())
        result.failed.append(sid)
        try:
            runtime.stop(sid)
        except RuntimeFailure:
            logger.warning("cleanup of session %s failed; the orphan sweep removes what is left", sid)


def lab_machines_check_all(*, now=None, dry_run: bool = False) -> MachineCheck:
    """Run ``lab_machines_check`` on every configured runtime and record one health check per runtime."""
    from apps.runtime import RuntimeFailure, configured_runtimes, get_runtime

    total = MachineCheck()
    for key in configured_runtimes():
        try:
            one = lab_machines_check(get_runtime(key), now=now, dry_run=dry_run)
        except RuntimeFailure as exc:
            one = MachineCheck(errors=[exc.message])
        record_lab_machines(key, one, dry_run=dry_run)
        total.merge(one)
    return total


def record_lab_machines(key: str, check: MachineCheck, *, dry_run: bool = False) -> HealthCheck:
    if check.errors and not check.checked:
        status = HealthCheck.Status.FAILED
    elif check.broken or check.errors:
        status = HealthCheck.Status.WARNING
    else:
        status = HealthCheck.Status.OK
    if dry_run:
        message = f"{len(check.broken)} of {check.checked} live lab(s) have stopped machines (dry run)."
    else:
        message = (
            f"{len(check.broken)} of {check.checked} live lab(s) had stopped machines: "
            f"{len(check.recovered)} recovered, {len(check.failed)} failed."
        )
    return HealthCheck.objects.create(
        check_type=HealthCheck.CheckType.LAB_MACHINES,
        service_name=key,
        status=status,
        message=message,
        details=check.as_dict(),
        auto_healed=bool(check.recovered or check.failed),
        heal_action=(
            f"Recovered {len(check.recovered)} and failed {len(check.failed)} session(s)."
            if check.recovered or check.failed
            else ""
        ),
    )
