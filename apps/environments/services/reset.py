"""Reset one machine of a running lab: recreated from its version, as at the start (issue 17)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils.translation import gettext as _

from apps.environments.models import EnvironmentMachine, EnvironmentSession, SessionStatus
from apps.environments.services.common import push, require_access, session_locked, session_runtime
from apps.environments.services.provision import env_session_mark_failed
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import InvalidTransition, NotFound
from rangex.core.scheduling import enqueue

logger = logging.getLogger(__name__)


def env_session_machine_reset(*, session: EnvironmentSession, actor, machine: str) -> EnvironmentSession:
    """Ask for ``machine`` of a running lab to be recreated (its files and accounts as at the start).

    What the solver did on that machine is lost; the other machines are left alone. The work runs
    in a task; the page shows "Resetting ..." until the machine is back.
    """
    require_access(session, actor)
    with transaction.atomic():
        session = session_locked(session)
        if session.status != SessionStatus.RUNNING or not session.has_lab:
            raise InvalidTransition(_("Only a running lab's machines can be reset."))
        if not session.machines.filter(machine_name=machine).exists():
            raise NotFound(_("This lab has no machine called %(machine)s.") % {"machine": repr(machine)})
        session.progress_message = f"Resetting {machine}…"
        session.save(update_fields=["progress_message"])
        audit_record(
            actor=actor, action=AuditAction.SESSION_MACHINE_RESET, target=session, details={"machine": machine}
        )
        enqueue("apps.environments.tasks.env_session_machine_reset_task", str(session.pk), machine)
    push(session.pk, {"type": "notice", "message": f"Resetting {machine}: it starts again as it was at the start."})
    return session


def env_session_machine_reset_run(*, session_id, machine: str) -> EnvironmentSession | None:
    """Recreate the machine on the session's runtime and record its new id and addresses. Safe to repeat."""
    from apps.environments.launch import build_launch_spec
    from apps.runtime import RuntimeFailure

    session = EnvironmentSession.objects.filter(pk=session_id).select_related("scenario_version").first()
    if session is None or session.status != SessionStatus.RUNNING:
        return session
    try:
        result = session_runtime(session).reset_machine(build_launch_spec(session), machine)
    except RuntimeFailure as exc:
        # Like a failed launch, the runtime removed the whole lab: the session fails with the reason.
        logger.warning("reset of %s in session %s failed: %s", machine, session_id, exc.message)
        return env_session_mark_failed(session=session, reason=f"Resetting {machine} failed: {exc.message}")
    handle = result.machines.get(machine)
    if handle is not None:
        EnvironmentMachine.objects.filter(environment_session=session, machine_name=machine).update(
            task_arn=handle.id,
            private_ip=next(iter(handle.ips.values()), None),
            status=EnvironmentMachine.Status.RUNNING,
        )
    EnvironmentSession.objects.filter(pk=session.pk, status=SessionStatus.RUNNING).update(progress_message="Running")
    push(session.pk, {"type": "notice", "message": f"{machine} was reset and is running again."})
    push(session.pk, {"type": "status", "status": "running"})
    session.refresh_from_db()
    return session
