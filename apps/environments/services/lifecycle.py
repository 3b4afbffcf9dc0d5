"""A session's life after the start: pause, resume, extend, stop, teardown, activity and idle warnings."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.environments.models import (
    LIVE_STATUSES,
    EnvironmentMachine,
    EnvironmentSession,
    SessionSecurityGroup,
    SessionStatus,
)
from apps.environments.selectors import env_session_machines_live
from apps.environments.services.common import (
    ACTIVITY_THROTTLE_SECONDS,
    EXTEND_MINUTES,
    push,
    require_access,
    require_transition,
    session_capabilities,
    session_locked,
    session_runtime,
)
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import (
    Conflict,
    InvalidTransition,
    LimitExceeded,
    ServiceUnavailable,
    ValidationFailed,
)
from rangex.core.scheduling import enqueue
from rangex.core.system import get_settings

logger = logging.getLogger(__name__)


def env_session_pause(*, session: EnvironmentSession, actor) -> EnvironmentSession:
    """Freeze the containers and the timer."""
    from apps.runtime import RuntimeFailure

    require_access(session, actor)
    if not session.has_lab:
        raise InvalidTransition(_("This scenario has no lab and no timer to pause."))
    if not session_capabilities(session).can_pause:
        raise Conflict(_("This lab runs on a backend that cannot pause; stop it instead when you are done."))
    with transaction.atomic():
        session = session_locked(session)
        require_transition(session, SessionStatus.PAUSED)
        if session.status != SessionStatus.RUNNING:
            raise InvalidTransition(_("Only a running session can be paused."))
        if not session.has_lab:
            raise InvalidTransition(_("This scenario has no lab and no timer to pause."))
        remaining = max(int((session.expires_at - timezone.now()).total_seconds()), 0)
        session.status = SessionStatus.PAUSED
        session.paused_remaining_seconds = remaining
        session.paused_at = timezone.now()
        session.version += 1
        session.save(update_fields=["status", "paused_remaining_seconds", "paused_at", "version"])
        audit_record(
            actor=actor, action=AuditAction.SESSION_PAUSE, target=session, details={"remaining_seconds": remaining}
        )
    # The engine call happens after the commit; if it fails, the timer state is put back.
    try:
        session_runtime(session).pause(str(session.pk))
    except RuntimeFailure as exc:
        with transaction.atomic():
            undone = EnvironmentSession.objects.filter(pk=session.pk, status=SessionStatus.PAUSED).update(
                status=SessionStatus.RUNNING, paused_remaining_seconds=None, paused_at=None, version=F("version") + 1
            )
            if undone:
                # The audit log must not show a pause that never happened without its undoing.
                audit_record(
                    actor=actor,
                    action=AuditAction.SESSION_PAUSE_FAILED,
                    target=session,
                    details={"error": str(exc)[:500]},
                )
        raise ServiceUnavailable(_("The lab could not be paused: %(exc)s") % {"exc": exc}) from exc
    push(session.pk, {"type": "status", "status": "paused", "remaining_seconds": remaining})
    return session


def env_session_resume(*, session: EnvironmentSession, actor) -> EnvironmentSession:
    """Unfreeze the containers; the timer continues from where it stopped."""
    from apps.runtime import RuntimeFailure

    require_access(session, actor)
    session.refresh_from_db()
    if session.status != SessionStatus.PAUSED:
        raise InvalidTransition(_("Only a paused session can be resumed."))
    try:
        session_runtime(session).resume(str(session.pk))
    except RuntimeFailure as exc:
        raise ServiceUnavailable(_("The lab could not be resumed: %(exc)s") % {"exc": exc}) from exc
    with transaction.atomic():
        session = session_locked(session)
        if session.status != SessionStatus.PAUSED:
            raise InvalidTransition(_("Only a paused session can be resumed."))
        now = timezone.now()
        fields = ["status", "expires_at", "paused_remaining_seconds", "paused_at", "last_activity_at", "version"]
        if session.paused_at is not None:
            # Accrual charges running sessions from cost_accrued_until on; without this it would
            # charge the whole pause on the first pass after the resume.
            charged_until = session.cost_accrued_until or session.started_at or session.created_at
            session.cost_accrued_until = (
                charged_until + (now - session.paused_at) if charged_until <= session.paused_at else now
            )
            fields.append("cost_accrued_until")
        session.status = SessionStatus.RUNNING
        session.expires_at = now + timedelta(seconds=session.paused_remaining_seconds or 0)
        session.paused_remaining_seconds = None
        session.paused_at = None
        session.last_activity_at = now
        session.version += 1
        session.save(update_fields=fields)
        audit_record(actor=actor, action=AuditAction.SESSION_RESUME, target=session)
    push(session.pk, {"type": "status", "status": "running", "expires_at": session.expires_at.isoformat()})
    return session


def env_session_extend(*, session: EnvironmentSession, actor, minutes: int = EXTEND_MINUTES) -> EnvironmentSession:
    """Add time, up to the system's maximum session duration counted from the start."""
    require_access(session, actor)
    if not 1 <= minutes <= 240:
        raise ValidationFailed(_("Extend by 1 to 240 minutes."), fields={"minutes": [_("Use 1 to 240.")]})
    with transaction.atomic():
        session = session_locked(session)
        if session.status != SessionStatus.RUNNING:
            raise InvalidTransition(_("Only a running session can be extended."))
        if not session.has_lab:
            raise InvalidTransition(_("This scenario has no lab and no timer to extend."))
        cap = (session.started_at or session.created_at) + timedelta(
            minutes=get_settings().max_session_duration_minutes
        )
        new_expiry = min(session.expires_at + timedelta(minutes=minutes), cap)
        if new_expiry <= session.expires_at:
            raise LimitExceeded(
                _(
                    "Sessions last at most %(max_session_duration_minutes)s minutes; this one cannot be "
                    "extended further."
                )
                % {"max_session_duration_minutes": get_settings().max_session_duration_minutes},
                limit="max_session_duration_minutes",
            )
        session.expires_at = new_expiry
        session.idle_warned = False
        session.version += 1
        session.save(update_fields=["expires_at", "idle_warned", "version"])
        audit_record(actor=actor, action=AuditAction.SESSION_EXTEND, target=session, details={"minutes": minutes})
    push(session.pk, {"type": "status", "status": "running", "expires_at": session.expires_at.isoformat()})
    return session


def env_session_stop(*, session: EnvironmentSession, actor, reason: str = "Stopped by the user") -> EnvironmentSession:
    """Begin a graceful stop; the teardown task removes every container and network."""
    if actor is not None:
        require_access(session, actor)
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
            raise InvalidTransition(_("This session has already ended."))
        audit_record(actor=actor, action=AuditAction.SESSION_STOP, target=session, details={"reason": reason})

        enqueue("apps.environments.tasks.env_session_teardown_task", str(session.pk))
        transaction.on_commit(lambda: push(session.pk, {"type": "status", "status": "stopping", "reason": reason}))
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
    from apps.runtime import RuntimeFailure, RuntimeNotConfigured

    session = EnvironmentSession.objects.filter(pk=session_id).select_related("scenario_version").first()
    if session is None or session.status != SessionStatus.STOPPING:
        return session
    missing_runtime = ""
    try:
        if session.has_lab:  # a question-only session has nothing on the runtime
            session_runtime(session).stop(str(session_id))
    except RuntimeNotConfigured as exc:
        # The backend that made the lab is no longer configured, so nothing here can remove its
        # resources; the session ends anyway (a retry would fail the same way), with a warning.
        missing_runtime = exc.message
        logger.warning("session %s ends without teardown: %s", session_id, exc.message)
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
            details = {"runtime_missing": missing_runtime} if missing_runtime else None
            audit_record(actor=None, action=AuditAction.SESSION_TERMINATED, target=session, details=details)
            transaction.on_commit(lambda: push(session_id, {"type": "status", "status": "terminated"}))
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


def env_session_refresh_machines(*, session: EnvironmentSession) -> EnvironmentSession:
    """Bring the machine rows in line with the engine, so a container that died shows as such."""

    before = {row.pk: row.status for row in session.machines.all()}
    for row in env_session_machines_live(session=session):
        if before[row.pk] != row.status:
            EnvironmentMachine.objects.filter(pk=row.pk).update(status=row.status)
    return session


def env_session_touch(*, session_id) -> None:
    """Record activity (terminal input or output), at most every few seconds per session."""
    now = timezone.now()
    EnvironmentSession.objects.filter(
        pk=session_id,
        status=SessionStatus.RUNNING,
        last_activity_at__lt=now - timedelta(seconds=ACTIVITY_THROTTLE_SECONDS),
    ).update(last_activity_at=now, idle_warned=False)


def env_session_warn_idle(*, session: EnvironmentSession, minutes_left: int) -> bool:
    """Warn the solver once that an idle session stops soon: in the page and by notification.

    Return False when another worker warned first or the session is no longer running.
    """
    from rangex.core.notifications import notification_send

    message = format_lazy(
        gettext_lazy(
            "Your lab has been idle and will stop in about {minutes_left} minute(s). Use it to keep it running."
        ),
        minutes_left=minutes_left,
    )
    with transaction.atomic():
        changed = EnvironmentSession.objects.filter(
            pk=session.pk, status=SessionStatus.RUNNING, idle_warned=False
        ).update(idle_warned=True)
        if not changed:
            return False
        notification_send(
            user=session.user,
            type="session",
            title=gettext_lazy("Your lab will stop soon"),
            body=message,
            link=f"/sessions/{session.pk}/",
        )
        audit_record(
            actor=None, action=AuditAction.SESSION_IDLE_WARNED, target=session, details={"minutes_left": minutes_left}
        )
        transaction.on_commit(lambda: push(session.pk, {"type": "idle_warning", "message": str(message)}))
    return True


def env_sessions_release_for_user(*, user, actor) -> dict[str, int]:
    """Stop every live lab of an account that is being deleted (an ``accounts.user_deleting`` receiver).

    The session rows go with the account, so the runtime's resources are released by session id
    after the commit, without needing the rows; the orphan sweep is the safety net if that fails.
    """
    live = list(
        EnvironmentSession.objects.select_for_update().filter(user=user, status__in=LIVE_STATUSES).order_by("pk")
    )
    for session in live:
        audit_record(
            actor=actor, action=AuditAction.SESSION_STOP, target=session, details={"reason": "The account was deleted"}
        )
        enqueue("apps.environments.tasks.env_runtime_release_task", str(session.pk), session.runtime_backend)
    return {"labs_stopped": len(live)}


def env_runtime_release(*, session_id, runtime_key: str | None = None) -> None:
    """Remove whatever the session's runtime still holds for a session id (idempotent; no row needed).

    A key that is no longer configured is logged and left: nothing here can reach that backend.
    """
    from apps.runtime import RuntimeNotConfigured, get_runtime

    try:
        runtime = get_runtime(runtime_key or None)
    except RuntimeNotConfigured as exc:
        logger.warning("resources of session %s are left on an unconfigured runtime: %s", session_id, exc.message)
        return
    runtime.stop(str(session_id))
