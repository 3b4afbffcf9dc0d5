"""Live terminals and live session updates over WebSockets.

The terminal consumer bridges xterm.js to a TTY exec in one machine of a running session. Every
check happens before ``accept``; the origin is checked exactly by ``rangex.core.origins`` in
``rangex.asgi``. Output is read on a worker thread and sent in batches; the page acknowledges what
it has drawn, and the reader waits while too much is unacknowledged, so ``cat`` of a large file
neither freezes the page nor grows memory without bound (the TTY's own buffer then stalls the
process, as a slow terminal would).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer
from django.utils.translation import gettext as _

from apps.environments import shells
from apps.environments.models import EnvironmentSession
from rangex.core.errors import ApplicationError
from rangex.core.parsers import json_loads_bounded

logger = logging.getLogger(__name__)

# Output batching and flow control live in ``shells``: a batch is at least 64 KiB when that much is
# waiting, and sending pauses once more than 1 MiB is unacknowledged, so a page that stops
# acknowledging is sent at most the window plus one batch: under 1.125 MiB.
TOUCH_EVERY_SECONDS = 20
ENDED = {"stopping", "terminated", "failed", "error"}
# A refused terminal closes before ``accept`` with a code the page understands.
REFUSAL_CODES = {404: 4404, 409: 4409, 403: 4403}

# The page names each of its shells on a machine; the name is part of the key a reload comes back with.
TAB_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")

RED = "\x1b[1;31m"
YELLOW = "\x1b[1;33m"
RESET = "\x1b[0m"


@database_sync_to_async
def _authorize_terminal(user, session_id, machine, token):
    from apps.environments.services import env_terminal_authorize

    return env_terminal_authorize(user=user, session_id=session_id, machine=machine, token=token)


@database_sync_to_async
def _load_session(user, session_id):
    from apps.environments.selectors import env_session_can_access

    if user is None or not user.is_authenticated:
        return None
    session = (
        EnvironmentSession.objects.prefetch_related(
            "machines__machine__image_variant", "machines__machine__platform_image"
        )
        .filter(pk=session_id)
        .first()
    )
    if session is None or not env_session_can_access(user=user, session=session):
        return None
    return session


@database_sync_to_async
def _touch(session_id):
    from apps.environments.services import env_session_touch

    env_session_touch(session_id=session_id)


def _query_param(scope, name: str) -> str:
    from urllib.parse import parse_qs

    values = parse_qs(scope.get("query_string", b"").decode()).get(name)
    return values[0] if values else ""


class TerminalConsumer(AsyncWebsocketConsumer):
    """``/ws/sessions/<id>/terminal/<machine>/?token=...&tab=...``: one shell in one machine.

    The shell itself is a ``shells.LiveShell``: it outlives this socket for a grace period unless the
    page closes the tab on purpose (close code 1000), so a reload comes back to the same shell.
    """

    shell = None

    async def connect(self):
        kwargs = self.scope["url_route"]["kwargs"]
        self.session_id = str(kwargs["session_id"])
        self.machine_name = kwargs["machine"]
        user = self.scope.get("user")
        try:
            token = _query_param(self.scope, "token")
            grant = await _authorize_terminal(user, self.session_id, self.machine_name, token)
        except ApplicationError as exc:
            await self.close(code=REFUSAL_CODES.get(exc.status_code, 4403))
            return
        tab = _query_param(self.scope, "tab")
        tab = tab if TAB_ID.fullmatch(tab) else "1"
        cols = _bounded(_query_param(self.scope, "cols"), 80, 20, 500)
        rows = _bounded(_query_param(self.scope, "rows"), 24, 5, 200)
        self.last_touch = 0.0
        self.group = f"session-{self.session_id}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        from apps.environments.services import env_terminal_open
        from apps.runtime.base import RuntimeFailure

        try:
            await shells.shell_attach(
                key=(self.session_id, self.machine_name, tab, user.pk),
                consumer=self,
                open_terminal=lambda: env_terminal_open(grant=grant, cols=cols, rows=rows),
                cols=cols,
                rows=rows,
            )
        except (RuntimeFailure, ApplicationError) as exc:
            await self._fail(f"Could not open a terminal on {self.machine_name}: {exc}")
            return
        except Exception:
            logger.exception("terminal open failed for session %s", self.session_id)
            await self._fail(_("Could not open a terminal on %(machine)s.") % {"machine": self.machine_name})
            return

    async def _fail(self, message: str) -> None:
        await self.send(text_data=json.dumps({"type": "error", "message": message}))
        await self.send(bytes_data=f"\r\n{RED}{message}{RESET}\r\n".encode())
        await self.close(code=4500)

    async def kept(self) -> None:
        """The shell of this tab was kept: its scroll-back follows."""
        await self.send(text_data=json.dumps({"type": "attached", "kept": True}))

    async def deliver(self, data: bytes) -> None:
        """Send shell output to the page (called by the shell's reader)."""
        try:
            await self.send(bytes_data=data)
        except Exception:
            logger.debug("terminal socket of session %s went away mid-send", self.session_id, exc_info=True)
            return
        await self._maybe_touch()

    async def shell_exited(self) -> None:
        self.shell = None
        await self.send(bytes_data=f"\r\n{YELLOW}[the shell has exited]{RESET}\r\n".encode())
        await self.close(code=1000)

    async def taken_over(self) -> None:
        """The same tab attached from another window: this socket lets go of the shell."""
        self.shell = None
        await self.send(bytes_data=f"\r\n{YELLOW}This shell is now open in another window.{RESET}\r\n".encode())
        await self.close(code=4001)

    async def _maybe_touch(self) -> None:
        now = time.monotonic()
        if now - self.last_touch > TOUCH_EVERY_SECONDS:
            self.last_touch = now
            await _touch(self.session_id)

    async def receive(self, text_data=None, bytes_data=None):
        shell = self.shell
        if shell is None:
            return
        if bytes_data is not None:
            await asyncio.to_thread(shell.terminal.write, bytes_data)
            await self._maybe_touch()
            return
        try:
            message = json_loads_bounded(text_data or "")
            kind = message.get("type")
        except (ValueError, AttributeError):
            await self.send(text_data=json.dumps({"type": "error", "message": _("Malformed message.")}))
            return
        if kind == "input":
            data = message.get("data", "")
            if isinstance(data, str):
                await asyncio.to_thread(shell.terminal.write, data.encode())
                await self._maybe_touch()
        elif kind == "resize":
            cols = _bounded(message.get("cols"), 80, 20, 500)
            rows = _bounded(message.get("rows"), 24, 5, 200)
            await asyncio.to_thread(shell.terminal.resize, cols, rows)
        elif kind == "ack":
            shell.acknowledge(_bounded(message.get("bytes"), 0, 0, 1 << 30))
        elif kind == "ping":
            await self.send(text_data=json.dumps({"type": "pong"}))

    async def session_event(self, event):
        status = event["event"].get("status")
        if status in ENDED:
            reason = event["event"].get("reason") or _("The session is %(status)s.") % {"status": status}
            await shells.shells_close_for_session(self.session_id)
            await self.send(bytes_data=f"\r\n{YELLOW}{reason} This terminal is closed.{RESET}\r\n".encode())
            await self.close(code=4000)

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)
        shell, self.shell = self.shell, None
        if shell is not None:
            # 1000 is the page closing the tab on purpose; anything else (1001 on a reload, 1006 on a
            # dropped network) keeps the shell for its grace period.
            await shells.shell_detach(shell, self, keep=code != 1000)


class SessionEventsConsumer(AsyncJsonWebsocketConsumer):
    """``/ws/sessions/<id>/``: launch progress, status, timer and score for the session page."""

    async def connect(self):
        self.session_id = str(self.scope["url_route"]["kwargs"]["session_id"])
        session = await _load_session(self.scope.get("user"), self.session_id)
        if session is None:
            await self.close(code=4404)
            return
        self.group = f"session-{self.session_id}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def session_event(self, event):
        await self.send_json(event["event"])


def _bounded(value, default: int, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return min(max(number, low), high)
