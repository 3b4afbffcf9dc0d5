"""The desktop relay: noVNC in the browser <-> WebSocket <-> this consumer <-> the machine's VNC server.

``/ws/sessions/<id>/desktop/<machine>/?token=...`` carries the RFB protocol as binary messages. The
consumer never connects to a lab network: it asks the runtime for a port stream (``docker exec`` of
socat inside the machine, joined to 127.0.0.1:5901 there) and copies bytes both ways. Every check
happens before ``accept`` (``env_desktop_authorize``: access, state, token, a desktop on the
machine, the ``desktop`` rate); the origin is checked in ``rangex.asgi`` like every socket.

Text messages are the page's control channel: the first one the server sends is ``hello`` with the
VNC password for this connection (full or view-only), never put in the page's HTML; the page
answers data with ``{"type": "ack", "bytes": n}``. Flow control: the server reads from the relay
only while less than ``WINDOW`` bytes are unacknowledged, in chunks of at most 64 KiB, so a slow
browser costs at most the window plus one chunk here; the VNC server then waits, as over a slow
link. A browser message larger than ``MAX_CLIENT_MESSAGE`` closes the socket with 1009.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils.translation import gettext as _

from rangex.core.errors import ApplicationError
from rangex.core.parsers import json_loads_bounded

logger = logging.getLogger(__name__)

WINDOW = 2 * 1024 * 1024
MAX_CLIENT_MESSAGE = 256 * 1024
TOUCH_EVERY_SECONDS = 20
ENDED = {"stopping", "terminated", "failed", "error"}
REFUSAL_CODES = {404: 4404, 409: 4409, 403: 4403, 429: 4429}


@database_sync_to_async
def _authorize(user, session_id, machine, token, client):
    from apps.environments.services.desktops import env_desktop_authorize

    return env_desktop_authorize(user=user, session_id=session_id, machine=machine, token=token, client=client)


@database_sync_to_async
def _failed(grant, reason):
    from apps.environments.services.desktops import env_desktop_failed

    return env_desktop_failed(grant=grant, reason=reason)


@database_sync_to_async
def _begin(grant):
    from apps.environments.services.desktops import desktop_watchers, gui_session_begin

    return gui_session_begin(grant=grant), desktop_watchers(session_id=grant.session_id)


@database_sync_to_async
def _end(row_id, bytes_in, bytes_out):
    from apps.environments.services.desktops import gui_session_end

    gui_session_end(row_id=row_id, bytes_in=bytes_in, bytes_out=bytes_out)


@database_sync_to_async
def _touch(session_id):
    from apps.environments.services import env_session_touch

    env_session_touch(session_id=session_id)


def _query_param(scope, name: str) -> str:
    from urllib.parse import parse_qs

    values = parse_qs(scope.get("query_string", b"").decode()).get(name)
    return values[0] if values else ""


class DesktopConsumer(AsyncWebsocketConsumer):
    stream = None
    pump = None
    row_id = None
    group = None

    async def connect(self):
        kwargs = self.scope["url_route"]["kwargs"]
        self.session_id = str(kwargs["session_id"])
        self.machine_name = kwargs["machine"]
        user = self.scope.get("user")
        client = (self.scope.get("client") or [""])[0] or ""
        try:
            self.grant = await _authorize(
                user, self.session_id, self.machine_name, _query_param(self.scope, "token"), client
            )
        except ApplicationError as exc:
            await self.close(code=REFUSAL_CODES.get(exc.status_code, 4403))
            return
        self.sent = self.received = self.unacked = 0
        self.acked = asyncio.Event()
        self.last_touch = 0.0
        subprotocol = "binary" if "binary" in (self.scope.get("subprotocols") or []) else None
        self.group = f"session-{self.session_id}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept(subprotocol)
        from apps.environments.services.desktops import env_desktop_open
        from apps.runtime.base import RuntimeFailure

        try:
            self.stream = await asyncio.to_thread(env_desktop_open, grant=self.grant)
        except RuntimeFailure as exc:
            await self._fail(f"The desktop of {self.machine_name} cannot be reached: {exc}")
            return
        self.row_id, watchers = await _begin(self.grant)
        hello = {
            "type": "hello",
            "password": self.grant.password,
            "view_only": self.grant.view_only,
            "watchers": watchers,
            "window": WINDOW,
        }
        await self.send(text_data=json.dumps(hello))
        self.pump = asyncio.create_task(self._pump())

    async def _fail(self, message: str) -> None:
        tail = await _failed(self.grant, message)
        await self.send(text_data=json.dumps({"type": "error", "message": message, "log": tail[-4000:]}))
        await self.close(code=4500)

    @staticmethod
    async def _ready(fd: int, *, write: bool = False) -> None:
        """Wait until ``fd`` is readable (or writable), on the event loop: no thread per message."""
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        add, remove = (loop.add_writer, loop.remove_writer) if write else (loop.add_reader, loop.remove_reader)
        add(fd, lambda: ready.done() or ready.set_result(None))
        try:
            await ready
        finally:
            remove(fd)

    async def _write(self, stream, data: bytes) -> None:
        """Hand the browser's bytes to the relay from the event loop; wait only while its pipe is full."""
        view = memoryview(data)
        while view:
            view = view[stream.send_nowait(view) :]
            if view:
                await self._ready(stream.write_fileno(), write=True)

    async def _relay(self, stream) -> None:
        """Copy the relay's output to the browser while the window allows; return only by raising."""
        loop = asyncio.get_running_loop()
        fd, readable = stream.fileno(), asyncio.Event()
        # One reader for the stream's life, not one per read. Epoll is level-triggered, so the reader
        # is off whenever the pump does not wait on it (full window, errors): no spinning loop then.
        loop.add_reader(fd, readable.set)
        try:
            while True:
                if self.unacked >= WINDOW:
                    loop.remove_reader(fd)
                    while self.unacked >= WINDOW:
                        self.acked.clear()
                        await self.acked.wait()
                    loop.add_reader(fd, readable.set)
                data = stream.read(0)  # never waits: at most 64 KiB, b"" when nothing (or only framing) came
                if not data:
                    readable.clear()
                    await readable.wait()
                    continue
                self.sent += len(data)
                self.unacked += len(data)
                await self.send(bytes_data=data)
        finally:
            loop.remove_reader(fd)

    async def _pump(self) -> None:
        stream = self.stream
        try:
            await self._relay(stream)
        except asyncio.CancelledError:
            raise
        except (EOFError, OSError, ValueError):
            if self.stream is None:  # closed by disconnect
                return
            if self.sent == 0:
                await self._fail(f"The desktop of {self.machine_name} is not running. {stream.errors}".strip())
            else:
                message = _("The desktop connection broke; reconnecting.")
                await self.send(text_data=json.dumps({"type": "error", "message": message, "retry": True}))
                await self.close(code=4502)
        except Exception:
            logger.exception("desktop relay of session %s failed", self.session_id)
            await self.close(code=4500)

    async def dispatch(self, message):
        """Browser messages go straight to ``receive``: Channels' own dispatch first closes stale
        database connections in a worker thread, a thread round trip per message that this relay's
        bytes and acknowledgements never need (what touches the database here goes through
        ``database_sync_to_async``, which closes them itself). Other messages take Channels' path."""
        if message["type"] == "websocket.receive":
            await self.websocket_receive(message)
        else:
            await super().dispatch(message)

    async def receive(self, text_data=None, bytes_data=None):
        if self.stream is None:
            return
        size = len(bytes_data) if bytes_data is not None else len(text_data or "")
        if size > MAX_CLIENT_MESSAGE:
            await self.send(text_data=json.dumps({"type": "error", "message": _("Message too large.")}))
            await self.close(code=1009)
            return
        if bytes_data is not None:
            self.received += len(bytes_data)
            try:
                await self._write(self.stream, bytes_data)
            except (OSError, ValueError):
                return  # the relay ended: the pump reports it and closes the socket
            if not self.grant.view_only:
                await self._maybe_touch()
            return
        try:
            message = json_loads_bounded(text_data or "")
            kind = message.get("type")
        except (ValueError, AttributeError):
            await self.send(text_data=json.dumps({"type": "error", "message": _("Malformed message.")}))
            return
        if kind == "ack":
            count = message.get("bytes")
            if isinstance(count, int) and count > 0:
                self.unacked = max(0, self.unacked - count)
                self.acked.set()
        elif kind == "ping":
            await self.send(text_data=json.dumps({"type": "pong"}))

    async def _maybe_touch(self) -> None:
        now = time.monotonic()
        if now - self.last_touch > TOUCH_EVERY_SECONDS:
            self.last_touch = now
            await _touch(self.session_id)

    async def session_event(self, event):
        message = event["event"]
        if message.get("type") == "watchers":
            await self.send(text_data=json.dumps(message))
        elif message.get("status") in ENDED:
            reason = message.get("reason") or _("The session is %(status)s.") % {"status": message.get("status")}
            await self.send(text_data=json.dumps({"type": "ended", "message": reason}))
            await self.close(code=4000)

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        stream, self.stream = self.stream, None
        if self.pump is not None:
            self.pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.pump
        if stream is not None:
            await asyncio.to_thread(stream.close)
        if self.row_id is not None:
            await _end(self.row_id, self.received, self.sent)
            self.row_id = None
