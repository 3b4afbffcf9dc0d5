"""Warm pools and operations: the orphan sweep keeps parked labs, and parked labs cost money."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.environments import services
from apps.environments.factories import pivot_version
from apps.environments.models import DeploymentEnvironment, EnvironmentPool, ParkStatus
from apps.environments.tests.test_pools import _fake_parked, maintain, parked
from apps.ops import costs
from apps.ops.reconcile import orphans_sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(runtime):
    return pivot_version()


def test_the_orphan_sweep_keeps_parked_labs_and_removes_what_a_removed_one_left(
    version, django_capture_on_commit_callbacks, pool_cleanup, runtime
):
    later = timezone.now() + timedelta(hours=1)
    orphans_sweep(now=later)  # what earlier tests of this worker left on the engine is not this test's
    EnvironmentPool.objects.create(scenario=version.scenario, min_ready=1, max_size=1)
    maintain(django_capture_on_commit_callbacks)
    env = parked(version).get()
    result = orphans_sweep(now=later)
    assert result.orphans_found == 0
    assert len(runtime.status(str(env.session_uuid))) == 3

    # A row given up without its machines removed (a worker died): the sweep removes them.
    DeploymentEnvironment.objects.filter(pk=env.pk).update(status=ParkStatus.REMOVED)
    result = orphans_sweep(now=later)
    assert result.orphans_found >= 3
    assert runtime.status(str(env.session_uuid)) == {}


def test_parked_labs_cost_money_and_count_against_the_month(version):
    pool = EnvironmentPool.objects.create(scenario=version.scenario, min_ready=0, max_size=5)
    (env,) = _fake_parked(version, pool, 1)
    rate = services.pools_summary()["hourly_rm"]
    assert rate > 0
    before = costs.month_cost_rm(month=costs.month_start())
    services.pool_cost_accrue(now=env.cost_accrued_until + timedelta(hours=2))
    env.refresh_from_db()
    assert env.cost_accumulated_rm == (rate * 2).quantize(Decimal("0.0001"))
    assert costs.month_cost_rm(month=costs.month_start()) == before + env.cost_accumulated_rm
    assert costs.month_pool_cost_rm(month=costs.month_start()) == env.cost_accumulated_rm
    # A second pass over the same period charges nothing more.
    services.pool_cost_accrue(now=env.cost_accrued_until)
    env.refresh_from_db()
    assert env.cost_accumulated_rm == (rate * 2).quantize(Decimal("0.0001"))
