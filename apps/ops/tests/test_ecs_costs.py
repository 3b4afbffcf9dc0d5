"""A lab on ECS is charged at Fargate's prices from System settings (moto in-process)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from apps.environments import services
from apps.environments.factories import pivot_version
from apps.environments.models import SessionStatus
from apps.ops.costs import cost_accrue
from apps.runtime import get_runtime
from apps.runtime.fake import FakeRuntime
from apps.runtime.tests.ecs_harness import account, runtime_config
from apps.scenarios.runtime_choice import scenario_runtime_set
from rangex.core.system import system_settings_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def ecs_settings(settings):
    settings.RANGEX_RUNTIMES = {
        "fake": {"BACKEND": "apps.runtime.fake.FakeRuntime"},
        "ecs": {"BACKEND": "apps.runtime.ecs.EcsRuntime", "OPTIONS": {"config": runtime_config(account())}},
    }
    settings.RANGEX_DEFAULT_RUNTIME = "fake"
    FakeRuntime.reset_all()
    yield settings
    FakeRuntime.reset_all()


def test_a_lab_on_ecs_is_charged_at_fargate_prices_from_system_settings(
    ecs_settings, solver, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        system_settings_update(
            actor=admin_user, aws_fargate_vcpu_hour_usd=Decimal("0.04"), aws_fargate_gb_hour_usd=Decimal("0.01")
        )
    version = pivot_version()
    scenario_runtime_set(scenario=version.scenario, key="ecs", actor=admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        session = services.env_session_start(user=solver, version=version)
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING
    # Three micro machines (0.25 vCPU, 256 MB) run as the smallest Fargate task: 0.25 vCPU, 0.5 GB;
    # the session's terminal gateway is one more task of that size.
    per_task_usd = Decimal("0.25") * Decimal("0.04") + Decimal("0.5") * Decimal("0.01")
    rate = services.cost_rate_rm(session)
    assert session.runtime_backend == "ecs"
    assert rate == (3 + 1) * per_task_usd * Decimal(ecs_settings.RANGEX_RM_PER_USD)

    cost_accrue(now=session.started_at + timedelta(hours=1))
    session.refresh_from_db()
    assert session.cost_accumulated_rm == rate.quantize(Decimal("0.0001"))
    get_runtime("ecs").stop(str(session.pk))
