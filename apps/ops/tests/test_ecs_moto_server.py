"""End to end on moto's standalone server (HTTP on 127.0.0.1, ``AWS_ENDPOINT_URL``): a solver starts a lab
of a scenario on ECS through the API, it runs, the beat tasks see it, it stops, and nothing is left."""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.services import api_token_create
from apps.environments.factories import pivot_version
from apps.environments.models import EnvironmentSession, SessionStatus
from apps.ops import tasks as ops_tasks
from apps.ops.models import HealthCheck
from apps.runtime.tests.ecs_harness import aws_client, build_account
from apps.scenarios.runtime_choice import scenario_runtime_set

pytestmark = pytest.mark.django_db


def _keep_tasks_running(url: str) -> None:
    body = json.dumps({"model_name": "ecs::task", "transition": {"progression": "manual", "times": 10**9}}).encode()
    request = urllib.request.Request(f"{url}/moto-api/state-manager/set-transition", data=body, method="POST")  # noqa: S310
    urllib.request.urlopen(request, timeout=5).close()  # noqa: S310 (loopback)


def _session_tasks(cluster: str, session_id: str) -> list[dict]:
    ecs = aws_client("ecs")
    arns = ecs.list_tasks(cluster=cluster, desiredStatus="RUNNING")["taskArns"]
    tasks = ecs.describe_tasks(cluster=cluster, tasks=arns, include=["TAGS"])["tasks"] if arns else []
    return [t for t in tasks if {"key": "rangex.session", "value": session_id} in t.get("tags", [])]


def test_a_lab_on_ecs_starts_runs_and_stops_through_the_api_and_the_beat_tasks(
    aws_endpoint, settings, solver, admin_user, django_capture_on_commit_callbacks
):
    _keep_tasks_running(aws_endpoint)
    aws = build_account()
    config = {k: v for k, v in aws.items() if k != "vpc"}
    settings.RANGEX_RUNTIMES = {
        "fake": {"BACKEND": "apps.runtime.fake.FakeRuntime"},
        "ecs": {"BACKEND": "apps.runtime.ecs.EcsRuntime", "OPTIONS": {"config": config}},
    }
    settings.RANGEX_DEFAULT_RUNTIME = "fake"
    version = pivot_version()
    scenario_runtime_set(scenario=version.scenario, key="ecs", actor=admin_user)
    _, raw = api_token_create(user=solver, label="e2e", expires_in_days=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post("/api/v1/sessions/", {"scenario_version": str(version.pk)}, format="json")
    assert started.status_code == 202, started.content
    session_id = started.json()["id"]
    body = client.get(f"/api/v1/sessions/{session_id}/").json()
    assert body["status"] == "running", body
    row = EnvironmentSession.objects.get(pk=session_id)
    assert row.runtime_backend == "ecs"
    # Three machines and the session's terminal gateway, whose ARN and address the session records.
    tasks = _session_tasks(aws["cluster"], session_id)
    assert len(tasks) == 4
    (gateway,) = [t for t in tasks if {"key": "rangex.gateway", "value": "1"} in t.get("tags", [])]
    assert row.aws_task_arn == gateway["taskArn"] and row.gateway_ip

    # The beat tasks: the health check and the sweep find the running lab healthy and leave it.
    ops_tasks.health_check_task()
    ops_tasks.orphans_sweep_task()
    ops_tasks.cost_accrue_task()
    assert HealthCheck.objects.get(check_type="aws_config", service_name="ecs:cluster").status == "ok"
    assert len(_session_tasks(aws["cluster"], session_id)) == 4

    with django_capture_on_commit_callbacks(execute=True):
        stopped = client.post(f"/api/v1/sessions/{session_id}/stop/", {}, format="json")
    assert stopped.status_code in (200, 202), stopped.content
    assert EnvironmentSession.objects.get(pk=session_id).status == SessionStatus.TERMINATED
    assert _session_tasks(aws["cluster"], session_id) == []
    groups = aws_client("ec2").describe_security_groups(
        Filters=[{"Name": "tag:rangex.session", "Values": [session_id]}]
    )["SecurityGroups"]
    assert groups == []
    ops_tasks.orphans_sweep_task()
    assert EnvironmentSession.objects.get(pk=session_id).cost_accumulated_rm >= 0
    assert timezone.now() - timedelta(minutes=5) < EnvironmentSession.objects.get(pk=session_id).stopped_at
