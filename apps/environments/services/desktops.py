"""Desktops in the browser: who may open a machine's desktop (or watch it view-only), its VNC
passwords, and the ``gui_sessions`` row of every connection.

A GUI machine (its image variant has ``has_gui``) runs TigerVNC on 127.0.0.1:``DESKTOP_PORT`` inside
the machine. Its two passwords (full control, view only) are derived per session and machine from
the server's secret, written into the machine as a file before it starts (``desktop_password_file``)
and handed only to a page that passed ``env_desktop_authorize``; they are never stored, put in an
environment variable or a label. The page reaches the server through the runtime's port relay
(``Runtime.open_port_stream``: ``docker exec`` of socat in the machine), like a terminal.

Owners (and whoever ``hooks.session_access`` lets in, such as teammates) get control; an admin or an
organiser of the session's event (``hooks.session_watch``) who is not the owner watches view-only,
enforced by the VNC server itself (the view-only password). Every watch is audited and the solver's
page is told how many people watch.
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.environments.launch import DESKTOP_PORT, desktop_passwords, machine_has_gui
from apps.environments.models import EnvironmentMachine, EnvironmentSession, GuiSession, SessionStatus
from apps.environments.selectors import env_desktop_viewers
from apps.environments.services.common import push
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import Conflict, NotFound, PermissionDenied
from rangex.core.throttling import throttle_check

__all__ = ["DESKTOP_PORT", "desktop_passwords"]

LOG_TAIL_LINES = 40


@dataclass(frozen=True)
class DesktopGrant:
    """One authorised desktop connection: a machine of a session, with control or view-only."""

    session_id: str
    machine: str
    view_only: bool
    password: str = field(repr=False)
    runtime_key: str = ""
    user_id: object = None


def env_desktop_authorize(*, user, session_id, machine: str, token: str, client=None) -> DesktopGrant:
    """Check access, state, token, the machine's desktop and the rate; audit the connection.

    NotFound: no such session, machine or desktop for this user; Conflict: the session is not
    running; PermissionDenied: the token is missing or wrong; Throttled: too many connections.
    ``client`` is the connecting address (for the per-address rate).
    """
    if user is None or not user.is_authenticated:
        raise NotFound(_("No such session."))
    session = EnvironmentSession.objects.filter(pk=session_id).first()
    if session is None:
        raise NotFound(_("No such session."))
    control, watch = env_desktop_viewers(user=user, session=session)
    if not (control or watch):
        raise NotFound(_("No such session."))
    throttle_check(SimpleNamespace(user=user, META={"REMOTE_ADDR": client or ""}), "desktop")
    if session.status != SessionStatus.RUNNING:
        raise Conflict(_("Desktops open only while the session is running."))
    if not token or not hmac.compare_digest(token.encode(), session.gateway_session_token.encode()):
        raise PermissionDenied(_("This desktop link is not valid; reload the session page."))
    row = (
        EnvironmentMachine.objects.select_related("machine__image_variant", "machine__platform_image")
        .filter(environment_session=session, machine_name=machine)
        .first()
    )
    if row is None or row.machine is None or not machine_has_gui(row.machine):
        raise NotFound(_("This machine has no desktop."))
    if control and not (row.allow_solver_entry or user.is_platform_admin):
        raise NotFound(_("This machine has no desktop."))
    view_only = not control
    audit_record(
        actor=user,
        action=AuditAction.SESSION_DESKTOP_WATCH if view_only else AuditAction.SESSION_DESKTOP_OPEN,
        target=session,
        details={"machine": machine, "view_only": view_only, "owner": session.user_id == user.pk},
    )
    full, view = desktop_passwords(session_id=session.pk, machine=machine)
    return DesktopGrant(
        session_id=str(session.pk),
        machine=machine,
        view_only=view_only,
        password=view if view_only else full,
        runtime_key=session.runtime_backend,
        user_id=user.pk,
    )


def env_desktop_open(*, grant: DesktopGrant):
    """Open the relay to the machine's VNC server (blocking; call it from a worker thread)."""
    from apps.runtime import get_runtime

    return get_runtime(grant.runtime_key or None).open_port_stream(grant.session_id, grant.machine, DESKTOP_PORT)


def env_desktop_failed(*, grant: DesktopGrant, reason: str) -> str:
    """Record a desktop that could not be reached: the machine's log tail on a failed ``gui_sessions``
    row, and the machine marked failed when it is not running any more. Returns the log tail."""
    from apps.runtime import MachineState, RuntimeFailure, get_runtime

    runtime = get_runtime(grant.runtime_key or None)
    try:
        tail = runtime.machine_log_tail(grant.session_id, grant.machine, lines=LOG_TAIL_LINES)
        state = runtime.status(grant.session_id).get(grant.machine, MachineState.MISSING)
    except RuntimeFailure as exc:
        tail, state = str(exc), MachineState.UNKNOWN
    now = timezone.now()
    GuiSession.objects.create(
        session_id=uuid.uuid4().hex,
        user_id=grant.user_id,
        environment_session_id=grant.session_id,
        machine_name=grant.machine,
        view_only=grant.view_only,
        vnc_port=DESKTOP_PORT,
        status="failed",
        started_at=now,
        stopped_at=now,
        error_message=f"{reason}\n{tail}".strip()[-8000:],
    )
    if state not in (MachineState.RUNNING, MachineState.PAUSED):
        EnvironmentMachine.objects.filter(environment_session_id=grant.session_id, machine_name=grant.machine).update(
            status=EnvironmentMachine.Status.FAILED
        )
    return tail


def gui_session_begin(*, grant: DesktopGrant) -> int:
    """Record an open desktop connection; tell the session's pages who watches. Returns the row id."""
    row = GuiSession.objects.create(
        session_id=uuid.uuid4().hex,
        user_id=grant.user_id,
        environment_session_id=grant.session_id,
        machine_name=grant.machine,
        view_only=grant.view_only,
        vnc_port=DESKTOP_PORT,
        gui_type="vnc",
        connection_url=f"/ws/sessions/{grant.session_id}/desktop/{grant.machine}/",
        status="active",
        started_at=timezone.now(),
    )
    if grant.view_only:
        _push_watchers(grant.session_id)
    return row.pk


def gui_session_end(*, row_id: int, bytes_in: int = 0, bytes_out: int = 0) -> None:
    """Close the row of a desktop connection (its duration follows from started_at and stopped_at)."""
    row = GuiSession.objects.filter(pk=row_id, status="active").first()
    if row is None:
        return
    row.status = "closed"
    row.stopped_at = row.last_activity = timezone.now()
    row.metadata = {"bytes_to_browser": bytes_out, "bytes_from_browser": bytes_in}
    row.save(update_fields=["status", "stopped_at", "last_activity", "metadata", "updated_at"])
    if row.view_only:
        _push_watchers(str(row.environment_session_id))


def desktop_watchers(*, session_id) -> int:
    return GuiSession.objects.filter(environment_session_id=session_id, status="active", view_only=True).count()


def _push_watchers(session_id: str) -> None:
    push(session_id, {"type": "watchers", "count": desktop_watchers(session_id=session_id)})
