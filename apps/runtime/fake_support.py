"""FakeRuntime's parts: what tests script, the in-memory engine of the process, a shell in a pty."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import select
import shlex
import shutil
import signal
import struct
import subprocess
import tempfile
import termios
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from apps.runtime.base import LaunchStage, MachineSpec, MachineState, Terminal


class SimulatedCrash(BaseException):
    """A scripted crash: the launch stops where it is and cleans nothing up, as a killed worker would."""


@dataclass
class _Fault:
    stage: LaunchStage
    machine: str
    crash: bool
    message: str
    permanent: bool
    times: int


@dataclass
class FakeScript:
    """What a test scripts; see the module docstring."""

    faults: list[_Fault] = field(default_factory=list)
    never_ready_machines: set[str] = field(default_factory=set)
    ready_failures: dict[str, int] = field(default_factory=dict)
    listening: dict[str, set[int]] = field(default_factory=dict)
    start_commands: dict[str, list[list[str]]] = field(default_factory=dict)
    commands: dict[str, tuple[str, int]] = field(default_factory=dict)
    missing_images: set[str] = field(default_factory=set)
    private_images: dict[str, tuple[str, str]] = field(default_factory=dict)
    unreachable: bool = False

    def fail_at(
        self,
        stage: LaunchStage,
        *,
        machine: str = "",
        message: str = "",
        permanent: bool = False,
        times: int = 1,
    ) -> None:
        """Raise RuntimeFailure right after ``stage`` (of ``machine``, or of any) the next ``times`` launches."""
        text = message or f"Scripted failure after {stage}{' of ' + machine if machine else ''}."
        self.faults.append(_Fault(LaunchStage(stage), machine, False, text, permanent, times))

    def crash_at(self, stage: LaunchStage, *, machine: str = "", times: int = 1) -> None:
        """Stop the launch right after ``stage`` without any clean-up, as if the worker was killed."""
        self.faults.append(_Fault(LaunchStage(stage), machine, True, "", False, times))

    def never_ready(self, machine: str) -> None:
        self.never_ready_machines.add(machine)

    def ready_after(self, machine: str, failures: int) -> None:
        self.ready_failures[machine] = failures

    def at_start(self, machine: str, argv: list[str]) -> None:
        """Run ``argv`` in the machine each time it starts, as its entrypoint's first step would."""
        self.start_commands.setdefault(machine, []).append(list(argv))

    def listen(self, machine: str, port: int) -> None:
        self.listening.setdefault(machine, set()).add(int(port))

    def command(self, name: str, *, output: str = "", exit_code: int = 0) -> None:
        """Make ``name`` a shell function (in terminals and commands) that prints ``output``."""
        if not name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"{name!r} cannot be a shell function name")
        self.commands[name] = (output, int(exit_code))

    def missing_image(self, ref: str) -> None:
        self.missing_images.add(ref)

    def private_image(self, ref: str, *, username: str, password: str) -> None:
        self.private_images[ref] = (username, password)

    def rc(self) -> str:
        """Return the shell functions of the scripted commands."""
        lines = []
        for name, (output, code) in sorted(self.commands.items()):
            lines.append(f"{name}() {{ printf '%s' {shlex.quote(output)}; return {code}; }}")
        return "\n".join(lines) + "\n"


class HostTerminal(Terminal):
    """A shell on this host in a pty (the fake machine's terminal)."""

    def __init__(self, argv: list[str], *, cwd: Path, env: dict[str, str], cols: int, rows: int, ids=None):
        master, slave = os.openpty()
        self._set_size(slave, cols, rows)
        setsid = shutil.which("setsid")
        # setsid -c makes the pty the shell's controlling terminal, so a resize reaches it as SIGWINCH.
        command = [setsid, "-c", *argv] if setsid else argv
        options = {}
        if ids is not None:
            options = {"user": ids[0], "group": ids[1], "extra_groups": []}
        try:
            self.process = subprocess.Popen(
                command,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                cwd=cwd,
                env=env,
                close_fds=True,
                start_new_session=setsid is None,
                **options,
            )
        finally:
            os.close(slave)
        self._fd = master
        self._write_lock = threading.Lock()
        self._closed = False

    @staticmethod
    def _set_size(fd: int, cols: int, rows: int) -> None:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", int(rows), int(cols), 0, 0))

    def fileno(self) -> int:
        return self._fd

    def read(self, timeout: float | None = None) -> bytes:
        if self._closed:
            raise EOFError("terminal closed")
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if not ready:
            return b""
        try:
            data = os.read(self._fd, 65536)
        except OSError as exc:  # EIO: the shell and every process on the pty are gone
            raise EOFError("terminal ended") from exc
        if not data:
            raise EOFError("terminal ended")
        return data

    def write(self, data: bytes) -> None:
        if self._closed:
            raise OSError("terminal closed")
        with self._write_lock:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]

    def resize(self, cols: int, rows: int) -> None:
        self._set_size(self._fd, cols, rows)

    def signal(self, signum: int) -> None:
        """Signal every process of the shell's session, background jobs (own process groups) too."""
        members = []
        with contextlib.suppress(OSError):
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    with contextlib.suppress(OSError):
                        if os.getsid(int(entry)) == self.process.pid:
                            members.append(int(entry))
        for pid in members or [self.process.pid]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signum)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.close(self._fd)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


@dataclass
class FakeNetwork:
    id: str
    name: str
    group: str
    session_id: str
    instance: str
    labels: dict[str, str]
    created_at: datetime
    subnet: str
    gateway: str
    next_host: int = 2


@dataclass
class FakeMachine:
    id: str
    name: str
    machine: str
    session_id: str
    instance: str
    labels: dict[str, str]
    created_at: datetime
    spec: MachineSpec
    home: Path  # holds root/ (the machine's /) and rc (the scripted shell functions)
    state: MachineState = MachineState.STARTING
    ips: dict[str, str] = field(default_factory=dict)
    owners: dict[str, tuple[int, int]] = field(default_factory=dict)
    terminals: list[HostTerminal] = field(default_factory=list)
    checks_run: int = 0
    exited_at: datetime | None = None

    @property
    def root(self) -> Path:
        return self.home / "root"


class FakeEngine:
    """The fake engine of this process: every FakeRuntime shares it."""

    def __init__(self):
        self.lock = threading.RLock()
        self.networks: dict[str, FakeNetwork] = {}
        self.machines: dict[str, FakeMachine] = {}
        self.pulled: set[str] = set()
        self.script = FakeScript()
        self.subnets = 0
        self._base: Path | None = None

    @property
    def base(self) -> Path:
        if self._base is None:
            self._base = Path(tempfile.mkdtemp(prefix="rangex-fake-"))
            # Shells may run as a machine user's uid (when we are root): they must reach their root.
            self._base.chmod(0o755)
        return self._base

    def reset(self) -> None:
        with self.lock:
            for machine in list(self.machines.values()):
                discard(machine)
            self.machines.clear()
            self.networks.clear()
            self.pulled.clear()
            self.script = FakeScript()


ENGINE = FakeEngine()


def discard(machine: FakeMachine) -> None:
    for terminal in list(machine.terminals):
        terminal.close()
    machine.terminals.clear()
    shutil.rmtree(machine.home, ignore_errors=True)


@atexit.register
def _remove_folders() -> None:
    ENGINE.reset()
    if ENGINE._base is not None:
        shutil.rmtree(ENGINE._base, ignore_errors=True)
