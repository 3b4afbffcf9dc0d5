"""FakeRuntime: an in-memory backend, like Django's locmem email backend.

Sessions, machines and networks live in this process's memory (every ``FakeRuntime`` of the
process shares one fake engine, and resources carry their instance like Docker's labels). Each
machine has a real folder as its root: accounts go into its etc/passwd, etc/shadow and etc/group,
files are written with their mode (and owner, when this process is root), and terminals and
commands are a real ``/bin/sh`` in a pty whose working directory is that root. The shell runs on
*this host*: only relative paths reach the machine's files, and when the process is root it runs
as the machine user's uid. That is why the backend refuses to load unless
``settings.RANGEX_ALLOW_FAKE_RUNTIME`` (default: DEBUG) is set: it is for tests and development
without Docker, never for solvers.

It offers every capability, so the contract suite runs all of its tests against it. Tests script
it through ``runtime.script`` (shared by the process, reset by ``FakeRuntime.reset_all()``)::

    runtime.script.fail_at(LaunchStage.CREATED, machine="victim")   # RuntimeFailure after that step
    runtime.script.crash_at(LaunchStage.STARTED)                    # the "worker" dies: nothing cleaned
    runtime.script.never_ready("web")                               # its ready check never passes
    runtime.script.ready_after("web", 2)                            # fails twice, then passes
    runtime.script.listen("web", 8080)                              # a TCP ready check on 8080 passes
    runtime.script.command("nmap", output="22/tcp open\\n")          # a shell function in every shell
    runtime.script.missing_image("rangex/nowhere:1")
    runtime.script.private_image("reg.example:5000/x:1", username="u", password="p")
    runtime.script.unreachable = True                               # every engine call fails (transient)

and can act behind the platform's back: ``simulate_exit(session_id, machine)`` and
``simulate_engine_restart()`` leave machines EXITED, as a crash or an engine restart would.
State is per process: use it with eager tasks (web and worker in one process), not with a
separate Celery worker.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import signal
import subprocess
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from apps.runtime import accounts as account_files
from apps.runtime.base import (
    MAX_COMMAND_OUTPUT,
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
    RuntimeNotConfigured,
    Terminal,
    TerminalTransport,
    image_registry,
    normalize_registry,
    validate_spec,
)
from apps.runtime.fake_support import (
    ENGINE,
    FakeMachine,
    FakeNetwork,
    FakeScript,
    HostTerminal,
    SimulatedCrash,
    discard,
)
from apps.runtime.streams import FakeStreams

# What a fresh fake machine has, like RangeX's own images: root, and the solver's user "player".
BASE_USERS = "root:x:0:0:root:/root:/bin/sh\nplayer:x:1000:1000::/home/player:/bin/sh\n"
BASE_GROUP = "root:x:0:\nplayer:x:1000:\n"
__all__ = ["FakeRuntime", "FakeScript", "HostTerminal", "SimulatedCrash"]

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _short(session_id: str) -> str:
    return session_id.replace("-", "")[:8].lower()


def _new_id() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex


class FakeRuntime(FakeStreams, Runtime):
    name = "fake"
    capabilities = Capabilities(
        can_pause=True,
        files_before_start=True,
        accounts_before_start=True,
        terminal=TerminalTransport.HOST_PTY,
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
    )

    def __init__(self, *, key: str | None = None, instance: str | None = None):
        if not getattr(settings, "RANGEX_ALLOW_FAKE_RUNTIME", False):
            raise RuntimeNotConfigured(
                "FakeRuntime gives terminals that are shells on this host, so it is for tests and development "
                "only: set RANGEX_ALLOW_FAKE_RUNTIME=true (or DEBUG) to use it.",
                key=key or self.name,
            )
        super().__init__(key=key, instance=instance)
        self.engine = ENGINE

    @property
    def script(self) -> FakeScript:
        return self.engine.script

    @classmethod
    def reset_all(cls) -> None:
        """Forget every fake session, machine, network, pulled image and script of this process."""
        ENGINE.reset()

    @classmethod
    def reset_script(cls) -> None:
        """Forget what tests scripted; sessions and machines stay."""
        ENGINE.script = FakeScript()

    # --- plumbing -------------------------------------------------------------------------
    def _reachable(self) -> None:
        if self.engine.script.unreachable:
            raise RuntimeFailure("The fake engine is unreachable (scripted).", permanent=False)

    def resource_name(self, session_id: str, name: str) -> str:
        return f"rx-{self.instance}-{_short(session_id)}-{name}"

    def _machines(self, session_id: str) -> list[FakeMachine]:
        self._reachable()
        with self.engine.lock:
            return [
                m for m in self.engine.machines.values() if m.instance == self.instance and m.session_id == session_id
            ]

    def _networks(self, session_id: str) -> list[FakeNetwork]:
        self._reachable()
        with self.engine.lock:
            return [
                n for n in self.engine.networks.values() if n.instance == self.instance and n.session_id == session_id
            ]

    def _machine(self, session_id: str, machine: str) -> FakeMachine:
        for found in self._machines(session_id):
            if found.machine == machine:
                return found
        raise RuntimeFailure(f"Machine {machine} of this session does not exist.", permanent=True)

    def _running(self, session_id: str, machine: str) -> FakeMachine:
        found = self._machine(session_id, machine)
        if found.state != MachineState.RUNNING:
            raise RuntimeFailure(f"Machine {machine} is {found.state}, not running.", permanent=False)
        return found

    def _labels(self, spec: LaunchSpec, **extra: str) -> dict[str, str]:
        labels = {str(k): str(v) for k, v in spec.labels.items()}
        labels.update(
            {
                "rangex.instance": self.instance,
                "rangex.session": spec.session_id,
                "rangex.expires_at": spec.expires_at.isoformat(),
                "rangex.managed": "1",
            }
        )
        labels.update(extra)
        return labels

    # --- launch ---------------------------------------------------------------------------
    def launch(self, spec: LaunchSpec, *, progress: Progress | None = None) -> LaunchResult:
        validate_spec(spec, read_only_root=self.capabilities.read_only_root)
        total = 3 + 3 * len(spec.machines)
        step = 0

        def report(stage: LaunchStage, text: str, machine: str = "") -> None:
            nonlocal step
            self._fire_faults(stage, machine)
            step += 1
            if progress is not None:
                progress(min(step, total), total, ProgressMessage(text, stage=stage, machine=machine))

        try:
            self._reachable()
            self._ensure_images(spec)
            report(LaunchStage.IMAGES, "Images ready")
            self._create_networks(spec)
            report(LaunchStage.NETWORKS, "Networks created")
            made = {m.name: self._provision(spec, m) for m in spec.machines}
            for name in made:
                report(LaunchStage.CREATED, f"Machine {name} created", name)
            for name, machine in made.items():
                with self.engine.lock:
                    if machine.state in (MachineState.STARTING, MachineState.EXITED, MachineState.PAUSED):
                        self._set_state(machine, MachineState.RUNNING)
                report(LaunchStage.STARTED, f"Machine {name} started", name)
            self.wait_ready(
                spec.session_id,
                machines=list(made),
                progress=lambda s, t, message: report(LaunchStage.READY, message, message.machine),
            )
            result = self.describe(spec.session_id)
            report(LaunchStage.ADDRESSES, "Addresses read")
        except SimulatedCrash:
            raise
        except BaseException as exc:
            with contextlib.suppress(RuntimeFailure):
                self.stop(spec.session_id)
            if isinstance(exc, RuntimeFailure):
                raise
            if isinstance(exc, Exception):
                raise RuntimeFailure(f"Launch failed: {exc}", permanent=False) from exc
            raise
        return result

    def _fire_faults(self, stage: LaunchStage, machine: str) -> None:
        with self.engine.lock:
            for fault in list(self.script.faults):
                if fault.stage != stage or (fault.machine and fault.machine != machine):
                    continue
                fault.times -= 1
                if fault.times <= 0:
                    self.script.faults.remove(fault)
                if fault.crash:
                    raise SimulatedCrash(f"Scripted crash after {stage} {machine}".strip())
                raise RuntimeFailure(fault.message, permanent=fault.permanent)

    def _ensure_images(self, spec: LaunchSpec) -> None:
        for machine in spec.machines:
            ref = machine.image
            if self.image_present(ref):
                continue
            registry = image_registry(ref)
            if not machine.allow_pull:
                raise RuntimeFailure(
                    f"Image {ref} is not on the engine, and pulling images is not allowed here.", permanent=True
                )
            if registry == "docker.io" and not machine.pull_from_hub:
                raise RuntimeFailure(
                    f"Image {ref} is not on the engine and would come from Docker Hub, which this install does "
                    "not allow.",
                    permanent=True,
                )
            if ref in self.script.missing_images:
                raise RuntimeFailure(f"Image {ref} is not available: manifest unknown.", permanent=True)
            username, password = self.script.private_images[ref]
            auth = machine.registry_auth
            if auth is None:
                raise RuntimeFailure(
                    f"Image {ref} is not available: {registry} refused to serve it without credentials.",
                    permanent=True,
                )
            if normalize_registry(auth.registry) != registry:
                raise RuntimeFailure(
                    f"The registry credentials of machine {machine.name} are for {normalize_registry(auth.registry)}, "
                    f"but image {ref} comes from {registry}.",
                    permanent=True,
                )
            if (auth.username, auth.password) != (username, password):
                raise RuntimeFailure(
                    f"Registry {registry} refused the credentials of {auth.username} for image {ref}.",
                    permanent=True,
                )
            with self.engine.lock:
                self.engine.pulled.add(ref)

    def _create_networks(self, spec: LaunchSpec) -> dict[str, FakeNetwork]:
        existing = {n.group: n for n in self._networks(spec.session_id)}
        with self.engine.lock:
            for net in spec.networks:
                if net.name in existing:
                    continue
                name = self.resource_name(spec.session_id, net.name)
                if any(n.name == name for n in self.engine.networks.values()):
                    raise RuntimeFailure(f"Network {name} exists but belongs to another session.", permanent=False)
                self.engine.subnets += 1
                third = self.engine.subnets % 256
                second = 250 + (self.engine.subnets // 256) % 6
                network = FakeNetwork(
                    id=_new_id(),
                    name=name,
                    group=net.name,
                    session_id=spec.session_id,
                    instance=self.instance,
                    labels=self._labels(spec, **{"rangex.network": net.name}),
                    created_at=datetime.now(UTC),
                    subnet=f"10.{second}.{third}.0/24",
                    gateway=f"10.{second}.{third}.1",
                )
                self.engine.networks[network.id] = network
                existing[net.name] = network
        return existing

    def _provision(self, spec: LaunchSpec, machine: MachineSpec) -> FakeMachine:
        """Return the adopted started machine, or a new one with its accounts and files written."""
        with self.engine.lock:
            for found in self._machines(spec.session_id):
                if found.machine != machine.name:
                    continue
                if found.state != MachineState.STARTING:
                    return found
                # Made by an earlier attempt that never started it: its files may be half written.
                del self.engine.machines[found.id]
                discard(found)
            name = self.resource_name(spec.session_id, machine.name)
            if any(m.name == name for m in self.engine.machines.values()):
                raise RuntimeFailure(f"Container {name} exists but belongs to another session.", permanent=False)
            labels = self._labels(spec, **{"rangex.machine": machine.name, "rangex.role": machine.role})
            home = self.engine.base / _new_id()[:16]
            found = FakeMachine(
                id=_new_id(),
                name=name,
                machine=machine.name,
                session_id=spec.session_id,
                instance=self.instance,
                labels=labels,
                created_at=datetime.now(UTC),
                spec=machine,
                home=home,
            )
            networks = {n.group: n for n in self._networks(spec.session_id)}
            for group in machine.networks:
                network = networks[group]
                found.ips[group] = network.subnet.rsplit(".", 1)[0] + f".{network.next_host}"
                network.next_host += 1
            self.engine.machines[found.id] = found
        self._write_root(found)
        return found

    def _write_root(self, machine: FakeMachine) -> None:
        root = machine.root
        for folder, mode in (("etc", 0o755), ("tmp", 0o1777), ("root", 0o700), ("home/player", 0o755)):
            (root / folder).mkdir(parents=True, exist_ok=True)
            (root / folder).chmod(mode)
        machine.home.chmod(0o755)
        root.chmod(0o755)
        self._own(machine, "/home/player", 1000, 1000)
        (root / "etc/passwd").write_text(BASE_USERS)
        (root / "etc/group").write_text(BASE_GROUP)
        spec = machine.spec
        if spec.accounts:
            result = account_files.apply_accounts(
                passwd=BASE_USERS,
                shadow=(root / "etc/shadow").read_text() if (root / "etc/shadow").exists() else "",
                group=BASE_GROUP,
                accounts=spec.accounts,
                machine=spec.name,
            )
            (root / "etc/passwd").write_text(result.passwd)
            (root / "etc/group").write_text(result.group)
            (root / "etc/shadow").write_text(result.shadow)
            (root / "etc/shadow").chmod(0o600)
            for path, uid, gid in result.homes:
                target = self._host_path(machine, path)
                if not target.exists():
                    target.mkdir(parents=True, mode=0o755)
                    self._own(machine, path, uid, gid)
        users = account_files.read_users((root / "etc/passwd").read_text())
        for file in spec.files:
            if not posixpath.isabs(file.path) or ".." in file.path.split("/"):
                raise RuntimeFailure(f"File path {file.path!r} must be absolute and plain.", permanent=True)
            uid, gid = account_files.resolve_owner(file.owner, users, spec.name)
            target = self._host_path(machine, file.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(file.content)
            target.chmod(file.mode)
            self._own(machine, file.path, uid, gid)

    @staticmethod
    def _host_path(machine: FakeMachine, path: str) -> Path:
        return machine.root / posixpath.normpath(path).lstrip("/")

    def _own(self, machine: FakeMachine, path: str, uid: int, gid: int) -> None:
        """Record a path's owner, and give it to that uid for real when this process may."""
        key = posixpath.normpath(path)
        machine.owners[key] = (uid, gid)
        if os.geteuid() == 0:
            os.chown(self._host_path(machine, key), uid, gid)

    def owner_of(self, session_id: str, machine: str, path: str) -> tuple[int, int]:
        """Return the (uid, gid) a path of a machine has, as far as the machine is concerned."""
        found = self._machine(session_id, machine)
        key = posixpath.normpath(path)
        if key in found.owners:
            return found.owners[key]
        info = self._host_path(found, key).stat()
        return (info.st_uid, info.st_gid) if os.geteuid() == 0 else (0, 0)

    def machine_root(self, session_id: str, machine: str) -> Path:
        """Return the host folder that is the machine's /."""
        return self._machine(session_id, machine).root

    def _set_state(self, machine: FakeMachine, state: MachineState) -> None:
        if state == MachineState.PAUSED:
            for terminal in machine.terminals:
                terminal.signal(signal.SIGSTOP)
        elif machine.state == MachineState.PAUSED:
            for terminal in machine.terminals:
                terminal.signal(signal.SIGCONT)
        if state in (MachineState.EXITED, MachineState.MISSING):
            for terminal in list(machine.terminals):
                terminal.close()
            machine.terminals.clear()
        starting = state == MachineState.RUNNING and machine.state in (MachineState.STARTING, MachineState.EXITED)
        if state == MachineState.EXITED and machine.state != MachineState.EXITED:
            machine.exited_at = datetime.now(UTC)
        elif state != MachineState.EXITED:
            machine.exited_at = None
        machine.state = state
        if starting:
            for argv in self.script.start_commands.get(machine.machine, []):
                self._run(machine, argv, user="root", timeout=30.0)

    # --- what a session has -------------------------------------------------------------------
    def describe(self, session_id: str) -> LaunchResult:
        networks = {
            n.group: NetworkHandle(id=n.id, name=n.name, subnet=n.subnet, gateway=n.gateway)
            for n in self._networks(session_id)
        }
        machines = {m.machine: MachineHandle(id=m.id, ips=dict(m.ips)) for m in self._machines(session_id)}
        return LaunchResult(machines=machines, networks=networks)

    def status(self, session_id: str) -> dict[str, MachineState]:
        return {m.machine: m.state for m in self._machines(session_id)}

    def exited_at(self, session_id: str) -> dict[str, datetime]:
        return {m.machine: m.exited_at for m in self._machines(session_id) if m.exited_at is not None}

    def ready_checks(self, session_id: str) -> dict[str, ReadyCheck | None]:
        checks = {}
        scripted = self.script.never_ready_machines | set(self.script.ready_failures)
        for m in self._machines(session_id):
            check = m.spec.ready_check
            if check is None and m.machine in scripted:
                # A scripted readiness needs a check to fail: a short one, so tests stay fast.
                check = ReadyCheck(command=("true",), timeout=2.0, interval=0.1)
            checks[m.machine] = check
        return checks

    def run_ready_check(self, session_id: str, machine: str, check: ReadyCheck) -> bool:
        found = self._machine(session_id, machine)
        found.checks_run += 1
        if machine in self.script.never_ready_machines:
            return False
        if found.checks_run <= self.script.ready_failures.get(machine, 0):
            return False
        if check.port is not None:
            return check.port in self.script.listening.get(machine, set())
        return super().run_ready_check(session_id, machine, check)

    # --- lifecycle ------------------------------------------------------------------------
    def stop(self, session_id: str) -> None:
        machines = self._machines(session_id)
        networks = self._networks(session_id)
        with self.engine.lock:
            for machine in machines:
                self.engine.machines.pop(machine.id, None)
                discard(machine)
            for network in networks:
                self.engine.networks.pop(network.id, None)

    def pause(self, session_id: str) -> None:
        with self.engine.lock:
            for machine in self._machines(session_id):
                if machine.state == MachineState.RUNNING:
                    self._set_state(machine, MachineState.PAUSED)

    def resume(self, session_id: str) -> None:
        with self.engine.lock:
            for machine in self._machines(session_id):
                if machine.state in (MachineState.PAUSED, MachineState.EXITED, MachineState.STARTING):
                    self._set_state(machine, MachineState.RUNNING)

    def recover(self, session_id: str, *, paused: bool) -> dict[str, MachineState]:
        with self.engine.lock:
            for machine in self._machines(session_id):
                if machine.state in (MachineState.EXITED, MachineState.STARTING):
                    self._set_state(machine, MachineState.RUNNING)
                if paused and machine.state == MachineState.RUNNING:
                    self._set_state(machine, MachineState.PAUSED)
                elif not paused and machine.state == MachineState.PAUSED:
                    self._set_state(machine, MachineState.RUNNING)
                machine.checks_run = 0
        states = self.status(session_id)
        if paused:
            return states
        not_ready = set()
        for name, state in states.items():
            if state == MachineState.RUNNING:
                try:
                    self.wait_ready(session_id, machines=[name])
                except NotReady:
                    not_ready.add(name)
        return {name: MachineState.STARTING if name in not_ready else state for name, state in states.items()}

    def simulate_exit(self, session_id: str, machine: str) -> None:
        """Stop one machine behind the platform's back (its process died, someone stopped it)."""
        found = self._machine(session_id, machine)
        with self.engine.lock:
            self._set_state(found, MachineState.EXITED)

    def simulate_engine_restart(self) -> None:
        """Do what an engine restart does: every machine of every instance exits."""
        with self.engine.lock:
            for machine in self.engine.machines.values():
                if machine.state in (MachineState.RUNNING, MachineState.PAUSED):
                    self._set_state(machine, MachineState.EXITED)

    # --- terminal and commands ------------------------------------------------------------
    def _shell_env(self, machine: FakeMachine, user: str) -> tuple[dict[str, str], tuple[int, int] | None]:
        (machine.home / "rc").write_text(self.script.rc())
        env = {str(k): str(v) for k, v in machine.spec.env.items()}
        env.update(
            {
                "PATH": PATH,
                "HOME": str(machine.root),
                "TERM": "xterm-256color",
                "PS1": f"{machine.machine}$ ",
                "ENV": str(machine.home / "rc"),
                "RANGEX_MACHINE_ROOT": str(machine.root),
            }
        )
        ids = None
        if os.geteuid() == 0 and user not in ("", "root", "0"):
            users = account_files.read_users((machine.root / "etc/passwd").read_text())
            ids = account_files.resolve_owner(user, users, machine.machine)
        return env, ids

    def open_terminal(
        self, session_id: str, machine: str, *, user: str = "root", cols: int = 80, rows: int = 24
    ) -> Terminal:
        found = self._running(session_id, machine)
        env, ids = self._shell_env(found, user)
        terminal = HostTerminal(["/bin/sh", "-i"], cwd=found.root, env=env, cols=cols, rows=rows, ids=ids)
        with self.engine.lock:
            found.terminals.append(terminal)
        return terminal

    def run_command(
        self, session_id: str, machine: str, argv: list[str], *, user: str = "root", timeout: float = 30.0
    ) -> CommandResult:
        return self._run(self._running(session_id, machine), argv, user=user, timeout=timeout)

    def _run(self, found: FakeMachine, argv: list[str], *, user: str, timeout: float) -> CommandResult:
        env, ids = self._shell_env(found, user)
        options = {"user": ids[0], "group": ids[1], "extra_groups": []} if ids else {}
        wrapper = ["/bin/sh", "-c", '. "$ENV"; "$@"', "sh", *argv]
        try:
            done = subprocess.run(
                wrapper,
                cwd=found.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                start_new_session=True,
                **options,
            )
        except subprocess.TimeoutExpired as exc:
            return CommandResult(exit_code=-1, output=(exc.output or b"")[:MAX_COMMAND_OUTPUT], timed_out=True)
        return CommandResult(exit_code=done.returncode, output=done.stdout[:MAX_COMMAND_OUTPUT])

    def machine_logs(self, session_id: str, machine: str, *, tail: int = 4000) -> str:
        found = self._machine(session_id, machine)
        return f"fake machine {found.machine}: {found.state}\n"[-tail:]

    def disk_usage(self, session_id: str) -> dict[str, int]:
        usage = {}
        for machine in self._machines(session_id):
            usage[machine.machine] = sum(
                path.lstat().st_size for path in machine.root.rglob("*") if path.is_file() and not path.is_symlink()
            )
        return usage

    # --- housekeeping ---------------------------------------------------------------------
    def list_managed(self) -> list[ManagedResource]:
        self._reachable()
        found = []
        with self.engine.lock:
            for m in self.engine.machines.values():
                if m.instance == self.instance:
                    found.append(self._resource(ResourceKind.MACHINE, m.id, m.machine, m.labels, m.created_at))
            for n in self.engine.networks.values():
                if n.instance == self.instance:
                    found.append(self._resource(ResourceKind.NETWORK, n.id, n.group, n.labels, n.created_at))
        return found

    @staticmethod
    def _resource(kind, rid, name, labels, created) -> ManagedResource:
        expires = labels.get("rangex.expires_at")
        return ManagedResource(
            kind=kind,
            id=rid,
            session_id=labels.get("rangex.session", ""),
            machine=name,
            expires_at=datetime.fromisoformat(expires) if expires else None,
            created_at=created,
            labels=dict(labels),
        )

    def remove_resource(self, kind: str, id: str) -> None:
        self._reachable()
        with self.engine.lock:
            if kind == ResourceKind.MACHINE:
                found = self.engine.machines.get(id)
            elif kind == ResourceKind.NETWORK:
                found = self.engine.networks.get(id)
            else:
                raise RuntimeFailure(f"Unknown resource kind {kind!r}.", permanent=True)
            if found is None:
                return
            if found.instance != self.instance:
                raise ForeignResource(
                    f"The {kind} {id[:12]} belongs to instance {found.instance!r}, not to instance "
                    f"{self.instance!r}; it is left alone."
                )
            if kind == ResourceKind.MACHINE:
                del self.engine.machines[id]
                discard(found)
            else:
                del self.engine.networks[id]

    def registry_login(self, *, registry: str, username: str, password: str) -> None:
        self._reachable()
        host = normalize_registry(registry)
        known = {image_registry(ref): creds for ref, creds in self.script.private_images.items()}
        if host not in known:
            raise RuntimeFailure(f"Registry {registry} is unreachable (no such fake registry).", permanent=False)
        if known[host] != (username, password):
            raise RuntimeFailure(f"Registry {registry} rejected the credentials for {username}.", permanent=True)

    def image_present(self, ref: str) -> bool:
        self._reachable()
        if ref in self.script.missing_images:
            return False
        return ref not in self.script.private_images or ref in self.engine.pulled

    def ping(self) -> dict:
        started = time.monotonic()
        if self.script.unreachable:
            return {"ok": False, "backend": self.name, "key": self.key, "error": "The fake engine is unreachable."}
        return {
            "ok": True,
            "backend": self.name,
            "key": self.key,
            "version": "fake",
            "api_version": "",
            "latency_ms": round((time.monotonic() - started) * 1000, 1),
        }

    def host_isolation(self) -> dict:
        return {
            "ok": False,
            "message": "FakeRuntime's terminals are shells on this host: use it for tests and development only.",
        }
