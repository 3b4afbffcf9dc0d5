"""The health check records the ECS set-up checks in ``aws_config_checks`` (moto in-process)."""

from __future__ import annotations

import pytest

from apps.ops.health import health_check_run
from apps.ops.models import HealthCheck, InterfaceEndpoint
from apps.runtime.tests.ecs_harness import REGION, account, aws_client, runtime_config

pytestmark = pytest.mark.django_db


def _aws_checks() -> dict[str, HealthCheck]:
    return {c.service_name: c for c in HealthCheck.objects.filter(check_type=HealthCheck.CheckType.AWS_CONFIG)}


def test_the_ecs_set_up_is_checked_and_what_is_missing_is_named(settings):
    aws = account()
    settings.RANGEX_RUNTIMES = {
        "fake": {"BACKEND": "apps.runtime.fake.FakeRuntime"},
        "ecs": {"BACKEND": "apps.runtime.ecs.EcsRuntime", "OPTIONS": {"config": runtime_config(aws)}},
    }
    settings.RANGEX_DEFAULT_RUNTIME = "fake"
    ec2 = aws_client("ec2")
    endpoint = ec2.create_vpc_endpoint(
        VpcId=aws["vpc"], ServiceName=f"com.amazonaws.{REGION}.ecr.dkr", VpcEndpointType="Interface"
    )["VpcEndpoint"]
    InterfaceEndpoint.objects.create(label="ECR docker", type="interface", value=endpoint["ServiceName"])
    InterfaceEndpoint.objects.create(label="CloudWatch logs", type="interface", value=f"com.amazonaws.{REGION}.logs")

    health_check_run()

    checks = _aws_checks()
    assert set(checks) == {
        f"ecs:{name}"
        for name in ("cluster", "subnets", "security_groups", "execution_role", "ecr", "interface_endpoints", "gateway")
    }
    for name in ("cluster", "subnets", "security_groups", "execution_role", "ecr", "gateway"):
        assert checks[f"ecs:{name}"].status == HealthCheck.Status.OK, checks[f"ecs:{name}"].message
    endpoints = checks["ecs:interface_endpoints"]
    assert endpoints.status == HealthCheck.Status.FAILED
    assert endpoints.message == f"Missing VPC endpoints in {aws['vpc']}: com.amazonaws.{REGION}.logs."
    assert not any(c.service_name.startswith("fake:") for c in checks.values())


def test_a_missing_cluster_and_role_fail_their_checks(settings):
    aws = account()
    broken = {
        **runtime_config(aws),
        "cluster": "rangex-gone",
        "execution_role_arn": "arn:aws:iam::123456789012:role/rangex-gone",
    }
    settings.RANGEX_RUNTIMES = {"ecs": {"BACKEND": "apps.runtime.ecs.EcsRuntime", "OPTIONS": {"config": broken}}}
    settings.RANGEX_DEFAULT_RUNTIME = "ecs"

    health_check_run()

    checks = _aws_checks()
    assert checks["ecs:cluster"].status == HealthCheck.Status.FAILED
    assert "rangex-gone" in checks["ecs:cluster"].message
    assert checks["ecs:execution_role"].status == HealthCheck.Status.FAILED
    assert checks["ecs:subnets"].status == HealthCheck.Status.OK
    engine = HealthCheck.objects.get(check_type=HealthCheck.CheckType.ENGINE, service_name="ecs")
    assert engine.status == HealthCheck.Status.FAILED


def test_the_terminal_gateway_is_checked_its_image_and_its_web_tier(settings):
    aws = account()
    settings.RANGEX_DEFAULT_RUNTIME = "ecs"

    def gateway_check(**changes) -> HealthCheck:
        config = {**runtime_config(aws), **changes}
        settings.RANGEX_RUNTIMES = {"ecs": {"BACKEND": "apps.runtime.ecs.EcsRuntime", "OPTIONS": {"config": config}}}
        return next(c for c in health_check_run() if c.service_name == "ecs:gateway")

    missing = gateway_check(gateway_image="rangex/gateway:not-pushed")
    assert missing.status == HealthCheck.Status.FAILED
    assert "manage.py ecr_push rangex/gateway:not-pushed" in missing.message
    unset = gateway_check(gateway_source="")
    assert unset.status == HealthCheck.Status.WARNING, unset.message
    assert "aws_ecs_gateway_source" in unset.message and "without terminals" in unset.message
    assert gateway_check().status == HealthCheck.Status.OK


def test_platform_status_shows_every_runtime_with_its_set_up(settings):
    from apps.ops.status import platform_status_report

    aws = account()
    settings.RANGEX_RUNTIMES = {
        "fake": {"BACKEND": "apps.runtime.fake.FakeRuntime"},
        "ecs": {"BACKEND": "apps.runtime.ecs.EcsRuntime", "OPTIONS": {"config": runtime_config(aws)}},
    }
    settings.RANGEX_DEFAULT_RUNTIME = "fake"
    health_check_run()

    runtimes = platform_status_report()["components"]["runtimes"]

    assert set(runtimes["backends"]) == {"fake", "ecs"}
    assert runtimes["backends"]["ecs"]["status"] == "ok"
    assert runtimes["backends"]["ecs"]["setup"]["cluster"]["status"] == "ok"
    assert runtimes["backends"]["fake"]["setup"] == {}
