"""Shells that outlive their WebSocket for a grace period, so a reload finds the same shell again.

A terminal socket attaches to a ``LiveShell`` keyed by session, machine, the page's tab id and the
user. When the socket goes away without the page closing the tab on purpose (a reload, a dropped
network: close codes other than 1000), the shell stays open for ``GRACE_SECONDS`` and keeps reading
its output into a bounded scroll-back; a socket that comes back with the same key within that time
gets the scroll-back replayed and the same shell (an ssh session into the pivot survives).

Why in the server and not a multiplexer (tmux, screen) inside the machine: scenario images are
arbitrary (the busybox test image has neither) and RangeX does not install software into solvers'
machines. The cost: a shell lives in the ASGI process that opened it, so with several server
processes and no connection affinity a reconnect that lands elsewhere gets a new shell.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from rangex.core.errors import LimitExceeded

logger = logging.getLogger(__name__)

GRACE_SECONDS = 300
SCROLLBACK_BYTES = 256 * 1024
MAX_SHELLS_PER_MACHINE = 4
# Output goes out in batches of at least BATCH_BYTES when that much is waiting. Sending pauses once
# more than WINDOW_BYTES are unacknowledged by the page (see the consumer's module docstring).
BATCH_BYTES = 64 * 1024
WINDOW_BYTES = 1024 * 1024
READ_TIMEOUT = 0.02
DETACHED_READ_TIMEOUT = 0.2
# Requests a terminal answers (cursor position, device attributes, status): replaying them from the
# scroll-back would make the page's xterm answer again, and the answer would arrive as typed input.
_QUERIES = re.compile(rb"\x1b\[[>?]?[0-9;]*[cn]")

Key = tuple[str, str, str, Any]

_shells: dict[Key, LiveShell] = {}
_opening: list[Key] = []


class LiveShell:
    """One open runtime terminal, its scroll-back, and the socket attached to it (if any)."""

    def __init__(self, key: Key, terminal):
        self.key = key
        self.terminal = terminal
        self.scrollback = bytearray()
        self.consumer = None
        self.unacked = 0
        self.window_open = asyncio.Event()
        self.window_open.set()
        self.reader: asyncio.Task | None = None
        self.expiry: asyncio.TimerHandle | None = None
        self.closed = False

    def acknowledge(self, count: int) -> None:
        self.unacked = max(self.unacked - count, 0)
        if self.unacked <= WINDOW_BYTES // 2:
            self.window_open.set()

    def replay(self) -> bytes:
        """Return the scroll-back as it can be drawn again, without the requests a terminal answers."""
        return _QUERIES.sub(b"", bytes(self.scrollback))

    def _remember(self, data: bytes) -> None:
        self.scrollback.extend(data)
        if len(self.scrollback) > SCROLLBACK_BYTES:
            del self.scrollback[: len(self.scrollback) - SCROLLBACK_BYTES]

    async def _read(self) -> None:
        """Read output on a thread for as long as the shell lives; forward it to the attached socket."""
        try:
            while True:
                await self.window_open.wait()
                timeout = READ_TIMEOUT if self.consumer is not None else DETACHED_READ_TIMEOUT
                try:
                    chunk = await asyncio.to_thread(self.terminal.read, timeout)
                except EOFError:
                    break
                if not chunk:
                    continue
                batch, ended = bytearray(chunk), False
                while len(batch) < BATCH_BYTES:
                    try:
                        more = await asyncio.to_thread(self.terminal.read, 0)
                    except EOFError:
                        ended = True
                        break
                    if not more:
                        break
                    batch.extend(more)
                self._remember(batch)
                consumer = self.consumer
                if consumer is not None:
                    self.unacked += len(batch)
                    if self.unacked > WINDOW_BYTES:
                        self.window_open.clear()
                    await consumer.deliver(bytes(batch))
                if ended:
                    break
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.warning("shell %s ended with an error", self.key[:3], exc_info=True)
        consumer = self.consumer
        await shell_close(self)
        if consumer is not None:
            await consumer.shell_exited()


async def shell_attach(*, key: Key, consumer, open_terminal: Callable[[], Any], cols: int, rows: int) -> bool:
    """Attach ``consumer`` to the shell of ``key``, opening one if none lives; return whether it was kept.

    A kept shell's consumer hears ``kept()`` and then gets the scroll-back. A socket already
    attached to that shell (the same tab open in another window) is told it was taken over.
    LimitExceeded when the machine already has ``MAX_SHELLS_PER_MACHINE`` shells of this user.
    """
    shell = _shells.get(key)
    if shell is not None and not shell.closed:
        if shell.expiry is not None:
            shell.expiry.cancel()
            shell.expiry = None
        previous, shell.consumer = shell.consumer, consumer
        if previous is not None and previous is not consumer:
            await previous.taken_over()
        shell.unacked = 0
        shell.window_open.set()
        consumer.shell = shell
        await asyncio.to_thread(shell.terminal.resize, cols, rows)
        # The page clears its screen on this notice, before the scroll-back is drawn again.
        await consumer.kept()
        replay = shell.replay()
        if replay:
            shell.unacked += len(replay)
            await consumer.deliver(replay)
        return True
    session_id, machine, _kind, user_id = key
    # Shells still opening count too: the page opens its tabs at once.
    siblings = [k for k in (*_shells, *_opening) if k[0] == session_id and k[1] == machine and k[3] == user_id]
    if len(siblings) >= MAX_SHELLS_PER_MACHINE:
        raise LimitExceeded(
            _("At most %(MAX_SHELLS_PER_MACHINE)s shells per machine; close one first.")
            % {"MAX_SHELLS_PER_MACHINE": MAX_SHELLS_PER_MACHINE},
            limit="shells_per_machine",
        )
    _opening.append(key)
    try:
        terminal = await asyncio.to_thread(open_terminal)
    finally:
        _opening.remove(key)
    shell = LiveShell(key, terminal)
    shell.consumer = consumer
    consumer.shell = shell
    _shells[key] = shell
    shell.reader = asyncio.get_running_loop().create_task(shell._read())
    return False


async def shell_detach(shell: LiveShell, consumer, *, keep: bool) -> None:
    """Detach ``consumer``; keep the shell for the grace period when ``keep``, else close it now."""
    if shell.consumer is not consumer:
        return
    shell.consumer = None
    shell.window_open.set()
    if not keep:
        await shell_close(shell)
        return
    loop = asyncio.get_running_loop()
    shell.expiry = loop.call_later(GRACE_SECONDS, lambda: loop.create_task(shell_close(shell)))


async def shell_close(shell: LiveShell) -> None:
    """Close the shell and forget it; safe to repeat."""
    if shell.closed:
        return
    shell.closed = True
    if _shells.get(shell.key) is shell:
        del _shells[shell.key]
    if shell.expiry is not None:
        shell.expiry.cancel()
    if shell.reader is not None and shell.reader is not asyncio.current_task():
        shell.reader.cancel()
    await asyncio.to_thread(shell.terminal.close)


async def shells_close_for_session(session_id: str) -> None:
    """Close every shell kept for ``session_id`` (the session stopped)."""
    for shell in [s for k, s in list(_shells.items()) if k[0] == session_id]:
        await shell_close(shell)


def shells_open() -> list[Key]:
    """Return the keys of the shells this process keeps (attached or waiting for their page)."""
    return list(_shells)
