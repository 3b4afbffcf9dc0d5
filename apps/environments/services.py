"""Every state change of an environment session.

Intent and effect are separate: ``env_session_start`` writes the row as ``starting`` and queues
provisioning on commit; the provisioning task calls the runtime outside any transaction and then
reports back with ``env_session_mark_running`` or ``env_session_mark_failed``. Reconcilers use
conditional updates, so two workers racing on one session act once.
"""

from __future__ import annotations

import hmac
import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.environments import hooks, launch
from apps.environments.models import (
    LIVE_STATUSES,
    EnvironmentMachine,
    EnvironmentSession,
    FlagShareSuspicion,
    SessionNetworkTopology,
    SessionSecurityGroup,
    SessionStatus,
)
from apps.scenarios import grading
from apps.scenarios.models import Scenario, ScenarioType, VersionStatus
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import (
    Conflict,
    InvalidTransition,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    ValidationFailed,
)
from rangex.core.scheduling import enqueue
from rangex.core.system import get_settings

logger = logging.getLogger(__name__)

MIN_SESSION_MINUTES = 30
EXTEND_MINUTES = 30
ACTIVITY_THROTTLE_SECONDS = 30
SHARING_LOOKBACK_DAYS = 30


# --- Start ---------------------------------------------------------------------------------------


def session_duration_minutes(version) -> int:
    """Return a new session's length: twice the estimate, at least 30 minutes, at most the system cap."""
    cap = get_settings().max_session_duration_minutes
    return max(min(version.estimated_minutes * 2, cap), min(MIN_SESSION_MINUTES, cap))


def _check_start_limits(*, user, version, now) -> None:
    conf = get_settings()
    live = EnvironmentSession.objects.filter(user=user, status__in=LIVE_STATUSES, is_test=False)
    if conf.max_sessions_per_user and live.count() >= conf.max_sessions_per_user:
        raise LimitExceeded(
            f"You already have {conf.max_sessions_per_user} running lab(s), the most allowed at once. "
            "Stop one to start another.",
            limit="max_sessions_per_user",
        )
    started = EnvironmentSession.objects.filter(user=user, is_test=False)
    if started.filter(created_at__gte=now - timedelta(hours=1)).count() >= conf.max_sessions_per_hour:
        raise LimitExceeded(
            f"You have started {conf.max_sessions_per_hour} labs in the last hour, the hourly limit. Try again later.",
            limit="max_sessions_per_hour",
        )
    if started.filter(created_at__gte=now - timedelta(days=1)).count() >= conf.max_sessions_per_day:
        raise LimitExceeded(
            f"You have started {conf.max_sessions_per_day} labs in the last 24 hours, the daily limit.",
            limit="max_sessions_per_day",
        )
    if user.budget_limit_rm and user.budget_spent_rm >= user.budget_limit_rm:
        raise LimitExceeded(
            f"Your budget of RM {user.budget_limit_rm} is used up (RM {user.budget_spent_rm} spent).",
            limit="budget_limit_rm",
        )
    machine_count = version.machines.count()
    running_containers = EnvironmentMachine.objects.filter(environment_session__status__in=LIVE_STATUSES).count()
    cap = min(conf.max_total_containers, conf.docker_max_containers)
    if running_containers + machine_count > cap:
        raise LimitExceeded(
            f"The platform is at its limit of {cap} running machines. Try again in a few minutes.",
            limit="max_total_containers",
        )


def _check_scenario_cap(*, scenario: Scenario) -> None:
    limit = getattr(scenario, "limit", None)
    if limit is None or not limit.max_concurrent_players:
        return
    players = EnvironmentSession.objects.filter(
        scenario_version__scenario=scenario, status__in=LIVE_STATUSES, is_test=False
    ).count()
    if players >= limit.max_concurrent_players:
        raise LimitExceeded(
            f"This scenario is full ({limit.max_concurrent_players} players at once). Try again later.",
            limit="max_concurrent_players",
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
    """Start (or return the already live) session of ``user`` on ``version``; provisioning runs on commit."""
    if is_test:
        if not user.is_platform_admin:
            raise PermissionDenied("Only admins may test-deploy a version.")
    else:
        if version.status != VersionStatus.PUBLISHED:
            raise Conflict("This version is not published, so it cannot be started.")
        if version.scenario_type == ScenarioType.EVENT_LAB and event_id is None:
            raise PermissionDenied("This lab can only be started inside its event.")
    if not version.requires_machines:
        raise Conflict("This scenario has no machines to start; answer its questions directly.")
    if get_settings().maintenance_mode and not user.is_staff:
        raise ServiceUnavailable("RangeX is in maintenance mode; labs cannot be started right now.")

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
        if not is_test:
            _check_start_limits(user=locked_user, version=version, now=now)
            # The scenario row lock serialises players of one scenario across users.
            scenario = Scenario.objects.select_for_update().get(pk=version.scenario_id)
            _check_scenario_cap(scenario=scenario)
            hooks.session_start_check.send(user=locked_user, version=version, now=now)
        machines = list(version.machines.all())
        profile = max((m.resource_profile for m in machines), key=_profile_rank, default="small")
        session = EnvironmentSession.objects.create(
            user=locked_user,
            scenario_version=version,
            event_id=event_id,
            team_id=team_id,
            status=SessionStatus.STARTING,
            runtime_backend=settings.RANGEX_RUNTIME_BACKEND.rsplit(".", 1)[-1],
            expires_at=now + timedelta(minutes=session_duration_minutes(version)),
            env_profile=profile,
            client_ip=client_ip,
            client_user_agent=(user_agent or "")[:512],
            last_activity_at=now,
            is_test=is_test,
            progress_message="Queued",
        )
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
            details={"version": str(version.id), "is_test": is_test},
        )

        enqueue("apps.environments.tasks.env_session_provision_task", str(session.id))
    return session


def _profile_rank(name: str) -> int:
    return ["micro", "small", "medium", "large"].index(name) if name in ("micro", "small", "medium", "large") else 1


# --- Provisioning (called by tasks, outside transactions) ------------------------------------------


def _set_progress(session_id, step: int, total: int, message: str) -> None:
    pct = int(100 * step / max(total, 1))
    EnvironmentSession.objects.filter(pk=session_id, status=SessionStatus.STARTING).update(
        progress=min(pct, 99), progress_message=message[:255]
    )
    _push(session_id, {"type": "progress", "progress": min(pct, 99), "message": message})


def env_session_provision(*, session_id) -> EnvironmentSession | None:
    """Make the containers of a ``starting`` session. Idempotent: a retry adopts or cleans up."""
    from apps.environments.launch import build_launch_spec
    from apps.runtime import RuntimeFailure, get_runtime

    updated = EnvironmentSession.objects.filter(pk=session_id, status=SessionStatus.STARTING).update(
        launch_attempts=F("launch_attempts") + 1
    )
    if not updated:
        return None
    session = EnvironmentSession.objects.select_related("scenario_version", "user").get(pk=session_id)
    runtime = get_runtime()
    try:
        spec = build_launch_spec(session)
        result = runtime.launch(spec, progress=lambda s, t, m: _set_progress(session_id, s, t, m))
    except RuntimeFailure as exc:
        _cleanup(runtime, session_id)
        return env_session_mark_failed(session=session, reason=f"The lab could not start: {exc}")
    except Exception:
        logger.exception("launch of session %s failed", session_id)
        _cleanup(runtime, session_id)
        return env_session_mark_failed(session=session, reason="The lab could not start because of an internal error.")
    session = env_session_mark_running(session=session, result=result)
    if session.status != SessionStatus.RUNNING:
        # Stopped while we were launching: take down what we just made.
        _cleanup(runtime, session_id)
    return session


def _cleanup(runtime, session_id) -> None:
    try:
        runtime.stop(str(session_id))
    except Exception:
        logger.exception("cleanup of session %s failed", session_id)


def env_session_mark_running(*, session: EnvironmentSession, result) -> EnvironmentSession:
    """Record what the runtime made and move ``starting`` to ``running``; act only if still starting."""
    now = timezone.now()
    duration = session_duration_minutes(session.scenario_version)
    with transaction.atomic():
        changed = EnvironmentSession.objects.filter(pk=session.pk, status=SessionStatus.STARTING).update(
            status=SessionStatus.RUNNING,
            started_at=now,
            expires_at=now + timedelta(minutes=duration),
            last_activity_at=now,
            progress=100,
            progress_message="Running",
            version=F("version") + 1,
        )
        session.refresh_from_db()
        if not changed:
            return session
        rows = {m.machine_name: m for m in session.machines.all()}
        topology, groups = [], {}
        for name, handle in result.machines.items():
            row = rows.get(name)
            if row is None:
                continue
            ips = dict(handle.ips)
            row.task_arn = handle.container_id
            row.private_ip = next(iter(ips.values()), None)
            row.status = EnvironmentMachine.Status.RUNNING
            row.save(update_fields=["task_arn", "private_ip", "status"])
            for group, ip in ips.items():
                topology.append(
                    SessionNetworkTopology(
                        session=session,
                        machine_name=name,
                        machine_role=row.role,
                        network_group=group,
                        task_arn=handle.container_id,
                        private_ip=ip,
                    )
                )
        for group, network_id in (getattr(result, "networks", None) or {}).items():
            groups[group] = network_id
        SessionNetworkTopology.objects.bulk_create(topology)
        SessionSecurityGroup.objects.bulk_create(
            SessionSecurityGroup(
                session=session, security_group_id=nid, network_group=g, security_group_name=f"{session.pk}:{g}"
            )
            for g, nid in groups.items()
        )
        audit_record(actor=None, action=AuditAction.SESSION_RUNNING, target=session)
        transaction.on_commit(lambda: _push(session.pk, {"type": "status", "status": "running"}))
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
            transaction.on_commit(lambda: _push(session.pk, {"type": "status", "status": "failed", "reason": reason}))
    return session


# --- Lifecycle -----------------------------------------------------------------------------------


def _locked(session: EnvironmentSession) -> EnvironmentSession:
    return EnvironmentSession.objects.select_for_update().select_related("scenario_version").get(pk=session.pk)


def _require_transition(session: EnvironmentSession, to: str) -> None:
    if to not in EnvironmentSession.TRANSITIONS[session.status]:
        raise InvalidTransition(f"A {session.get_status_display().lower()} session cannot become {to}.")


def _check_actor(session: EnvironmentSession, actor) -> None:
    from apps.environments.selectors import env_session_can_access

    if actor is not None and not env_session_can_access(user=actor, session=session):
        raise NotFound("No such session.")


def env_session_pause(*, session: EnvironmentSession, actor) -> EnvironmentSession:
    """Freeze the containers and the timer."""
    from apps.runtime import RuntimeFailure, get_runtime

    _check_actor(session, actor)
    with transaction.atomic():
        session = _locked(session)
        _require_transition(session, SessionStatus.PAUSED)
        if session.status != SessionStatus.RUNNING:
            raise InvalidTransition("Only a running session can be paused.")
        remaining = max(int((session.expires_at - timezone.now()).total_seconds()), 0)
        session.status = SessionStatus.PAUSED
        session.paused_remaining_seconds = remaining
        session.version += 1
        session.save(update_fields=["status", "paused_remaining_seconds", "version"])
        audit_record(
            actor=actor, action=AuditAction.SESSION_PAUSE, target=session, details={"remaining_seconds": remaining}
        )
    # The engine call happens after the commit; if it fails, the timer state is put back.
    try:
        get_runtime().pause(str(session.pk))
    except RuntimeFailure as exc:
        with transaction.atomic():
            undone = EnvironmentSession.objects.filter(pk=session.pk, status=SessionStatus.PAUSED).update(
                status=SessionStatus.RUNNING, paused_remaining_seconds=None, version=F("version") + 1
            )
            if undone:
                # The audit log must not show a pause that never happened without its undoing.
                audit_record(
                    actor=actor,
                    action=AuditAction.SESSION_PAUSE_FAILED,
                    target=session,
                    details={"error": str(exc)[:500]},
                )
        raise ServiceUnavailable(f"The lab could not be paused: {exc}") from exc
    _push(session.pk, {"type": "status", "status": "paused", "remaining_seconds": remaining})
    return session


def env_session_resume(*, session: EnvironmentSession, actor) -> EnvironmentSession:
    """Unfreeze the containers; the timer continues from where it stopped."""
    from apps.runtime import RuntimeFailure, get_runtime

    _check_actor(session, actor)
    session.refresh_from_db()
    if session.status != SessionStatus.PAUSED:
        raise InvalidTransition("Only a paused session can be resumed.")
    try:
        get_runtime().resume(str(session.pk))
    except RuntimeFailure as exc:
        raise ServiceUnavailable(f"The lab could not be resumed: {exc}") from exc
    with transaction.atomic():
        session = _locked(session)
        if session.status != SessionStatus.PAUSED:
            raise InvalidTransition("Only a paused session can be resumed.")
        now = timezone.now()
        session.status = SessionStatus.RUNNING
        session.expires_at = now + timedelta(seconds=session.paused_remaining_seconds or 0)
        session.paused_remaining_seconds = None
        session.last_activity_at = now
        session.version += 1
        session.save(update_fields=["status", "expires_at", "paused_remaining_seconds", "last_activity_at", "version"])
        audit_record(actor=actor, action=AuditAction.SESSION_RESUME, target=session)
    _push(session.pk, {"type": "status", "status": "running", "expires_at": session.expires_at.isoformat()})
    return session


def env_session_extend(*, session: EnvironmentSession, actor, minutes: int = EXTEND_MINUTES) -> EnvironmentSession:
    """Add time, up to the system's maximum session duration counted from the start."""
    _check_actor(session, actor)
    if not 1 <= minutes <= 240:
        raise ValidationFailed("Extend by 1 to 240 minutes.", fields={"minutes": ["Use 1 to 240."]})
    with transaction.atomic():
        session = _locked(session)
        if session.status != SessionStatus.RUNNING:
            raise InvalidTransition("Only a running session can be extended.")
        cap = (session.started_at or session.created_at) + timedelta(
            minutes=get_settings().max_session_duration_minutes
        )
        new_expiry = min(session.expires_at + timedelta(minutes=minutes), cap)
        if new_expiry <= session.expires_at:
            raise LimitExceeded(
                f"Sessions last at most {get_settings().max_session_duration_minutes} minutes; this one cannot be "
                "extended further.",
                limit="max_session_duration_minutes",
            )
        session.expires_at = new_expiry
        session.idle_warned = False
        session.version += 1
        session.save(update_fields=["expires_at", "idle_warned", "version"])
        audit_record(actor=actor, action=AuditAction.SESSION_EXTEND, target=session, details={"minutes": minutes})
    _push(session.pk, {"type": "status", "status": "running", "expires_at": session.expires_at.isoformat()})
    return session


def env_session_stop(*, session: EnvironmentSession, actor, reason: str = "Stopped by the user") -> EnvironmentSession:
    """Begin a graceful stop; the teardown task removes every container and network."""
    if actor is not None:
        _check_actor(session, actor)
    with transaction.atomic():
        changed = (
            EnvironmentSession.objects.filter(pk=session.pk, status__in=LIVE_STATUSES)
            .exclude(status=SessionStatus.STOPPING)
            .update(
                status=SessionStatus.STOPPING,
                stopped_at=timezone.now(),
                reason_stopped=reason[:2000],
                version=F("version") + 1,
            )
        )
        session.refresh_from_db()
        if not changed:
            if session.status == SessionStatus.STOPPING:
                # Stop again on a stopping session tries its teardown again (it is safe to repeat).

                enqueue("apps.environments.tasks.env_session_teardown_task", str(session.pk))
                return session
            raise InvalidTransition("This session has already ended.")
        audit_record(actor=actor, action=AuditAction.SESSION_STOP, target=session, details={"reason": reason})

        enqueue("apps.environments.tasks.env_session_teardown_task", str(session.pk))
        transaction.on_commit(lambda: _push(session.pk, {"type": "status", "status": "stopping", "reason": reason}))
    return session


def env_session_stop_for_platform(*, session: EnvironmentSession, reason: str) -> bool:
    """Stop a session for the platform (expiry, idle, budgets); return whether this call stopped it.

    A session already stopping or ended is left as it is and not counted.
    """
    if session.status == SessionStatus.STOPPING:
        return False
    try:
        env_session_stop(session=session, actor=None, reason=reason)
    except InvalidTransition:
        return False
    return True


def env_session_teardown(*, session_id) -> EnvironmentSession | None:
    """Remove the runtime resources of a stopping session, then mark it terminated. Safe to repeat."""
    from apps.runtime import RuntimeFailure, get_runtime

    session = EnvironmentSession.objects.filter(pk=session_id).first()
    if session is None or session.status != SessionStatus.STOPPING:
        return session
    try:
        get_runtime().stop(str(session_id))
    except RuntimeFailure as exc:
        logger.warning("teardown of session %s failed: %s", session_id, exc)
        raise
    now = timezone.now()
    with transaction.atomic():
        changed = EnvironmentSession.objects.filter(pk=session_id, status=SessionStatus.STOPPING).update(
            status=SessionStatus.TERMINATED, ended_at=now, version=F("version") + 1
        )
        if changed:
            EnvironmentMachine.objects.filter(environment_session_id=session_id).update(
                status=EnvironmentMachine.Status.REMOVED
            )
            SessionSecurityGroup.objects.filter(session_id=session_id).update(status="deleted", deleted_at=now)
            session.refresh_from_db()
            audit_record(actor=None, action=AuditAction.SESSION_TERMINATED, target=session)
            transaction.on_commit(lambda: _push(session_id, {"type": "status", "status": "terminated"}))
    return session


STALE_STOPPING_MINUTES = 10


def env_session_teardown_stale(*, now=None, older_than_minutes: int = STALE_STOPPING_MINUTES) -> int:
    """Finish the teardown of sessions left ``stopping`` (their task gave up or was lost); return how many.

    A session that stays ``stopping`` keeps its containers, and the orphan sweep leaves the
    resources of live sessions alone, so this pass is what finally releases them.
    """
    from apps.runtime import RuntimeFailure

    now = now or timezone.now()
    stale = EnvironmentSession.objects.filter(
        status=SessionStatus.STOPPING, stopped_at__lte=now - timedelta(minutes=older_than_minutes)
    ).values_list("pk", flat=True)
    finished = 0
    for session_id in list(stale):
        try:
            session = env_session_teardown(session_id=session_id)
        except RuntimeFailure:
            continue  # logged by the teardown; the next pass tries again
        finished += session is not None and session.status == SessionStatus.TERMINATED
    return finished


_ENGINE_STATES = {
    "running": EnvironmentMachine.Status.RUNNING,
    "paused": EnvironmentMachine.Status.PAUSED,
    "exited": EnvironmentMachine.Status.EXITED,
    "dead": EnvironmentMachine.Status.EXITED,
    "created": EnvironmentMachine.Status.EXITED,
}


def env_session_refresh_machines(*, session: EnvironmentSession) -> EnvironmentSession:
    """Bring the machine rows in line with the engine, so a container that died shows as such."""
    from apps.runtime import RuntimeFailure, get_runtime

    if session.status not in (SessionStatus.RUNNING, SessionStatus.PAUSED):
        return session
    try:
        states = get_runtime().status(str(session.pk))
    except RuntimeFailure:
        logger.warning("status of session %s unavailable", session.pk, exc_info=True)
        return session
    for row in session.machines.all():
        new = _ENGINE_STATES.get(states.get(row.machine_name, ""), EnvironmentMachine.Status.MISSING)
        if row.status != new:
            EnvironmentMachine.objects.filter(pk=row.pk).update(status=new)
            row.status = new
    return session


def env_session_touch(*, session_id) -> None:
    """Record activity (terminal input or output), at most every few seconds per session."""
    now = timezone.now()
    EnvironmentSession.objects.filter(
        pk=session_id,
        status=SessionStatus.RUNNING,
        last_activity_at__lt=now - timedelta(seconds=ACTIVITY_THROTTLE_SECONDS),
    ).update(last_activity_at=now, idle_warned=False)


# --- Answers and hints ---------------------------------------------------------------------------


def _question(version, question_id: str) -> dict[str, Any]:
    for question in version.questions or []:
        if question.get("id") == question_id:
            return question
    raise NotFound(f"This scenario has no question {question_id!r}.")


def _expected_flag(session, question) -> str | None:
    if launch.is_dynamic_flag(question):
        return launch.session_flag(session_id=session.pk, question_id=question["id"])
    return None


def _record_sharing(session, question, answer: str) -> None:
    """If ``answer`` is another session's dynamic flag for this question, record suspected sharing."""
    since = timezone.now() - timedelta(days=SHARING_LOOKBACK_DAYS)
    others = (
        EnvironmentSession.objects.filter(scenario_version_id=session.scenario_version_id, created_at__gte=since)
        .exclude(pk=session.pk)
        .values_list("pk", flat=True)
    )
    submitted = str(answer).strip()
    for other_id in others.iterator():
        flag = launch.session_flag(session_id=other_id, question_id=question["id"])
        if hmac.compare_digest(flag.encode(), submitted.encode()):
            FlagShareSuspicion.objects.create(session=session, owner_session_id=other_id, question_id=question["id"])
            audit_record(
                actor=session.user,
                action=AuditAction.SESSION_FLAG_SHARED,
                target=session,
                details={"question": question["id"], "owner_session": str(other_id)},
            )
            return


def _is_complete(version, answers: dict) -> bool:
    for question in version.questions or []:
        state = answers.get(question["id"])
        if state is None:
            return False
        if not state.get("correct") and not state.get("pending_review") and state.get("remaining_attempts") != 0:
            return False
    return True


def env_session_submit_answer(*, session: EnvironmentSession, actor, question_id: str, answer) -> dict[str, Any]:
    """Grade ``answer`` with the attempt limits; store the answer state and score; complete when done."""
    _check_actor(session, actor)
    if not isinstance(question_id, str) or not question_id:
        raise ValidationFailed("Name the question you answer.", fields={"question_id": ["This field is required."]})
    with transaction.atomic():
        session = _locked(session)
        if session.status not in (SessionStatus.RUNNING, SessionStatus.PAUSED):
            raise Conflict("Answers are accepted only while the session is running.")
        version = session.scenario_version
        question = _question(version, question_id)
        answers = dict(session.answers or {})
        state = answers.get(question_id) or grading.new_answer_state(question)
        result = grading.grade(
            question=question,
            state=state,
            answer=answer,
            scoring_mode=version.scoring_mode,
            hint_mode=version.hint_mode,
            hints=version.hints or [],
            expected_flag=_expected_flag(session, question),
        )
        answers[question_id] = result.state
        session.answers = answers
        session.score = grading.score_of(answers.values())
        session.last_activity_at = timezone.now()
        session.version += 1
        fields = ["answers", "score", "last_activity_at", "version"]
        completed = session.completed_at is None and _is_complete(version, answers)
        if completed:
            session.completed_at = timezone.now()
            fields.append("completed_at")
        session.save(update_fields=fields)
        if not result.state.get("correct") and question.get("dynamic"):
            _record_sharing(session, question, answer)
        audit_record(
            actor=actor,
            action=AuditAction.SESSION_ANSWER,
            target=session,
            details={"question": question_id, "correct": bool(result.state.get("correct"))},
        )
        if completed:
            transaction.on_commit(lambda: _session_completed(session.pk))
    _push(session.pk, {"type": "score", "score": session.score})
    return {
        "question_id": question_id,
        "state": result.state,
        "message": result.message,
        "score": session.score,
        "completed": session.completed_at is not None,
    }


def env_session_take_hint(*, session: EnvironmentSession, actor, hint_id: str) -> dict[str, Any]:
    """Reveal a hint; in penalty mode its cost comes off that question's reward when it is solved."""
    _check_actor(session, actor)
    with transaction.atomic():
        session = _locked(session)
        if session.status not in (SessionStatus.RUNNING, SessionStatus.PAUSED):
            raise Conflict("Hints are available only while the session is running.")
        version = session.scenario_version
        hint = next((h for h in version.hints or [] if h.get("id") == hint_id), None)
        if hint is None:
            raise NotFound(f"This scenario has no hint {hint_id!r}.")
        question = _question(version, hint["question_id"])
        answers = dict(session.answers or {})
        state = answers.get(question["id"]) or grading.new_answer_state(question)
        answers[question["id"]] = grading.take_hint(
            question=question, state=state, hint=hint, hint_mode=version.hint_mode
        )
        session.answers = answers
        session.version += 1
        session.save(update_fields=["answers", "version"])
        audit_record(actor=actor, action=AuditAction.SESSION_HINT, target=session, details={"hint": hint_id})
    return {"hint_id": hint_id, "text": hint["text"], "cost": hint.get("cost", 0), "state": answers[question["id"]]}


def _session_completed(session_id) -> None:
    """Tell the higher apps (paths, badges) that a session completed; one failing receiver spares the rest."""
    for receiver in hooks.session_completed.receivers:
        try:
            receiver(session_id=session_id)
        except Exception:
            logger.exception("completion receiver %s failed for session %s", receiver, session_id)


# --- Live updates --------------------------------------------------------------------------------


def _push(session_id, message: dict[str, Any]) -> None:
    """Send ``message`` to every open page of the session; never fails the caller."""
    try:
        from asgiref.sync import async_to_sync
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(f"session-{session_id}", {"type": "session.event", "event": message})
    except Exception:
        logger.warning("live update for session %s failed", session_id, exc_info=True)


def cost_rate_rm(session: EnvironmentSession) -> Decimal:
    """Return the hourly cost of a session: the sum of its machines' variant or profile costs."""
    from apps.images.profiles import profile_limits

    total = Decimal("0")
    for row in session.machines.select_related("machine__image_variant"):
        machine = row.machine
        if machine is not None and machine.image_variant_id:
            total += machine.image_variant.hourly_cost_rm
        else:
            total += profile_limits(machine.resource_profile if machine else "small").hourly_cost_rm
    return total


# --- Periodic checks (called by apps.ops reconcilers) -----------------------------------------------


def env_session_warn_idle(*, session: EnvironmentSession, minutes_left: int) -> bool:
    """Warn the solver once that an idle session stops soon: in the page and by notification.

    Return False when another worker warned first or the session is no longer running.
    """
    from rangex.core.notifications import notification_send

    message = f"Your lab has been idle and will stop in about {minutes_left} minute(s). Use it to keep it running."
    with transaction.atomic():
        changed = EnvironmentSession.objects.filter(
            pk=session.pk, status=SessionStatus.RUNNING, idle_warned=False
        ).update(idle_warned=True)
        if not changed:
            return False
        notification_send(
            user=session.user,
            type="session",
            title="Your lab will stop soon",
            body=message,
            link=f"/sessions/{session.pk}/",
        )
        audit_record(
            actor=None, action=AuditAction.SESSION_IDLE_WARNED, target=session, details={"minutes_left": minutes_left}
        )
        transaction.on_commit(lambda: _push(session.pk, {"type": "idle_warning", "message": message}))
    return True
