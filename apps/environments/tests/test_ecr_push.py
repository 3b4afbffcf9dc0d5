"""Images reach ECR before a lab runs on Fargate: the repository on demand (moto), the push with the
registry token from boto3 into a real registry on 127.0.0.1 that accepts only that token."""

from __future__ import annotations

import base64
import subprocess
import urllib.request

import pytest

from apps.environments.factories import pivot_version
from apps.environments.services.ecr import version_ecr_push
from apps.runtime.tests.ecs_harness import account, aws_client, runtime_config
from apps.runtime.tests.helpers import local_registry
from rangex.core.errors import PermissionDenied
from rangex.core.models import AuditLog

pytestmark = [pytest.mark.django_db, pytest.mark.docker]


def _token_password() -> str:
    data = aws_client("ecr").get_authorization_token()["authorizationData"][0]
    username, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    assert username == "AWS"
    return password


def test_a_versions_images_are_pushed_with_the_registry_token_and_recorded(settings, admin_user, test_image):
    aws = account()
    with local_registry("AWS", _token_password()) as registry:
        config = {**runtime_config(aws), "ecr_registry": registry}
        settings.RANGEX_RUNTIMES = {
            "fake": {"BACKEND": "apps.runtime.fake.FakeRuntime"},
            "ecs": {"BACKEND": "apps.runtime.ecs.EcsRuntime", "OPTIONS": {"config": config}},
        }
        settings.RANGEX_DEFAULT_RUNTIME = "fake"
        version = pivot_version()
        with pytest.raises(PermissionDenied):
            version_ecr_push(version=version, actor=version.scenario.created_by_user)

        pushed = version_ecr_push(version=version, actor=admin_user)

        assert set(pushed.values()) == {f"{registry}/rangex/busybox:latest"}
        # The registry holds it now: what a Fargate pull would fetch.
        request = urllib.request.Request(
            f"http://{registry}/v2/rangex/busybox/tags/list",
            headers={"Authorization": "Basic " + base64.b64encode(f"AWS:{_token_password()}".encode()).decode()},
        )
        assert b'"latest"' in urllib.request.urlopen(request, timeout=5).read()  # noqa: S310 (http on loopback)
    version.refresh_from_db()
    assert version.ecr_images_pushed is True
    assert {m.ecr_uri for m in version.machines.all()} == {f"{registry}/rangex/busybox:latest"}
    assert AuditLog.objects.filter(action_type="scenario.ecr_push").count() == 1
    # The local tag made for the push is gone again.
    gone = subprocess.run(["docker", "image", "inspect", f"{registry}/rangex/busybox:latest"], capture_output=True)
    assert gone.returncode != 0


def test_a_repository_is_created_on_demand(settings, admin_user):
    from apps.runtime.ecr import ecr_repository_ensure
    from apps.runtime.ecs import EcsRuntime

    aws = account()
    runtime = EcsRuntime(key="ecs", config=runtime_config(aws))
    ecr = aws_client("ecr")
    name = "rangex/made-on-demand"
    ecr_repository_ensure(runtime, name, runtime.config())
    ecr_repository_ensure(runtime, name, runtime.config())
    repository = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    assert repository["imageScanningConfiguration"]["scanOnPush"] is True
    tags = ecr.list_tags_for_resource(resourceArn=repository["repositoryArn"])["tags"]
    assert {"Key": "rangex.instance", "Value": runtime.instance} in tags
