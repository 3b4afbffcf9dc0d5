"""Shell access for the environments tests."""

from __future__ import annotations

import time

from apps.runtime import get_runtime


def run_in(session, machine: str, command: str, *, timeout: float = 20.0) -> str:
    """Run ``command`` in a shell on ``machine`` of ``session`` and return what it printed."""
    terminal = get_runtime().open_terminal(str(session.pk), machine, user="root", cols=200, rows=50)
    marker = "__RX_DONE__"
    output = bytearray()
    deadline = time.monotonic() + timeout
    try:
        # Wait for the prompt. Busybox ash asks the terminal for the cursor position first and
        # would swallow typed input as the answer, so answer it as a terminal emulator does.
        while time.monotonic() < deadline and b"# " not in output:
            output.extend(terminal.read(0.2))
            if b"\x1b[6n" in output:
                terminal.write(b"\x1b[1;1R")
                output = output.replace(b"\x1b[6n", b"")
        terminal.write(f"{command}; echo {marker}; exit\n".encode())
        while time.monotonic() < deadline:
            try:
                output.extend(terminal.read(0.2))
            except EOFError:
                break
            if output.count(marker.encode()) >= 2:
                break
    finally:
        terminal.close()
    text = output.decode(errors="replace").replace("\r", "")
    # The echo of the typed command contains the marker once; the output follows it.
    after = text.split(f"echo {marker}; exit\n", 1)[-1]
    return after.split(marker, 1)[0]
