"""Byte streams to a TCP port inside a machine (a desktop's VNC server), opened through the engine.

``Runtime.open_port_stream(session_id, machine, port)`` returns a ``PortStream``: bytes written reach
whatever listens on ``port`` on the machine's *own loopback*, and its answers come back from ``read``.
The stream is a relay process the engine starts inside the machine (``docker exec`` of ``socat``, or
busybox ``nc`` where socat is missing) joined to that process's stdin and stdout: the same path
terminals take, so the web tier never gets an address on a lab network and the service may listen
on 127.0.0.1 only. Backends say so with ``Capabilities.port_streams``.

Memory is bounded: ``read`` returns at most ``CHUNK`` bytes, and a writer blocks while the relay
does not take its input (the pipe's own buffer), as a slow TCP peer would. An event loop uses the
non-blocking halves instead: ``read(0)`` and ``send_nowait`` never wait, and ``fileno`` /
``write_fileno`` tell it when to try again (no worker thread per message on the relay's path).
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import struct
import subprocess
import threading

from apps.runtime.base import RuntimeFailure

CHUNK = 64 * 1024
# Run by /bin/sh in the machine with the port as $1: socat when the image has it, else nc.
RELAY_SCRIPT = (
    'if command -v socat >/dev/null 2>&1; then exec socat -b65536 - "TCP:127.0.0.1:$1"; fi; exec nc 127.0.0.1 "$1"'
)
STDERR_KEEP = 2048


def relay_argv(port: int) -> list[str]:
    if not 0 < int(port) < 65536:
        raise RuntimeFailure(f"Port {port} is not a TCP port (1-65535).", permanent=True)
    return ["/bin/sh", "-c", RELAY_SCRIPT, "sh", str(int(port))]


class PortStream:
    """A relayed TCP stream; every method is safe to call from a worker thread."""

    def read(self, timeout: float | None = None) -> bytes:
        """Return up to ``CHUNK`` bytes within ``timeout`` seconds; b"" on timeout; EOFError at the end."""
        raise NotImplementedError

    def write(self, data: bytes) -> None:
        raise NotImplementedError

    def send_nowait(self, data) -> int:
        """Write what the relay takes now without waiting; return how many bytes that was (maybe 0)."""
        self.write(bytes(data))
        return len(data)

    def close(self) -> None:
        raise NotImplementedError

    def fileno(self) -> int:
        """A descriptor that becomes readable when ``read`` has something (for an event loop's reader)."""
        raise NotImplementedError

    def write_fileno(self) -> int:
        """A descriptor that becomes writable when ``send_nowait`` can take more."""
        return self.fileno()

    @property
    def errors(self) -> str:
        """What the relay wrote on stderr (its last ``STDERR_KEEP`` bytes), to explain an early end."""
        return ""


class EngineExecStream(PortStream):
    """The relay as a non-TTY exec: stdin is raw, output arrives in the engine's 8-byte frames."""

    def __init__(self, wrapper):
        self._wrapper = wrapper
        self._sock: socket.socket = getattr(wrapper, "_sock", wrapper)
        self._pending = bytearray()  # undecoded frame bytes, at most one header plus CHUNK
        self._frame_left = 0
        self._frame_kind = 1
        self._stderr = bytearray()
        self._write_lock = threading.Lock()
        self._closed = False
        self._sock.setblocking(False)  # read(0) and send_nowait never wait; read and write select

    def read(self, timeout: float | None = None) -> bytes:
        if self._closed:
            raise EOFError("stream closed")
        while True:
            out = self._decode()
            if out:
                return out
            if timeout != 0:
                ready, _, _ = select.select([self._sock], [], [], timeout)
                if not ready:
                    return b""
            try:
                data = self._sock.recv(CHUNK)
            except (BlockingIOError, InterruptedError):
                return b""
            if not data:
                raise EOFError("relay ended")
            self._pending += data

    def _decode(self) -> bytes:
        out = bytearray()
        while self._pending:
            if self._frame_left == 0:
                if len(self._pending) < 8:
                    break
                self._frame_kind = self._pending[0]
                (self._frame_left,) = struct.unpack(">I", bytes(self._pending[4:8]))
                del self._pending[:8]
                continue
            take = bytes(self._pending[: self._frame_left])
            del self._pending[: len(take)]
            self._frame_left -= len(take)
            if self._frame_kind == 2:
                self._stderr = (self._stderr + take)[-STDERR_KEEP:]
            else:
                out += take
        return bytes(out)

    def fileno(self) -> int:
        return self._sock.fileno()

    def send_nowait(self, data) -> int:
        with self._write_lock:
            try:
                return self._sock.send(data)
            except (BlockingIOError, InterruptedError):
                return 0

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[self.send_nowait(view) :]
            if view:
                select.select([], [self._sock], [], None)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._wrapper.close()

    @property
    def errors(self) -> str:
        return self._stderr.decode("utf-8", "replace")


class ProcessStream(PortStream):
    """The relay as a local process with pipes (FakeRuntime: its machines are directories on this host)."""

    def __init__(self, argv: list[str], *, cwd: str | None = None, env: dict[str, str] | None = None):
        self._process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        os.set_blocking(self._process.stdin.fileno(), False)
        self._write_lock = threading.Lock()
        self._closed = False

    def read(self, timeout: float | None = None) -> bytes:
        if self._closed:
            raise EOFError("stream closed")
        ready, _, _ = select.select([self._process.stdout], [], [], timeout)
        if not ready:
            return b""
        data = os.read(self._process.stdout.fileno(), CHUNK)
        if not data:
            raise EOFError("relay ended")
        return data

    def fileno(self) -> int:
        return self._process.stdout.fileno()

    def write_fileno(self) -> int:
        return self._process.stdin.fileno()

    def send_nowait(self, data) -> int:
        with self._write_lock:
            try:
                return os.write(self._process.stdin.fileno(), data)
            except (BlockingIOError, InterruptedError):
                return 0

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[self.send_nowait(view) :]
            if view:
                select.select([], [self._process.stdin], [], None)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            self._process.stdin.close()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, 15)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=2)
        self._process.stdout.close()
        self._process.stderr.close()


class DockerStreams:
    """``open_port_stream`` and ``machine_log_tail`` for DockerRuntime (mixed in: docker.py stays small)."""

    def open_port_stream(self, session_id: str, machine: str, port: int) -> PortStream:
        from apps.runtime.docker_io import engine_errors

        argv = relay_argv(port)
        container = self._running_container_of(session_id, machine)
        with engine_errors(f"Opening a relay to port {port} on {machine}"):
            exec_id = self.api.exec_create(container["Id"], argv, stdin=True, stdout=True, stderr=True, tty=False)["Id"]
            wrapper = self.api.exec_start(exec_id, socket=True)
        return EngineExecStream(wrapper)

    def machine_log_tail(self, session_id: str, machine: str, *, lines: int = 40) -> str:
        from apps.runtime.docker_io import engine_errors

        container = self._container_of(session_id, machine)
        with engine_errors(f"Reading the log of {machine}"):
            raw = self.api.logs(container["Id"], stdout=True, stderr=True, tail=int(lines))
        return raw.decode("utf-8", "replace")[-8000:]


class FakeStreams:
    """``open_port_stream`` and ``machine_log_tail`` for FakeRuntime: the relay runs on this host."""

    def open_port_stream(self, session_id: str, machine: str, port: int) -> PortStream:
        found = self._running(session_id, machine)
        return ProcessStream(relay_argv(port), cwd=str(found.root), env={"PATH": os.environ.get("PATH", "")})

    def machine_log_tail(self, session_id: str, machine: str, *, lines: int = 40) -> str:
        self._machine(session_id, machine)
        return ""
