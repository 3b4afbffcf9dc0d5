"""Warm pools on the real Docker engine: fill, claim, fall back, drain, heal, sweep, budget and windows."""

from __future__ import annotations

import subprocess
import threading
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import close_old_connections, transaction
from django.utils import timezone

from apps.accounts.factories import AdminFactory, UserFactory
from apps.environments import services
from apps.environments.factories import pivot_version
from apps.environments.launch import session_flags
from apps.environments.models import (
    DeploymentEnvironment,
    EnvironmentPool,
    EnvironmentSession,
    ParkStatus,
    PoolWindow,
    SessionStatus,
)
from apps.environments.tests.helpers import run_in
from apps.scenarios import services as scenario_services
from rangex.core.errors import ValidationFailed
from rangex.core.system import maintenance_set, system_settings_update

# Publishing here is not what is tested: the publish gate (issue 16) is off.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("publish_gate_off")]


@pytest.fixture
def version(runtime):
    return pivot_version()


def maintain(captured, **kwargs):
    with captured(execute=True):
        return services.pools_maintain(**kwargs)


def start(user, version, captured, cleanup):
    with captured(execute=True):
        session = services.env_session_start(user=user, version=version)
    cleanup.append(session.pk)
    session.refresh_from_db()
    return session


def parked(version):
    return DeploymentEnvironment.objects.filter(scenario_version=version, status=ParkStatus.PARKED)


def test_pool_fills_and_a_start_claims_a_parked_lab_whose_flags_are_the_sessions_own(
    solver, version, django_capture_on_commit_callbacks, cleanup_sessions, pool_cleanup, runtime
):
    EnvironmentPool.objects.create(scenario=version.scenario, min_ready=2, max_size=3)
    counts = maintain(django_capture_on_commit_callbacks)
    assert counts["launched"] == 2
    envs = list(parked(version))
    assert len(envs) == 2
    for env in envs:
        assert runtime.status(str(env.session_uuid)) == {"attacker": "running", "pivot": "running", "victim": "running"}

    session = start(solver, version, django_capture_on_commit_callbacks, cleanup_sessions)
    assert session.status == SessionStatus.RUNNING
    claimed = DeploymentEnvironment.objects.get(session_uuid=session.pk)
    assert claimed.status == ParkStatus.CLAIMED and claimed.claimed_session_id == session.pk
    assert {m.machine_name: m.status for m in session.machines.all()} == {
        "attacker": "running",
        "pivot": "running",
        "victim": "running",
    }
    assert {(t.machine_name, t.network_group) for t in session.topology.all()} == {
        ("attacker", "dmz"),
        ("pivot", "dmz"),
        ("pivot", "internal"),
        ("victim", "internal"),
    }
    # The dynamic flag written while parked is this session's own, and is accepted.
    flag = session_flags(session)["q2"]
    assert run_in(session, "victim", "cat /srv/flag.txt").strip() == flag
    result = services.env_session_submit_answer(session=session, actor=solver, question_id="q2", answer=flag)
    assert result["state"]["correct"] is True

    # The next pass fills the pool again; the claimed environment is never parked again.
    maintain(django_capture_on_commit_callbacks)
    assert parked(version).count() == 2
    assert claimed.session_uuid not in set(parked(version).values_list("session_uuid", flat=True))

    # Stopping the session removes the claimed machines like any lab's.
    with django_capture_on_commit_callbacks(execute=True):
        services.env_session_stop(session=session, actor=solver)
    assert runtime.status(str(session.pk)) == {}


def test_without_a_parked_lab_the_start_is_a_cold_launch(
    solver, version, django_capture_on_commit_callbacks, cleanup_sessions
):
    EnvironmentPool.objects.create(scenario=version.scenario, min_ready=0, max_size=2)
    session = start(solver, version, django_capture_on_commit_callbacks, cleanup_sessions)
    assert session.status == SessionStatus.RUNNING
    assert not DeploymentEnvironment.objects.filter(session_uuid=session.pk).exists()


def _fake_parked(version, pool, n):
    now = timezone.now()
    return [
        DeploymentEnvironment.objects.create(
            scenario_version=version,
            pool=pool,
            deployment_name="pool:test",
            status=ParkStatus.PARKED,
            session_uuid=uuid.uuid4(),
            runtime_backend="docker",
            parked_at=now,
            ready_checked_at=now,
            cost_accrued_until=now,
        )
        for _ in range(n)
    ]


@pytest.mark.django_db(transaction=True)
def test_parallel_claims_never_hand_one_environment_to_two_sessions(version):
    pool = EnvironmentPool.objects.create(scenario=version.scenario, min_ready=0, max_size=10)
    _fake_parked(version, pool, 3)
    barrier = threading.Barrier(6)
    got: list = []
    errors: list = []

    def claim():
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                env = services.pool_claim(version=version)
                got.append(env.pk if env else None)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    claimed = [pk for pk in got if pk is not None]
    assert len(claimed) == 3 and len(set(claimed)) == 3
    assert got.count(None) == 3
    assert DeploymentEnvironment.objects.filter(status=ParkStatus.CLAIMED).count() == 3


def test_a_broken_parked_lab_is_destroyed_at_claim_and_the_start_falls_back_to_a_cold_launch(
    solver, version, django_capture_on_commit_callbacks, cleanup_sessions, pool_cleanup, runtime
):
    EnvironmentPool.objects.create(scenario=version.scenario, min_ready=1, max_size=1)
    maintain(django_capture_on_commit_callbacks)
    env = parked(version).get()
    victim = runtime.describe(str(env.session_uuid)).machines["victim"].id
    subprocess.run(["docker", "rm", "-f", victim], check=True, capture_output=True)

    session = start(solver, version, django_capture_on_commit_callbacks, cleanup_sessions)
    assert session.pk == env.session_uuid
    assert session.status == SessionStatus.RUNNING
    env.refresh_from_db()
    assert env.status == ParkStatus.REMOVED and "health check" in env.failure_reason
    assert runtime.status(str(session.pk)) == {"attacker": "running", "pivot": "running", "victim": "running"}
    assert run_in(session, "victim", "cat /srv/flag.txt").strip() == session_flags(session)["q2"]


def test_publishing_a_new_version_drains_the_old_pool_and_fills_with_the_new(
    version, django_capture_on_commit_callbacks, pool_cleanup, runtime
):
    admin = AdminFactory()
    EnvironmentPool.objects.create(scenario=version.scenario, min_ready=1, max_size=1)
    maintain(django_capture_on_commit_callbacks)
    old = parked(version).get()

    new = scenario_services.scenario_version_new(source=version, actor=version.scenario.created_by_user)
    new = scenario_services.scenario_version_submit(version=new, actor=version.scenario.created_by_user)
    new = scenario_services.scenario_version_approve(version=new, actor=admin)
    new = scenario_services.scenario_version_publish(version=new, actor=admin)

    counts = maintain(django_capture_on_commit_callbacks)
    assert counts["drained"] == 1
    old.refresh_from_db()
    assert old.status == ParkStatus.REMOVED
    assert runtime.status(str(old.session_uuid)) == {}
    assert parked(new).count() == 1


def test_a_parked_lab_whose_machine_stopped_is_replaced(
    version, django_capture_on_commit_callbacks, pool_cleanup, runtime
):
    """After an engine restart (or a machine stopped behind our back) the pool heals itself."""
    EnvironmentPool.objects.create(scenario=version.scenario, min_ready=1, max_size=1)
    maintain(django_capture_on_commit_callbacks)
    env = parked(version).get()
    pivot = runtime.describe(str(env.session_uuid)).machines["pivot"].id
    subprocess.run(["docker", "stop", "-t", "0", pivot], check=True, capture_output=True)

    counts = maintain(django_capture_on_commit_callbacks)
    assert counts["replaced"] == 1 and counts["launched"] == 1
    env.refresh_from_db()
    assert env.status == ParkStatus.REMOVED
    assert runtime.status(str(env.session_uuid)) == {}
    assert parked(version).exclude(pk=env.pk).count() == 1


def test_no_fill_while_the_platform_may_not_spend_and_the_pool_is_emptied(
    version, django_capture_on_commit_callbacks, pool_cleanup
):
    EnvironmentPool.objects.create(scenario=version.scenario, min_ready=1, max_size=2)
    maintenance_set(actor=None, enabled=True, message="Upgrade")
    assert maintain(django_capture_on_commit_callbacks)["launched"] == 0
    maintenance_set(actor=None, enabled=False)
    maintain(django_capture_on_commit_callbacks)
    assert parked(version).count() == 1
    counts = maintain(django_capture_on_commit_callbacks, budget=services.PoolBudget(left_rm=None, may_spend=False))
    assert counts["trimmed"] == 1 and parked(version).count() == 0


def test_pool_refusals_name_the_reason(version, admin_user):
    from apps.scenarios.factories import draft_version

    draft = draft_version()
    with pytest.raises(ValidationFailed, match="no published version") as exc:
        services.pool_save(pool=EnvironmentPool(scenario=draft.scenario, min_ready=1, max_size=2), actor=admin_user)
    assert "scenario" in exc.value.fields
    with pytest.raises(ValidationFailed, match="more ready than its maximum"):
        services.pool_save(pool=EnvironmentPool(scenario=version.scenario, min_ready=3, max_size=2), actor=admin_user)
    # A pool that would cost more in a day than the month's budget has left.
    system_settings_update(actor=admin_user, budget_hard_cap_usd=Decimal("1.00"))
    with pytest.raises(ValidationFailed, match="left under this month's budget cap") as exc:
        services.pool_save(pool=EnvironmentPool(scenario=version.scenario, min_ready=1, max_size=500), actor=admin_user)
    assert "max_size" in exc.value.fields
    assert not EnvironmentPool.objects.exists()


def test_windows_raise_the_target_while_open(version):
    pool = EnvironmentPool.objects.create(scenario=version.scenario, min_ready=1, max_size=20)
    now = timezone.now()
    PoolWindow.objects.create(
        pool=pool, starts_at=now + timedelta(minutes=5), ends_at=now + timedelta(minutes=40), min_ready=15
    )
    assert services.pool_target(pool, now=now) == 1
    assert services.pool_target(pool, now=now + timedelta(minutes=10)) == 15
    assert services.pool_target(pool, now=now + timedelta(minutes=41)) == 1
    pool.is_enabled = False
    assert services.pool_target(pool, now=now + timedelta(minutes=10)) == 0


def test_a_test_session_never_takes_a_parked_lab(version, django_capture_on_commit_callbacks):
    pool = EnvironmentPool.objects.create(scenario=version.scenario, min_ready=0, max_size=5)
    (env,) = _fake_parked(version, pool, 1)
    with django_capture_on_commit_callbacks(execute=False):
        test = services.env_session_start(user=AdminFactory(), version=version, is_test=True)
    assert test.pk != env.session_uuid
    env.refresh_from_db()
    assert env.status == ParkStatus.PARKED
    EnvironmentSession.objects.filter(pk=test.pk).delete()


def test_another_user_gets_another_parked_lab(
    version, django_capture_on_commit_callbacks, cleanup_sessions, pool_cleanup
):
    EnvironmentPool.objects.create(scenario=version.scenario, min_ready=2, max_size=2)
    maintain(django_capture_on_commit_callbacks)
    one = start(UserFactory(), version, django_capture_on_commit_callbacks, cleanup_sessions)
    two = start(UserFactory(), version, django_capture_on_commit_callbacks, cleanup_sessions)
    assert one.status == two.status == SessionStatus.RUNNING
    assert {one.pk, two.pk} <= set(DeploymentEnvironment.objects.values_list("session_uuid", flat=True))
    assert session_flags(one)["q2"] != session_flags(two)["q2"]


def test_pools_fill_only_within_the_container_cap_and_count_against_it(
    solver, version, django_capture_on_commit_callbacks, admin_user
):
    """A parked lab's machines occupy the engine: a cold start counts them, and a pool never fills past the cap."""
    from rangex.core.errors import LimitExceeded

    system_settings_update(actor=admin_user, max_total_containers=7)
    pool = EnvironmentPool.objects.create(scenario=version.scenario, min_ready=5, max_size=5)
    with django_capture_on_commit_callbacks(execute=False):
        counts = services.pools_maintain()
    assert counts["launched"] == 2  # 2 labs x 3 machines <= 7
    assert services.pool_machine_count() == 6
    # Fake the two as parked: a cold start of another scenario does not fit beside them...
    DeploymentEnvironment.objects.filter(pool=pool).update(status=ParkStatus.PARKED, parked_at=timezone.now())
    other = pivot_version()
    with pytest.raises(LimitExceeded, match="limit of 7 running machines"):
        services.env_session_start(user=solver, version=other)
    # ...but a claim of a parked lab does (its machines exist already).
    with django_capture_on_commit_callbacks(execute=False):
        session = services.env_session_start(user=solver, version=version)
    assert DeploymentEnvironment.objects.filter(session_uuid=session.pk, status=ParkStatus.CLAIMED).exists()
