"""The runtime contract: one set of tests every backend must pass.

Each test runs against every harness in ``harness.HARNESSES`` (Docker for real against the engine,
the in-memory FakeRuntime), and skips only what the backend's ``capabilities`` say it does not
offer. The tests talk to the backend through the Runtime interface; the harness does only what
the interface cannot (crash a launch, stop a machine behind the runtime's back, count what the
engine holds). A new backend passes when it passes this file.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from passlib.hash import sha512_crypt

from apps.runtime import (
    AccountSpec,
    Capabilities,
    FileSpec,
    ForeignResource,
    LaunchStage,
    MachineState,
    NotReady,
    ReadyCheck,
    RegistryAuth,
    ResourceKind,
    RuntimeFailure,
    TerminalTransport,
)
from apps.runtime.base import LaunchResult, LaunchSpec, ProgressMessage, Runtime
from apps.runtime.fake import FakeRuntime
from apps.runtime.tests.harness import HARNESSES, Harness
from apps.runtime.tests.helpers import duo_spec, new_session_id, read_until

pytestmark = pytest.mark.docker


@pytest.fixture(params=sorted(HARNESSES))
def harness(request):
    if request.param == "docker":
        request.getfixturevalue("busybox_image")
    return HARNESSES[request.param]


@pytest.fixture
def runtime(harness):
    return harness.make()


@pytest.fixture(autouse=True)
def _fresh_fake_script():
    """Scripts are per process and keyed by machine name: none outlives its test."""
    yield
    FakeRuntime.reset_script()


@dataclass
class Lab:
    runtime: Runtime
    harness: Harness
    spec: LaunchSpec
    result: LaunchResult
    messages: list[tuple[int, int, ProgressMessage]]

    @property
    def session_id(self) -> str:
        return self.spec.session_id


LAB_FLAG = b"RX{contract-flag}\n"
LAB_ACCOUNTS = [
    AccountSpec("player", "pivot-demo"),
    AccountSpec("analyst", "s3cret-Pass", uid=1500, groups=("staff",)),
]


@pytest.fixture(scope="module", params=sorted(HARNESSES))
def lab(request):
    """One session per backend for the tests that only look at a launch (progress, files, accounts,
    a ready command, terminals, listings); tests that change a session launch their own."""
    harness = HARNESSES[request.param]
    if harness.key == "docker":
        request.getfixturevalue("busybox_image")
    runtime = harness.make()
    files = [
        FileSpec("/srv/flag.txt", LAB_FLAG, 0o640),
        FileSpec("/home/player/notes/todo.txt", b"pivot\n", 0o600, owner="player"),
    ]
    check = ReadyCheck(command=("test", "-e", "tmp/ready"), timeout=20, interval=0.2)
    spec = duo_spec(new_session_id(), files=files, accounts=LAB_ACCOUNTS, ready_check=check)
    # Copies taken by the machine's first process show what was there before it started.
    copies = "cp srv/flag.txt tmp/flag-at-boot; cp etc/shadow tmp/shadow-at-boot"
    victim = harness.at_start(runtime, spec.machines[1], copies)
    victim = harness.ready_later(runtime, victim, "tmp/ready")
    spec = replace(spec, machines=[spec.machines[0], victim])
    messages: list[tuple[int, int, ProgressMessage]] = []
    try:
        result = runtime.launch(spec, progress=lambda step, total, message: messages.append((step, total, message)))
        FakeRuntime.reset_script()
        yield Lab(runtime, harness, spec, result, messages)
    finally:
        runtime.stop(spec.session_id)


@pytest.fixture
def launch(runtime):
    """Launch a spec and stop its session after the test, whatever happened."""
    sessions: list[str] = []

    def _launch(spec, **kwargs):
        sessions.append(spec.session_id)
        return runtime.launch(spec, **kwargs)

    yield _launch
    for session_id in sessions:
        runtime.stop(session_id)


def _victim(spec, **changes):
    attacker, victim = spec.machines
    return replace(spec, machines=[attacker, replace(victim, **changes)])


def _requires(runtime, capability: str):
    if not getattr(runtime.capabilities, capability):
        pytest.skip(f"{runtime.name} does not offer {capability}")


def test_capabilities_describe_the_backend(runtime):
    caps = runtime.capabilities
    assert isinstance(caps, Capabilities)
    assert caps.ready_checks <= {"command", "tcp"}
    assert isinstance(caps.terminal, TerminalTransport)
    assert runtime.key == runtime.name
    assert runtime.ping()["ok"] is True


def test_launch_reports_every_machine_and_network(lab):
    result, messages = lab.result, lab.messages
    assert set(result.machines) == {"attacker", "victim"}
    assert set(result.networks) == {"outer", "inner"}
    assert set(result.machines["victim"].ips) == {"outer", "inner"}
    assert set(result.machines["attacker"].ips) == {"outer"}
    for network in result.networks.values():
        assert network.id and str(network) == network.id
        if network.subnet:
            assert network.subnet.endswith(("/24", "/16", "/20", "/28")), network.subnet
    steps = [(m.stage, m.machine) for _, _, m in messages]
    for name in ("attacker", "victim"):
        assert steps.index((LaunchStage.STARTED, name)) < steps.index((LaunchStage.READY, name))
    assert messages[-1][0] == messages[-1][1]
    assert [step for step, _, _ in messages] == sorted(step for step, _, _ in messages)


def test_launching_the_same_session_twice_gives_the_same_resources(lab):
    again = lab.runtime.launch(lab.spec)

    assert {n: h.id for n, h in again.machines.items()} == {n: h.id for n, h in lab.result.machines.items()}
    assert {n: h.id for n, h in again.networks.items()} == {n: h.id for n, h in lab.result.networks.items()}
    assert lab.harness.engine_count(lab.runtime, lab.session_id) == (2, 2)
    assert lab.runtime.describe(lab.session_id) == again


@pytest.mark.parametrize("stage", [LaunchStage.NETWORKS, LaunchStage.CREATED, LaunchStage.STARTED])
def test_stop_removes_a_launch_that_died_half_way(runtime, harness, stage):
    spec = duo_spec(new_session_id())
    harness.half_launch(runtime, spec, stage)
    assert harness.engine_count(runtime, spec.session_id) != (0, 0), "the crash left nothing to clean"

    runtime.stop(spec.session_id)

    assert harness.engine_count(runtime, spec.session_id) == (0, 0)
    assert [r for r in runtime.list_managed() if r.session_id == spec.session_id] == []


def test_a_launch_retried_after_a_crash_completes_without_duplicates(runtime, harness, launch):
    spec = duo_spec(new_session_id())
    harness.half_launch(runtime, spec, LaunchStage.CREATED)

    result = launch(spec)

    assert harness.engine_count(runtime, spec.session_id) == (2, 2)
    assert set(runtime.status(spec.session_id).values()) == {MachineState.RUNNING}
    assert set(result.machines) == {"attacker", "victim"}


@pytest.mark.parametrize("stage", [LaunchStage.NETWORKS, LaunchStage.CREATED, LaunchStage.STARTED])
def test_a_launch_failing_between_steps_leaves_nothing(runtime, harness, stage):
    spec = duo_spec(new_session_id())

    def fail(step, total, message):
        if message.stage == stage:
            raise RuntimeError(f"injected after {stage}")

    with pytest.raises(RuntimeFailure) as excinfo:
        runtime.launch(spec, progress=fail)
    assert f"injected after {stage}" in excinfo.value.message
    assert harness.engine_count(runtime, spec.session_id) == (0, 0)


def test_status_uses_the_machine_states_of_the_interface(lab):
    states = lab.runtime.status(lab.session_id)
    assert states == {"attacker": MachineState.RUNNING, "victim": MachineState.RUNNING}
    assert all(isinstance(state, MachineState) for state in states.values())
    assert lab.runtime.status(new_session_id()) == {}


def test_pause_and_resume(runtime, launch):
    _requires(runtime, "can_pause")
    spec = duo_spec(new_session_id())
    launch(spec)
    terminal = runtime.open_terminal(spec.session_id, "victim")
    try:
        runtime.pause(spec.session_id)
        assert set(runtime.status(spec.session_id).values()) == {MachineState.PAUSED}
        with pytest.raises(RuntimeFailure) as excinfo:
            runtime.run_command(spec.session_id, "victim", ["true"])
        assert not excinfo.value.permanent

        runtime.resume(spec.session_id)
        assert set(runtime.status(spec.session_id).values()) == {MachineState.RUNNING}
        # A terminal opened before the pause goes on where it was.
        terminal.write(b"echo back-$((40+2))\n")
        read_until(terminal, b"back-42")
    finally:
        terminal.close()


def test_files_are_written_before_the_machine_starts(lab):
    _requires(lab.runtime, "files_before_start")
    # The files are checked from inside the machine (ECS on moto delivers them, but runs nothing).
    _requires(lab.runtime, "run_commands")
    runtime, harness, session_id = lab.runtime, lab.harness, lab.session_id
    at_boot = runtime.run_command(session_id, "victim", ["cat", "tmp/flag-at-boot"])
    assert at_boot.exit_code == 0 and at_boot.output == LAB_FLAG
    assert runtime.run_command(session_id, "victim", ["cat", "srv/flag.txt"]).output == LAB_FLAG
    assert harness.stat(runtime, session_id, "victim", "/srv/flag.txt") == (0o640, 0, 0)
    assert harness.stat(runtime, session_id, "victim", "/home/player/notes/todo.txt") == (0o600, 1000, 1000)


def test_commands_run_as_a_user_with_a_timeout_and_logs_have_a_tail(lab):
    """What a test deployment's rules need: run as a user, stop at a timeout, read a machine's log."""
    runtime, session_id = lab.runtime, lab.session_id
    _requires(runtime, "run_commands")
    as_player = runtime.run_command(session_id, "victim", ["id", "-u"], user="player")
    assert as_player.exit_code == 0 and as_player.output.decode().strip() == "1000"
    slow = runtime.run_command(session_id, "victim", ["sleep", "20"], timeout=1)
    assert slow.timed_out and slow.exit_code == -1
    logs = runtime.machine_logs(session_id, "victim", tail=40)
    assert isinstance(logs, str) and len(logs) <= 40


def test_accounts_are_applied_before_the_machine_starts(lab):
    _requires(lab.runtime, "accounts_before_start")
    runtime, session_id = lab.runtime, lab.session_id

    def read(path: str) -> str:
        done = runtime.run_command(session_id, "victim", ["cat", path])
        assert done.exit_code == 0, done.output
        return done.output.decode()

    shadow = {line.split(":")[0]: line.split(":")[1] for line in read("etc/shadow").splitlines()}
    at_boot = {line.split(":")[0]: line.split(":")[1] for line in read("tmp/shadow-at-boot").splitlines()}
    assert at_boot == shadow
    for account in LAB_ACCOUNTS:
        stored = shadow[account.username]
        assert stored.startswith("$6$") and sha512_crypt.verify(account.password, stored)
        assert not sha512_crypt.verify("wrong-password", stored)
        # The machine's own crypt agrees: its login would accept the password.
        salt = stored.split("$")[2]
        argv = ["busybox", "mkpasswd", "-m", "sha512", account.password, salt]
        assert runtime.run_command(session_id, "victim", argv).output.decode().strip() == stored
    passwd = {line.split(":")[0]: line.split(":") for line in read("etc/passwd").splitlines()}
    assert passwd["player"][2] == "1000"
    assert passwd["analyst"][2:4] == ["1500", "1500"] and passwd["analyst"][5] == "/home/analyst"
    groups = {line.split(":")[0]: line.split(":") for line in read("etc/group").splitlines()}
    assert "analyst" in groups["staff"][3].split(",")
    assert lab.harness.stat(runtime, session_id, "victim", "/home/analyst")[1:] == (1500, 1500)
    # The password is nowhere but in the hash.
    described = repr(runtime.describe(session_id)) + repr(runtime.list_managed())
    assert "pivot-demo" not in described and "s3cret-Pass" not in described


def test_launch_waits_for_a_ready_command(lab):
    if "command" not in lab.runtime.capabilities.ready_checks:
        pytest.skip("no command ready checks")
    # The victim makes tmp/ready only a moment after it starts: the launch returned after that.
    assert lab.runtime.check_ready(lab.session_id) == {"attacker": True, "victim": True}
    assert (LaunchStage.READY, "victim") in [(m.stage, m.machine) for _, _, m in lab.messages]
    lab.runtime.wait_ready(lab.session_id, timeout=5)


def test_launch_waits_for_a_tcp_port(runtime, harness, launch):
    if "tcp" not in runtime.capabilities.ready_checks:
        pytest.skip("no TCP ready checks")
    spec = duo_spec(new_session_id(), ready_check=ReadyCheck(port=8080, timeout=20, interval=0.2))
    spec = replace(spec, machines=[spec.machines[0], harness.listen_later(runtime, spec.machines[1], 8080)])
    launch(spec)
    assert runtime.check_ready(spec.session_id) == {"attacker": True, "victim": True}
    runtime.wait_ready(spec.session_id, timeout=5)


@pytest.mark.parametrize(
    "check", [ReadyCheck(command=("false",), timeout=1.0, interval=0.2), ReadyCheck(port=9, timeout=1.0, interval=0.2)]
)
def test_a_machine_that_never_becomes_ready_fails_the_launch_and_leaves_nothing(runtime, harness, check):
    if check.kind not in runtime.capabilities.ready_checks:
        pytest.skip(f"no {check.kind} ready checks")
    spec = duo_spec(new_session_id(), ready_check=check)
    with pytest.raises(NotReady) as excinfo:
        runtime.launch(spec)
    assert excinfo.value.machine == "victim"
    assert "victim" in excinfo.value.message and "ready" in excinfo.value.message
    assert harness.engine_count(runtime, spec.session_id) == (0, 0)


def test_terminal_reads_writes_resizes_and_closes(lab):
    runtime = lab.runtime
    if runtime.capabilities.terminal == TerminalTransport.NONE:
        pytest.skip("no terminals")
    if not lab.harness.runs_machines:
        # ECS on moto: no container runs, so no shell answers. The SSH gateway transport runs for
        # real on Docker (test_gateway.py), keys and addresses the way EcsRuntime derives them.
        pytest.skip(f"{lab.harness.key}: the engine here runs no machines")
    terminal = runtime.open_terminal(lab.session_id, "attacker", cols=100, rows=30)
    try:
        assert terminal.fileno() > 0
        assert terminal.read(0.01) is not None
        terminal.write(b"echo hello-$((6*7))\n")
        read_until(terminal, b"hello-42")
        terminal.write(b"stty size\n")
        read_until(terminal, b"30 100")
        if runtime.capabilities.terminal_resize:
            terminal.resize(132, 43)
            terminal.write(b"stty size\n")
            read_until(terminal, b"43 132")
        terminal.write(b"exit\n")
        with pytest.raises(EOFError):
            for _ in range(40):
                terminal.read(0.25)
    finally:
        terminal.close()
    terminal.close()
    with pytest.raises(EOFError):
        terminal.read(0.1)

    if runtime.name == "fake" and os.geteuid() != 0:
        return
    as_player = runtime.open_terminal(lab.session_id, "attacker", user="player")
    try:
        as_player.write(b"id -u\n")
        read_until(as_player, b"1000")
    finally:
        as_player.close()


def test_a_terminal_on_an_unknown_machine_fails_permanently(lab):
    with pytest.raises(RuntimeFailure) as excinfo:
        lab.runtime.open_terminal(lab.session_id, "nowhere")
    assert excinfo.value.permanent


def test_list_managed_sees_only_this_instance_and_never_removes_another(lab):
    runtime, harness, spec = lab.runtime, lab.harness, lab.spec
    other = harness.make(instance=f"{runtime.instance}-other")
    theirs = duo_spec(new_session_id())
    other.launch(theirs)
    try:
        mine = runtime.list_managed()
        assert {r.session_id for r in mine} >= {spec.session_id}
        assert theirs.session_id not in {r.session_id for r in mine}
        assert {r.labels["rangex.instance"] for r in mine} == {runtime.instance}
        # A backend's per-session helpers (ECS's terminal gateway) are listed too, marked as such.
        ours = [r for r in mine if r.session_id == spec.session_id and r.labels.get("rangex.gateway") != "1"]
        assert sorted(r.kind for r in ours) == sorted([ResourceKind.MACHINE] * 2 + [ResourceKind.NETWORK] * 2)
        assert {r.machine for r in ours} == {"attacker", "victim", "outer", "inner"}
        assert all(abs((r.expires_at - spec.expires_at).total_seconds()) < 1 for r in ours)
        assert all(r.created_at is not None for r in ours)

        foreign = [r for r in other.list_managed() if r.session_id == theirs.session_id]
        for resource in foreign:
            with pytest.raises(ForeignResource):
                runtime.remove_resource(resource.kind, resource.id)
        assert runtime.remove_resources(foreign).keys() == {r.id for r in foreign}
        runtime.stop(theirs.session_id)
        assert set(other.status(theirs.session_id).values()) == {MachineState.RUNNING}
        assert harness.engine_count(other, theirs.session_id) == (2, 2)
    finally:
        other.stop(theirs.session_id)


def test_remove_resources_takes_machines_before_networks_and_is_idempotent(runtime, harness, launch):
    spec = duo_spec(new_session_id())
    launch(spec)
    found = [r for r in runtime.list_managed() if r.session_id == spec.session_id]
    # Networks first in the list: the runtime orders removal itself.
    found.sort(key=lambda r: r.kind != ResourceKind.NETWORK)

    assert runtime.remove_resources(found) == {}
    assert harness.engine_count(runtime, spec.session_id) == (0, 0)
    assert runtime.status(spec.session_id) == {}
    assert runtime.remove_resources(found) == {}
    runtime.remove_resource(ResourceKind.MACHINE, found[-1].id)


def test_recover_restarts_a_machine_stopped_behind_our_back(runtime, harness, launch):
    _requires(runtime, "can_recover")
    flag = b"RX{still-here}\n"
    spec = duo_spec(new_session_id(), files=[FileSpec("/srv/flag.txt", flag, 0o600)])
    launch(spec)
    assert runtime.exited_at(spec.session_id) == {}
    before = datetime.now(UTC)
    harness.stop_behind_back(runtime, spec.session_id, "victim")
    assert runtime.status(spec.session_id)["victim"] == MachineState.EXITED
    # When it stopped, so the platform charges nothing from then on (a second of clock slack).
    stopped = runtime.exited_at(spec.session_id)
    assert set(stopped) == {"victim"}
    assert before - timedelta(seconds=1) <= stopped["victim"] <= datetime.now(UTC) + timedelta(seconds=1)

    states = runtime.recover(spec.session_id, paused=False)

    assert states == {"attacker": MachineState.RUNNING, "victim": MachineState.RUNNING}
    assert runtime.check_ready(spec.session_id) == {"attacker": True, "victim": True}
    assert runtime.run_command(spec.session_id, "victim", ["cat", "srv/flag.txt"]).output == flag
    assert set(runtime.describe(spec.session_id).machines["victim"].ips) == {"outer", "inner"}
    assert runtime.exited_at(spec.session_id) == {}


def test_recover_keeps_a_paused_session_paused(runtime, harness, launch):
    _requires(runtime, "can_recover")
    _requires(runtime, "can_pause")
    spec = duo_spec(new_session_id())
    launch(spec)
    harness.stop_behind_back(runtime, spec.session_id, "victim")
    runtime.pause(spec.session_id)

    states = runtime.recover(spec.session_id, paused=True)

    assert states == {"attacker": MachineState.PAUSED, "victim": MachineState.PAUSED}
    runtime.resume(spec.session_id)
    assert runtime.status(spec.session_id) == {"attacker": MachineState.RUNNING, "victim": MachineState.RUNNING}


def test_a_private_image_pulls_with_the_right_credentials_only(runtime, harness, launch):
    _requires(runtime, "registry_auth")
    with harness.private_image(runtime, username="alice", password="right-Pass-1") as ref:
        registry = ref.split("/", 1)[0]
        attempts = {
            "wrong": RegistryAuth(registry, "alice", "wrong-Pass-2"),
            "none": None,
            "elsewhere": RegistryAuth("registry.example.org", "alice", "right-Pass-1"),
        }
        messages = {}
        for name, auth in attempts.items():
            spec = duo_spec(new_session_id(), image=ref)
            spec = replace(spec, machines=[replace(m, registry_auth=auth) for m in spec.machines])
            with pytest.raises(RuntimeFailure) as excinfo:
                launch(spec)
            assert excinfo.value.permanent, name
            assert "Pass" not in excinfo.value.message, name
            assert harness.engine_count(runtime, spec.session_id) == (0, 0)
            messages[name] = excinfo.value.message
        assert "refused the credentials of alice" in messages["wrong"]
        assert "without credentials" in messages["none"]
        assert "registry.example.org" in messages["elsewhere"]

        spec = duo_spec(new_session_id(), image=ref)
        right = RegistryAuth(registry, "alice", "right-Pass-1")
        spec = replace(spec, machines=[replace(m, registry_auth=right) for m in spec.machines])
        launch(spec)
        assert set(runtime.status(spec.session_id).values()) == {MachineState.RUNNING}
        assert "right-Pass-1" not in repr(runtime.list_managed())


def test_the_pull_policy_refuses_images_it_does_not_allow(runtime, harness, launch):
    _requires(runtime, "pull_policy")
    absent = harness.absent_image(runtime)
    spec = duo_spec(new_session_id(), image=absent)
    spec = replace(spec, machines=[replace(m, allow_pull=False) for m in spec.machines])
    with pytest.raises(RuntimeFailure) as excinfo:
        launch(spec)
    assert excinfo.value.permanent and absent in excinfo.value.message and "not allowed" in excinfo.value.message

    from_hub = harness.absent_image(runtime, hub=True)
    spec = duo_spec(new_session_id(), image=from_hub)
    spec = replace(spec, machines=[replace(m, pull_from_hub=False) for m in spec.machines])
    with pytest.raises(RuntimeFailure) as excinfo:
        launch(spec)
    assert excinfo.value.permanent and "Docker Hub" in excinfo.value.message
    assert harness.engine_count(runtime, spec.session_id) == (0, 0)


def test_bad_specs_are_refused_before_anything_is_made(runtime, harness):
    bad = [
        _victim(duo_spec(new_session_id()), cap_add=["SYS_ADMIN"]),
        _victim(duo_spec(new_session_id()), accounts=[AccountSpec("Bad Name", "x")]),
        _victim(duo_spec(new_session_id()), accounts=[AccountSpec("eve", "x", home="relative/home")]),
        _victim(duo_spec(new_session_id()), ready_check=ReadyCheck(command=("true",), port=80)),
        _victim(duo_spec(new_session_id()), ready_check=ReadyCheck(port=70000)),
        _victim(duo_spec(new_session_id()), networks=["nowhere"]),
        _victim(duo_spec(new_session_id()), read_only_root=True, files=[FileSpec("/srv/flag.txt", b"x", 0o644)]),
        _victim(duo_spec(new_session_id()), read_only_root=True, accounts=[AccountSpec("eve", "x")]),
    ]
    for spec in bad:
        with pytest.raises(RuntimeFailure) as excinfo:
            runtime.launch(spec)
        assert excinfo.value.permanent, excinfo.value.message
        assert harness.engine_count(runtime, spec.session_id) == (0, 0)


def test_a_read_only_machine_writes_only_to_its_scratch_space(runtime, harness, launch):
    if not runtime.capabilities.read_only_root:
        spec = _victim(duo_spec(new_session_id()), read_only_root=True)
        with pytest.raises(RuntimeFailure) as excinfo:
            runtime.launch(spec)
        assert excinfo.value.permanent and "read-only root" in excinfo.value.message
        assert harness.engine_count(runtime, spec.session_id) == (0, 0)
        return
    _requires(runtime, "run_commands")
    spec = _victim(duo_spec(new_session_id()), read_only_root=True)
    launch(spec)
    refused = runtime.run_command(spec.session_id, "victim", ["sh", "-c", "echo x > /etc/planted"])
    assert refused.exit_code != 0 and b"Read-only file system" in refused.output
    scratch = runtime.run_command(
        spec.session_id, "victim", ["sh", "-c", "echo x > /tmp/a && echo y > /run/b && cat /tmp/a /run/b"]
    )
    assert scratch.exit_code == 0 and scratch.output == b"x\ny\n"
    # The other machine of the lab is as writable as ever.
    assert runtime.run_command(spec.session_id, "attacker", ["sh", "-c", "echo x > /etc/planted"]).exit_code == 0


def test_reset_machine_recreates_one_machine_as_at_the_start_and_leaves_the_others(runtime, harness, launch):
    _requires(runtime, "run_commands")
    flag = b"RX{as-at-the-start}\n"
    spec = duo_spec(new_session_id(), files=[FileSpec("/srv/flag.txt", flag, 0o600)])
    first = launch(spec)
    # Paths relative to / (the in-memory backend runs commands in the machine's root folder).
    # The solver breaks the victim (the flag is gone, a stray file is left) and marks the attacker.
    assert (
        runtime.run_command(spec.session_id, "victim", ["sh", "-c", "rm srv/flag.txt; touch tmp/mess"]).exit_code == 0
    )
    assert runtime.run_command(spec.session_id, "attacker", ["touch", "tmp/mine"]).exit_code == 0

    result = runtime.reset_machine(spec, "victim")

    assert result.machines["victim"].id != first.machines["victim"].id
    assert result.machines["attacker"].id == first.machines["attacker"].id
    assert runtime.run_command(spec.session_id, "victim", ["cat", "srv/flag.txt"]).output == flag
    assert runtime.run_command(spec.session_id, "victim", ["test", "-e", "tmp/mess"]).exit_code != 0
    assert runtime.run_command(spec.session_id, "attacker", ["test", "-e", "tmp/mine"]).exit_code == 0
    assert set(result.machines["victim"].ips) == {"outer", "inner"}
    assert runtime.status(spec.session_id) == {"attacker": MachineState.RUNNING, "victim": MachineState.RUNNING}
    with pytest.raises(RuntimeFailure, match="no machine 'ghost'"):
        runtime.reset_machine(spec, "ghost")


def test_a_port_stream_relays_bytes_to_a_port_on_the_machines_loopback(runtime, harness, launch):
    _requires(runtime, "port_streams")

    with socket.socket() as probe:  # a port free on this host (the fake's machines share its loopback)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    spec = duo_spec(new_session_id())
    spec = _victim(spec, **{"command": harness.echo_on_loopback(runtime, spec.machines[1], port).command})
    launch(spec)
    payload = bytes(range(256)) * 1024  # binary, 256 KiB: nothing may be translated or lost
    stream = None
    for _ in range(40):  # the listener starts with the machine's first process
        stream = runtime.open_port_stream(spec.session_id, "victim", port)
        stream.write(b"ping")
        try:
            got = b""
            while len(got) < 4:
                got += stream.read(2.0) or b""
            break
        except EOFError:
            stream.close()
            stream = None
            time.sleep(0.25)
    assert stream is not None and got == b"ping"
    try:
        writer = threading.Thread(target=stream.write, args=(payload,))
        writer.start()
        received = bytearray()
        while len(received) < len(payload):
            chunk = stream.read(5.0)
            assert chunk, "the relay stalled"
            received += chunk
        writer.join()
        assert bytes(received) == payload
    finally:
        stream.close()
    with pytest.raises(RuntimeFailure) as excinfo:
        runtime.open_port_stream(spec.session_id, "nowhere", port)
    assert excinfo.value.permanent
