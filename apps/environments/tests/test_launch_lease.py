"""A launch whose worker dies is noticed by its stale lease, retried, and failed after a few attempts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.factories import UserFactory
from apps.environments import services
from apps.environments.factories import pivot_version
from apps.environments.launch import build_launch_spec
from apps.environments.models import EnvironmentSession, SessionSecurityGroup, SessionStatus
from apps.environments.services.provision import LEASE_SECONDS, MAX_LAUNCH_ATTEMPTS
from apps.runtime import LaunchStage, MachineState, get_runtime
from apps.runtime.fake import FakeRuntime, SimulatedCrash
from apps.runtime.tests.harness import DockerHarness
from apps.runtime.tests.helpers import docker_ids

pytestmark = pytest.mark.django_db

LATER = timedelta(seconds=LEASE_SECONDS + 30)


@pytest.fixture
def fake(settings):
    FakeRuntime.reset_all()
    settings.RANGEX_RUNTIMES = {"fake": {"BACKEND": "apps.runtime.fake.FakeRuntime"}}
    settings.RANGEX_DEFAULT_RUNTIME = "fake"
    yield get_runtime("fake")
    FakeRuntime.reset_all()


def _crashing_start(captured, user=None):
    """Start a session whose provisioning worker dies at the scripted step; return the session."""
    with pytest.raises(SimulatedCrash), captured(execute=True):
        services.env_session_start(user=user or UserFactory(), version=pivot_version())
    return EnvironmentSession.objects.latest("created_at")


def _recover(captured, *, now):
    with captured(execute=True):
        return services.env_session_launches_recover(now=now)


@pytest.mark.parametrize("stage", [LaunchStage.NETWORKS, LaunchStage.CREATED, LaunchStage.STARTED])
def test_a_launch_whose_worker_died_is_retried_after_its_lease_and_adopts_what_was_made(
    fake, stage, django_capture_on_commit_callbacks
):
    fake.script.crash_at(stage)
    session = _crashing_start(django_capture_on_commit_callbacks)
    assert session.status == SessionStatus.STARTING and session.launch_attempts == 1
    assert session.launch_heartbeat_at is not None
    # Within the lease the launch belongs to its (possibly slow) worker: nothing happens.
    assert _recover(django_capture_on_commit_callbacks, now=timezone.now()) == {"retried": 0, "failed": 0}
    assert _recover(django_capture_on_commit_callbacks, now=timezone.now() + LATER) == {"retried": 1, "failed": 0}
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING and session.launch_attempts == 2
    sid = str(session.pk)
    assert set(fake.status(sid).values()) == {MachineState.RUNNING}
    # Nothing was made twice: three machines and two networks, each recorded once.
    mine = [r for r in fake.list_managed() if r.session_id == sid]
    assert sorted(r.kind for r in mine) == ["container"] * 3 + ["network"] * 2
    assert SessionSecurityGroup.objects.filter(session=session).count() == 2


def test_a_launch_interrupted_every_time_is_failed_and_cleaned_up(fake, django_capture_on_commit_callbacks):
    fake.script.crash_at(LaunchStage.CREATED, times=MAX_LAUNCH_ATTEMPTS)
    session = _crashing_start(django_capture_on_commit_callbacks)
    now = timezone.now()
    for attempt in range(2, MAX_LAUNCH_ATTEMPTS + 1):
        now += LATER
        with pytest.raises(SimulatedCrash):
            _recover(django_capture_on_commit_callbacks, now=now)
        session.refresh_from_db()
        assert session.launch_attempts == attempt
    # The last crash renewed the lease at real time: the next pass after it fails the session.
    result = _recover(django_capture_on_commit_callbacks, now=timezone.now() + LATER)
    assert result == {"retried": 0, "failed": 1}
    session.refresh_from_db()
    assert session.status == SessionStatus.FAILED and "interrupted 3 times" in session.reason_stopped
    assert [r for r in fake.list_managed() if r.session_id == str(session.pk)] == []


def test_a_second_delivery_of_the_launch_leaves_a_live_workers_launch_alone(fake):
    session = services.env_session_start(user=UserFactory(), version=pivot_version())
    assert services.env_session_launch_claim(session_id=session.pk)
    # The broker delivers the same task again (visibility timeout) while the first worker runs.
    assert services.env_session_provision(session_id=session.pk) is None
    session.refresh_from_db()
    assert session.status == SessionStatus.STARTING and session.launch_attempts == 1
    assert fake.status(str(session.pk)) == {}


@pytest.mark.parametrize("stage", [LaunchStage.NETWORKS, LaunchStage.CREATED, LaunchStage.STARTED])
def test_on_the_engine_a_worker_killed_mid_launch_is_retried_and_nothing_leaks(
    runtime, stage, settings, django_capture_on_commit_callbacks
):
    settings.RANGEX_RUNTIMES = {}
    session = services.env_session_start(user=UserFactory(), version=pivot_version())
    sid = str(session.pk)
    try:
        # The worker took the lease, then was SIGKILLed at the step (a forked process, so nothing cleans up).
        assert services.env_session_launch_claim(session_id=session.pk)
        DockerHarness().half_launch(runtime, build_launch_spec(session), stage)
        assert docker_ids("network", sid)
        result = _recover(django_capture_on_commit_callbacks, now=timezone.now() + LATER)
        assert result == {"retried": 1, "failed": 0}
        session.refresh_from_db()
        assert session.status == SessionStatus.RUNNING, session.reason_stopped
        assert set(runtime.status(sid).values()) == {MachineState.RUNNING}
        assert (len(docker_ids("container", sid)), len(docker_ids("network", sid))) == (3, 2)
    finally:
        runtime.stop(sid)
    assert docker_ids("container", sid) == [] and docker_ids("network", sid) == []


def _dead_local_holder() -> str:
    import socket
    import subprocess

    process = subprocess.Popen(["true"])
    process.wait()
    return f"{socket.gethostname()}:{process.pid}"


def test_a_launch_whose_worker_died_on_this_host_is_taken_over_at_once(fake, django_capture_on_commit_callbacks):
    session = services.env_session_start(user=UserFactory(), version=pivot_version())
    assert services.env_session_launch_claim(session_id=session.pk)
    # The prefork child that held the lease was killed; the broker delivers its task again at once.
    EnvironmentSession.objects.filter(pk=session.pk).update(launch_holder=_dead_local_holder())
    session = services.env_session_provision(session_id=session.pk)
    assert session.status == SessionStatus.RUNNING and session.launch_attempts == 2

    # Without a redelivery, the next beat pass retries it, without waiting for the lease to run out.
    other = services.env_session_start(user=UserFactory(), version=pivot_version())
    assert services.env_session_launch_claim(session_id=other.pk)
    EnvironmentSession.objects.filter(pk=other.pk).update(launch_holder=_dead_local_holder())
    assert _recover(django_capture_on_commit_callbacks, now=timezone.now()) == {"retried": 1, "failed": 0}
    other.refresh_from_db()
    assert other.status == SessionStatus.RUNNING


def test_a_holder_on_another_host_keeps_its_lease_until_it_runs_out(fake, django_capture_on_commit_callbacks):
    session = services.env_session_start(user=UserFactory(), version=pivot_version())
    assert services.env_session_launch_claim(session_id=session.pk)
    EnvironmentSession.objects.filter(pk=session.pk).update(launch_holder="another-host:1")
    assert services.env_session_provision(session_id=session.pk) is None
    assert _recover(django_capture_on_commit_callbacks, now=timezone.now()) == {"retried": 0, "failed": 0}
    assert _recover(django_capture_on_commit_callbacks, now=timezone.now() + LATER) == {"retried": 1, "failed": 0}
