"""Opening terminals: who may open a shell in which machine, recorded in the audit log.

The consumer calls ``env_terminal_authorize`` before it accepts the socket (every refusal happens
before ``accept``), then ``env_terminal_open`` on a worker thread: the runtime call runs outside
any transaction.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from django.utils.translation import gettext as _

from apps.environments.launch import machine_image
from apps.environments.models import EnvironmentSession, SessionStatus
from apps.environments.selectors import env_session_can_access
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import Conflict, NotFound, PermissionDenied
from rangex.core.metrics import TERMINAL_OPEN_SECONDS


@dataclass(frozen=True)
class TerminalGrant:
    """What one authorised terminal may open: a machine of a session, as a given machine user."""

    session_id: str
    machine: str
    user: str
    runtime_key: str = ""


def env_terminal_authorize(*, user, session_id, machine: str, token: str) -> TerminalGrant:
    """Check access, state, the page's per-session token and the machine's entry rule; audit the open.

    NotFound: no such session or machine for this user (or a machine solvers may not enter);
    Conflict: the session is not running; PermissionDenied: the token is missing or wrong.
    """
    if user is None or not user.is_authenticated:
        raise NotFound(_("No such session."))
    session = (
        EnvironmentSession.objects.prefetch_related(
            "machines__machine__image_variant", "machines__machine__platform_image"
        )
        .filter(pk=session_id)
        .first()
    )
    if session is None or not env_session_can_access(user=user, session=session):
        raise NotFound(_("No such session."))
    if session.status != SessionStatus.RUNNING:
        raise Conflict(_("Terminals open only while the session is running."))
    if not token or not hmac.compare_digest(token.encode(), session.gateway_session_token.encode()):
        raise PermissionDenied(_("This terminal link is not valid; reload the session page."))
    row = next((m for m in session.machines.all() if m.machine_name == machine), None)
    if row is None or not (row.allow_solver_entry or user.is_platform_admin):
        raise NotFound(_("No such machine in this session."))
    terminal_user = "root"
    if row.machine is not None:
        _image, source = machine_image(row.machine)
        terminal_user = getattr(source, "terminal_user", "") or "root"
    audit_record(
        actor=user,
        action=AuditAction.SESSION_TERMINAL_OPEN,
        target=session,
        details={"machine": machine, "as": terminal_user, "owner": session.user_id == user.pk},
    )
    return TerminalGrant(
        session_id=str(session.pk), machine=machine, user=terminal_user, runtime_key=session.runtime_backend
    )


def env_terminal_open(*, grant: TerminalGrant, cols: int, rows: int):
    """Open the granted terminal on the runtime (blocking; call it from a worker thread)."""
    from apps.runtime import get_runtime

    with TERMINAL_OPEN_SECONDS.time():
        return get_runtime(grant.runtime_key or None).open_terminal(
            grant.session_id, grant.machine, user=grant.user, cols=cols, rows=rows
        )
