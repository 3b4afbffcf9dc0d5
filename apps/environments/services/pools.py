"""Warm pools: environments launched before anyone asks, claimed by a start instead of a cold launch.

How a parked environment becomes someone's lab
----------------------------------------------
A pool environment (a ``DeploymentEnvironment`` row with ``pool`` set) is launched under a fresh
``session_uuid``: the id that the session claiming it will get. Everything per-session that a
machine holds is keyed by that id (the dynamic flag files are HMACs of it; the runtime's labels,
the orphan sweep and every later runtime call use it), so a claim applies nothing to the machines:
one transaction hands the row to the new session, which is created with that id. Machine logins
come from the version, the same for every solver. An environment is used once: it leaves the pool
with its session and is removed when that session ends, never recycled.

The claim runs inside the start's transaction (``select_for_update(skip_locked=True)``: parallel
starts each lock a different row, never the same one). After commit the claimed environment is
checked (every machine running, ready checks passed recently or now); a failed check removes it
and the session falls back to a cold launch under the same id. The solver never waits for the
pool: with nothing parked, the start is a cold launch as before.

``pools_maintain`` (beat) drains environments of versions that are no longer published, replaces
broken and stale ones, trims a pool above its target and fills it up to the target, never while
the platform may not spend (the budget cap, a budget pause, maintenance).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.environments import hooks
from apps.environments.models import (
    LIVE_PARK_STATUSES,
    DeploymentEnvironment,
    EnvironmentPool,
    EnvironmentSession,
    ParkStatus,
    PoolWindow,
    SessionStatus,
)
from apps.environments.services.common import push
from apps.environments.services.provision import env_session_mark_running
from apps.scenarios.models import ScenarioVersion, VersionStatus
from apps.scenarios.runtime_choice import scenario_runtime_key
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import ValidationFailed
from rangex.core.scheduling import enqueue

logger = logging.getLogger(__name__)

# A parked environment whose ready checks passed this recently is claimed after a status check
# only; older, the claim runs the checks again (the pool pass re-checks every parked one).
READY_FRESH_SECONDS = 90
# How long a parked environment's runtime labels say it lives; the pool replaces it long before.
PARK_LABEL_HOURS = 48
# A launch that has not parked after this long is given up and removed.
LAUNCH_TIMEOUT_MINUTES = 15


# --- what a pool should hold --------------------------------------------------------------------
def pool_version(pool: EnvironmentPool) -> ScenarioVersion | None:
    """Return the published version a pool keeps environments of, or None when none is published."""
    return (
        ScenarioVersion.objects.filter(scenario_id=pool.scenario_id, status=VersionStatus.PUBLISHED)
        .order_by("-published_at")
        .first()
    )


def pool_target(pool: EnvironmentPool, *, now=None) -> int:
    """Return how many environments ``pool`` should have parked now: the largest open window's
    ``min_ready``, else its own, never above ``max_size``; 0 when disabled."""
    if not pool.is_enabled:
        return 0
    now = now or timezone.now()
    wanted = pool.min_ready
    for window in pool.windows.filter(starts_at__lte=now, ends_at__gt=now):
        wanted = max(wanted, window.min_ready)
    return min(wanted, pool.max_size)


def version_hourly_rm(version: ScenarioVersion) -> Decimal:
    """Return what one environment of ``version`` costs per hour: its machines' variant or profile rates."""
    from apps.images.profiles import profile_limits

    total = Decimal("0")
    for machine in version.machines.select_related("image_variant"):
        if machine.image_variant_id:
            total += machine.image_variant.hourly_cost_rm
        else:
            total += profile_limits(machine.resource_profile).hourly_cost_rm
    return total


@dataclass(frozen=True)
class PoolBudget:
    """What is left of the month's budget cap, in RM (None: no cap), as the operations app sees it."""

    left_rm: Decimal | None
    may_spend: bool = True


def pool_check(
    *, scenario, min_ready: int, max_size: int, windows: list[tuple] = (), budget: PoolBudget | None = None
) -> None:
    """Refuse a pool that cannot work, naming the field: no published version, sizes that contradict
    each other, or a maximum that would cost more in a day than the month's budget has left.

    ``windows`` are ``(starts_at, ends_at, min_ready)``.
    """
    version = ScenarioVersion.objects.filter(scenario_id=scenario.pk, status=VersionStatus.PUBLISHED).first()
    if version is None:
        raise ValidationFailed(
            _("%(slug)s has no published version: only a published version can have a warm pool.")
            % {"slug": scenario.slug},
            fields={"scenario": [_("Publish a version of this scenario before giving it a warm pool.")]},
        )
    if not version.requires_machines:
        raise ValidationFailed(
            _("%(slug)s has no machines, so there is nothing to keep warm.") % {"slug": scenario.slug},
            fields={"scenario": [_("A question-only scenario starts at once; it needs no pool.")]},
        )
    if min_ready > max_size:
        raise ValidationFailed(
            _("The pool keeps more ready than its maximum."),
            fields={"min_ready": [_("At most the maximum size (%(max_size)s).") % {"max_size": max_size}]},
        )
    for starts_at, ends_at, wanted in windows:
        if ends_at <= starts_at:
            raise ValidationFailed(
                _("A window ends before it starts."), fields={"windows": [_("End after the start.")]}
            )
        if wanted > max_size:
            raise ValidationFailed(
                _("A window wants %(wanted)s ready but the pool's maximum is %(max_size)s.")
                % {"wanted": wanted, "max_size": max_size},
                fields={
                    "windows": [
                        _("At most the maximum size (%(max_size)s), or raise the maximum.") % {"max_size": max_size}
                    ]
                },
            )
    budget = budget or hooks.pool_budget.first(now=timezone.now())
    if budget is not None and budget.left_rm is not None and max_size:
        per_day = (version_hourly_rm(version) * max_size * 24).quantize(Decimal("0.01"))
        if per_day > budget.left_rm:
            raise ValidationFailed(
                _(
                    "A full pool of %(max_size)s costs RM %(per_day)s a day, more than the RM "
                    "%(quantize)s left under this month's budget cap."
                )
                % {"max_size": max_size, "per_day": per_day, "quantize": budget.left_rm.quantize(Decimal("0.01"))},
                fields={"max_size": [_("Lower the maximum, or raise the budget cap in the system settings.")]},
            )


def pool_machine_count() -> int:
    """Return how many machines the pools hold on the engines (launching and parked environments)."""
    from django.db.models import Count

    from apps.scenarios.models import Machine

    by_version = dict(
        DeploymentEnvironment.objects.filter(pool__isnull=False, status__in=(ParkStatus.LAUNCHING, ParkStatus.PARKED))
        .values_list("scenario_version")
        .annotate(n=Count("pk"))
    )
    if not by_version:
        return 0
    machines = dict(
        Machine.objects.filter(scenario_version_id__in=list(by_version))
        .values_list("scenario_version")
        .annotate(n=Count("pk"))
    )
    return sum(n * machines.get(version_id, 0) for version_id, n in by_version.items())


def _machine_headroom() -> int:
    """Return how many more machines the platform's container cap allows (sessions and pools together)."""
    from apps.environments.models import LIVE_STATUSES, EnvironmentMachine
    from rangex.core.system import get_settings

    conf = get_settings()
    cap = min(conf.max_total_containers, conf.docker_max_containers)
    used = EnvironmentMachine.objects.filter(environment_session__status__in=LIVE_STATUSES).count()
    return cap - used - pool_machine_count()


# --- the beat pass ------------------------------------------------------------------------------
def pools_maintain(*, now=None, budget: PoolBudget | None = None) -> dict[str, int]:
    """Drain, heal, trim and fill every pool; idempotent and safe to run twice at once.

    Environments of versions that are no longer published, of disabled or deleted pools, broken
    ones and ones parked longer than the pool's ``park_minutes`` are removed; then each pool is
    filled up to its target, unless ``budget`` says the platform may not spend.
    """
    now = now or timezone.now()
    budget = budget or hooks.pool_budget.first(now=now) or PoolBudget(left_rm=None)
    counts = {"drained": 0, "replaced": 0, "trimmed": 0, "launched": 0, "failed": 0}
    counts["drained"] += _drain_orphaned(now=now)
    counts["failed"] += _give_up_stuck_launches(now=now)
    for pool in EnvironmentPool.objects.select_related("scenario"):
        version = pool_version(pool)
        live = DeploymentEnvironment.objects.filter(pool=pool, status__in=(ParkStatus.LAUNCHING, ParkStatus.PARKED))
        stale_version = live.exclude(scenario_version=version) if version else live
        counts["drained"] += _remove_all(stale_version, reason="The version is no longer the published one.")
        # An admin moved the scenario to another runtime: its labs there replace the parked ones.
        counts["drained"] += _remove_all(
            live.exclude(runtime_backend=scenario_runtime_key(pool.scenario_id)),
            reason="The scenario's labs now run on another runtime.",
        )
        if version is None or not version.requires_machines:
            continue
        counts["replaced"] += _heal(pool, now=now)
        target = pool_target(pool, now=now) if budget.may_spend else 0
        parked = list(live.filter(status=ParkStatus.PARKED).order_by("-parked_at"))
        launching = live.filter(status=ParkStatus.LAUNCHING).count()
        if len(parked) + launching > max(target, 0):
            extra = parked[max(target - launching, 0) :]
            counts["trimmed"] += _remove_all(
                DeploymentEnvironment.objects.filter(pk__in=[e.pk for e in extra]),
                reason="The pool holds more than it needs now.",
            )
        missing = min(target, pool.max_size) - len(parked) - launching
        per_env = max(version.machines.count(), 1)
        # Never past the container cap: the sessions that people start come first.
        missing = min(missing, _machine_headroom() // per_env)
        for _i in range(max(missing, 0)):
            pool_env_create(pool=pool, version=version, now=now)
            counts["launched"] += 1
    return counts


def pool_env_create(*, pool: EnvironmentPool, version: ScenarioVersion, now=None) -> DeploymentEnvironment:
    """Record one environment to launch for ``pool`` and queue its launch on commit."""
    now = now or timezone.now()
    with transaction.atomic():
        env = DeploymentEnvironment.objects.create(
            scenario_version=version,
            pool=pool,
            deployment_name=f"pool:{pool.scenario.slug}"[:255],
            status=ParkStatus.LAUNCHING,
            session_uuid=uuid.uuid4(),
            runtime_backend=scenario_runtime_key(pool.scenario_id),
            cost_accrued_until=now,
        )
        enqueue("apps.environments.tasks.pool_env_launch_task", str(env.pk))
    return env


def pool_env_launch(*, env_id) -> DeploymentEnvironment | None:
    """Launch one pool environment (a task body): park it when ready, remove it when it fails.

    Idempotent: only a ``launching`` row launches, and the runtime's launch adopts what an earlier
    attempt made under the same id.
    """
    from apps.environments.launch import launch_spec_for
    from apps.runtime import RuntimeFailure, get_runtime

    env = DeploymentEnvironment.objects.select_related("scenario_version").filter(pk=env_id).first()
    if env is None or env.status != ParkStatus.LAUNCHING:
        return env
    # The lease: one worker launches a row (a task delivered twice does not launch it twice). A
    # worker that dies leaves the row launching; the pass gives it up after LAUNCH_TIMEOUT_MINUTES.
    if not DeploymentEnvironment.objects.filter(
        pk=env.pk, status=ParkStatus.LAUNCHING, deployed_at__isnull=True
    ).update(deployed_at=timezone.now()):
        return env
    sid = str(env.session_uuid)
    try:
        runtime = get_runtime(env.runtime_backend or None)
        spec = launch_spec_for(
            env.scenario_version,
            session_id=sid,
            expires_at=timezone.now() + timedelta(hours=PARK_LABEL_HOURS),
            user_label="",
        )
        result = runtime.launch(spec)
    except RuntimeFailure as exc:
        _mark_failed(env, reason=f"The pool environment could not start: {exc}")
        _runtime_stop(env)
        return env
    except Exception:
        logger.exception("launch of pool environment %s failed", env_id)
        _mark_failed(env, reason="The pool environment could not start because of an internal error.")
        _runtime_stop(env)
        return env
    now = timezone.now()
    parked = DeploymentEnvironment.objects.filter(pk=env.pk, status=ParkStatus.LAUNCHING).update(
        status=ParkStatus.PARKED,
        launch_result=_result_as_json(result),
        gateway_task_arn=result.gateway.id if result.gateway else None,
        parked_at=now,
        ready_checked_at=now,
    )
    if not parked:
        # Drained or trimmed while it launched: take down what was just made.
        _runtime_stop(env)
    env.refresh_from_db()
    return env


def pool_env_remove(*, env_id) -> None:
    """Remove a pool environment's machines (a task body); idempotent."""
    env = DeploymentEnvironment.objects.filter(pk=env_id).first()
    if env is None or env.status not in (ParkStatus.REMOVING, ParkStatus.FAILED):
        return
    _runtime_stop(env)
    DeploymentEnvironment.objects.filter(pk=env.pk, status=ParkStatus.REMOVING).update(
        status=ParkStatus.REMOVED, deleted_at=timezone.now()
    )


def _remove_all(queryset, *, reason: str) -> int:
    removed = 0
    for env in queryset.filter(status__in=(ParkStatus.LAUNCHING, ParkStatus.PARKED)):
        if DeploymentEnvironment.objects.filter(pk=env.pk, status__in=(ParkStatus.LAUNCHING, ParkStatus.PARKED)).update(
            status=ParkStatus.REMOVING, failure_reason=reason[:2000]
        ):
            removed += 1
            transaction.on_commit(lambda pk=env.pk: enqueue("apps.environments.tasks.pool_env_remove_task", str(pk)))
    return removed


def _drain_orphaned(*, now) -> int:
    """Remove environments whose pool was deleted or disabled."""
    gone = DeploymentEnvironment.objects.filter(
        Q(pool__isnull=True) | Q(pool__is_enabled=False),
        session_uuid__isnull=False,
        status__in=(ParkStatus.LAUNCHING, ParkStatus.PARKED),
    )
    return _remove_all(gone, reason="The pool was disabled or deleted.")


def _give_up_stuck_launches(*, now) -> int:
    stuck = DeploymentEnvironment.objects.filter(
        status=ParkStatus.LAUNCHING, created_at__lt=now - timedelta(minutes=LAUNCH_TIMEOUT_MINUTES)
    )
    return _remove_all(stuck, reason=f"The launch did not finish within {LAUNCH_TIMEOUT_MINUTES} minutes.")


def _heal(pool: EnvironmentPool, *, now) -> int:
    """Re-run the ready checks of every parked environment; remove the broken and the stale."""
    from apps.runtime import RuntimeFailure, get_runtime

    replaced = 0
    edge = now - timedelta(minutes=pool.park_minutes)
    for env in DeploymentEnvironment.objects.filter(pool=pool, status=ParkStatus.PARKED):
        if env.parked_at and env.parked_at < edge:
            replaced += _remove_all(
                DeploymentEnvironment.objects.filter(pk=env.pk), reason="Parked too long; replaced by a fresh one."
            )
            continue
        try:
            ready = get_runtime(env.runtime_backend or None).check_ready(str(env.session_uuid))
        except RuntimeFailure as exc:
            ready = {}
            logger.warning("ready check of pool environment %s failed: %s", env.pk, exc)
        expected = set(env.launch_result.get("machines", {}))
        if ready and set(ready) == expected and all(ready.values()):
            DeploymentEnvironment.objects.filter(pk=env.pk, status=ParkStatus.PARKED).update(ready_checked_at=now)
            continue
        replaced += _remove_all(
            DeploymentEnvironment.objects.filter(pk=env.pk), reason="A machine stopped or failed its ready check."
        )
    return replaced


def _mark_failed(env: DeploymentEnvironment, *, reason: str) -> None:
    DeploymentEnvironment.objects.filter(pk=env.pk, status=ParkStatus.LAUNCHING).update(
        status=ParkStatus.FAILED, failure_reason=reason[:2000], deleted_at=timezone.now()
    )


def _runtime_stop(env: DeploymentEnvironment) -> None:
    from apps.runtime import RuntimeFailure, get_runtime

    try:
        get_runtime(env.runtime_backend or None).stop(str(env.session_uuid))
    except RuntimeFailure:
        logger.warning("removing pool environment %s failed; the orphan sweep removes what is left", env.pk)


def _result_as_json(result) -> dict:
    return {
        "machines": {name: {"id": h.id, "ips": dict(h.ips)} for name, h in result.machines.items()},
        "networks": {
            group: {"id": n.id, "name": n.name, "subnet": n.subnet, "gateway": n.gateway}
            for group, n in (result.networks or {}).items()
        },
        "gateway": {"id": result.gateway.id, "ip": result.gateway.ip} if result.gateway else None,
    }


def _result_from_json(data: dict):
    from apps.runtime import GatewayHandle, LaunchResult, MachineHandle, NetworkHandle

    gateway = data.get("gateway")
    return LaunchResult(
        machines={name: MachineHandle(id=m["id"], ips=dict(m["ips"])) for name, m in data.get("machines", {}).items()},
        networks={group: NetworkHandle(**n) for group, n in data.get("networks", {}).items()},
        gateway=GatewayHandle(**gateway) if gateway else None,
    )


# --- claiming -----------------------------------------------------------------------------------
def pool_claim(*, version: ScenarioVersion, runtime_key: str | None = None) -> DeploymentEnvironment | None:
    """Take one parked environment of ``version`` for a start; call inside the start's transaction.

    ``skip_locked`` makes parallel starts lock different rows, and the conditional update makes a
    row change hands once: an environment is never given to two sessions.
    """
    # No join in the locking query: MariaDB would lock the joined pool row too, and every other
    # start would skip all of that pool's environments. The index on (version, status, parked_at)
    # lets InnoDB lock only the one row it returns.
    env = (
        DeploymentEnvironment.objects.select_for_update(skip_locked=True)
        .filter(scenario_version=version, pool__isnull=False, status=ParkStatus.PARKED)
        .filter(**({"runtime_backend": runtime_key} if runtime_key else {}))
        .order_by("parked_at")
        .first()
    )
    if env is not None and DeploymentEnvironment.objects.filter(pk=env.pk, status=ParkStatus.PARKED).update(
        status=ParkStatus.CLAIMED, claimed_at=timezone.now()
    ):
        env.refresh_from_db()
        return env
    return None


def pool_claim_finish(*, session_id, env_id) -> EnvironmentSession:
    """Check a claimed environment and make its session running; else remove it and launch cold.

    Runs after the start's commit, outside any transaction (it calls the runtime). A session whose
    request died before this ran is found by the interrupted-launch pass (``starting``, no lease),
    whose launch adopts the claimed machines.
    """
    from apps.runtime import MachineState, RuntimeFailure, get_runtime

    env = DeploymentEnvironment.objects.get(pk=env_id)
    session = EnvironmentSession.objects.select_related("scenario_version", "user").get(pk=session_id)
    sid = str(env.session_uuid)
    expected = set(env.launch_result.get("machines", {}))
    try:
        runtime = get_runtime(env.runtime_backend or None)
        states = runtime.status(sid)
        healthy = set(states) == expected and all(s == MachineState.RUNNING for s in states.values())
        fresh = env.ready_checked_at and (timezone.now() - env.ready_checked_at).total_seconds() < READY_FRESH_SECONDS
        if healthy and not fresh:
            ready = runtime.check_ready(sid)
            healthy = set(ready) == expected and all(ready.values())
    except RuntimeFailure as exc:
        logger.warning("claimed pool environment %s could not be checked: %s", env.pk, exc)
        healthy = False
    if healthy:
        DeploymentEnvironment.objects.filter(pk=env.pk).update(claimed_session=session)
        session = env_session_mark_running(session=session, result=_result_from_json(env.launch_result))
        if session.status == SessionStatus.RUNNING:
            audit_record(
                actor=None,
                action=AuditAction.POOL_CLAIM,
                target=session,
                details={"environment": str(env.pk), "pool": str(env.pool_id)},
            )
            return session
        # Stopped while being claimed: its teardown removes the machines under the same id.
        return session
    # A half-claimed environment is destroyed, and the start becomes a cold launch under the same id.
    DeploymentEnvironment.objects.filter(pk=env.pk).update(
        status=ParkStatus.REMOVED,
        failure_reason="Failed its health check when claimed; the session started cold.",
        deleted_at=timezone.now(),
        claimed_session=session,
    )
    _runtime_stop(env)
    EnvironmentSession.objects.filter(pk=session.pk, status=SessionStatus.STARTING).update(
        progress_message="Starting a fresh lab"
    )
    push(session.pk, {"type": "progress", "progress": 0, "message": "Starting a fresh lab"})
    enqueue("apps.environments.tasks.env_session_provision_task", str(session.pk))
    session.refresh_from_db()
    return session


# --- events and dashboards ----------------------------------------------------------------------
def pool_prewarm(*, scenario_id, starts_at, ends_at, min_ready: int, note: str, budget: PoolBudget | None = None):
    """Give a scenario a pool window of ``min_ready`` from ``starts_at`` to ``ends_at`` (an event start).

    Creates the pool if the scenario has none, and raises its maximum to fit. Returns the window;
    a window with the same ``note`` (the same event) is replaced.
    """
    from apps.scenarios.models import Scenario

    with transaction.atomic():
        scenario = Scenario.objects.get(pk=scenario_id)
        pool = EnvironmentPool.objects.select_for_update().filter(scenario=scenario).first()
        max_size = max(pool.max_size if pool else 0, min_ready)
        pool_check(
            scenario=scenario,
            min_ready=pool.min_ready if pool else 0,
            max_size=max_size,
            windows=[(starts_at, ends_at, min_ready)],
            budget=budget,
        )
        if pool is None:
            pool = EnvironmentPool.objects.create(scenario=scenario, min_ready=0, max_size=max_size)
        elif pool.max_size < max_size:
            pool.max_size = max_size
            pool.save(update_fields=["max_size", "updated_at"])
        window, _ = PoolWindow.objects.update_or_create(
            pool=pool, note=note, defaults={"starts_at": starts_at, "ends_at": ends_at, "min_ready": min_ready}
        )
    return window


def pools_summary() -> dict:
    """Return the dashboard's pool figures: environments parked and launching, and their hourly cost."""
    from django.db.models import Count

    live = DeploymentEnvironment.objects.filter(pool__isnull=False, status__in=LIVE_PARK_STATUSES)
    by_version = dict(live.exclude(status=ParkStatus.REMOVING).values_list("scenario_version").annotate(n=Count("pk")))
    hourly = sum(
        (version_hourly_rm(v) * by_version[v.pk] for v in ScenarioVersion.objects.filter(pk__in=list(by_version))),
        Decimal("0"),
    )
    return {
        "parked": live.filter(status=ParkStatus.PARKED).count(),
        "launching": live.filter(status=ParkStatus.LAUNCHING).count(),
        "pools": EnvironmentPool.objects.filter(is_enabled=True).count(),
        "hourly_rm": hourly.quantize(Decimal("0.01")),
    }


def pool_cost_accrue(*, now=None) -> int:
    """Charge every pool environment up to now (or up to its claim or removal); return how many.

    A parked environment costs what a session of its version costs; its claim ends the pool's
    charge and the session's begins. Rows are locked, so two passes never charge a period twice.
    """
    now = now or timezone.now()
    charged = 0
    with transaction.atomic():
        due = (
            DeploymentEnvironment.objects.select_for_update()
            .select_related("scenario_version")
            .filter(pool__isnull=False, cost_accrued_until__isnull=False, cost_accrued_until__lt=now)
            .filter(
                Q(status__in=LIVE_PARK_STATUSES)
                | Q(claimed_at__gt=F("cost_accrued_until"))
                | Q(deleted_at__gt=F("cost_accrued_until"))
            )
        )
        rates: dict = {}
        for env in due:
            end = now
            if env.status not in LIVE_PARK_STATUSES:
                end = min(t for t in (env.claimed_at, env.deleted_at, now) if t is not None)
            if end <= env.cost_accrued_until:
                continue
            if env.scenario_version_id not in rates:
                rates[env.scenario_version_id] = version_hourly_rm(env.scenario_version)
            seconds = Decimal((end - env.cost_accrued_until).total_seconds())
            amount = (rates[env.scenario_version_id] * seconds / Decimal(3600)).quantize(Decimal("0.0001"))
            DeploymentEnvironment.objects.filter(pk=env.pk).update(
                cost_accumulated_rm=F("cost_accumulated_rm") + amount, cost_accrued_until=end
            )
            charged += 1
    return charged


# --- the admin's edits --------------------------------------------------------------------------
def pool_save(*, pool: EnvironmentPool, actor, budget: PoolBudget | None = None) -> EnvironmentPool:
    """Check and save a pool (the admin's form), audited; its environments follow on the next pass."""
    windows = [(w.starts_at, w.ends_at, w.min_ready) for w in pool.windows.all()] if pool.pk else []
    pool_check(scenario=pool.scenario, min_ready=pool.min_ready, max_size=pool.max_size, windows=windows, budget=budget)
    created = pool._state.adding
    with transaction.atomic():
        pool.save()
        audit_record(
            actor=actor,
            action=AuditAction.POOL_CREATE if created else AuditAction.POOL_UPDATE,
            target=pool,
            details={"min_ready": pool.min_ready, "max_size": pool.max_size, "enabled": pool.is_enabled},
        )
    return pool


def pool_delete(*, pool: EnvironmentPool, actor) -> None:
    """Delete a pool; its parked environments are drained by the next pass (their ``pool`` becomes null)."""
    with transaction.atomic():
        audit_record(actor=actor, action=AuditAction.POOL_DELETE, target=pool, details={"scenario": str(pool.scenario)})
        _remove_all(DeploymentEnvironment.objects.filter(pool=pool), reason="The pool was deleted.")
        pool.delete()


def pool_window_save(*, window: PoolWindow, actor) -> PoolWindow:
    """Check and save one window of a pool (the admin's inline), audited on the pool."""
    pool_check(
        scenario=window.pool.scenario,
        min_ready=window.pool.min_ready,
        max_size=window.pool.max_size,
        windows=[(window.starts_at, window.ends_at, window.min_ready)],
    )
    with transaction.atomic():
        window.save()
        audit_record(
            actor=actor,
            action=AuditAction.POOL_UPDATE,
            target=window.pool,
            details={"window": str(window), "note": window.note},
        )
    return window


def pool_window_delete(*, window: PoolWindow, actor) -> None:
    """Delete one window of a pool, audited on the pool; the next pass trims to the new target."""
    with transaction.atomic():
        audit_record(actor=actor, action=AuditAction.POOL_UPDATE, target=window.pool, details={"removed": str(window)})
        window.delete()
