"""The base of every contract-suite harness (see harness.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from apps.runtime import LaunchSpec, LaunchStage, MachineSpec, Runtime


class Harness:
    key = ""
    # False where the engine only records what it was asked (moto): nothing runs in a machine.
    runs_machines = True

    def make(self, *, instance: str | None = None) -> Runtime:
        raise NotImplementedError

    def half_launch(self, runtime: Runtime, spec: LaunchSpec, stage: LaunchStage) -> None:
        """Run a launch that dies right after ``stage``, cleaning nothing up (a killed worker)."""
        raise NotImplementedError

    def stop_behind_back(self, runtime: Runtime, session_id: str, machine: str) -> None:
        raise NotImplementedError

    def engine_count(self, runtime: Runtime, session_id: str) -> tuple[int, int]:
        """Return (machines, networks) the engine holds for a session, asked without the runtime."""
        raise NotImplementedError

    def stat(self, runtime: Runtime, session_id: str, machine: str, path: str) -> tuple[int, int, int]:
        """Return (mode, uid, gid) of a path in a machine."""
        raise NotImplementedError

    def at_start(self, runtime: Runtime, machine: MachineSpec, script: str) -> MachineSpec:
        """Return the machine with ``script`` (sh, relative paths) run when it starts."""
        raise NotImplementedError

    def ready_later(self, runtime: Runtime, machine: MachineSpec, marker: str) -> MachineSpec:
        """Return the machine creating ``marker`` (a relative path) only a moment after it starts."""
        raise NotImplementedError

    def listen_later(self, runtime: Runtime, machine: MachineSpec, port: int) -> MachineSpec:
        """Return the machine listening on ``port`` only a moment after it starts."""
        raise NotImplementedError

    def echo_on_loopback(self, runtime: Runtime, machine: MachineSpec, port: int) -> MachineSpec:
        """Return the machine with a TCP echo service on its own loopback at ``port``."""
        raise NotImplementedError

    def absent_image(self, runtime: Runtime, *, hub: bool = False) -> str:
        """Return an image reference the engine does not have (on Docker Hub when ``hub``)."""
        raise NotImplementedError

    @contextmanager
    def private_image(self, runtime: Runtime, *, username: str, password: str) -> Iterator[str]:
        """Yield the reference of an image only these credentials may pull."""
        raise NotImplementedError
        yield ""
