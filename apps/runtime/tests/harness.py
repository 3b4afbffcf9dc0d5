"""What the contract suite needs from each backend beyond the Runtime interface.

A harness does what a test cannot do through the interface itself: build a runtime of another
instance, kill a launch half way as a crashed worker would, stop a machine behind the runtime's
back, count what the engine holds for a session, and serve a private image. Everything else the
contract checks goes through the Runtime methods only. A new backend (ECS on moto) adds a harness
here and a name in ``HARNESSES``.
"""

from __future__ import annotations

import multiprocessing
import os
import shlex
import signal
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from apps.runtime import LaunchSpec, LaunchStage, MachineSpec, Runtime
from apps.runtime.tests.ecs_harness import EcsHarness
from apps.runtime.tests.harness_base import Harness
from apps.runtime.tests.helpers import BUSYBOX, docker_ids, local_registry

__all__ = ["HARNESSES", "DockerHarness", "EcsHarness", "FakeHarness", "Harness"]


class DockerHarness(Harness):
    key = "docker"

    def make(self, *, instance: str | None = None) -> Runtime:
        from apps.runtime.docker import DockerRuntime

        return DockerRuntime(key="docker", instance=instance)

    def half_launch(self, runtime, spec, stage) -> None:
        # A real crash: a forked process runs the launch and is SIGKILLed at the step, so nothing
        # in it (no except, no finally) gets to clean up.
        process = multiprocessing.get_context("fork").Process(
            target=_launch_and_die, args=(runtime.base_url, runtime.instance, spec, stage)
        )
        process.start()
        process.join(120)
        assert process.exitcode == -signal.SIGKILL, f"the launch ended with {process.exitcode}, not at {stage}"

    def stop_behind_back(self, runtime, session_id, machine) -> None:
        subprocess.run(["docker", "kill", runtime.resource_name(session_id, machine)], check=True, capture_output=True)

    def engine_count(self, runtime, session_id) -> tuple[int, int]:
        return len(docker_ids("container", session_id)), len(docker_ids("network", session_id))

    def stat(self, runtime, session_id, machine, path) -> tuple[int, int, int]:
        out = subprocess.run(
            ["docker", "exec", runtime.resource_name(session_id, machine), "stat", "-c", "%a %u %g", path],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        return int(out[0], 8), int(out[1]), int(out[2])

    def _wrap(self, machine: MachineSpec, script: str) -> MachineSpec:
        main = shlex.join(machine.command or ["sleep", "infinity"])
        return replace(machine, command=["sh", "-c", f"cd /\n{script}\nexec {main}"])

    def at_start(self, runtime, machine, script) -> MachineSpec:
        return self._wrap(machine, script)

    def ready_later(self, runtime, machine, marker) -> MachineSpec:
        return self._wrap(machine, f"(sleep 1; touch {shlex.quote(marker)}) &")

    def listen_later(self, runtime, machine, port) -> MachineSpec:
        loop = f"while true; do nc -l -p {int(port)} </dev/null >/dev/null 2>&1; done"
        return self._wrap(machine, f"(sleep 1; {loop}) &")

    def echo_on_loopback(self, runtime, machine, port) -> MachineSpec:
        return self._wrap(machine, f"nc -ll -p {int(port)} -e cat &")

    def absent_image(self, runtime, *, hub=False) -> str:
        return f"{'' if hub else '127.0.0.1:1/'}rangex/absent-{uuid.uuid4().hex[:8]}:latest"

    @contextmanager
    def private_image(self, runtime, *, username, password) -> Iterator[str]:
        api = runtime.api
        with local_registry(username, password) as registry:
            repository = f"{registry}/rangex/private-{uuid.uuid4().hex[:8]}"
            api.tag(BUSYBOX, repository, "latest")
            try:
                for line in api.push(
                    repository,
                    "latest",
                    stream=True,
                    decode=True,
                    auth_config={"username": username, "password": password},
                ):
                    assert "error" not in line, line
            finally:
                # Only the registry has it now: a launch must pull it.
                api.remove_image(f"{repository}:latest")
            try:
                yield f"{repository}:latest"
            finally:
                if runtime.image_present(f"{repository}:latest"):
                    api.remove_image(f"{repository}:latest")


def _launch_and_die(base_url: str, instance: str, spec: LaunchSpec, stage: LaunchStage) -> None:
    from apps.runtime.docker import DockerRuntime

    def progress(step, total, message) -> None:
        if message.stage == stage:
            os.kill(os.getpid(), signal.SIGKILL)

    DockerRuntime(base_url=base_url, instance=instance).launch(spec, progress=progress)
    os._exit(3)


class FakeHarness(Harness):
    key = "fake"

    def make(self, *, instance: str | None = None) -> Runtime:
        from apps.runtime.fake import FakeRuntime

        return FakeRuntime(key="fake", instance=instance)

    def half_launch(self, runtime, spec, stage) -> None:
        from apps.runtime.fake import SimulatedCrash

        runtime.script.crash_at(stage)
        try:
            runtime.launch(spec)
        except SimulatedCrash:
            return
        raise AssertionError(f"the launch did not stop at {stage}")

    def stop_behind_back(self, runtime, session_id, machine) -> None:
        runtime.simulate_exit(session_id, machine)

    def engine_count(self, runtime, session_id) -> tuple[int, int]:
        engine = runtime.engine
        machines = [m for m in engine.machines.values() if m.session_id == session_id]
        networks = [n for n in engine.networks.values() if n.session_id == session_id]
        return len(machines), len(networks)

    def stat(self, runtime, session_id, machine, path) -> tuple[int, int, int]:
        mode = (runtime.machine_root(session_id, machine) / path.lstrip("/")).stat().st_mode & 0o7777
        return (mode, *runtime.owner_of(session_id, machine, path))

    def at_start(self, runtime, machine, script) -> MachineSpec:
        runtime.script.at_start(machine.name, ["sh", "-c", script])
        return machine

    def ready_later(self, runtime, machine, marker) -> MachineSpec:
        # The fake runs no main process: its machine makes the marker after two failed checks.
        runtime.script.ready_after(machine.name, 2)
        runtime.script.at_start(machine.name, ["sh", "-c", f"touch {shlex.quote(marker)}"])
        return machine

    def listen_later(self, runtime, machine, port) -> MachineSpec:
        runtime.script.ready_after(machine.name, 2)
        runtime.script.listen(machine.name, port)
        return machine

    def echo_on_loopback(self, runtime, machine, port) -> MachineSpec:
        # The fake's machines are directories on this host: its loopback is the host's.
        _echo_server(port)
        return machine

    def absent_image(self, runtime, *, hub=False) -> str:
        ref = f"{'' if hub else '127.0.0.1:1/'}rangex/absent-{uuid.uuid4().hex[:8]}:latest"
        runtime.script.missing_image(ref)
        return ref

    @contextmanager
    def private_image(self, runtime, *, username, password) -> Iterator[str]:
        ref = f"127.0.0.1:5999/rangex/private-{uuid.uuid4().hex[:8]}:latest"
        runtime.script.private_image(ref, username=username, password=password)
        yield ref


HARNESSES = {"docker": DockerHarness(), "fake": FakeHarness(), "ecs": EcsHarness()}


def _echo_server(port: int) -> None:
    """Serve a TCP echo on 127.0.0.1:``port`` from a daemon thread, one connection at a time."""
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", port))

    def serve() -> None:
        with server:
            while True:
                conn, _ = server.accept()
                with conn:
                    while data := conn.recv(65536):
                        conn.sendall(data)

    threading.Thread(target=serve, daemon=True).start()
