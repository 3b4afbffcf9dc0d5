"""A scenario switched to ECS in the admin: its labs start, run and stop on Fargate (moto in-process).

moto records what RangeX asked AWS for; these tests go through the admin, the services and the
tasks the way a platform admin and a solver do, and read the AWS side back with boto3.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.environments import services
from apps.environments.factories import pivot_version
from apps.environments.models import SessionSecurityGroup, SessionStatus
from apps.runtime import get_runtime
from apps.runtime.fake import FakeRuntime
from apps.runtime.tests.ecs_harness import EcsHarness, account, aws_client, runtime_config
from rangex.core.models import AuditLog

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


def test_an_admin_switches_a_scenario_to_ecs_and_its_lab_runs_and_stops_there(
    ecs_settings, admin_user, admin_client_2fa, solver, solver_client, django_capture_on_commit_callbacks
):
    version = pivot_version()
    scenario = version.scenario
    changelist = reverse("admin:scenarios_scenario_changelist")
    page = admin_client_2fa.get(changelist)
    assert b"Run new labs on runtime &#x27;ecs&#x27;" in page.content

    admin_client_2fa.post(changelist, {"action": "run_on_ecs", "_selected_action": [scenario.pk]})

    scenario.refresh_from_db()
    assert scenario.runtime_key == "ecs"
    assert AuditLog.objects.filter(action_type="scenario.runtime_set", target_id=str(scenario.pk)).exists()

    with django_capture_on_commit_callbacks(execute=True):
        session = services.env_session_start(user=solver, version=version)
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING, session.progress_message
    assert session.runtime_backend == "ecs"
    harness, ecs = EcsHarness(), get_runtime("ecs")
    tasks = harness.session_tasks(ecs, str(session.pk))
    machines = sorted({t["key"]: t["value"] for t in task["tags"]}.get("rangex.machine", "") for task in tasks)
    assert machines == ["", "attacker", "pivot", "victim"]  # "": the session's terminal gateway
    # The session records its own task (the gateway) and the gateway's address; the page offers terminals.
    assert session.aws_task_arn == ecs.describe(str(session.pk)).gateway.id
    assert session.gateway_ip == ecs.describe(str(session.pk)).gateway.ip != ""
    assert ecs.capabilities.terminal == "ssh-gateway"
    page = solver_client.get(reverse("environments:detail", args=[session.pk]))
    assert page.status_code == 200 and page.context["terminal_machines"], "the page offers no terminal"
    groups = {g.network_group: g.security_group_id for g in SessionSecurityGroup.objects.filter(session=session)}
    ec2 = aws_client("ec2")
    assert {
        g["GroupId"] for g in ec2.describe_security_groups(GroupIds=list(groups.values()))["SecurityGroups"]
    } == set(groups.values())

    with django_capture_on_commit_callbacks(execute=True):
        services.env_session_stop(session=session, actor=solver)
    session.refresh_from_db()
    assert session.status == SessionStatus.TERMINATED
    assert harness.session_tasks(ecs, str(session.pk)) == []
    left = ec2.describe_security_groups(Filters=[{"Name": "tag:rangex.session", "Values": [str(session.pk)]}])
    assert left["SecurityGroups"] == []


def test_only_a_configured_runtime_can_be_chosen(ecs_settings, admin_user):
    from apps.scenarios.runtime_choice import scenario_runtime_set
    from rangex.core.errors import PermissionDenied, ValidationFailed

    scenario = pivot_version().scenario
    with pytest.raises(ValidationFailed) as excinfo:
        scenario_runtime_set(scenario=scenario, key="mars", actor=admin_user)
    assert "runtime_key" in excinfo.value.fields and "'mars' is not configured" in excinfo.value.message
    with pytest.raises(PermissionDenied):
        scenario_runtime_set(scenario=scenario, key="ecs", actor=scenario.created_by_user)
    scenario.refresh_from_db()
    assert scenario.runtime_key == ""
