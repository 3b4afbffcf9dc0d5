"""DockerRuntime against the real engine with rangex/busybox:latest.

Resource names carry settings.RANGEX_INSTANCE (one per test process), so parallel workers never
collide; every session a test launches is stopped by the fixture, and the instance's leftovers are
swept at the end of the run.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from django.conf import settings

from apps.runtime import (
    FileSpec,
    NetworkSpec,
    RuntimeFailure,
    get_runtime,
)
from apps.runtime.docker import DockerRuntime, egress_bridge_name
from apps.runtime.tests.helpers import (
    can_connect,
    docker_ids,
    docker_json,
    fake_registry,
    new_session_id,
    pivot_spec,
    read_until,
    sh,
)

pytestmark = pytest.mark.docker


@pytest.fixture(scope="session")
def runtime(busybox_image):
    runtime = DockerRuntime()
    yield runtime
    for resource in sorted(runtime.list_managed(), key=lambda r: r.kind):  # containers before networks
        runtime.remove_resource(resource.kind, resource.id)


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


def test_get_runtime_loads_the_configured_backend_once():
    first = get_runtime()
    assert isinstance(first, DockerRuntime)
    assert first is get_runtime(settings.RANGEX_RUNTIME_BACKEND)
    assert first.instance == settings.RANGEX_INSTANCE


def test_get_runtime_with_an_unknown_backend_fails_permanently():
    with pytest.raises(RuntimeFailure) as excinfo:
        get_runtime("apps.runtime.nowhere.Runtime")
    assert excinfo.value.permanent


def test_pivot_topology_isolates_networks_and_sessions(runtime, launch):
    steps = []
    first = launch(pivot_spec(new_session_id()), progress=lambda step, total, message: steps.append((step, total)))
    second = launch(pivot_spec(new_session_id()))
    attacker, pivot, victim = (first.machines[name] for name in ("attacker", "pivot", "victim"))

    assert steps[-1][0] == steps[-1][1]
    assert set(pivot.ips) == {"outer", "inner"}
    assert set(attacker.ips) == {"outer"} and set(victim.ips) == {"inner"}
    # Machines find each other by name on shared networks.
    assert can_connect(attacker.container_id, "pivot")
    assert can_connect(pivot.container_id, "victim")
    # The inner victim is out of the attacker's reach, by name and by address.
    assert not can_connect(attacker.container_id, "victim")
    assert not can_connect(attacker.container_id, victim.ips["inner"])
    # Two sessions never see each other.
    other_attacker = second.machines["attacker"]
    assert not can_connect(attacker.container_id, other_attacker.ips["outer"])
    assert not can_connect(other_attacker.container_id, pivot.ips["outer"])


def test_isolated_networks_give_the_host_no_address(runtime, launch):
    result = launch(pivot_spec(new_session_id()))
    attacker = result.machines["attacker"].container_id
    listener = socket.create_server(("0.0.0.0", 0))  # noqa: S104 (a host service the containers must not reach)
    port = listener.getsockname()[1]
    threading.Thread(target=lambda: [listener.accept()[0].close() for _ in range(4)], daemon=True).start()
    try:
        _, routes = sh(attacker, "ip route")
        gateways = re.findall(r"default via (\S+)", routes)
        host_addresses = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True).stdout
        for gateway in gateways:
            assert f" {gateway}/" not in host_addresses
            assert not can_connect(attacker, gateway, port)
        for address in re.findall(r"inet (\d+\.\d+\.\d+\.\d+)/", host_addresses):
            if not address.startswith("127."):
                assert not can_connect(attacker, address, port), address
    finally:
        listener.close()


def test_only_groups_with_egress_get_a_routed_network(runtime, launch):
    spec = pivot_spec(new_session_id())
    spec = replace(spec, networks=[NetworkSpec("outer", egress=True), NetworkSpec("inner")])
    launch(spec)
    outer, inner = (
        docker_json("network", "inspect", runtime.resource_name(spec.session_id, name))[0]
        for name in ("outer", "inner")
    )
    assert outer["Internal"] is False
    assert "com.docker.network.bridge.inhibit_ipv4" not in outer["Options"]
    assert inner["Internal"] is True
    assert inner["Options"]["com.docker.network.bridge.inhibit_ipv4"] == "true"
    assert inner["Labels"]["rangex.network"] == "inner"
    assert outer["Options"]["com.docker.network.bridge.name"] == egress_bridge_name(outer["Name"])


def test_a_group_with_egress_still_never_reaches_the_host(runtime, launch):
    """Its bridge has the host as gateway; the host firewall (deploy/lib.sh) drops what it sends there."""
    spec = pivot_spec(new_session_id())
    spec = replace(spec, networks=[NetworkSpec("outer", egress=True), NetworkSpec("inner")])
    attacker = launch(spec).machines["attacker"].container_id
    listener = socket.create_server(("0.0.0.0", 0))  # noqa: S104 (a host service the containers must not reach)
    port = listener.getsockname()[1]
    threading.Thread(target=lambda: [listener.accept()[0].close() for _ in range(4)], daemon=True).start()
    try:
        _, routes = sh(attacker, "ip route")
        (gateway,) = re.findall(r"default via (\S+)", routes)
        assert not can_connect(attacker, gateway, port), "no host firewall for rxe+ bridges: see ensure_lab_firewall"
        host_addresses = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True).stdout
        for address in re.findall(r"inet (\d+\.\d+\.\d+\.\d+)/", host_addresses):
            if not address.startswith("127."):
                assert not can_connect(attacker, address, port), address
    finally:
        listener.close()


def test_containers_are_hardened_as_seen_from_inside(runtime, launch):
    spec = pivot_spec(new_session_id())
    result = launch(spec)
    code, status = sh(result.machines["victim"].container_id, "cat /proc/self/status")
    assert code == 0
    assert re.search(r"^CapEff:\s+0000000000000000$", status, re.M)
    assert re.search(r"^CapBnd:\s+0000000000000000$", status, re.M)
    assert re.search(r"^NoNewPrivs:\s+1$", status, re.M)
    assert re.search(r"^Seccomp:\s+2$", status, re.M)

    info = docker_json("inspect", result.machines["victim"].container_id)[0]
    host = info["HostConfig"]
    assert host["Privileged"] is False
    assert host["Init"] is True
    assert host["PidsLimit"] == 64
    assert host["Memory"] == 64 * 1024 * 1024
    assert host["NanoCpus"] == 250_000_000
    assert host["PidMode"] == "" and host["UsernsMode"] == ""
    assert host["NetworkMode"].startswith(f"rx-{settings.RANGEX_INSTANCE}-")
    assert info["Mounts"] == [] and not host["Binds"]
    assert info["Config"]["Labels"]["rangex.session"] == spec.session_id
    assert info["Config"]["Labels"]["rangex.managed"] == "1"


def test_added_capabilities_and_setuid_opt_in_are_honoured(runtime, launch):
    spec = pivot_spec(new_session_id(), cap_add=["NET_BIND_SERVICE"], no_new_privileges=False)
    result = launch(spec)
    _, status = sh(result.machines["attacker"].container_id, "cat /proc/self/status")
    assert re.search(r"^CapEff:\s+0000000000000400$", status, re.M)
    assert re.search(r"^NoNewPrivs:\s+0$", status, re.M)


def test_a_fork_bomb_stops_at_the_pids_limit(runtime, launch):
    result = launch(pivot_spec(new_session_id(), pids_limit=40))
    victim = result.machines["victim"].container_id
    # The shell gives up at the first refused fork, so the last line says how far it got.
    code, out = sh(victim, "i=0; while [ $i -lt 150 ]; do sleep 2 & i=$((i+1)); echo spawned=$i; done")
    spawned = int(re.findall(r"spawned=(\d+)", out)[-1])
    assert code != 0 and "can't fork" in out
    assert spawned < 40
    # The machine survives its own fork bomb.
    deadline = time.monotonic() + 10
    while sh(victim, "echo alive")[1] != "alive\n":
        assert time.monotonic() < deadline, "the machine did not recover from the fork bomb"
        time.sleep(0.5)


def test_files_are_provisioned_with_mode_and_owner_before_start(runtime, launch):
    flag = b"RX{0123456789abcdef}"
    files = [
        FileSpec("/srv/flag.txt", flag, 0o640),
        FileSpec("/home/player/notes/todo.txt", b"pivot via ssh\n", 0o600, owner="player"),
    ]
    spec = pivot_spec(new_session_id(), victim_files=files)
    result = launch(spec)
    victim = result.machines["victim"].container_id
    _, out = sh(victim, "stat -c '%a %U %G %s' /srv/flag.txt /home/player/notes/todo.txt; stat -c '%a' /tmp /home")
    assert out.split("\n")[:4] == ["640 root root 20", "600 player player 14", "1777", "755"]
    assert sh(victim, "cat /home/player/notes/todo.txt", user="player") == (0, "pivot via ssh\n")
    assert sh(victim, "cat /srv/flag.txt")[1] == flag.decode()
    # The flag is a file only: not in the environment, labels or anything else the engine reports.
    assert flag.decode() not in subprocess.run(["docker", "inspect", victim], capture_output=True, text=True).stdout


def test_pause_resume_and_status(runtime, launch):
    spec = pivot_spec(new_session_id())
    launch(spec)
    assert runtime.status(spec.session_id) == {"attacker": "running", "pivot": "running", "victim": "running"}
    runtime.pause(spec.session_id)
    assert set(runtime.status(spec.session_id).values()) == {"paused"}
    runtime.resume(spec.session_id)
    assert set(runtime.status(spec.session_id).values()) == {"running"}


def test_stop_removes_every_container_and_network_and_is_idempotent(runtime, launch):
    spec = pivot_spec(new_session_id())
    launch(spec)
    assert len(docker_ids("container", spec.session_id)) == 3
    assert len(docker_ids("network", spec.session_id)) == 2
    assert {r.session_id for r in runtime.list_managed()} >= {spec.session_id}

    runtime.stop(spec.session_id)
    runtime.stop(spec.session_id)

    assert docker_ids("container", spec.session_id) == []
    assert docker_ids("network", spec.session_id) == []
    assert runtime.status(spec.session_id) == {}
    assert spec.session_id not in {r.session_id for r in runtime.list_managed()}


def test_launch_with_a_missing_image_leaves_nothing_behind(runtime, launch):
    spec = pivot_spec(new_session_id(), victim_image=f"rangex/missing-{new_session_id()[:8]}:latest")
    with pytest.raises(RuntimeFailure) as excinfo:
        launch(spec)
    assert "rangex/missing-" in excinfo.value.message
    assert docker_ids("container", spec.session_id) == []
    assert docker_ids("network", spec.session_id) == []


def test_launch_failing_after_creation_removes_what_it_created(runtime, launch):
    files = [FileSpec("/srv/flag.txt", b"RX{x}", 0o600, owner="nosuchuser")]
    spec = pivot_spec(new_session_id(), victim_files=files)
    with pytest.raises(RuntimeFailure) as excinfo:
        launch(spec)
    assert excinfo.value.permanent
    assert "nosuchuser" in excinfo.value.message
    assert docker_ids("container", spec.session_id) == []
    assert docker_ids("network", spec.session_id) == []


@pytest.mark.parametrize("cap", ["SYS_ADMIN", "cap_sys_module", "DAC_READ_SEARCH", "ALL"])
def test_launch_refuses_capabilities_that_reach_the_host(runtime, launch, cap):
    spec = pivot_spec(new_session_id(), cap_add=[cap])
    with pytest.raises(RuntimeFailure) as excinfo:
        launch(spec)
    assert excinfo.value.permanent and "forbidden capabilities" in excinfo.value.message
    assert docker_ids("network", spec.session_id) == []


def test_launch_refuses_names_that_are_not_plain(runtime, launch):
    spec = replace(pivot_spec(new_session_id()), networks=[NetworkSpec("outer; rm -rf /"), NetworkSpec("inner")])
    with pytest.raises(RuntimeFailure) as excinfo:
        launch(spec)
    assert excinfo.value.permanent


def test_relaunch_with_the_same_session_does_not_duplicate(runtime, launch):
    spec = pivot_spec(new_session_id())
    launch(spec)
    subprocess.run(["docker", "rm", "-f", runtime.resource_name(spec.session_id, "pivot")], capture_output=True)
    again = launch(spec)
    assert len(docker_ids("container", spec.session_id)) == 3
    assert len(docker_ids("network", spec.session_id)) == 2
    assert can_connect(again.machines["attacker"].container_id, "pivot")
    assert runtime.status(spec.session_id) == {"attacker": "running", "pivot": "running", "victim": "running"}


def test_terminal_echoes_commands_and_resizes(runtime, launch):
    spec = pivot_spec(new_session_id())
    launch(spec)
    terminal = runtime.open_terminal(spec.session_id, "attacker", cols=100, rows=30)
    try:
        assert terminal.fileno() > 0
        terminal.write(b"id\n")
        assert b"uid=0(root)" in read_until(terminal, b"uid=0(root)")
        terminal.write(b"stty size\n")
        read_until(terminal, b"30 100")
        terminal.resize(132, 43)
        terminal.write(b"stty size\n")
        read_until(terminal, b"43 132")
        terminal.write(b"exit\n")
        with pytest.raises(EOFError):
            for _ in range(20):
                terminal.read(0.5)
    finally:
        terminal.close()

    as_player = runtime.open_terminal(spec.session_id, "attacker", user="player")
    try:
        as_player.write(b"id -u\n")
        read_until(as_player, b"1000")
    finally:
        as_player.close()


def test_terminal_on_an_unknown_machine_fails_permanently(runtime, launch):
    spec = pivot_spec(new_session_id())
    launch(spec)
    with pytest.raises(RuntimeFailure) as excinfo:
        runtime.open_terminal(spec.session_id, "nowhere")
    assert excinfo.value.permanent


def test_disk_usage_counts_each_machines_writable_layer(runtime, launch):
    spec = pivot_spec(new_session_id())
    result = launch(spec)
    sh(result.machines["pivot"].container_id, "dd if=/dev/zero of=/tmp/blob bs=1024 count=2048 2>/dev/null")
    usage = runtime.container_disk_usage(spec.session_id)
    assert set(usage) == {"attacker", "pivot", "victim"}
    assert usage["pivot"] >= 2 * 1024 * 1024


def test_list_managed_reports_sessions_with_expiry_and_remove_resource_deletes(runtime, launch):
    spec = pivot_spec(new_session_id())
    launch(spec)
    mine = [r for r in runtime.list_managed() if r.session_id == spec.session_id]
    assert sorted(r.kind for r in mine) == ["container"] * 3 + ["network"] * 2
    assert {r.machine for r in mine} == {"attacker", "pivot", "victim", "outer", "inner"}
    assert all(abs((r.expires_at - spec.expires_at).total_seconds()) < 1 for r in mine)
    assert all(r.created_at is not None for r in mine)
    victim = next(r for r in mine if r.machine == "victim")
    runtime.remove_resource("container", victim.id)
    runtime.remove_resource("container", victim.id)
    assert "victim" not in runtime.status(spec.session_id)


def test_registry_login_to_an_unreachable_registry_says_so(runtime):
    with pytest.raises(RuntimeFailure) as excinfo:
        runtime.registry_login(registry="127.0.0.1:1", username="someone", password="secret-password")
    assert "unreachable" in excinfo.value.message
    assert not excinfo.value.permanent
    assert "secret-password" not in excinfo.value.message


def test_registry_login_tells_bad_credentials_from_good_ones(runtime):
    with fake_registry("alice", "right-password") as registry:
        with pytest.raises(RuntimeFailure) as excinfo:
            runtime.registry_login(registry=registry, username="alice", password="wrong-password")
        assert excinfo.value.permanent
        assert "rejected the credentials" in excinfo.value.message
        assert "wrong-password" not in excinfo.value.message
        runtime.registry_login(registry=registry, username="alice", password="right-password")


def test_image_present_and_ping(runtime, busybox_image):
    assert runtime.image_present(busybox_image)
    assert not runtime.image_present("rangex/not-built-here:latest")
    health = runtime.ping()
    assert health["ok"] is True and health["version"]


def test_an_unreachable_engine_gives_a_clear_failure(busybox_image):
    down = DockerRuntime(base_url="unix:///tmp/rangex-no-engine.sock", instance="rxdown")
    assert down.ping()["ok"] is False
    with pytest.raises(RuntimeFailure) as excinfo:
        down.launch(pivot_spec(new_session_id()))
    assert "unreachable" in excinfo.value.message
    assert not excinfo.value.permanent


def test_nothing_outside_the_runtime_package_imports_the_docker_sdk():
    root = Path(settings.BASE_DIR)
    runtime_dir = root / "apps" / "runtime"
    pattern = re.compile(r"^\s*(import docker\b|from docker\b)", re.M)
    offenders = [
        str(path.relative_to(root))
        for folder in ("apps", "rangex")
        for path in (root / folder).rglob("*.py")
        if runtime_dir not in path.parents and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    loaded = subprocess.run(
        [sys.executable, "-c", "import apps.runtime, sys; print('docker' in sys.modules)"],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert loaded.stdout.strip() == "False", loaded.stderr
