"""What every runtime backend offers: plain dataclasses in, plain dataclasses out.

A backend never sees a model and imports nothing from the apps. The environments app turns its
rows into a ``LaunchSpec``, resolves the backend a session recorded (``get_runtime(key)``, a stable
key such as ``"docker"``) and stores what comes back. Everything a caller may rely on is here;
every engine detail (Docker's states, removal order, labels, exec plumbing) stays in the backend.

How the integrator drives a session
-----------------------------------
``launch(spec, progress=cb)``
    Create networks and machines, write accounts and files into each machine *before* it starts,
    start them, then wait until every machine passes its ``ready_check``. Returns a
    ``LaunchResult`` (machines with ids and per-network addresses, networks with ids and subnets).
    Idempotent for a session id: a retried launch adopts what an earlier attempt finished and
    redoes what it left half made, so the same call after a crashed worker is always safe. On
    failure it removes what it made and raises ``RuntimeFailure`` (``NotReady`` names a machine
    that never became ready). ``cb(step, total, message)`` gets a ``ProgressMessage``: a ``str``
    with ``.stage`` (a ``LaunchStage``) and ``.machine``, one "started" and one "ready" per machine.
``status(session_id)``
    Machine name -> ``MachineState``. A machine that is gone is absent from the dict.
``pause`` / ``resume``
    Only when ``capabilities.can_pause``; otherwise they raise a permanent ``RuntimeFailure``.
``recover(session_id, paused=...)``
    After an engine restart (or a machine stopped behind our back): start what exited, re-pause a
    paused session, re-check readiness; returns machine -> ``MachineState``. Anything but RUNNING
    (PAUSED for a paused session) means that machine could not come back. Call ``describe`` after
    it: addresses may change when a machine restarts.
``check_ready`` / ``wait_ready``
    Re-run the ready checks the launch recorded (one pass, or until each check's timeout).
``describe(session_id)``
    What the session has now, as a ``LaunchResult``.
``stop(session_id)``
    Remove everything of the session; a no-op when nothing is left. Works on half-made launches.
``list_managed()`` / ``remove_resources(resources)``
    For the orphan sweep: every resource labelled with *this* install's ``RANGEX_INSTANCE``, and
    removal in the order the engine needs. Resources of another instance are never listed and are
    refused on removal (``ForeignResource``).
``open_terminal`` / ``run_command``
    An interactive shell (see ``capabilities.terminal``) or one command with its exit code.

``capabilities`` says what a backend can do, so services and pages can hide what it cannot (a
backend without pause hides the Pause button) instead of failing.

What to store from a ``LaunchResult``: ``machines[name].id`` (the machine's task/container id) and
``machines[name].ips`` (group -> address) per machine; ``networks[group].id`` (``str(handle)`` is
the same id) with ``.subnet`` per network group. What the runtime keeps itself (in its labels):
instance, session, machine, role, expiry and the ready check, so ``stop``, ``status``,
``wait_ready`` and ``recover`` need only the session id. It never keeps a password, flag or
registry credential: those come in the spec for each launch and go only into the machine's
files (a crypt hash for passwords) or the one pull that needs them.

Errors: every method raises ``RuntimeFailure`` (``permanent`` says whether a retry can help);
``RuntimeNotConfigured``, ``NotReady`` and ``ForeignResource`` are the cases a caller may treat
apart. ``validate_spec`` refuses a bad spec before anything is made.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from django.conf import settings

from apps.runtime.errors import ForeignResource, NotReady, RuntimeFailure, RuntimeNotConfigured
from apps.runtime.spec import (
    DOCKER_HUB,
    FORBIDDEN_CAPABILITIES,
    NAME_RE,
    USERNAME_RE,
    AccountSpec,
    FileSpec,
    LaunchSpec,
    MachineSpec,
    NetworkSpec,
    ReadyCheck,
    RegistryAuth,
    image_registry,
    normalize_registry,
    validate_spec,
)

# The spec and error names are part of this module's interface too.
__all__ = [
    "DOCKER_HUB",
    "FORBIDDEN_CAPABILITIES",
    "MAX_COMMAND_OUTPUT",
    "NAME_RE",
    "START_TIMEOUT",
    "TCP_CHECK_SCRIPT",
    "USERNAME_RE",
    "AccountSpec",
    "Capabilities",
    "CommandResult",
    "FileSpec",
    "ForeignResource",
    "GatewayHandle",
    "LaunchResult",
    "LaunchSpec",
    "LaunchStage",
    "MachineHandle",
    "MachineSpec",
    "MachineState",
    "ManagedResource",
    "NetworkHandle",
    "NetworkSpec",
    "NotReady",
    "Progress",
    "ProgressMessage",
    "ReadyCheck",
    "RegistryAuth",
    "ResourceKind",
    "Runtime",
    "RuntimeFailure",
    "RuntimeNotConfigured",
    "Terminal",
    "TerminalTransport",
    "image_registry",
    "normalize_registry",
    "validate_spec",
]

Progress = Callable[[int, int, str], None]


class MachineState(StrEnum):
    """The state of one machine, the same words for every backend.

    RUNNING   its main process runs (readiness is a separate question: ``check_ready``).
    PAUSED    frozen by ``pause``; ``resume`` brings it back as it was.
    STARTING  exists but is not running yet: being created or (re)started. A machine that stays
              STARTING outside a launch is broken; ``recover`` starts it.
    EXITED    its main process ended (it crashed, was stopped behind our back, or the engine
              restarted); ``recover`` starts it again with its files and accounts intact.
    MISSING   the runtime has no such machine (``recover`` reports machines it lost this way).
    UNKNOWN   the engine reports a state this interface has no word for (e.g. being removed).
    """

    RUNNING = "running"
    PAUSED = "paused"
    STARTING = "starting"
    EXITED = "exited"
    MISSING = "missing"
    UNKNOWN = "unknown"


class LaunchStage(StrEnum):
    """The steps of a launch, in order, as reported in ``ProgressMessage.stage``."""

    IMAGES = "images"
    NETWORKS = "networks"
    CREATED = "created"  # per machine: created, accounts and files written, not started
    STARTED = "started"  # per machine
    READY = "ready"  # per machine: its ready check passed (or it has none and runs)
    ADDRESSES = "addresses"


class ProgressMessage(str):
    """A progress line for people (the ``str``) that also names its stage and machine."""

    stage: LaunchStage
    machine: str

    def __new__(cls, text: str, *, stage: LaunchStage, machine: str = "") -> ProgressMessage:
        message = super().__new__(cls, text)
        message.stage = stage
        message.machine = machine
        return message


class TerminalTransport(StrEnum):
    """How ``open_terminal`` reaches a machine."""

    ENGINE_EXEC = "engine-exec"  # a pty the engine attaches to a process in the machine (docker exec)
    HOST_PTY = "host-pty"  # a shell on this host in a pty (FakeRuntime: tests and development only)
    SSH_GATEWAY = "ssh-gateway"  # SSH through the session's gateway to the machine's sshd (EcsRuntime)
    NONE = "none"  # no terminals: pages must not offer one


class ResourceKind(StrEnum):
    """What a ``ManagedResource`` is. The machine kind keeps the value "container" that stored
    orphan logs (``OrphanedTaskLog.metadata["kind"]``) already carry."""

    MACHINE = "container"
    NETWORK = "network"


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do; read by services and pages to offer only what works."""

    can_pause: bool = False
    files_before_start: bool = False  # FileSpec written before the machine's first process runs
    accounts_before_start: bool = False  # AccountSpec applied (passwd/shadow/group/home) before start
    terminal: TerminalTransport = TerminalTransport.NONE
    terminal_resize: bool = False
    run_commands: bool = False  # run_command() (and so command ready checks)
    can_recover: bool = False  # recover() brings exited machines back
    restarts_by_itself: bool = False  # the engine restarts machines after its own restart (a policy)
    ready_checks: frozenset[str] = frozenset()  # ReadyCheck kinds: "command", "tcp"
    registry_auth: bool = False  # MachineSpec.registry_auth is used for pulls
    pull_policy: bool = False  # MachineSpec.allow_pull / pull_from_hub are enforced
    egress_networks: bool = False  # NetworkSpec.egress gives outbound traffic
    disk_usage: bool = False  # disk_usage() measures what machines wrote
    port_streams: bool = False  # open_port_stream() relays a TCP port inside a machine (apps.runtime.streams)
    read_only_root: bool = False  # MachineSpec.read_only_root: a read-only root with writable SCRATCH_PATHS


@dataclass(frozen=True)
class MachineHandle:
    """A machine as launched: the backend's id and its address on each network group."""

    id: str
    ips: dict[str, str]

    @property
    def container_id(self) -> str:
        """The backend's id under its former name, for callers not yet moved to ``id``."""
        return self.id


@dataclass(frozen=True)
class NetworkHandle:
    """A network group as launched. ``str(handle)`` is the backend's id, so it can be stored as one."""

    id: str
    name: str = ""  # the backend's own name for it
    subnet: str = ""  # CIDR, "" when the backend does not say
    gateway: str = ""

    def __str__(self) -> str:
        return self.id


@dataclass(frozen=True)
class GatewayHandle:
    """A session's terminal gateway (``TerminalTransport.SSH_GATEWAY``): its task id and private address."""

    id: str
    ip: str = ""


@dataclass(frozen=True)
class LaunchResult:
    machines: dict[str, MachineHandle]
    networks: dict[str, NetworkHandle] = field(default_factory=dict)
    gateway: GatewayHandle | None = None  # only backends whose terminals go through a gateway


@dataclass(frozen=True)
class ManagedResource:
    """A machine or network a runtime created, as found on the engine (for reconcilers)."""

    kind: str  # a ResourceKind value
    id: str
    session_id: str
    machine: str  # the machine name, or the network group name for a network
    expires_at: datetime | None
    created_at: datetime | None
    labels: dict[str, str]


@dataclass(frozen=True)
class CommandResult:
    exit_code: int  # -1 when the command timed out
    output: bytes  # stdout and stderr, interleaved, at most MAX_COMMAND_OUTPUT bytes
    timed_out: bool = False


MAX_COMMAND_OUTPUT = 64 * 1024
# How long a machine without a ready check may take to be running, in wait_ready.
START_TIMEOUT = 30.0

# A TCP ready check, run by /bin/sh in the machine with the port as $1: ready when a socket is in
# the LISTEN state (0A) on that port in /proc/net/tcp or tcp6. It needs no nc, bash or curl.
TCP_CHECK_SCRIPT = r"""
port=$(printf '%04X' "$1")
for table in /proc/net/tcp /proc/net/tcp6; do
  [ -r "$table" ] || continue
  while read -r _ local _ state _; do
    case "$local:$state" in *":$port:0A") exit 0 ;; esac
  done < "$table"
done
exit 1
"""


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
    """The base every backend (DockerRuntime, FakeRuntime, later EcsRuntime) implements.

    ``name`` is the kind of backend ("docker"); ``key`` is the configured key that
    ``get_runtime(key)`` resolves (what a session records); ``instance`` is the install's
    ``RANGEX_INSTANCE``, on every resource the backend makes.
    """

    name = "base"
    capabilities = Capabilities()

    def __init__(self, *, key: str | None = None, instance: str | None = None):
        self.key = key or self.name
        self.instance = instance or settings.RANGEX_INSTANCE

    # --- a session's life ------------------------------------------------------------------
    def launch(self, spec: LaunchSpec, *, progress: Progress | None = None) -> LaunchResult:
        """Create, provision, start and wait for every machine of a session; idempotent per session id."""
        raise NotImplementedError

    def describe(self, session_id: str) -> LaunchResult:
        """Return the session's machines (ids, addresses) and networks as they are now."""
        raise NotImplementedError

    def stop(self, session_id: str) -> None:
        """Remove every machine and network of a session; a no-op when nothing is left."""
        raise NotImplementedError

    def pause(self, session_id: str) -> None:
        raise NotImplementedError

    def resume(self, session_id: str) -> None:
        raise NotImplementedError

    def status(self, session_id: str) -> dict[str, MachineState]:
        """Return machine name -> state for the machines that exist."""
        raise NotImplementedError

    def reset_machine(self, spec: LaunchSpec, machine: str, *, progress: Progress | None = None) -> LaunchResult:
        """Recreate one machine of a live session from its spec, as at the start; leave the others alone.

        The machine is removed, then the idempotent ``launch`` adopts the machines and networks that
        are still there and makes the missing one again (files, accounts, ready check). Like a launch,
        a failure removes the whole session.
        """
        if machine not in {m.name for m in spec.machines}:
            raise RuntimeFailure(f"The session has no machine {machine!r}.", permanent=True)
        doomed = [
            r
            for r in self.list_managed()
            if r.session_id == spec.session_id and r.kind == ResourceKind.MACHINE and r.machine == machine
        ]
        failures = self.remove_resources(doomed)
        if failures:
            raise next(iter(failures.values()))
        return self.launch(spec, progress=progress)

    def recover(self, session_id: str, *, paused: bool) -> dict[str, MachineState]:
        """Bring a session back after its machines exited: start them, re-pause when ``paused``.

        Return machine name -> state afterwards; RUNNING (PAUSED) for every machine that came back.
        A machine whose ready check fails after the restart is reported as STARTING.
        """
        raise NotImplementedError

    def exited_at(self, session_id: str) -> dict[str, datetime]:
        """Return machine name -> when it stopped running, for the session's machines that are not running.

        Only where the backend knows (the platform charges nothing from that moment); a backend
        that cannot tell returns {} and the platform counts from when it noticed.
        """
        return {}

    # --- readiness --------------------------------------------------------------------------
    def ready_checks(self, session_id: str) -> dict[str, ReadyCheck | None]:
        """Return machine name -> the ready check its launch recorded (None: ready when running)."""
        raise NotImplementedError

    def run_ready_check(self, session_id: str, machine: str, check: ReadyCheck) -> bool:
        """Run one ready check once; True when it passed."""
        if check.port is not None:
            argv = ["/bin/sh", "-c", TCP_CHECK_SCRIPT, "sh", str(check.port)]
        else:
            argv = list(check.command)
        timeout = max(1.0, min(check.timeout, 10.0))
        try:
            return self.run_command(session_id, machine, argv, timeout=timeout).exit_code == 0
        except RuntimeFailure as exc:
            if exc.permanent:
                raise
            return False

    def check_ready(self, session_id: str) -> dict[str, bool]:
        """Run every machine's ready check once; machine -> ready (a machine not running is not ready)."""
        states = self.status(session_id)
        checks = self.ready_checks(session_id)
        names = sorted(states)

        def one(name: str) -> bool:
            if states[name] != MachineState.RUNNING:
                return False
            check = checks.get(name)
            return check is None or self.run_ready_check(session_id, name, check)

        with ThreadPoolExecutor(max_workers=min(8, len(names)) or 1) as pool:
            return dict(zip(names, pool.map(one, names), strict=True))

    def wait_ready(
        self,
        session_id: str,
        *,
        machines: Iterable[str] | None = None,
        progress: Progress | None = None,
        timeout: float | None = None,
    ) -> None:
        """Wait until every machine (or those named) passes its ready check; raise NotReady otherwise.

        Each check keeps its own timeout and interval (``timeout`` here caps them all); a machine
        without a check is ready once it runs. A machine that exits, vanishes or is paused while we
        wait fails at once. ``progress`` gets one READY message per machine as it becomes ready.
        """
        checks = self.ready_checks(session_id)
        wanted = sorted(checks if machines is None else machines)
        for name in wanted:
            if name not in checks:
                raise NotReady(f"Machine {name} does not exist.", machine=name, permanent=True)
        started = time.monotonic()
        deadline: dict[str, float] = {}
        for name in wanted:
            check = checks[name]
            limit = check.timeout if check is not None else START_TIMEOUT
            deadline[name] = started + (limit if timeout is None else min(limit, timeout))
        due = dict.fromkeys(wanted, started)
        pending = list(wanted)

        def attempt(name: str) -> bool:
            check = checks[name]
            return check is None or self.run_ready_check(session_id, name, check)

        with ThreadPoolExecutor(max_workers=min(8, len(wanted)) or 1) as pool:
            while pending:
                states = self.status(session_id)
                for name in pending:
                    state = states.get(name, MachineState.MISSING)
                    if state in (MachineState.EXITED, MachineState.MISSING, MachineState.PAUSED):
                        raise NotReady(f"Machine {name} is {state} instead of becoming ready.", machine=name)
                now = time.monotonic()
                running = [n for n in pending if states[n] == MachineState.RUNNING]
                for name in pending:
                    if name not in running and now >= deadline[name]:
                        raise NotReady(f"Machine {name} never started running.", machine=name)
                batch = [n for n in running if due[n] <= now]
                for name, ok in zip(batch, pool.map(attempt, batch), strict=True):
                    check = checks[name]
                    if ok:
                        pending.remove(name)
                        if progress is not None:
                            message = ProgressMessage(f"Machine {name} ready", stage=LaunchStage.READY, machine=name)
                            progress(len(wanted) - len(pending), len(wanted), message)
                    elif time.monotonic() >= deadline[name]:
                        what = (
                            f"nothing listened on port {check.port}"
                            if check.port is not None
                            else "its ready command kept failing"
                        )
                        raise NotReady(
                            f"Machine {name} did not become ready within {deadline[name] - started:g} s ({what}).",
                            machine=name,
                        )
                    else:
                        due[name] = time.monotonic() + check.interval
                for name in pending:
                    if name not in running:
                        due[name] = time.monotonic() + 0.2
                if pending:
                    time.sleep(max(0.0, min(min(due[n] for n in pending), min(deadline.values())) - time.monotonic()))

    # --- machines ---------------------------------------------------------------------------
    def open_terminal(
        self, session_id: str, machine: str, *, user: str = "root", cols: int = 80, rows: int = 24
    ) -> Terminal:
        raise NotImplementedError

    def run_command(
        self, session_id: str, machine: str, argv: list[str], *, user: str = "root", timeout: float = 30.0
    ) -> CommandResult:
        """Run one command in a running machine (working directory /) and return its exit code and output."""
        raise NotImplementedError

    def machine_logs(self, session_id: str, machine: str, *, tail: int = 4000) -> str:
        """Return the last ``tail`` characters of what a machine's main process wrote (test deployments keep them)."""
        raise NotImplementedError

    def disk_usage(self, session_id: str) -> dict[str, int]:
        """Return machine name -> bytes written to its writable layer."""
        raise NotImplementedError

    def open_port_stream(self, session_id: str, machine: str, port: int):
        """Return a ``streams.PortStream`` to ``port`` on the machine's own loopback (``port_streams``)."""
        raise RuntimeFailure(f"{self.name} cannot relay a port of a machine.", permanent=True)

    def machine_log_tail(self, session_id: str, machine: str, *, lines: int = 40) -> str:
        """Return the last lines a machine's main process wrote ("" when the backend keeps none)."""
        return ""

    def container_disk_usage(self, session_id: str) -> dict[str, int]:
        """The former name of ``disk_usage``."""
        return self.disk_usage(session_id)

    # --- housekeeping -----------------------------------------------------------------------
    def list_managed(self) -> list[ManagedResource]:
        """Return every machine and network labelled with this install's instance."""
        raise NotImplementedError

    def remove_resource(self, kind: str, id: str) -> None:
        """Remove one managed resource of this instance; refuse another instance's (ForeignResource).

        Removing something already gone is a no-op. A network is freed of its machines first.
        """
        raise NotImplementedError

    def remove_resources(self, resources: Iterable[ManagedResource]) -> dict[str, RuntimeFailure]:
        """Remove what ``list_managed`` found, machines before networks; return id -> failure of those left."""
        resources = list(resources)
        failures: dict[str, RuntimeFailure] = {}

        def remove(resource: ManagedResource) -> None:
            try:
                self.remove_resource(resource.kind, resource.id)
            except RuntimeFailure as exc:
                failures[resource.id] = exc

        # Machines first: an engine refuses to remove a network that still has endpoints.
        for kind in (ResourceKind.MACHINE, ResourceKind.NETWORK):
            batch = [r for r in resources if r.kind == kind]
            with ThreadPoolExecutor(max_workers=min(8, len(batch)) or 1) as pool:
                list(pool.map(remove, batch))
        for resource in resources:
            if resource.kind not in (ResourceKind.MACHINE, ResourceKind.NETWORK):
                failures[resource.id] = RuntimeFailure(f"Unknown resource kind {resource.kind!r}.", permanent=True)
        return failures

    def registry_login(self, *, registry: str, username: str, password: str) -> None:
        """Check credentials against a registry; raise a permanent RuntimeFailure when it rejects them."""
        raise NotImplementedError

    def image_present(self, ref: str) -> bool:
        raise NotImplementedError

    def ping(self) -> dict:
        raise NotImplementedError

    def hourly_price_usd(self, *, cpus: float, memory_mb: int):
        """Return what one machine of this size costs an hour on this backend (a Decimal, USD), or None
        when the platform's own profile rates apply (an engine the platform owns)."""
        return None

    def session_hourly_price_usd(self):
        """Return what a session costs an hour beyond its machines (a terminal gateway), or None."""
        return None

    def config_checks(self, *, endpoints: Iterable[str] = ()) -> list[dict]:
        """Check the backend's own set-up (cloud accounts); ``[{"name", "ok", "message", "details"}]``.

        ``endpoints`` names the network endpoints operators listed (VPC interface endpoints on AWS).
        A backend with nothing to set up returns [].
        """
        return []

    def host_isolation(self) -> dict:
        """Say whether labs are kept off the host that runs them: ``{"ok": True|False|None, "message"}``.

        None means this process cannot tell (the engine is elsewhere, or the check needs rights it
        lacks); the health check records that as a warning.
        """
        return {"ok": None, "message": f"{self.name} does not run labs on this host."}
