"""Labs survive a Docker engine restart: the engine stops every container, recover() brings them back.

The test restarts a dockerd of its own (PrivateEngine: own data root, socket and containerd, no
iptables), so the labs of everyone else on the shared engine are never touched. It needs root, as
CI has; RANGEX_TEST_RESTART_DOCKERD=0 skips it.
"""

from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings

from apps.runtime import AccountSpec, FileSpec, MachineState, ReadyCheck
from apps.runtime.docker import DockerRuntime
from apps.runtime.tests.helpers import PrivateEngine, duo_spec, new_session_id, read_until

pytestmark = [pytest.mark.docker, pytest.mark.engine_restart]


@pytest.fixture
def private_engine(busybox_image):
    """A dockerd this test owns, with the busybox image loaded; skipped where we cannot run one."""
    if os.environ.get("RANGEX_TEST_RESTART_DOCKERD", "1") == "0":
        pytest.skip("RANGEX_TEST_RESTART_DOCKERD=0")
    if os.geteuid() != 0:
        pytest.skip("starting a dockerd of our own needs root")
    if shutil.which("dockerd") is None and not os.path.exists("/usr/sbin/dockerd"):
        pytest.skip("dockerd is not installed")
    engine = PrivateEngine()
    try:
        engine.start()
        engine.load(busybox_image)
        yield engine
    finally:
        engine.close()


def test_labs_come_back_after_the_engine_restarts(private_engine):
    runtime = DockerRuntime(base_url=private_engine.url, instance=f"{settings.RANGEX_INSTANCE}-restart")
    flag = b"RX{survives-a-restart}\n"
    running = duo_spec(
        new_session_id(),
        files=[FileSpec("/srv/flag.txt", flag, 0o600)],
        accounts=[AccountSpec("player", "pivot-demo")],
        ready_check=ReadyCheck(port=80, timeout=20, interval=0.2),
    )
    paused = duo_spec(new_session_id())
    runtime.launch(running)
    runtime.launch(paused)
    runtime.pause(paused.session_id)
    shadow = runtime.run_command(running.session_id, "victim", ["cat", "etc/shadow"]).output
    try:
        private_engine.restart()

        assert set(runtime.status(running.session_id).values()) == {MachineState.EXITED}
        assert set(runtime.status(paused.session_id).values()) == {MachineState.EXITED}
        assert runtime.recover(running.session_id, paused=False) == {
            "attacker": MachineState.RUNNING,
            "victim": MachineState.RUNNING,
        }
        assert runtime.recover(paused.session_id, paused=True) == {
            "attacker": MachineState.PAUSED,
            "victim": MachineState.PAUSED,
        }
        assert runtime.check_ready(running.session_id) == {"attacker": True, "victim": True}
        assert runtime.run_command(running.session_id, "victim", ["cat", "srv/flag.txt"]).output == flag
        assert runtime.run_command(running.session_id, "victim", ["cat", "etc/shadow"]).output == shadow
        victim = runtime.describe(running.session_id).machines["victim"]
        assert set(victim.ips) == {"outer", "inner"} and all(victim.ips.values())
        terminal = runtime.open_terminal(running.session_id, "attacker")
        try:
            terminal.write(b"nc -w 2 victim 80 </dev/null && echo reached-victim\n")
            read_until(terminal, b"reached-victim")
        finally:
            terminal.close()
        runtime.resume(paused.session_id)
        assert set(runtime.status(paused.session_id).values()) == {MachineState.RUNNING}
    finally:
        runtime.stop(running.session_id)
        runtime.stop(paused.session_id)
