"""FakeRuntime's own promises: scripting for tests, one engine per process, real shells."""

from __future__ import annotations

import pytest

from apps.runtime import LaunchStage, MachineState, NotReady, ReadyCheck, RuntimeFailure
from apps.runtime.fake import FakeRuntime, SimulatedCrash
from apps.runtime.tests.helpers import duo_spec, new_session_id, read_until


@pytest.fixture
def runtime():
    runtime = FakeRuntime()
    yield runtime
    FakeRuntime.reset_all()


def test_a_scripted_crash_leaves_the_half_made_launch_and_fires_once(runtime):
    spec = duo_spec(new_session_id())
    runtime.script.crash_at(LaunchStage.CREATED, machine="victim")
    with pytest.raises(SimulatedCrash):
        runtime.launch(spec)
    assert runtime.status(spec.session_id) == {"attacker": MachineState.STARTING, "victim": MachineState.STARTING}

    runtime.launch(spec)
    assert set(runtime.status(spec.session_id).values()) == {MachineState.RUNNING}


def test_a_scripted_failure_cleans_up_and_carries_its_permanence(runtime):
    spec = duo_spec(new_session_id())
    runtime.script.fail_at(LaunchStage.STARTED, machine="attacker", message="no capacity", permanent=True)
    with pytest.raises(RuntimeFailure) as excinfo:
        runtime.launch(spec)
    assert excinfo.value.message == "no capacity" and excinfo.value.permanent
    assert runtime.status(spec.session_id) == {}
    assert runtime.list_managed() == []


def test_a_machine_scripted_never_ready_fails_the_launch(runtime):
    runtime.script.never_ready("victim")
    spec = duo_spec(new_session_id())
    with pytest.raises(NotReady) as excinfo:
        runtime.launch(spec)
    assert excinfo.value.machine == "victim"
    assert runtime.list_managed() == []


def test_ready_after_counts_failed_checks(runtime):
    runtime.script.ready_after("victim", 3)
    spec = duo_spec(new_session_id(), ready_check=ReadyCheck(command=("true",), timeout=5, interval=0.05))
    runtime.launch(spec)
    assert runtime.engine.machines[runtime.describe(spec.session_id).machines["victim"].id].checks_run == 4


def test_an_unreachable_engine_fails_every_call_but_ping(runtime):
    runtime.script.unreachable = True
    assert runtime.ping()["ok"] is False
    for call in (lambda: runtime.launch(duo_spec(new_session_id())), runtime.list_managed, lambda: runtime.status("x")):
        with pytest.raises(RuntimeFailure) as excinfo:
            call()
        assert not excinfo.value.permanent and "unreachable" in excinfo.value.message


def test_scripted_commands_answer_in_terminals_and_commands(runtime):
    runtime.script.command("nmap", output="22/tcp open ssh\n")
    runtime.script.command("sudo", output="permission denied\n", exit_code=1)
    spec = duo_spec(new_session_id())
    runtime.launch(spec)
    done = runtime.run_command(spec.session_id, "attacker", ["nmap", "-p", "22", "victim"])
    assert (done.exit_code, done.output) == (0, b"22/tcp open ssh\n")
    assert runtime.run_command(spec.session_id, "attacker", ["sudo", "id"]).exit_code == 1
    terminal = runtime.open_terminal(spec.session_id, "attacker")
    try:
        terminal.write(b"nmap victim; pwd\n")
        # The shell starts in the machine's root folder.
        seen = read_until(terminal, str(runtime.machine_root(spec.session_id, "attacker")).encode())
        assert b"22/tcp open ssh" in seen
    finally:
        terminal.close()


def test_an_engine_restart_exits_every_machine_until_recovered(runtime):
    running, paused = duo_spec(new_session_id()), duo_spec(new_session_id())
    runtime.launch(running)
    runtime.launch(paused)
    runtime.pause(paused.session_id)
    terminal = runtime.open_terminal(running.session_id, "victim")

    runtime.simulate_engine_restart()

    assert set(runtime.status(running.session_id).values()) == {MachineState.EXITED}
    assert set(runtime.status(paused.session_id).values()) == {MachineState.EXITED}
    with pytest.raises(EOFError):
        terminal.read(1)
    assert set(runtime.recover(running.session_id, paused=False).values()) == {MachineState.RUNNING}
    assert set(runtime.recover(paused.session_id, paused=True).values()) == {MachineState.PAUSED}


def test_every_fake_runtime_of_the_process_shares_one_engine(runtime):
    spec = duo_spec(new_session_id())
    runtime.launch(spec)
    again = FakeRuntime(key="other-key")
    assert again.describe(spec.session_id) == runtime.describe(spec.session_id)
    assert FakeRuntime(instance="someone-else").status(spec.session_id) == {}


def test_the_fake_says_its_terminals_reach_the_host(runtime):
    assert runtime.host_isolation()["ok"] is False
