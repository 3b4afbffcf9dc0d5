"""Starting a session: the limits, the row and the queued provisioning."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.environments import hooks
from apps.environments.launch import machine_resources
from apps.environments.models import (
    LIVE_STATUSES,
    EnvironmentMachine,
    EnvironmentSession,
    SessionStatus,
)
from apps.environments.services.answers import _session_completed
from apps.environments.services.common import (
    session_duration_minutes,
)
from apps.environments.services.pools import pool_claim, pool_claim_finish, pool_machine_count
from apps.environments.services.progress import env_session_carry_progress
from apps.scenarios.limits import scenario_access_check
from apps.scenarios.models import Scenario, ScenarioLimit, ScenarioType, VersionStatus
from apps.scenarios.prerequisites import prerequisites_missing
from apps.scenarios.runtime_choice import scenario_runtime_key
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import (
    Conflict,
    LimitExceeded,
    PermissionDenied,
    ServiceUnavailable,
)
from rangex.core.scheduling import enqueue
from rangex.core.system import get_settings

logger = logging.getLogger(__name__)


def _check_start_limits(*, user, version, now, event_id=None, warm: bool = False) -> None:
    conf = get_settings()
    # Inside an event the limit is one lab per challenge (the caller returns the live one), so the
    # per-user limit counts practice labs only.
    # Question-only sessions hold no machines, so they count against none of the lab limits.
    labs = EnvironmentSession.objects.exclude(scenario_version__requires_machines=False)
    live = labs.filter(user=user, status__in=LIVE_STATUSES, is_test=False, event_id=None)
    if event_id is None and conf.max_sessions_per_user and live.count() >= conf.max_sessions_per_user:
        raise LimitExceeded(
            _(
                "You already have %(max_sessions_per_user)s running lab(s), the most allowed at once. "
                "Stop one to start another."
            )
            % {"max_sessions_per_user": conf.max_sessions_per_user},
            limit="max_sessions_per_user",
        )
    started = labs.filter(user=user, is_test=False)
    if started.filter(created_at__gte=now - timedelta(hours=1)).count() >= conf.max_sessions_per_hour:
        raise LimitExceeded(
            _("You have started %(max_sessions_per_hour)s labs in the last hour, the hourly limit. Try again later.")
            % {"max_sessions_per_hour": conf.max_sessions_per_hour},
            limit="max_sessions_per_hour",
        )
    if started.filter(created_at__gte=now - timedelta(days=1)).count() >= conf.max_sessions_per_day:
        raise LimitExceeded(
            _("You have started %(max_sessions_per_day)s labs in the last 24 hours, the daily limit.")
            % {"max_sessions_per_day": conf.max_sessions_per_day},
            limit="max_sessions_per_day",
        )
    if user.budget_limit_rm and user.budget_spent_rm >= user.budget_limit_rm:
        raise LimitExceeded(
            _("Your budget of RM %(budget_limit_rm)s is used up (RM %(budget_spent_rm)s spent).")
            % {"budget_limit_rm": user.budget_limit_rm, "budget_spent_rm": user.budget_spent_rm},
            limit="budget_limit_rm",
        )
    if conf.max_concurrent_users:
        active = (
            EnvironmentSession.objects.filter(status__in=LIVE_STATUSES, is_test=False)
            .exclude(user=user)
            .values("user_id")
            .distinct()
            .count()
        )
        if active >= conf.max_concurrent_users:
            raise LimitExceeded(
                _(
                    "RangeX is at its limit of %(max_concurrent_users)s people with running labs. "
                    "Try again in a few minutes."
                )
                % {"max_concurrent_users": conf.max_concurrent_users},
                limit="max_concurrent_users",
            )
    if warm:
        # A claimed parked lab's machines exist already; they were counted when the pool made them.
        return
    machine_count = version.machines.count()
    running_containers = (
        EnvironmentMachine.objects.filter(environment_session__status__in=LIVE_STATUSES).count() + pool_machine_count()
    )
    cap = min(conf.max_total_containers, conf.docker_max_containers)
    if running_containers + machine_count > cap:
        raise LimitExceeded(
            _("The platform is at its limit of %(cap)s running machines. Try again in a few minutes.") % {"cap": cap},
            limit="max_total_containers",
        )


PREVIEW_LABS_PER_CREATOR = 1


def _check_preview_limits(*, user, version) -> None:
    """A creator's preview skips the solver limits, so it has its own: one preview lab at a time, the
    creator's budget, and the platform's machine cap."""
    live = EnvironmentSession.objects.filter(user=user, status__in=LIVE_STATUSES, is_test=True).exclude(
        scenario_version=version
    )
    if live.count() >= PREVIEW_LABS_PER_CREATOR:
        raise LimitExceeded(
            _("You already have a preview lab running. Stop it before you preview another version."),
            limit="preview_labs_per_creator",
        )
    if user.budget_limit_rm and user.budget_spent_rm >= user.budget_limit_rm:
        raise LimitExceeded(
            _("Your budget of RM %(budget_limit_rm)s is used up (RM %(budget_spent_rm)s spent).")
            % {"budget_limit_rm": user.budget_limit_rm, "budget_spent_rm": user.budget_spent_rm},
            limit="budget_limit_rm",
        )
    conf = get_settings()
    running = (
        EnvironmentMachine.objects.filter(environment_session__status__in=LIVE_STATUSES).count() + pool_machine_count()
    )
    cap = min(conf.max_total_containers, conf.docker_max_containers)
    if running + version.machines.count() > cap:
        raise LimitExceeded(
            _("The platform is at its limit of %(cap)s running machines. Try again in a few minutes.") % {"cap": cap},
            limit="max_total_containers",
        )


def _check_machine_caps(*, version) -> None:
    """Refuse a version whose machines ask for more CPU or memory than one container may have here."""
    conf = get_settings()
    for machine in version.machines.all():
        cpus, memory_mb = machine_resources(machine)
        if cpus > float(conf.docker_max_cpus_per_container):
            raise LimitExceeded(
                _(
                    "Machine %(name)s asks for %(cpus)s CPUs; this install allows at most "
                    "%(docker_max_cpus_per_container)s per machine. Ask an admin to change the scenario or "
                    "the limit."
                )
                % {
                    "name": machine.name,
                    "cpus": format(cpus, "g"),
                    "docker_max_cpus_per_container": format(conf.docker_max_cpus_per_container, "g"),
                },
                limit="docker_max_cpus_per_container",
            )
        if memory_mb > conf.docker_max_memory_mb_per_container:
            raise LimitExceeded(
                _(
                    "Machine %(name)s asks for %(memory_mb)s MB of memory; this install allows at most "
                    "%(docker_max_memory_mb_per_container)s MB per machine. Ask an admin to change the scenario "
                    "or the limit."
                )
                % {
                    "name": machine.name,
                    "memory_mb": memory_mb,
                    "docker_max_memory_mb_per_container": conf.docker_max_memory_mb_per_container,
                },
                limit="docker_max_memory_mb_per_container",
            )


def _require_runtime(key: str) -> None:
    """Refuse a start when the backend the session will use is not configured or does not answer.

    One ping (a few milliseconds on Docker), so a user gets a clear refusal instead of a session
    that fails a minute later.
    """
    from apps.runtime import RuntimeFailure, get_runtime

    try:
        runtime = get_runtime(key)
        ping = runtime.ping()
    except RuntimeFailure as exc:
        logger.error("runtime %s cannot start labs: %s", key, exc.message)
        raise ServiceUnavailable(_("Labs cannot be started right now: the lab engine is not available.")) from exc
    if not ping.get("ok"):
        logger.error("runtime %s is unreachable: %s", runtime.key, ping.get("error", ""))
        raise ServiceUnavailable(_("Labs cannot be started right now: the lab engine does not answer. Try again soon."))


def _check_scenario_cap(*, scenario: Scenario, user, now) -> None:
    """The scenario's own limits (``scenario_limit``): players at once and labs per player per day."""
    limit = ScenarioLimit.objects.filter(scenario=scenario).first()
    if limit is None:
        return
    if limit.max_concurrent_players:
        players = EnvironmentSession.objects.filter(
            scenario_version__scenario=scenario, status__in=LIVE_STATUSES, is_test=False
        ).count()
        if players >= limit.max_concurrent_players:
            raise LimitExceeded(
                _("This scenario is full (%(max_concurrent_players)s players at once). Try again later.")
                % {"max_concurrent_players": limit.max_concurrent_players},
                limit="max_concurrent_players",
            )
    if limit.max_sessions_per_user_per_day:
        today = EnvironmentSession.objects.filter(
            scenario_version__scenario=scenario, user=user, is_test=False, created_at__gte=now - timedelta(days=1)
        ).count()
        if today >= limit.max_sessions_per_user_per_day:
            raise LimitExceeded(
                _(
                    "You have started this scenario %(today)s times in the last 24 hours; it allows "
                    "%(max_sessions_per_user_per_day)s per player per day. Try again tomorrow."
                )
                % {"today": today, "max_sessions_per_user_per_day": limit.max_sessions_per_user_per_day},
                limit="max_sessions_per_user_per_day",
            )


def env_session_start(
    *,
    user,
    version,
    client_ip: str | None = None,
    user_agent: str = "",
    event_id=None,
    team_id=None,
    is_test: bool = False,
) -> EnvironmentSession:
    """Start (or return the already live) session of ``user`` on ``version``; provisioning runs on commit.

    A question-only version (``requires_machines=False``) gets a session without machines that is
    running at once: no provisioning, no runtime call, no timer, and none of the lab limits.
    """
    if is_test:
        # Admins test-deploy and review any version; a creator previews their own scenario's versions.
        if not (user.is_platform_admin or version.scenario.created_by_user_id == user.pk):
            raise PermissionDenied(_("Only the scenario's creator and admins may preview a version."))
    else:
        if version.status != VersionStatus.PUBLISHED:
            raise Conflict(_("This version is not published, so it cannot be started."))
        if version.scenario_type == ScenarioType.EVENT_LAB and event_id is None:
            raise PermissionDenied(_("This lab can only be started inside its event."))
        if event_id is None:
            # In an event the event checks its own prerequisites (solves inside the event).
            _require_prerequisites(user=user, version=version)
    if not version.requires_machines and event_id is not None:
        # An event scores its question-only challenges without a session (events.services.play).
        raise Conflict(_("This scenario has no machines to start; answer its questions directly."))
    if get_settings().maintenance_active and not user.is_staff:
        raise ServiceUnavailable(_("RangeX is in maintenance mode; labs cannot be started right now."))
    _check_machine_caps(version=version)
    # An engine call never runs inside a transaction (a caller's row locks would wait on it); a
    # caller that starts a lab inside its own (an event) gets the failed session instead.
    runtime_key = scenario_runtime_key(version.scenario_id)
    if not transaction.get_connection().in_atomic_block:
        _require_runtime(runtime_key)

    now = timezone.now()
    with transaction.atomic():
        # MariaDB does not enforce partial unique constraints, so the user row lock is what makes a
        # double-clicked Start (or twenty parallel ones) yield one session.
        locked_user = get_user_model().objects.select_for_update().get(pk=user.pk)
        existing = (
            EnvironmentSession.objects.filter(user=locked_user, scenario_version=version, status__in=LIVE_STATUSES)
            .order_by("created_at")
            .first()
        )
        if existing is not None:
            return existing
        if not is_test and event_id is None:
            # An event grants its own labs; elsewhere the allow list and the per-player scenario cap decide.
            scenario_access_check(user=locked_user, scenario=version.scenario)
        if not version.requires_machines:
            return _start_question_only(
                user=locked_user, version=version, now=now, client_ip=client_ip, user_agent=user_agent, is_test=is_test
            )
        if is_test and not locked_user.is_platform_admin:
            _check_preview_limits(user=locked_user, version=version)
        # A parked environment of a warm pool, if one is ready: the session takes its id. Claimed
        # before the limits are checked, so a refusal rolls the claim back with everything else.
        parked = None if is_test else pool_claim(version=version, runtime_key=runtime_key)
        if not is_test:
            _check_start_limits(user=locked_user, version=version, now=now, event_id=event_id, warm=parked is not None)
            # The scenario row lock serialises players of one scenario across users.
            scenario = Scenario.objects.select_for_update().get(pk=version.scenario_id)
            _check_scenario_cap(scenario=scenario, user=locked_user, now=now)
            hooks.session_start_check.send(user=locked_user, version=version, now=now)
        machines = list(version.machines.all())
        profile = max((m.resource_profile for m in machines), key=_profile_rank, default="small")
        session = EnvironmentSession.objects.create(
            **({"id": parked.session_uuid, "runtime_backend": parked.runtime_backend} if parked else {}),
            user=locked_user,
            scenario_version=version,
            event_id=event_id,
            team_id=team_id,
            status=SessionStatus.STARTING,
            **({} if parked else {"runtime_backend": runtime_key}),
            expires_at=now + timedelta(minutes=session_duration_minutes(version)),
            env_profile=profile,
            client_ip=client_ip,
            client_user_agent=(user_agent or "")[:512],
            last_activity_at=now,
            is_test=is_test,
            progress_message="Claiming a ready lab" if parked else "Queued",
        )
        _carry_progress(session)
        EnvironmentMachine.objects.bulk_create(
            EnvironmentMachine(
                environment_session=session,
                machine=m,
                machine_name=m.name,
                role=m.role,
                allow_solver_entry=m.allow_solver_entry,
            )
            for m in machines
        )
        audit_record(
            actor=user,
            action=AuditAction.SESSION_START,
            target=session,
            details={"version": str(version.id), "is_test": is_test, "warm": parked is not None},
        )
        if parked is None:
            enqueue("apps.environments.tasks.env_session_provision_task", str(session.id))
        else:
            # After the (outermost) commit, in this thread: the claimed machines are checked and
            # the session runs within the request, or it falls back to a cold launch.
            transaction.on_commit(lambda: pool_claim_finish(session_id=session.id, env_id=parked.pk))
    if parked is not None:
        session.refresh_from_db()
    return session


def _start_question_only(*, user, version, now, client_ip, user_agent, is_test) -> EnvironmentSession:
    """Create the running, machine-less session of a question-only version (inside the caller's transaction)."""
    session = EnvironmentSession.objects.create(
        user=user,
        scenario_version=version,
        status=SessionStatus.RUNNING,
        runtime_backend="none",
        started_at=now,
        expires_at=None,
        client_ip=client_ip,
        client_user_agent=(user_agent or "")[:512],
        last_activity_at=now,
        is_test=is_test,
        progress=100,
        progress_message="Running",
    )
    _carry_progress(session)
    audit_record(
        actor=user,
        action=AuditAction.SESSION_START,
        target=session,
        details={"version": str(version.id), "is_test": is_test, "question_only": True},
    )
    return session


def _carry_progress(session) -> None:
    """Start the lab with its learner's earlier answers; if that completes it, tell the completion hooks."""
    if env_session_carry_progress(session=session):
        transaction.on_commit(lambda: _session_completed(session.pk))


def _require_prerequisites(*, user, version) -> None:
    missing = prerequisites_missing(user=user, version=version)
    if missing:
        names = ", ".join(p.title for p in missing)
        raise Conflict(_("This scenario is locked until you solve %(names)s.") % {"names": names})


def _profile_rank(name: str) -> int:
    return ["micro", "small", "medium", "large"].index(name) if name in ("micro", "small", "medium", "large") else 1
