"""On the real engine: a lab container stopped behind RangeX's back, and a Docker engine restart.

The restart test runs a dockerd of its own (PrivateEngine: own data root, socket and network
namespace), so nobody else's labs are touched; it needs root, as CI has, and
RANGEX_TEST_RESTART_DOCKERD=0 skips it.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.factories import UserFactory
from apps.environments import services as env_services
from apps.environments.factories import TEST_IMAGE, pivot_version
from apps.environments.models import SessionStatus
from apps.ops import costs, recovery
from apps.runtime import MachineState, get_runtime
from apps.runtime.tests.helpers import PrivateEngine

pytestmark = pytest.mark.django_db


def _start(user, captured, cleanup=None):
    with captured(execute=True):
        session = env_services.env_session_start(user=user, version=pivot_version())
    if cleanup is not None:
        cleanup.append(session.pk)
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING, session.reason_stopped
    return session


def test_a_container_stopped_behind_our_back_is_started_again(
    runtime, cleanup_sessions, django_capture_on_commit_callbacks, settings
):
    settings.RANGEX_RUNTIMES = {}
    session = _start(UserFactory(), django_capture_on_commit_callbacks, cleanup_sessions)
    sid = str(session.pk)
    attacker = session.machines.get(machine_name="attacker")
    runtime.client.containers.get(attacker.task_arn).stop(timeout=1)
    assert runtime.status(sid)["attacker"] == MachineState.EXITED
    stopped = runtime.exited_at(sid)["attacker"]
    assert abs((timezone.now() - stopped).total_seconds()) < 60
    costs.cost_accrue(now=timezone.now() + timedelta(minutes=5))

    checked = recovery.lab_machines_check_all()
    assert checked.recovered == [sid]
    assert set(runtime.status(sid).values()) == {MachineState.RUNNING}
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING and "attacker" in session.progress_message
    assert session.cost_accrued_until >= stopped
    # The five minutes accrual charged ahead were given back: at most the seconds before the stop remain.
    rate = env_services.cost_rate_rm(session)
    assert session.cost_accumulated_rm <= rate * 2 / 60


@pytest.fixture
def private_engine(runtime):
    if os.environ.get("RANGEX_TEST_RESTART_DOCKERD", "1") == "0":
        pytest.skip("RANGEX_TEST_RESTART_DOCKERD=0")
    if os.geteuid() != 0 or (shutil.which("dockerd") is None and not os.path.exists("/usr/sbin/dockerd")):
        pytest.skip("a dockerd of our own needs root and dockerd")
    engine = PrivateEngine()
    try:
        engine.start()
        engine.load(TEST_IMAGE)
        yield engine
    finally:
        engine.close()


def test_after_an_engine_restart_running_labs_run_again_within_a_minute_and_paused_stay_paused(
    private_engine, settings, django_capture_on_commit_callbacks
):
    settings.RANGEX_RUNTIMES = {
        "private": {"BACKEND": "apps.runtime.docker.DockerRuntime", "OPTIONS": {"base_url": private_engine.url}}
    }
    settings.RANGEX_DEFAULT_RUNTIME = "private"
    engine = get_runtime("private")
    running = _start(UserFactory(), django_capture_on_commit_callbacks)
    paused = _start(UserFactory(), django_capture_on_commit_callbacks)
    assert running.runtime_backend == "private"
    env_services.env_session_pause(session=paused, actor=paused.user)
    try:
        private_engine.restart()
        back = time.monotonic()
        assert set(engine.status(str(running.pk)).values()) == {MachineState.EXITED}
        checked = recovery.lab_machines_check_all()
        took = time.monotonic() - back
        assert sorted(checked.recovered) == sorted([str(running.pk), str(paused.pk)]) and not checked.failed
        assert took < 60
        assert set(engine.status(str(running.pk)).values()) == {MachineState.RUNNING}
        assert set(engine.status(str(paused.pk)).values()) == {MachineState.PAUSED}
        running.refresh_from_db()
        paused.refresh_from_db()
        assert running.status == SessionStatus.RUNNING and paused.status == SessionStatus.PAUSED
        assert "not charged" in running.progress_message
        # The lab works again: every machine passes its ready check and has its addresses back.
        assert set(engine.check_ready(str(running.pk)).values()) == {True}
        pivot = engine.describe(str(running.pk)).machines["pivot"]
        assert set(pivot.ips) == {"dmz", "internal"} and all(pivot.ips.values())
    finally:
        engine.stop(str(running.pk))
        engine.stop(str(paused.pk))
