"""What every runtime backend offers: plain dataclasses in, plain dataclasses out.

A backend never sees a model. The environments app turns its rows into a ``LaunchSpec``,
calls a backend chosen by ``settings.RANGEX_RUNTIME_BACKEND`` and stores what comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

Progress = Callable[[int, int, str], None]


class RuntimeFailure(Exception):
    """A runtime operation failed; ``permanent`` tells the caller whether a retry can help."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


@dataclass(frozen=True)
class NetworkSpec:
    name: str
    egress: bool = False


@dataclass(frozen=True)
class FileSpec:
    """A file written into a machine before it starts (a dynamic flag is one of these)."""

    path: str
    content: bytes = field(repr=False)
    mode: int = 0o644
    owner: str = "root"


@dataclass(frozen=True)
class MachineSpec:
    name: str
    image: str
    role: str = "victim"
    networks: list[str] = field(default_factory=list)
    cpus: float = 0.5
    memory_mb: int = 256
    pids_limit: int = 256
    env: dict[str, str] = field(default_factory=dict)
    command: list[str] | None = None
    cap_add: list[str] = field(default_factory=list)
    no_new_privileges: bool = True
    user: str = ""
    files: list[FileSpec] = field(default_factory=list)
    hostname: str = ""


@dataclass(frozen=True)
class LaunchSpec:
    session_id: str
    machines: list[MachineSpec]
    networks: list[NetworkSpec]
    expires_at: datetime
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MachineHandle:
    container_id: str
    ips: dict[str, str]


@dataclass(frozen=True)
class LaunchResult:
    machines: dict[str, MachineHandle]


@dataclass(frozen=True)
class ManagedResource:
    """A container or network a runtime created, as found on the engine (for reconcilers)."""

    kind: str  # "container" or "network"
    id: str
    session_id: str
    machine: str
    expires_at: datetime | None
    created_at: datetime | None
    labels: dict[str, str]


class Terminal:
    """An interactive shell in a machine; every method is safe to call from a worker thread."""

    def read(self, timeout: float | None = None) -> bytes:
        """Return the bytes available within ``timeout`` seconds; b"" on timeout; raise EOFError at the end."""
        raise NotImplementedError

    def write(self, data: bytes) -> None:
        raise NotImplementedError

    def resize(self, cols: int, rows: int) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def fileno(self) -> int:
        raise NotImplementedError


class Runtime:
    """The base every backend (DockerRuntime, EcsRuntime, ...) implements."""

    name = "base"

    def launch(self, spec: LaunchSpec, *, progress: Progress | None = None) -> LaunchResult:
        """Create and start every network and machine of a session; idempotent for the same session id."""
        raise NotImplementedError

    def stop(self, session_id: str) -> None:
        """Remove every container and network of a session; a no-op when nothing is left."""
        raise NotImplementedError

    def pause(self, session_id: str) -> None:
        raise NotImplementedError

    def resume(self, session_id: str) -> None:
        raise NotImplementedError

    def status(self, session_id: str) -> dict[str, str]:
        """Return machine name -> state ("running", "paused", "exited", ...)."""
        raise NotImplementedError

    def open_terminal(
        self, session_id: str, machine: str, *, user: str = "root", cols: int = 80, rows: int = 24
    ) -> Terminal:
        raise NotImplementedError

    def list_managed(self) -> list[ManagedResource]:
        raise NotImplementedError

    def remove_resource(self, kind: str, id: str) -> None:
        raise NotImplementedError

    def registry_login(self, *, registry: str, username: str, password: str) -> None:
        raise NotImplementedError

    def image_present(self, ref: str) -> bool:
        raise NotImplementedError

    def ping(self) -> dict:
        raise NotImplementedError

    def host_isolation(self) -> dict:
        """Say whether labs are kept off the host that runs them: ``{"ok": True|False|None, "message"}``.

        None means this process cannot tell (the engine is elsewhere, or the check needs rights it
        lacks); the health check records that as a warning.
        """
        return {"ok": None, "message": f"{self.name} does not run labs on this host."}

    def container_disk_usage(self, session_id: str) -> dict[str, int]:
        """Return machine name -> bytes written to its writable layer."""
        raise NotImplementedError
