"""DockerRuntime: a session's machines as hardened containers on private bridge networks.

Every resource is named after the instance and session (``rx-<instance>-<session8>-<name>``) and
labelled with them, so a retried launch finds what an earlier attempt left and a reconciler can
list what belongs to this instance. File contents (flags) are never logged.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import posixpath
import re
import select
import shutil
import socket
import subprocess
import tarfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import docker
import requests
from django.conf import settings
from docker import errors as docker_errors
from docker.types import LogConfig

from apps.runtime.base import (
    FileSpec,
    LaunchResult,
    LaunchSpec,
    MachineHandle,
    MachineSpec,
    ManagedResource,
    Progress,
    Runtime,
    RuntimeFailure,
    Terminal,
)

logger = logging.getLogger(__name__)

LABEL_INSTANCE = "rangex.instance"
LABEL_SESSION = "rangex.session"
LABEL_MACHINE = "rangex.machine"
LABEL_NETWORK = "rangex.network"
LABEL_EXPIRES = "rangex.expires_at"
LABEL_MANAGED = "rangex.managed"
LABEL_ROLE = "rangex.role"

# Capabilities that reach past the container (kernel, host files, clocks, security modules):
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
# Bridges of groups with outbound traffic are named rxe<hash>: such a bridge needs the host as its
# gateway, so the host firewall drops what arrives on rxe+ for the host itself (deploy/lib.sh), and
# a lab reaches the outside world but never the host's own services.
EGRESS_BRIDGE_PREFIX = "rxe"


def egress_bridge_name(network_name: str) -> str:
    """Return the Linux interface name of an egress group's bridge (at most 15 characters)."""
    return EGRESS_BRIDGE_PREFIX + hashlib.sha256(network_name.encode()).hexdigest()[:12]


NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$", re.I)
SHELL = ["/bin/sh", "-c", "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi"]
_UNREACHABLE_HINTS = (
    "connection refused",
    "no such host",
    "i/o timeout",
    "timeout",
    "network is unreachable",
    "no route to host",
    "server gave http response",
    "connection reset",
    "tls:",
)


def _short(session_id: str) -> str:
    return session_id.replace("-", "")[:8].lower()


def _parse_time(value: str | None) -> datetime | None:
    """Parse the engine's RFC 3339 times (nanoseconds, "Z") and our own isoformat labels."""
    if not value:
        return None
    match = re.match(r"^(.*?T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$", value)
    if not match:
        return None
    head, fraction, zone = match.groups()
    text = head + (f".{fraction[:6].ljust(6, '0')}" if fraction else "") + (zone or "+00:00").replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


@contextlib.contextmanager
def _engine_errors(action: str) -> Iterator[None]:
    """Turn engine and transport errors into RuntimeFailure with a message a person can act on."""
    try:
        yield
    except RuntimeFailure:
        raise
    except docker_errors.ImageNotFound as exc:
        raise RuntimeFailure(f"{action}: image not found ({exc.explanation or exc})", permanent=True) from exc
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise RuntimeFailure(f"{action}: the Docker engine is unreachable ({exc})", permanent=False) from exc
    except docker_errors.APIError as exc:
        # 400: the engine refused the request itself (bad option, unknown capability); retrying cannot help.
        raise RuntimeFailure(f"{action}: {exc.explanation or exc}", permanent=exc.status_code == 400) from exc
    except docker_errors.DockerException as exc:
        raise RuntimeFailure(f"{action}: the Docker engine is unreachable ({exc})", permanent=False) from exc


class DockerTerminal(Terminal):
    """A TTY exec session over the engine's hijacked HTTP connection."""

    def __init__(self, api: docker.APIClient, exec_id: str, sock):
        self._api = api
        self._exec_id = exec_id
        self._wrapper = sock
        self._sock: socket.socket = getattr(sock, "_sock", sock)
        self._write_lock = threading.Lock()
        self._closed = False

    def fileno(self) -> int:
        return self._sock.fileno()

    def read(self, timeout: float | None = None) -> bytes:
        if self._closed:
            raise EOFError("terminal closed")
        ready, _, _ = select.select([self._sock], [], [], timeout)
        if not ready:
            return b""
        data = self._sock.recv(65536)
        if not data:
            raise EOFError("terminal ended")
        return data

    def write(self, data: bytes) -> None:
        with self._write_lock:
            self._sock.sendall(data)

    def resize(self, cols: int, rows: int) -> None:
        with _engine_errors("Resizing the terminal"):
            self._api.exec_resize(self._exec_id, height=int(rows), width=int(cols))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._wrapper.close()


class DockerRuntime(Runtime):
    name = "docker"

    def __init__(self, *, base_url: str | None = None, instance: str | None = None, timeout: int = 60):
        self.base_url = base_url if base_url is not None else settings.RANGEX_DOCKER_URL
        self.instance = instance or settings.RANGEX_INSTANCE
        self.timeout = timeout
        self._client: docker.DockerClient | None = None
        self._client_lock = threading.Lock()

    # --- plumbing -------------------------------------------------------------------------
    @property
    def client(self) -> docker.DockerClient:
        with self._client_lock:
            if self._client is None:
                where = self.base_url or "the default socket"
                try:
                    if self.base_url:
                        # DOCKER_TLS_VERIFY and DOCKER_CERT_PATH apply to this URL as they do to
                        # DOCKER_HOST, so a remote engine is reached over mutual TLS.
                        environment = {**os.environ, "DOCKER_HOST": self.base_url}
                        self._client = docker.from_env(timeout=self.timeout, environment=environment)
                    else:
                        self._client = docker.from_env(timeout=self.timeout)
                except docker_errors.DockerException as exc:
                    raise RuntimeFailure(
                        f"The Docker engine at {where} is unreachable: {exc}", permanent=False
                    ) from exc
            return self._client

    @property
    def api(self) -> docker.APIClient:
        return self.client.api

    def resource_name(self, session_id: str, name: str) -> str:
        return f"rx-{self.instance}-{_short(session_id)}-{name}"

    def _session_filters(self, session_id: str) -> dict:
        return {"label": [f"{LABEL_INSTANCE}={self.instance}", f"{LABEL_SESSION}={session_id}"]}

    def _session_containers(self, session_id: str) -> list[dict]:
        with _engine_errors("Listing the session's machines"):
            return self.api.containers(all=True, filters=self._session_filters(session_id))

    def _session_networks(self, session_id: str) -> list[dict]:
        with _engine_errors("Listing the session's networks"):
            return self.api.networks(filters=self._session_filters(session_id))

    # --- launch ---------------------------------------------------------------------------
    def launch(self, spec: LaunchSpec, *, progress: Progress | None = None) -> LaunchResult:
        total = 4 + len(spec.machines)
        step = 0

        def report(message: str) -> None:
            nonlocal step
            step += 1
            if progress is not None:
                progress(min(step, total), total, message)

        self._validate(spec)
        try:
            report("Checking images")
            self._ensure_images(spec)
            report("Creating networks")
            networks = self._create_networks(spec)
            with ThreadPoolExecutor(max_workers=min(8, len(spec.machines)) or 1) as pool:
                created: dict[str, str] = {}
                futures = {m.name: pool.submit(self._create_machine, spec, m, networks) for m in spec.machines}
                for name, future in futures.items():
                    created[name] = future.result()
                    report(f"Created machine {name}")
                report("Starting machines")
                list(pool.map(self._start, created.values()))
            report("Reading addresses")
            result = LaunchResult(machines={name: self._handle(cid, networks) for name, cid in created.items()})
        except BaseException as exc:
            logger.warning("Launch of session %s failed, removing what was created: %s", spec.session_id, exc)
            with contextlib.suppress(RuntimeFailure):
                self.stop(spec.session_id)
            if isinstance(exc, RuntimeFailure):
                raise
            if isinstance(exc, Exception):
                raise RuntimeFailure(f"Launch failed: {exc}", permanent=False) from exc
            raise
        return result

    def _validate(self, spec: LaunchSpec) -> None:
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

    def _ensure_images(self, spec: LaunchSpec) -> None:
        for ref in dict.fromkeys(m.image for m in spec.machines):
            if self.image_present(ref):
                continue
            try:
                with _engine_errors(f"Pulling image {ref}"):
                    self.client.images.pull(ref)
            except RuntimeFailure as exc:
                message = exc.message.lower()
                permanent = any(
                    hint in message for hint in ("not found", "does not exist", "pull access denied", "manifest")
                )
                raise RuntimeFailure(f"Image {ref} is not available: {exc.message}", permanent=permanent) from exc

    def _labels(self, spec: LaunchSpec, **extra: str) -> dict[str, str]:
        labels = {str(k): str(v) for k, v in spec.labels.items()}
        labels.update(
            {
                LABEL_INSTANCE: self.instance,
                LABEL_SESSION: spec.session_id,
                LABEL_EXPIRES: spec.expires_at.isoformat(),
                LABEL_MANAGED: "1",
            }
        )
        labels.update(extra)
        return labels

    def _create_networks(self, spec: LaunchSpec) -> dict[str, str]:
        """Create (or adopt) one bridge per network group; return group name -> engine network name."""
        existing = {n["Name"]: n for n in self._session_networks(spec.session_id)}
        names: dict[str, str] = {}
        for net in spec.networks:
            name = self.resource_name(spec.session_id, net.name)
            names[net.name] = name
            if name in existing:
                continue
            options = {"com.docker.network.bridge.enable_icc": "true"}
            if net.egress:
                options["com.docker.network.bridge.name"] = egress_bridge_name(name)
            else:
                # An isolated group gets no host address at all: nothing on it can reach the host.
                options["com.docker.network.bridge.inhibit_ipv4"] = "true"
            with _engine_errors(f"Creating network {net.name}"):
                try:
                    self.api.create_network(
                        name,
                        driver="bridge",
                        internal=not net.egress,
                        options=options,
                        check_duplicate=True,
                        labels=self._labels(spec, **{LABEL_NETWORK: net.name}),
                    )
                except docker_errors.APIError as exc:
                    if exc.status_code != 409:
                        raise
                    raise RuntimeFailure(
                        f"Network {name} exists but belongs to another session.", permanent=False
                    ) from exc
        return names

    def _create_machine(self, spec: LaunchSpec, machine: MachineSpec, networks: dict[str, str]) -> str:
        name = self.resource_name(spec.session_id, machine.name)
        with _engine_errors(f"Creating machine {machine.name}"):
            self._remove_stale_container(spec.session_id, name)
            hostname = machine.hostname or machine.name
            aliases = list(dict.fromkeys([machine.name, hostname]))
            first, *others = machine.networks
            host_config = self.api.create_host_config(
                cap_drop=["ALL"],
                cap_add=list(machine.cap_add) or None,
                security_opt=["no-new-privileges:true"] if machine.no_new_privileges else None,
                pids_limit=int(machine.pids_limit),
                mem_limit=f"{int(machine.memory_mb)}m",
                memswap_limit=f"{int(machine.memory_mb)}m",
                nano_cpus=int(machine.cpus * 1_000_000_000),
                init=True,
                privileged=False,
                read_only=False,
                network_mode=networks[first],
                log_config=LogConfig(type="json-file", config={"max-size": "1m", "max-file": "1"}),
            )
            networking = self.api.create_networking_config(
                {networks[first]: self.api.create_endpoint_config(aliases=aliases)}
            )
            container = self.api.create_container(
                image=machine.image,
                name=name,
                command=list(machine.command) if machine.command else None,
                hostname=hostname,
                user=machine.user or None,
                environment={str(k): str(v) for k, v in machine.env.items()},
                labels=self._labels(spec, **{LABEL_MACHINE: machine.name, LABEL_ROLE: machine.role}),
                host_config=host_config,
                networking_config=networking,
                stdin_open=False,
                tty=False,
            )
            cid = container["Id"]
            for group in others:
                self.api.connect_container_to_network(cid, networks[group], aliases=aliases)
            if machine.files:
                self._put_files(cid, machine)
        return cid

    def _remove_stale_container(self, session_id: str, name: str) -> None:
        """Remove a container an earlier attempt of this launch left, so the launch starts clean."""
        for found in self.api.containers(all=True, filters={"name": f"^/{name}$"}):
            if found.get("Labels", {}).get(LABEL_SESSION) != session_id:
                raise RuntimeFailure(f"Container {name} exists but belongs to another session.", permanent=False)
            with contextlib.suppress(docker_errors.NotFound):
                self.api.remove_container(found["Id"], force=True, v=True)

    def _put_files(self, cid: str, machine: MachineSpec) -> None:
        passwd: dict[str, tuple[int, int]] | None = None
        for spec in machine.files:
            if not posixpath.isabs(spec.path) or ".." in spec.path.split("/"):
                raise RuntimeFailure(f"File path {spec.path!r} must be absolute and plain.", permanent=True)
            uid, gid = 0, 0
            if spec.owner not in ("", "root", "0"):
                if passwd is None:
                    passwd = self._read_passwd(cid)
                uid, gid = self._resolve_owner(spec.owner, passwd, machine.name)
            self._put_file(cid, spec, uid, gid)
        logger.info("Provisioned %d file(s) into %s", len(machine.files), machine.name)

    def _put_file(self, cid: str, spec: FileSpec, uid: int, gid: int) -> None:
        # Climb to the nearest existing folder: the archive brings the missing ones with it,
        # and folders that exist keep their own mode and owner.
        parent = posixpath.dirname(posixpath.normpath(spec.path))
        missing: list[str] = []
        while parent != "/" and not self._exists(cid, parent):
            missing.insert(0, posixpath.basename(parent))
            parent = posixpath.dirname(parent)
        members: list[tuple[tarfile.TarInfo, bytes | None]] = []
        prefix = ""
        for folder in missing:
            prefix = posixpath.join(prefix, folder)
            info = tarfile.TarInfo(prefix)
            info.type, info.mode, info.uid, info.gid, info.mtime = tarfile.DIRTYPE, 0o755, 0, 0, time.time()
            members.append((info, None))
        info = tarfile.TarInfo(posixpath.join(prefix, posixpath.basename(spec.path)))
        info.size, info.mode, info.uid, info.gid, info.mtime = len(spec.content), spec.mode, uid, gid, time.time()
        members.append((info, spec.content))
        self.api.put_archive(cid, parent, self._tar(members))

    def _exists(self, cid: str, path: str) -> bool:
        try:
            self.api.put_archive(cid, path, self._tar([]))
        except docker_errors.NotFound:
            return False
        return True

    @staticmethod
    def _tar(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
            for info, content in members:
                tar.addfile(info, io.BytesIO(content) if content is not None else None)
        return buffer.getvalue()

    def _read_passwd(self, cid: str) -> dict[str, tuple[int, int]]:
        users: dict[str, tuple[int, int]] = {}
        try:
            stream, _ = self.api.get_archive(cid, "/etc/passwd")
        except docker_errors.NotFound:
            return users
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = tar.extractfile(tar.getmembers()[0])
            text = member.read().decode("utf-8", "replace") if member else ""
        for line in text.splitlines():
            parts = line.split(":")
            if len(parts) >= 4 and parts[2].isdigit() and parts[3].isdigit():
                users[parts[0]] = (int(parts[2]), int(parts[3]))
        return users

    @staticmethod
    def _resolve_owner(owner: str, passwd: dict[str, tuple[int, int]], machine: str) -> tuple[int, int]:
        user, _, group = owner.partition(":")
        if user.isdigit():
            uid, gid = int(user), int(user)
        elif user in passwd:
            uid, gid = passwd[user]
        else:
            raise RuntimeFailure(f"Machine {machine} has no user {user!r} to own a file.", permanent=True)
        if group.isdigit():
            gid = int(group)
        return uid, gid

    def _start(self, cid: str) -> None:
        with _engine_errors("Starting a machine"):
            self.api.start(cid)

    def _handle(self, cid: str, networks: dict[str, str]) -> MachineHandle:
        with _engine_errors("Reading a machine's addresses"):
            info = self.api.inspect_container(cid)
        attached = info.get("NetworkSettings", {}).get("Networks", {}) or {}
        ips = {group: attached[name]["IPAddress"] for group, name in networks.items() if name in attached}
        return MachineHandle(container_id=cid, ips=ips)

    # --- lifecycle ------------------------------------------------------------------------
    def stop(self, session_id: str) -> None:
        containers = self._session_containers(session_id)
        with _engine_errors("Removing the session's machines"), ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(self._remove_container, [c["Id"] for c in containers]))
        with _engine_errors("Removing the session's networks"):
            for network in self._session_networks(session_id):
                self._remove_network(network["Id"])

    def _remove_container(self, cid: str) -> None:
        with contextlib.suppress(docker_errors.NotFound):
            self.api.remove_container(cid, force=True, v=True)

    def _remove_network(self, nid: str) -> None:
        try:
            self.api.remove_network(nid)
        except docker_errors.NotFound:
            return
        except docker_errors.APIError as exc:
            # A container still attached (e.g. another attempt racing) is detached first.
            info = self.api.inspect_network(nid)
            for cid in info.get("Containers") or {}:
                with contextlib.suppress(docker_errors.APIError):
                    self.api.disconnect_container_from_network(cid, nid, force=True)
            try:
                self.api.remove_network(nid)
            except docker_errors.NotFound:
                return
            except docker_errors.APIError:
                raise exc from None

    def pause(self, session_id: str) -> None:
        with _engine_errors("Pausing the session"):
            for c in self._session_containers(session_id):
                if c["State"] == "running":
                    self.api.pause(c["Id"])

    def resume(self, session_id: str) -> None:
        with _engine_errors("Resuming the session"):
            for c in self._session_containers(session_id):
                if c["State"] == "paused":
                    self.api.unpause(c["Id"])
                elif c["State"] in ("created", "exited"):
                    self.api.start(c["Id"])

    def status(self, session_id: str) -> dict[str, str]:
        return {c["Labels"].get(LABEL_MACHINE, c["Id"][:12]): c["State"] for c in self._session_containers(session_id)}

    def _container_of(self, session_id: str, machine: str) -> dict:
        for c in self._session_containers(session_id):
            if c["Labels"].get(LABEL_MACHINE) == machine:
                return c
        raise RuntimeFailure(f"Machine {machine} of this session does not exist.", permanent=True)

    # --- terminal -------------------------------------------------------------------------
    def open_terminal(
        self, session_id: str, machine: str, *, user: str = "root", cols: int = 80, rows: int = 24
    ) -> Terminal:
        container = self._container_of(session_id, machine)
        if container["State"] != "running":
            raise RuntimeFailure(f"Machine {machine} is {container['State']}, not running.", permanent=False)
        with _engine_errors(f"Opening a terminal on {machine}"):
            exec_id = self.api.exec_create(
                container["Id"],
                SHELL,
                stdin=True,
                tty=True,
                user=user or "",
                # No COLUMNS/LINES: shells prefer them over the pty size, which would defeat resize().
                environment={"TERM": "xterm-256color"},
            )["Id"]
            sock = self.api.exec_start(exec_id, tty=True, socket=True)
            terminal = DockerTerminal(self.api, exec_id, sock)
        with contextlib.suppress(RuntimeFailure):
            terminal.resize(cols, rows)
        return terminal

    # --- housekeeping ---------------------------------------------------------------------
    def list_managed(self) -> list[ManagedResource]:
        filters = {"label": [f"{LABEL_INSTANCE}={self.instance}", f"{LABEL_MANAGED}=1"]}
        with _engine_errors("Listing managed resources"):
            containers = self.api.containers(all=True, filters=filters)
            networks = self.api.networks(filters=filters)
        found = []
        for c in containers:
            labels = c.get("Labels") or {}
            created = datetime.fromtimestamp(c["Created"], tz=UTC) if c.get("Created") else None
            found.append(self._resource("container", c["Id"], labels, created))
        for n in networks:
            labels = n.get("Labels") or {}
            found.append(self._resource("network", n["Id"], labels, _parse_time(n.get("Created"))))
        return found

    @staticmethod
    def _resource(kind: str, rid: str, labels: dict, created: datetime | None) -> ManagedResource:
        return ManagedResource(
            kind=kind,
            id=rid,
            session_id=labels.get(LABEL_SESSION, ""),
            machine=labels.get(LABEL_MACHINE, labels.get(LABEL_NETWORK, "")),
            expires_at=_parse_time(labels.get(LABEL_EXPIRES)),
            created_at=created,
            labels=dict(labels),
        )

    def remove_resource(self, kind: str, id: str) -> None:
        with _engine_errors(f"Removing {kind} {id[:12]}"):
            if kind == "container":
                self._remove_container(id)
            elif kind == "network":
                self._remove_network(id)
            else:
                raise RuntimeFailure(f"Unknown resource kind {kind!r}.", permanent=True)

    def registry_login(self, *, registry: str, username: str, password: str) -> None:
        try:
            self.client.login(username=username, password=password, registry=registry, reauth=True)
        except docker_errors.APIError as exc:
            text = str(exc.explanation or exc)
            lowered = text.lower()
            if exc.status_code in (401, 403) or "unauthorized" in lowered or "denied" in lowered:
                raise RuntimeFailure(
                    f"Registry {registry} rejected the credentials for {username}.", permanent=True
                ) from exc
            if any(hint in lowered for hint in _UNREACHABLE_HINTS):
                raise RuntimeFailure(f"Registry {registry} is unreachable: {text}", permanent=False) from exc
            raise RuntimeFailure(f"Login to registry {registry} failed: {text}", permanent=False) from exc
        except (requests.exceptions.ConnectionError, docker_errors.DockerException) as exc:
            raise RuntimeFailure(f"The Docker engine is unreachable: {exc}", permanent=False) from exc

    def image_present(self, ref: str) -> bool:
        with _engine_errors(f"Looking up image {ref}"):
            try:
                self.api.inspect_image(ref)
            except docker_errors.ImageNotFound:
                return False
            except docker_errors.NotFound:
                return False
        return True

    def ping(self) -> dict:
        started = time.monotonic()
        try:
            with _engine_errors("Pinging the engine"):
                version = self.api.version()
        except RuntimeFailure as exc:
            return {"ok": False, "backend": self.name, "error": exc.message}
        return {
            "ok": True,
            "backend": self.name,
            "version": version.get("Version", ""),
            "api_version": version.get("ApiVersion", ""),
            "latency_ms": round((time.monotonic() - started) * 1000, 1),
        }

    # The rule deploy/lib.sh installs: drop what egress bridges send to the host itself.
    HOST_FIREWALL_RULE = ("INPUT", "-i", f"{EGRESS_BRIDGE_PREFIX}+", "-j", "DROP")

    def host_isolation(self) -> dict:
        rule = " ".join(self.HOST_FIREWALL_RULE)
        if self.base_url and not self.base_url.startswith("unix://"):
            return {"ok": None, "message": f"The engine runs on another host; its firewall needs: iptables -A {rule}"}
        iptables = shutil.which("iptables") or next(
            (p for p in ("/usr/sbin/iptables", "/sbin/iptables") if os.path.exists(p)), None
        )
        if iptables is None:
            return {"ok": None, "message": "iptables is not installed here, so the host firewall cannot be read."}
        try:
            done = subprocess.run(
                [iptables, "-C", *self.HOST_FIREWALL_RULE], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return {"ok": None, "message": f"The host firewall could not be read: {exc}"}
        if done.returncode == 0:
            return {"ok": True, "message": f"Labs with outbound traffic cannot reach the host ({rule})."}
        error = (done.stderr or "").strip()
        if done.returncode == 1 and ("does a matching rule exist" in error or "Bad rule" in error or not error):
            return {
                "ok": False,
                "message": f"The host firewall rule is missing: labs with outbound traffic can reach this "
                f"host's services. Add it with: iptables -I {rule}",
            }
        return {"ok": None, "message": f"The host firewall could not be read: {error or done.returncode}"}

    def container_disk_usage(self, session_id: str) -> dict[str, int]:
        with _engine_errors("Measuring disk usage"):
            containers = self.api.containers(all=True, size=True, filters=self._session_filters(session_id))
        return {c["Labels"].get(LABEL_MACHINE, c["Id"][:12]): int(c.get("SizeRw") or 0) for c in containers}
