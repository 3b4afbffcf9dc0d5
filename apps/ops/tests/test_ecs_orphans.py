"""The orphan sweep finds ECS tasks and security groups with no live session and removes them (moto)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.ops import reconcile
from apps.ops.models import OrphanedTaskLog
from apps.runtime import get_runtime
from apps.runtime.tests.ecs_harness import EcsHarness, account, runtime_config
from apps.runtime.tests.helpers import duo_spec, new_session_id

pytestmark = pytest.mark.django_db


def test_the_sweep_removes_tasks_and_security_groups_without_a_live_session(settings):
    settings.RANGEX_RUNTIMES = {
        "ecs": {"BACKEND": "apps.runtime.ecs.EcsRuntime", "OPTIONS": {"config": runtime_config(account())}}
    }
    settings.RANGEX_DEFAULT_RUNTIME = "ecs"
    ecs, harness = get_runtime("ecs"), EcsHarness()
    # A lab left behind by a crashed worker: no session row knows it.
    spec = duo_spec(new_session_id())
    ecs.launch(spec)
    assert harness.engine_count(ecs, spec.session_id) == (2, 2)
    assert harness.gateway_count(ecs, spec.session_id) == (1, 1)

    dry = reconcile.orphans_sweep(dry_run=True, now=timezone.now() + timedelta(hours=1))
    assert dry.orphans_found >= 4
    assert harness.engine_count(ecs, spec.session_id) == (2, 2)

    result = reconcile.orphans_sweep(now=timezone.now() + timedelta(hours=1))

    assert result.orphans_removed >= 4 and not result.errors, result.errors
    assert harness.engine_count(ecs, spec.session_id) == (0, 0)
    # The orphaned lab's terminal gateway (task and its own group) goes with it.
    assert harness.gateway_count(ecs, spec.session_id) == (0, 0)
    logs = OrphanedTaskLog.objects.filter(metadata__runtime="ecs", metadata__session_id=spec.session_id)
    assert {log.metadata["kind"] for log in logs} >= {"container", "network"}
