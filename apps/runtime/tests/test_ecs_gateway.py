"""The session's SSH gateway on ECS (moto): what the runtime asks AWS for, and that it goes again.

moto runs no containers; the terminal through the gateway runs for real on Docker in
``test_gateway_ecs_way.py`` with the same keys, bundle and volumes.
"""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from dataclasses import replace

import asyncssh
import boto3
import pytest

from apps.runtime import LaunchStage, NetworkSpec, RuntimeFailure
from apps.runtime.ecs import EcsRuntime
from apps.runtime.ecs_gateway import session_keys
from apps.runtime.tests.ecs_harness import REGION, EcsHarness, account, runtime_config
from apps.runtime.tests.helpers import duo_spec, new_session_id, pivot_spec
from apps.runtime.tests.test_ecs import _groups_of

harness = EcsHarness()


@pytest.fixture
def aws():
    return account()


@pytest.fixture
def make(aws):
    sessions: list[tuple[EcsRuntime, str]] = []

    def _make(**changes):
        rt = EcsRuntime(key="ecs", config={**runtime_config(aws), **changes})

        def launch(spec, **kwargs):
            sessions.append((rt, spec.session_id))
            return rt.launch(spec, **kwargs)

        rt.launch_for_test = launch
        return rt

    yield _make
    for rt, session_id in sessions:
        rt.stop(session_id)


def _gateway_task(runtime, session_id):
    tasks = harness.session_tasks(runtime, session_id)
    found = [t for t in tasks if {"key": "rangex.gateway", "value": "1"} in t["tags"]]
    assert len(found) == 1, found
    return found[0]


def _gateway_group(runtime, session_id):
    groups = harness.session_groups(runtime, session_id)
    found = [g for g in groups if {"Key": "rangex.gateway", "Value": "1"} in g.get("Tags", [])]
    assert len(found) == 1, found
    return found[0]


def test_the_gateway_joins_every_group_of_the_session_plus_its_own(make, aws):
    runtime = make()
    spec = pivot_spec(new_session_id())
    result = runtime.launch_for_test(spec)
    outer, inner = result.networks["outer"].id, result.networks["inner"].id

    task = _gateway_task(runtime, spec.session_id)
    own = _gateway_group(runtime, spec.session_id)["GroupId"]
    assert _groups_of(task) == {outer, inner, own}
    # The network groups admit their own members: the gateway, a member of each, reaches every machine.
    ec2 = boto3.client("ec2", region_name=REGION)
    for group in ec2.describe_security_groups(GroupIds=[outer, inner])["SecurityGroups"]:
        assert [[p["GroupId"] for p in rule["UserIdGroupPairs"]] for rule in group["IpPermissions"]] == [
            [group["GroupId"]]
        ]
    tags = {t["key"]: t["value"] for t in task["tags"]}
    assert tags["rangex.instance"] == runtime.instance and tags["rangex.session"] == spec.session_id
    assert tags["rangex.expires_at"] == spec.expires_at.isoformat() and tags["rangex.role"] == "gateway"
    assert "rangex.machine" not in tags
    assert task["launchType"] == "FARGATE"
    # Private subnets, no public address: only the web tier (in the VPC) reaches it.
    attachment = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}
    assert attachment["subnetId"] in aws["subnets"]
    ecs = boto3.client("ecs", region_name=REGION)
    definition = ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])["taskDefinition"]
    assert definition["family"].startswith("rangex-gateway-") and (definition["cpu"], definition["memory"]) == (
        "256",
        "512",
    )
    gateway = definition["containerDefinitions"][0]
    assert gateway["image"] == f"{aws['ecr_registry']}/rangex/gateway:latest"
    assert "SYS_ADMIN" not in json.dumps(gateway) and not gateway["linuxParameters"]["capabilities"].get("add")
    assert {"NET_RAW", "MKNOD", "DAC_OVERRIDE"} <= set(gateway["linuxParameters"]["capabilities"]["drop"])
    # What the session's record gets: the gateway's ARN and the address its attachment reports.
    assert result.gateway is not None and result.gateway.id == task["taskArn"]
    assert result.gateway.ip == attachment["privateIPv4Address"]
    assert runtime.describe(spec.session_id).gateway == result.gateway
    # A second launch of the session adopts its gateway.
    assert runtime.launch(spec).gateway == result.gateway
    assert harness.gateway_count(runtime, spec.session_id) == (1, 1)


@pytest.mark.parametrize("source", ["web-group", "10.60.200.0/24"])
def test_the_gateway_group_admits_only_the_web_tier_on_port_22(make, aws, source):
    runtime = make(gateway_source=aws["gateway_source"] if source == "web-group" else source)
    spec = duo_spec(new_session_id())
    runtime.launch_for_test(spec)

    group = _gateway_group(runtime, spec.session_id)
    (rule,) = group["IpPermissions"]
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 22, 22)
    if source == "web-group":
        assert [p["GroupId"] for p in rule["UserIdGroupPairs"]] == [aws["gateway_source"]] and not rule["IpRanges"]
    else:
        assert [r["CidrIp"] for r in rule["IpRanges"]] == [source] and not rule["UserIdGroupPairs"]
    assert group["IpPermissionsEgress"] == []


def _bundles_while_launching(runtime, spec):
    """Read the launch's S3 bundles while they exist (they are deleted once the tasks run)."""
    s3 = boto3.client("s3", region_name=REGION)
    bucket = runtime.config().files_bucket
    seen: dict[str, dict[str, bytes]] = {}

    def progress(step, total, message):
        if message.stage != LaunchStage.STARTED:
            return
        for item in s3.list_objects_v2(Bucket=bucket, Prefix=f"rangex/{runtime.instance}/{spec.session_id}/").get(
            "Contents", []
        ):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            with tarfile.open(fileobj=io.BytesIO(body)) as tar:
                name = item["Key"].rsplit("/", 1)[1].rsplit("-", 1)[0]
                seen[name] = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}

    runtime.launch_for_test(spec, progress=progress)
    return seen


def test_keys_are_derived_and_travel_as_files_never_in_env_or_definitions(make, aws):
    runtime = make()
    spec = duo_spec(new_session_id())
    bundles = _bundles_while_launching(runtime, spec)
    keys = session_keys(runtime.instance, spec.session_id)

    assert bundles["gateway"]["ssh/authorized_keys"].decode().strip() == keys.client_public
    host = asyncssh.import_private_key(bundles["gateway"]["ssh/ssh_host_ed25519_key"])
    assert host.export_public_key().decode().split()[:2] == keys.host_public.split()[:2]
    for machine in ("attacker", "victim"):
        assert bundles[machine]["ssh/rangex_authorized_keys"].decode().strip() == keys.client_public
        assert b"AuthorizedKeysFile" in bundles[machine]["ssh/00-rangex.conf"]
    # The same keys in any process: derived from SECRET_KEY, the instance and the session.
    assert session_keys(runtime.instance, spec.session_id).client_public == keys.client_public
    assert session_keys(runtime.instance, new_session_id()).client_public != keys.client_public
    # Nothing of them in what ECS keeps: task definitions, run requests, environment.
    ecs = boto3.client("ecs", region_name=REGION)
    secret_parts = [keys.client_public.split()[1], keys.host_public.split()[1], "PRIVATE KEY"]
    for task in harness.session_tasks(runtime, spec.session_id):
        definition = ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])["taskDefinition"]
        text = json.dumps(definition, default=str) + json.dumps(task, default=str)
        assert not any(part in text for part in secret_parts)
        assert all(not c.get("environment") for c in definition["containerDefinitions"])


def test_stop_removes_the_gateway_and_its_group(make):
    runtime = make()
    spec = duo_spec(new_session_id())
    runtime.launch_for_test(spec)
    assert harness.gateway_count(runtime, spec.session_id) == (1, 1)
    listed = [r for r in runtime.list_managed() if r.session_id == spec.session_id and r.labels.get("rangex.gateway")]
    assert sorted(r.kind for r in listed) == ["container", "network"]

    runtime.stop(spec.session_id)

    assert harness.gateway_count(runtime, spec.session_id) == (0, 0)
    assert harness.engine_count(runtime, spec.session_id) == (0, 0)


def test_a_launch_that_fails_after_the_gateway_leaves_nothing(make):
    runtime = make()
    spec = duo_spec(new_session_id())

    def fail(step, total, message):
        if message.stage == LaunchStage.STARTED:
            raise RuntimeError("injected after the first machine started")

    with pytest.raises(RuntimeFailure):
        runtime.launch(spec, progress=fail)
    assert harness.gateway_count(runtime, spec.session_id) == (0, 0)
    assert harness.engine_count(runtime, spec.session_id) == (0, 0)


def test_a_missing_gateway_image_fails_the_launch_with_the_push_command(make):
    runtime = make(gateway_image=f"rangex/gateway-{uuid.uuid4().hex[:6]}:latest")
    spec = duo_spec(new_session_id())
    with pytest.raises(RuntimeFailure) as excinfo:
        runtime.launch(spec)
    assert excinfo.value.permanent and "manage.py ecr_push rangex/gateway-" in excinfo.value.message
    assert harness.engine_count(runtime, spec.session_id) == (0, 0)
    assert harness.gateway_count(runtime, spec.session_id) == (0, 0)


def test_too_many_groups_for_one_gateway_task_fail_before_any_task(make):
    runtime = make()
    spec = duo_spec(new_session_id())
    names = ["outer", "inner", "dmz", "ops", "vault"]
    machines = [replace(m, networks=names if m.name == "victim" else ["outer"]) for m in spec.machines]
    spec = replace(spec, machines=machines, networks=[NetworkSpec(n) for n in names])
    with pytest.raises(RuntimeFailure) as excinfo:
        runtime.launch(spec)
    assert excinfo.value.permanent and "5 network groups" in excinfo.value.message
    assert harness.engine_count(runtime, spec.session_id) == (0, 0)
    assert harness.gateway_count(runtime, spec.session_id) == (0, 0)


def test_without_a_web_tier_source_no_gateway_starts_and_terminals_name_the_setting(make):
    runtime = make(gateway_source="")
    spec = duo_spec(new_session_id())
    result = runtime.launch_for_test(spec)
    assert result.gateway is None and harness.gateway_count(runtime, spec.session_id) == (0, 0)
    assert runtime.session_hourly_price_usd() is None
    ecs = boto3.client("ecs", region_name=REGION)
    attacker = next(
        t
        for t in harness.session_tasks(runtime, spec.session_id)
        if {"key": "rangex.machine", "value": "attacker"} in t["tags"]
    )
    definition = ecs.describe_task_definition(taskDefinition=attacker["taskDefinitionArn"])["taskDefinition"]
    assert [c["name"] for c in definition["containerDefinitions"]] == ["machine"]

    with pytest.raises(RuntimeFailure) as excinfo:
        runtime.open_terminal(spec.session_id, "attacker")
    assert excinfo.value.permanent and "aws_ecs_gateway_source" in excinfo.value.message
    with pytest.raises(RuntimeFailure) as excinfo:
        runtime.open_terminal(spec.session_id, "nowhere")
    assert excinfo.value.permanent


def test_the_gateway_is_priced_once_per_session(make, db):
    runtime = make()
    assert runtime.session_hourly_price_usd() == runtime.hourly_price_usd(cpus=0.25, memory_mb=512)
