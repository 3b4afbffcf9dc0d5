"""What a launch asks for: the spec dataclasses, and the checks every backend applies to them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from apps.runtime.errors import RuntimeFailure


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
    owner: str = "root"  # "user", "user:group", "uid" or "uid:gid"; names resolve in the machine


@dataclass(frozen=True)
class AccountSpec:
    """A login in a machine, applied before the machine starts.

    The backend stores only a SHA-512 crypt hash in /etc/shadow: the password never goes into the
    environment, labels, command lines or logs. An account that exists in the image keeps its
    uid, groups and home and gets the new password; a missing one is created (uid ``uid`` or the
    next free from 1000, a group of its own name, ``home`` or /home/<username>, created if missing).
    An empty password locks password login.
    """

    username: str
    password: str = field(default="", repr=False)
    uid: int | None = None
    home: str = ""
    shell: str = ""  # "" keeps the existing shell, or /bin/sh for a new account
    groups: tuple[str, ...] = ()  # supplementary groups, created if missing


@dataclass(frozen=True)
class RegistryAuth:
    """Credentials for the registry an image is pulled from; sent with that pull only, never stored."""

    registry: str  # host[:port], e.g. "registry.example.org" or "docker.io"
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class ReadyCheck:
    """When a machine counts as ready: a command exits 0 in it, or something listens on a TCP port.

    ``command`` runs as root with / as its working directory. ``port`` is checked from inside the
    machine: ready when a socket listens on it (what a connect from inside would reach). The check
    runs every ``interval`` seconds until it passes or ``timeout`` seconds have gone.
    """

    command: tuple[str, ...] = ()
    port: int | None = None
    timeout: float = 60.0
    interval: float = 0.5

    @property
    def kind(self) -> str:
        return "tcp" if self.port is not None else "command"

    def as_dict(self) -> dict:
        return {"command": list(self.command), "port": self.port, "timeout": self.timeout, "interval": self.interval}

    @classmethod
    def from_dict(cls, data: dict) -> ReadyCheck:
        return cls(
            command=tuple(str(part) for part in data.get("command") or ()),
            port=int(data["port"]) if data.get("port") is not None else None,
            timeout=float(data.get("timeout", 60.0)),
            interval=float(data.get("interval", 0.5)),
        )


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
    accounts: list[AccountSpec] = field(default_factory=list)
    registry_auth: RegistryAuth | None = None
    # Pull policy for an image the engine does not have: never pull, or never from Docker Hub.
    allow_pull: bool = True
    pull_from_hub: bool = True
    ready_check: ReadyCheck | None = None
    # The root file system is read-only; /tmp and /run are writable scratch space (SCRATCH_PATHS).
    read_only_root: bool = False


# Where a machine with a read-only root may still write: empty scratch space, bounded in size (MiB).
SCRATCH_PATHS = {"/tmp": 64, "/run": 16}  # noqa: S108 (paths inside the machine, not on this host)


@dataclass(frozen=True)
class LaunchSpec:
    session_id: str
    machines: list[MachineSpec]
    networks: list[NetworkSpec]
    expires_at: datetime
    labels: dict[str, str] = field(default_factory=dict)


# Capabilities that reach past the machine (kernel, host files, clocks, security modules):
# never granted, whatever an image's settings ask for.
FORBIDDEN_CAPABILITIES = frozenset(
    {
        "ALL",
        "SYS_ADMIN",
        "SYS_MODULE",
        "SYS_RAWIO",
        "SYS_BOOT",
        "SYS_TIME",
        "MAC_ADMIN",
        "MAC_OVERRIDE",
        "DAC_READ_SEARCH",
        "BPF",
        "PERFMON",
        "SYSLOG",
        "WAKE_ALARM",
        "BLOCK_SUSPEND",
        "AUDIT_CONTROL",
    }
)
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$", re.I)
USERNAME_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
DOCKER_HUB = "docker.io"
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}


def image_registry(ref: str) -> str:
    """Return the registry an image reference pulls from ("docker.io" for Docker Hub)."""
    first, sep, _ = ref.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return DOCKER_HUB if first.lower() in _HUB_ALIASES else first.lower()
    return DOCKER_HUB


def normalize_registry(registry: str) -> str:
    """Return a registry address as ``image_registry`` spells it (no scheme, no path)."""
    host = re.sub(r"^[a-z]+://", "", registry.strip(), flags=re.I).split("/", 1)[0].lower()
    return DOCKER_HUB if host in _HUB_ALIASES or not host else host


def validate_spec(spec: LaunchSpec, *, read_only_root: bool = True) -> None:
    """Refuse a launch spec any backend would refuse, before anything is created.

    ``read_only_root``: whether the backend can give a machine a read-only root (its capability).
    """
    if not spec.session_id or not spec.machines:
        raise RuntimeFailure("A launch needs a session id and at least one machine.", permanent=True)
    names = [m.name for m in spec.machines] + [n.name for n in spec.networks]
    bad = [name for name in names if not NAME_RE.match(name)]
    if bad:
        raise RuntimeFailure(f"Names must be letters, digits, '.', '_' or '-': {', '.join(bad)}.", permanent=True)
    if len({m.name for m in spec.machines}) != len(spec.machines):
        raise RuntimeFailure("Machine names must be unique within a session.", permanent=True)
    known = {n.name for n in spec.networks}
    for machine in spec.machines:
        forbidden = {cap.upper().removeprefix("CAP_") for cap in machine.cap_add} & FORBIDDEN_CAPABILITIES
        if forbidden:
            raise RuntimeFailure(
                f"Machine {machine.name} asks for forbidden capabilities: {', '.join(sorted(forbidden))}.",
                permanent=True,
            )
        if not machine.networks:
            raise RuntimeFailure(f"Machine {machine.name} is on no network.", permanent=True)
        missing = set(machine.networks) - known
        if missing:
            raise RuntimeFailure(
                f"Machine {machine.name} names unknown networks: {', '.join(sorted(missing))}.", permanent=True
            )
        _validate_accounts(machine)
        _validate_read_only_root(machine, offered=read_only_root)
        check = machine.ready_check
        if check is not None:
            if bool(check.command) == (check.port is not None):
                raise RuntimeFailure(
                    f"Machine {machine.name}: a ready check is either a command or a TCP port.", permanent=True
                )
            if check.port is not None and not 0 < check.port < 65536:
                raise RuntimeFailure(
                    f"Machine {machine.name}: ready port {check.port} is out of range.", permanent=True
                )
            if check.timeout <= 0 or check.interval <= 0:
                raise RuntimeFailure(
                    f"Machine {machine.name}: a ready check needs a positive timeout and interval.", permanent=True
                )


def _validate_read_only_root(machine: MachineSpec, *, offered: bool) -> None:
    if not machine.read_only_root:
        return
    if not offered:
        raise RuntimeFailure(
            f"Machine {machine.name} asks for a read-only root file system, which this runtime cannot give.",
            permanent=True,
        )
    if machine.files or machine.accounts:
        raise RuntimeFailure(
            f"Machine {machine.name} has a read-only root file system, so it cannot get files or accounts "
            "before start: turn one of them off.",
            permanent=True,
        )


def _validate_accounts(machine: MachineSpec) -> None:
    seen: set[str] = set()
    for account in machine.accounts:
        names = [account.username, *account.groups]
        bad = [name for name in names if not USERNAME_RE.match(name)]
        if bad:
            raise RuntimeFailure(
                f"Machine {machine.name}: account and group names must be lower-case letters, digits, '_' or "
                f"'-': {', '.join(repr(b) for b in bad)}.",
                permanent=True,
            )
        if account.username in seen:
            raise RuntimeFailure(f"Machine {machine.name} lists account {account.username} twice.", permanent=True)
        seen.add(account.username)
        plain = [v for v in (account.home, account.shell) if v and (":" in v or "\n" in v or not v.startswith("/"))]
        if plain:
            raise RuntimeFailure(
                f"Machine {machine.name}: the home and shell of {account.username} must be absolute paths.",
                permanent=True,
            )
        if "\n" in account.password:
            raise RuntimeFailure(
                f"Machine {machine.name}: the password of {account.username} has a line break.", permanent=True
            )
        if account.uid is not None and not 0 <= account.uid < 2**31:
            raise RuntimeFailure(f"Machine {machine.name}: uid {account.uid} is out of range.", permanent=True)
