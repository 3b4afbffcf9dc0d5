"""DockerRuntime: a session's machines as hardened containers on private bridge networks.

Every resource is named after the instance and session (``rx-<instance>-<session8>-<name>``) and
labelled with them, so a retried launch finds what an earlier attempt left and a reconciler can
list what belongs to this instance. File contents (flags) and passwords are never logged.

A launch, step by step (each step reported through ``progress``):

1. images: present, or pulled with the machine's ``registry_auth`` sent with that pull only
   (``allow_pull``/``pull_from_hub`` refuse pulls the install does not allow);
2. networks: one bridge per group (adopted when an earlier attempt made it);
3. per machine, "created": the container is created (or adopted when an earlier attempt already
   started it; a container that was created but never started is made again, since its files may
   be half written), accounts go into /etc/passwd, /etc/shadow, /etc/group and the home folders,
   then the files, all with put_archive before the first process runs;
4. per machine, "started", then "ready" once its ready check passes (the check is kept in a
   label, so ``wait_ready`` and ``recover`` can run it again later).

Engine restarts: containers get no restart policy. When dockerd stops, every container exits;
``recover`` starts them again (files and accounts live in the container's writable layer, so
nothing needs writing again), re-pauses a paused session and re-checks readiness. The platform
calls it from its periodic check, so a paused lab stays paused and a machine that cannot come
back is seen as such instead of being restarted in a loop behind the platform's back.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import docker
import requests
from django.conf import settings
from docker import errors as docker_errors
from docker.types import LogConfig

from apps.runtime.base import (
    FORBIDDEN_CAPABILITIES,
    NAME_RE,
    Capabilities,
    CommandResult,
    ForeignResource,
    LaunchResult,
    LaunchSpec,
    LaunchStage,
    MachineHandle,
    MachineSpec,
    MachineState,
    ManagedResource,
    NetworkHandle,
    NotReady,
    Progress,
    ProgressMessage,
    ReadyCheck,
    ResourceKind,
    Runtime,
    RuntimeFailure,
    Terminal,
    TerminalTransport,
    validate_spec,
)
from apps.runtime.docker_io import (
    UNREACHABLE_HINTS,
    ContainerFiles,
    DockerTerminal,
    engine_errors,
    parse_time,
    pull_image,
    run_exec,
    scratch_mounts,
)
from apps.runtime.streams import DockerStreams

__all__ = ["FORBIDDEN_CAPABILITIES", "NAME_RE", "DockerRuntime", "DockerTerminal", "egress_bridge_name"]

logger = logging.getLogger(__name__)

LABEL_INSTANCE = "rangex.instance"
LABEL_SESSION = "rangex.session"
LABEL_MACHINE = "rangex.machine"
LABEL_NETWORK = "rangex.network"
LABEL_EXPIRES = "rangex.expires_at"
LABEL_MANAGED = "rangex.managed"
LABEL_ROLE = "rangex.role"
LABEL_READY = "rangex.ready"

# Bridges of groups with outbound traffic are named rxe<hash>: such a bridge needs the host as its
# gateway, so the host firewall drops what arrives on rxe+ for the host itself (deploy/lib.sh), and
# a lab reaches the outside world but never the host's own services.
EGRESS_BRIDGE_PREFIX = "rxe"

# Docker's container states in the interface's words.
ENGINE_STATES = {
    "running": MachineState.RUNNING,
    "paused": MachineState.PAUSED,
    "created": MachineState.STARTING,
    "restarting": MachineState.STARTING,
    "exited": MachineState.EXITED,
    "dead": MachineState.EXITED,
    "removing": MachineState.UNKNOWN,
}


def egress_bridge_name(network_name: str) -> str:
    """Return the Linux interface name of an egress group's bridge (at most 15 characters)."""
    return EGRESS_BRIDGE_PREFIX + hashlib.sha256(network_name.encode()).hexdigest()[:12]


SHELL = ["/bin/sh", "-c", "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi"]


def _short(session_id: str) -> str:
    return session_id.replace("-", "")[:8].lower()


class _Reporter:
    """Count launch steps and hand each to the caller's progress callback."""

    def __init__(self, progress: Progress | None, total: int):
        self.progress = progress
        self.total = total
        self.step = 0

    def __call__(self, stage: LaunchStage, text: str, machine: str = "") -> None:
        self.step += 1
        if self.progress is not None:
            self.progress(min(self.step, self.total), self.total, ProgressMessage(text, stage=stage, machine=machine))


class DockerRuntime(DockerStreams, Runtime):
    name = "docker"
    capabilities = Capabilities(
        can_pause=True,
        files_before_start=True,
        accounts_before_start=True,
        terminal=TerminalTransport.ENGINE_EXEC,
        terminal_resize=True,
        run_commands=True,
        can_recover=True,
        restarts_by_itself=False,
        ready_checks=frozenset({"command", "tcp"}),
        registry_auth=True,
        pull_policy=True,
        egress_networks=True,
        disk_usage=True,
        port_streams=True,
        read_only_root=True,
    )

    def __init__(
        self,
        *,
        key: str | None = None,
        base_url: str | None = None,
        instance: str | None = None,
        timeout: int = 60,
    ):
        super().__init__(key=key, instance=instance)
        self.base_url = base_url if base_url is not None else settings.RANGEX_DOCKER_URL
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
        with engine_errors("Listing the session's machines"):
            return self.api.containers(all=True, filters=self._session_filters(session_id))

    def _session_networks(self, session_id: str) -> list[dict]:
        with engine_errors("Listing the session's networks"):
            return self.api.networks(filters=self._session_filters(session_id))

    # --- launch ---------------------------------------------------------------------------
    def launch(self, spec: LaunchSpec, *, progress: Progress | None = None) -> LaunchResult:
        validate_spec(spec, read_only_root=self.capabilities.read_only_root)
        report = _Reporter(progress, total=3 + 3 * len(spec.machines))
        try:
            self._ensure_images(spec)
            report(LaunchStage.IMAGES, "Images ready")
            networks = self._create_networks(spec)
            report(LaunchStage.NETWORKS, "Networks created")
            existing = {c["Labels"].get(LABEL_MACHINE): c for c in self._session_containers(spec.session_id)}
            workers = min(8, len(spec.machines)) or 1
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = {
                    m.name: pool.submit(self._provision_machine, spec, m, networks, existing.get(m.name))
                    for m in spec.machines
                }
                made: dict[str, tuple[str, str]] = {}
                for name, future in futures.items():
                    made[name] = future.result()
                    report(LaunchStage.CREATED, f"Machine {name} created", name)
                starts = {name: pool.submit(self._bring_up, cid, state) for name, (cid, state) in made.items()}
                for name, future in starts.items():
                    future.result()
                    report(LaunchStage.STARTED, f"Machine {name} started", name)
            self.wait_ready(
                spec.session_id,
                machines=[m.name for m in spec.machines],
                progress=lambda step, total, message: report(LaunchStage.READY, message, message.machine),
            )
            result = self.describe(spec.session_id)
            report(LaunchStage.ADDRESSES, "Addresses read")
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

    def _ensure_images(self, spec: LaunchSpec) -> None:
        seen: set[str] = set()
        for machine in spec.machines:
            if machine.image in seen:
                continue
            seen.add(machine.image)
            if not self.image_present(machine.image):
                pull_image(self.api, machine)

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
            with engine_errors(f"Creating network {net.name}"):
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

    def _provision_machine(
        self, spec: LaunchSpec, machine: MachineSpec, networks: dict[str, str], found: dict | None
    ) -> tuple[str, str]:
        """Return (container id, engine state): an adopted started container, or a new provisioned one."""
        name = self.resource_name(spec.session_id, machine.name)
        with engine_errors(f"Creating machine {machine.name}"):
            if found is not None and found["State"] not in ("created", "dead", "removing"):
                # An earlier attempt started it, so its accounts and files are complete: keep it.
                return found["Id"], found["State"]
            self._remove_stale_container(spec.session_id, name)
            cid = self._create_container(spec, machine, networks, name)
            files = ContainerFiles(self.api, cid)
            files.apply_accounts(machine)
            if machine.files:
                files.put_files(machine)
        return cid, "created"

    def _create_container(self, spec: LaunchSpec, machine: MachineSpec, networks: dict[str, str], name: str) -> str:
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
            read_only=machine.read_only_root,
            tmpfs=scratch_mounts() if machine.read_only_root else None,
            network_mode=networks[first],
            log_config=LogConfig(type="json-file", config={"max-size": "1m", "max-file": "1"}),
        )
        networking = self.api.create_networking_config(
            {networks[first]: self.api.create_endpoint_config(aliases=aliases)}
        )
        extra = {LABEL_MACHINE: machine.name, LABEL_ROLE: machine.role}
        if machine.ready_check is not None:
            extra[LABEL_READY] = json.dumps(machine.ready_check.as_dict(), separators=(",", ":"))
        container = self.api.create_container(
            image=machine.image,
            name=name,
            command=list(machine.command) if machine.command else None,
            hostname=hostname,
            user=machine.user or None,
            environment={str(k): str(v) for k, v in machine.env.items()},
            labels=self._labels(spec, **extra),
            host_config=host_config,
            networking_config=networking,
            stdin_open=False,
            tty=False,
        )
        cid = container["Id"]
        for group in others:
            self.api.connect_container_to_network(cid, networks[group], aliases=aliases)
        return cid

    def _remove_stale_container(self, session_id: str, name: str) -> None:
        """Remove a container an earlier attempt of this launch left, so the launch starts clean."""
        for found in self.api.containers(all=True, filters={"name": f"^/{name}$"}):
            if found.get("Labels", {}).get(LABEL_SESSION) != session_id:
                raise RuntimeFailure(f"Container {name} exists but belongs to another session.", permanent=False)
            with contextlib.suppress(docker_errors.NotFound):
                self.api.remove_container(found["Id"], force=True, v=True)

    def _bring_up(self, cid: str, state: str) -> None:
        with engine_errors("Starting a machine"):
            if state == "paused":
                self.api.unpause(cid)
            elif state != "running":
                self.api.start(cid)

    # --- what a session has -------------------------------------------------------------------
    def describe(self, session_id: str) -> LaunchResult:
        groups: dict[str, str] = {}
        networks: dict[str, NetworkHandle] = {}
        with engine_errors("Reading the session's networks"):
            for found in self._session_networks(session_id):
                group = (found.get("Labels") or {}).get(LABEL_NETWORK, found["Name"])
                info = self.api.inspect_network(found["Id"])
                ipam = ((info.get("IPAM") or {}).get("Config") or [{}])[0] or {}
                groups[found["Name"]] = group
                networks[group] = NetworkHandle(
                    id=found["Id"], name=found["Name"], subnet=ipam.get("Subnet", ""), gateway=ipam.get("Gateway", "")
                )
        machines: dict[str, MachineHandle] = {}
        with engine_errors("Reading the machines' addresses"):
            for found in self._session_containers(session_id):
                info = self.api.inspect_container(found["Id"])
                attached = info.get("NetworkSettings", {}).get("Networks", {}) or {}
                ips = {groups[name]: net.get("IPAddress", "") for name, net in attached.items() if name in groups}
                machines[found["Labels"].get(LABEL_MACHINE, found["Id"][:12])] = MachineHandle(id=found["Id"], ips=ips)
        return LaunchResult(machines=machines, networks=networks)

    def status(self, session_id: str) -> dict[str, MachineState]:
        return {
            c["Labels"].get(LABEL_MACHINE, c["Id"][:12]): ENGINE_STATES.get(c["State"], MachineState.UNKNOWN)
            for c in self._session_containers(session_id)
        }

    def exited_at(self, session_id: str) -> dict[str, datetime]:
        stopped: dict[str, datetime] = {}
        with engine_errors("Reading when the session's machines stopped"):
            for c in self._session_containers(session_id):
                if c["State"] not in ("exited", "dead"):
                    continue
                try:
                    state = self.api.inspect_container(c["Id"]).get("State") or {}
                except docker_errors.NotFound:
                    continue
                finished = parse_time(state.get("FinishedAt"))
                # A container that never ran reports year 1.
                if finished is not None and finished.year > 2000:
                    stopped[c["Labels"].get(LABEL_MACHINE, c["Id"][:12])] = finished
        return stopped

    def ready_checks(self, session_id: str) -> dict[str, ReadyCheck | None]:
        checks: dict[str, ReadyCheck | None] = {}
        for c in self._session_containers(session_id):
            labels = c.get("Labels") or {}
            raw = labels.get(LABEL_READY)
            try:
                checks[labels.get(LABEL_MACHINE, c["Id"][:12])] = ReadyCheck.from_dict(json.loads(raw)) if raw else None
            except (ValueError, TypeError, KeyError) as exc:
                raise RuntimeFailure(
                    f"The ready check of {labels.get(LABEL_MACHINE)} is malformed.", permanent=True
                ) from exc
        return checks

    # --- lifecycle ------------------------------------------------------------------------
    def stop(self, session_id: str) -> None:
        containers = self._session_containers(session_id)
        with engine_errors("Removing the session's machines"), ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(self._remove_container, [c["Id"] for c in containers]))
        with engine_errors("Removing the session's networks"):
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
        with engine_errors("Pausing the session"):
            for c in self._session_containers(session_id):
                if c["State"] == "running":
                    self.api.pause(c["Id"])

    def resume(self, session_id: str) -> None:
        with engine_errors("Resuming the session"):
            for c in self._session_containers(session_id):
                if c["State"] == "paused":
                    self.api.unpause(c["Id"])
                elif c["State"] in ("created", "exited"):
                    self.api.start(c["Id"])

    def recover(self, session_id: str, *, paused: bool) -> dict[str, MachineState]:
        containers = self._session_containers(session_id)
        for c in containers:
            # A machine that cannot start again is reported by the status below, not raised.
            try:
                with engine_errors(f"Restarting machine {c['Labels'].get(LABEL_MACHINE)}"):
                    if c["State"] in ("exited", "created", "dead"):
                        self.api.start(c["Id"])
                    elif c["State"] == "paused" and not paused:
                        self.api.unpause(c["Id"])
            except RuntimeFailure as exc:
                logger.warning("Session %s: %s", session_id, exc.message)
        if paused:
            with engine_errors("Pausing the session again"):
                for c in self._session_containers(session_id):
                    if c["State"] == "running":
                        self.api.pause(c["Id"])
            return self.status(session_id)
        states = self.status(session_id)
        running = [name for name, state in states.items() if state == MachineState.RUNNING]
        not_ready: set[str] = set()

        def wait(name: str) -> None:
            try:
                self.wait_ready(session_id, machines=[name])
            except NotReady:
                not_ready.add(name)

        with ThreadPoolExecutor(max_workers=min(8, len(running)) or 1) as pool:
            list(pool.map(wait, running))
        states = self.status(session_id)
        return {
            name: MachineState.STARTING if name in not_ready and state == MachineState.RUNNING else state
            for name, state in states.items()
        }

    def _container_of(self, session_id: str, machine: str) -> dict:
        for c in self._session_containers(session_id):
            if c["Labels"].get(LABEL_MACHINE) == machine:
                return c
        raise RuntimeFailure(f"Machine {machine} of this session does not exist.", permanent=True)

    def _running_container_of(self, session_id: str, machine: str) -> dict:
        container = self._container_of(session_id, machine)
        if container["State"] != "running":
            state = ENGINE_STATES.get(container["State"], MachineState.UNKNOWN)
            raise RuntimeFailure(f"Machine {machine} is {state}, not running.", permanent=False)
        return container

    # --- terminal and commands ------------------------------------------------------------
    def open_terminal(
        self, session_id: str, machine: str, *, user: str = "root", cols: int = 80, rows: int = 24
    ) -> Terminal:
        container = self._running_container_of(session_id, machine)
        with engine_errors(f"Opening a terminal on {machine}"):
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

    def run_command(
        self, session_id: str, machine: str, argv: list[str], *, user: str = "root", timeout: float = 30.0
    ) -> CommandResult:
        container = self._running_container_of(session_id, machine)
        return run_exec(self.api, container["Id"], argv, user=user, timeout=timeout, machine=machine)

    def machine_logs(self, session_id: str, machine: str, *, tail: int = 4000) -> str:
        with engine_errors(f"Reading the log of {machine}"):
            raw = self.api.logs(self._container_of(session_id, machine)["Id"], tail=200)
        return raw.decode("utf-8", "replace")[-tail:]

    # --- housekeeping ---------------------------------------------------------------------
    def list_managed(self) -> list[ManagedResource]:
        filters = {"label": [f"{LABEL_INSTANCE}={self.instance}", f"{LABEL_MANAGED}=1"]}
        with engine_errors("Listing managed resources"):
            containers = self.api.containers(all=True, filters=filters)
            networks = self.api.networks(filters=filters)
        found = []
        for c in containers:
            labels = c.get("Labels") or {}
            created = datetime.fromtimestamp(c["Created"], tz=UTC) if c.get("Created") else None
            found.append(self._resource(ResourceKind.MACHINE, c["Id"], labels, created))
        for n in networks:
            labels = n.get("Labels") or {}
            found.append(self._resource(ResourceKind.NETWORK, n["Id"], labels, parse_time(n.get("Created"))))
        return found

    @staticmethod
    def _resource(kind: ResourceKind, rid: str, labels: dict, created: datetime | None) -> ManagedResource:
        return ManagedResource(
            kind=kind,
            id=rid,
            session_id=labels.get(LABEL_SESSION, ""),
            machine=labels.get(LABEL_MACHINE, labels.get(LABEL_NETWORK, "")),
            expires_at=parse_time(labels.get(LABEL_EXPIRES)),
            created_at=created,
            labels=dict(labels),
        )

    def _check_ours(self, kind: str, rid: str, labels: dict | None) -> None:
        labels = labels or {}
        if labels.get(LABEL_INSTANCE) != self.instance or labels.get(LABEL_MANAGED) != "1":
            owner = labels.get(LABEL_INSTANCE)
            whose = f"instance {owner!r}" if owner else "nobody RangeX knows"
            raise ForeignResource(
                f"The {kind} {rid[:12]} belongs to {whose}, not to instance {self.instance!r}; it is left alone."
            )

    def remove_resource(self, kind: str, id: str) -> None:
        with engine_errors(f"Removing {kind} {id[:12]}"):
            if kind == ResourceKind.MACHINE:
                try:
                    info = self.api.inspect_container(id)
                except docker_errors.NotFound:
                    return
                self._check_ours("machine", id, (info.get("Config") or {}).get("Labels"))
                self._remove_container(id)
            elif kind == ResourceKind.NETWORK:
                try:
                    info = self.api.inspect_network(id)
                except docker_errors.NotFound:
                    return
                self._check_ours("network", id, info.get("Labels"))
                self._remove_network(id)
            else:
                raise RuntimeFailure(f"Unknown resource kind {kind!r}.", permanent=True)

    def registry_login(self, *, registry: str, username: str, password: str) -> None:
        try:
            self.client.login(username=username, password=password, registry=registry, reauth=True)
        except docker_errors.APIError as exc:
            text = str(exc.explanation or exc).replace(password, "***") if password else str(exc.explanation or exc)
            lowered = text.lower()
            if exc.status_code in (401, 403) or "unauthorized" in lowered or "denied" in lowered:
                raise RuntimeFailure(
                    f"Registry {registry} rejected the credentials for {username}.", permanent=True
                ) from exc
            if any(hint in lowered for hint in UNREACHABLE_HINTS):
                raise RuntimeFailure(f"Registry {registry} is unreachable: {text}", permanent=False) from exc
            raise RuntimeFailure(f"Login to registry {registry} failed: {text}", permanent=False) from exc
        except (requests.exceptions.ConnectionError, docker_errors.DockerException) as exc:
            raise RuntimeFailure(f"The Docker engine is unreachable: {exc}", permanent=False) from exc

    def image_present(self, ref: str) -> bool:
        with engine_errors(f"Looking up image {ref}"):
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
            with engine_errors("Pinging the engine"):
                version = self.api.version()
        except RuntimeFailure as exc:
            return {"ok": False, "backend": self.name, "key": self.key, "error": exc.message}
        return {
            "ok": True,
            "backend": self.name,
            "key": self.key,
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

    def disk_usage(self, session_id: str) -> dict[str, int]:
        with engine_errors("Measuring disk usage"):
            containers = self.api.containers(all=True, size=True, filters=self._session_filters(session_id))
        return {c["Labels"].get(LABEL_MACHINE, c["Id"][:12]): int(c.get("SizeRw") or 0) for c in containers}
