"""EcsRuntime on moto: what it asks AWS for, and how it fails when the set-up is wrong.

moto runs no containers, so these tests read back what the runtime registered and started: task
definitions, security groups and their rules, tags, network configuration, the files bundle.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace

import boto3
import pytest

from apps.runtime import FileSpec, LaunchStage, NetworkSpec, RuntimeFailure
from apps.runtime.ecs import EcsRuntime
from apps.runtime.ecs_aws import fargate_size
from apps.runtime.tests.ecs_harness import REGION, EcsHarness, account, runtime_config
from apps.runtime.tests.helpers import duo_spec, new_session_id, pivot_spec

harness = EcsHarness()


@pytest.fixture
def aws():
    return account()


@pytest.fixture
def runtime(aws):
    made = []

    def make(**changes):
        rt = EcsRuntime(key="ecs", config={**runtime_config(aws), **changes})
        made.append(rt)
        return rt

    rt = make()
    rt.make = make
    sessions: list[str] = []
    rt.sessions = sessions
    yield rt
    for session_id in sessions:
        EcsRuntime(key="ecs", config=runtime_config(aws)).stop(session_id)


def _launch(runtime, spec):
    runtime.sessions.append(spec.session_id)
    return runtime.launch(spec)


def _task(runtime, session_id, machine):
    tasks = harness.session_tasks(runtime, session_id)
    return next(t for t in tasks if {"key": "rangex.machine", "value": machine} in t["tags"])


def _groups_of(task) -> set[str]:
    eni = next(d["value"] for d in task["attachments"][0]["details"] if d["name"] == "networkInterfaceId")
    ec2 = boto3.client("ec2", region_name=REGION)
    interface = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]
    return {g["GroupId"] for g in interface["Groups"]}


def test_fargate_sizes_are_the_smallest_valid_ones():
    assert fargate_size(0.25, 64) == (256, 512)
    assert fargate_size(0.5, 3000) == (512, 3072)
    assert fargate_size(1, 9000) == (2048, 9216)
    assert fargate_size(4, 8192) == (4096, 8192)
    with pytest.raises(RuntimeFailure) as excinfo:
        fargate_size(32, 1024)
    assert excinfo.value.permanent and "larger than any Fargate task" in excinfo.value.message


def test_a_pivot_gets_both_groups_and_groups_admit_only_their_members(runtime, aws):
    spec = pivot_spec(new_session_id())
    result = _launch(runtime, spec)
    outer, inner = result.networks["outer"].id, result.networks["inner"].id

    assert _groups_of(_task(runtime, spec.session_id, "attacker")) == {outer}
    assert _groups_of(_task(runtime, spec.session_id, "pivot")) == {outer, inner}
    assert _groups_of(_task(runtime, spec.session_id, "victim")) == {inner}
    ec2 = boto3.client("ec2", region_name=REGION)
    for group in ec2.describe_security_groups(GroupIds=[outer, inner])["SecurityGroups"]:
        assert group["VpcId"] == aws["vpc"]
        ingress = group["IpPermissions"]
        assert [(p["IpProtocol"], [g["GroupId"] for g in p["UserIdGroupPairs"]], p["IpRanges"]) for p in ingress] == [
            ("-1", [group["GroupId"]], [])
        ]
        egress = {
            (p["IpProtocol"], p.get("FromPort"), tuple(g["GroupId"] for g in p["UserIdGroupPairs"]))
            for p in group["IpPermissionsEgress"]
        }
        assert egress == {("-1", None, (group["GroupId"],)), ("tcp", 443, tuple(aws["endpoint_security_groups"]))}
        assert not any(p["IpRanges"] for p in group["IpPermissionsEgress"])
    task = _task(runtime, spec.session_id, "pivot")
    assert set(result.machines["pivot"].ips) == {"outer", "inner"}
    assert task["launchType"] == "FARGATE"
    tags = {t["key"]: t["value"] for t in task["tags"]}
    assert tags["rangex.instance"] == runtime.instance and tags["rangex.session"] == spec.session_id
    assert tags["rangex.machine"] == "pivot" and tags["rangex.expires_at"] == spec.expires_at.isoformat()


def test_a_group_with_egress_keeps_its_way_out(runtime):
    spec = duo_spec(new_session_id())
    spec = replace(spec, networks=[NetworkSpec("outer", egress=True), NetworkSpec("inner")])
    result = _launch(runtime, spec)
    ec2 = boto3.client("ec2", region_name=REGION)
    groups = {
        g["GroupId"]: g
        for g in ec2.describe_security_groups(GroupIds=[n.id for n in result.networks.values()])["SecurityGroups"]
    }
    outer, inner = groups[result.networks["outer"].id], groups[result.networks["inner"].id]
    assert any(r["CidrIp"] == "0.0.0.0/0" for p in outer["IpPermissionsEgress"] for r in p["IpRanges"])
    assert not any(p["IpRanges"] for p in inner["IpPermissionsEgress"])


def test_a_task_definition_is_registered_once_per_content(runtime):
    first, second = duo_spec(new_session_id()), duo_spec(new_session_id())
    _launch(runtime, first)
    _launch(runtime, second)
    arn = _task(runtime, first.session_id, "victim")["taskDefinitionArn"]
    assert _task(runtime, second.session_id, "victim")["taskDefinitionArn"] == arn

    ecs = boto3.client("ecs", region_name=REGION)
    definition = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
    assert definition["family"].startswith("rangex-") and definition["networkMode"] == "awsvpc"
    assert definition["requiresCompatibilities"] == ["FARGATE"]
    assert (definition["cpu"], definition["memory"]) == ("256", "512")
    container = definition["containerDefinitions"][0]
    assert container["linuxParameters"]["capabilities"]["drop"] == ["ALL"]
    assert container["linuxParameters"]["initProcessEnabled"] is True
    assert container["image"].startswith(runtime.config().ecr_registry + "/rangex/busybox:latest")
    assert definition["executionRoleArn"] == runtime.config().execution_role_arn


def test_a_read_only_machine_gets_a_read_only_root_and_task_volumes_as_scratch_space(runtime):
    spec = duo_spec(new_session_id())
    spec = replace(spec, machines=[spec.machines[0], replace(spec.machines[1], read_only_root=True)])
    _launch(runtime, spec)
    ecs = boto3.client("ecs", region_name=REGION)

    def definition(machine):
        arn = _task(runtime, spec.session_id, machine)["taskDefinitionArn"]
        return ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]

    victim = definition("victim")
    container = victim["containerDefinitions"][0]
    assert container["readonlyRootFilesystem"] is True
    mounts = {(m["sourceVolume"], m["containerPath"]) for m in container["mountPoints"]}
    assert {("scratch-tmp", "/tmp"), ("scratch-run", "/run")} <= mounts
    assert {"scratch-tmp", "scratch-run"} <= {v["name"] for v in victim["volumes"]}
    # The session's sshd drop-in (terminals through the gateway) is still mounted, read-only.
    assert ("rangex-ssh", "/etc/ssh/sshd_config.d") in mounts
    attacker = definition("attacker")["containerDefinitions"][0]
    assert attacker["readonlyRootFilesystem"] is False
    assert not any(m["sourceVolume"].startswith("scratch") for m in attacker.get("mountPoints", []))


def test_files_reach_the_machine_through_a_short_lived_s3_bundle_only(runtime, aws):
    flag = b"RX{never-in-the-task-definition}\n"
    spec = pivot_spec(new_session_id(), victim_files=[FileSpec("/srv/flag.txt", flag, 0o600)])
    _launch(runtime, spec)

    task = _task(runtime, spec.session_id, "victim")
    ecs = boto3.client("ecs", region_name=REGION)
    definition = ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])["taskDefinition"]
    text = json.dumps(definition, default=str) + json.dumps(task, default=str)
    assert b"never-in-the-task-definition" not in text.encode()
    names = [c["name"] for c in definition["containerDefinitions"]]
    assert names == ["machine", "rangex-init"]
    machine = definition["containerDefinitions"][0]
    assert machine["dependsOn"] == [{"containerName": "rangex-init", "condition": "SUCCESS"}]
    assert not machine.get("environment")
    override = task["overrides"]["containerOverrides"][0]
    assert override["name"] == "rangex-init"
    url = override["command"][1]
    assert (aws["files_bucket"] in url and "Expires=" in url) or "X-Amz-Expires=300" in url
    # The bundle is deleted once the task runs: the URL leads nowhere afterwards.
    s3 = boto3.client("s3", region_name=REGION)
    assert s3.list_objects_v2(Bucket=aws["files_bucket"], Prefix="rangex/").get("KeyCount", 0) == 0
    # A machine without files keeps its image's command; its bundle holds only the session's SSH key.
    attacker = _task(runtime, spec.session_id, "attacker")
    definition = ecs.describe_task_definition(taskDefinition=attacker["taskDefinitionArn"])["taskDefinition"]
    assert "entryPoint" not in definition["containerDefinitions"][0]
    assert [m["containerPath"] for m in definition["containerDefinitions"][0]["mountPoints"]] == [
        "/etc/ssh/sshd_config.d"
    ]


@pytest.mark.parametrize(
    "change, words",
    [
        ({"execution_role_arn": "arn:aws:iam::123456789012:role/rangex-missing"}, "aws_ecs_execution_role_arn"),
        ({"subnets": ("subnet-00000000000000000",)}, "aws_ecs_subnet_ids"),
        ({"cluster": "rangex-no-such-cluster"}, "aws_ecs_cluster_name"),
        ({"image": "rangex/not-pushed:1.0"}, "manage.py ecr_push rangex/not-pushed:1.0"),
    ],
    ids=["missing-role", "subnet-not-found", "cluster-not-found", "image-missing-in-ecr"],
)
def test_a_set_up_error_fails_the_launch_permanently_and_leaves_nothing(runtime, change, words):
    image = change.pop("image", None)
    broken = runtime.make(**change)
    spec = duo_spec(new_session_id(), **({"image": image} if image else {}))

    with pytest.raises(RuntimeFailure) as excinfo:
        broken.launch(spec)

    assert excinfo.value.permanent, excinfo.value.message
    assert words in excinfo.value.message
    assert harness.engine_count(runtime, spec.session_id) == (0, 0)


def test_a_half_made_launch_is_cleaned_up_when_ecs_refuses_the_task(runtime, aws):
    ec2 = boto3.client("ec2", region_name=REGION)
    subnet = ec2.create_subnet(VpcId=aws["vpc"], CidrBlock=f"10.60.{uuid.uuid4().int % 150 + 100}.0/24")["Subnet"]
    doomed = runtime.make(subnets=(subnet["SubnetId"],))
    spec = duo_spec(new_session_id())

    def lose_the_subnet(step, total, message):
        # The security groups exist; the subnet goes before any task is asked for.
        if message.stage == LaunchStage.NETWORKS:
            assert harness.engine_count(runtime, spec.session_id) == (0, 2)
            ec2.delete_subnet(SubnetId=subnet["SubnetId"])

    with pytest.raises(RuntimeFailure) as excinfo:
        doomed.launch(spec, progress=lose_the_subnet)

    # The session's gateway is the first task asked for.
    assert "Starting the terminal gateway" in excinfo.value.message, excinfo.value.message
    assert harness.engine_count(runtime, spec.session_id) == (0, 0)
    assert harness.gateway_count(runtime, spec.session_id) == (0, 0)
    assert [r for r in runtime.list_managed() if r.session_id == spec.session_id] == []


def test_an_unconfigured_runtime_names_the_settings_to_fill(db):
    runtime = EcsRuntime(key="ecs")
    with pytest.raises(RuntimeFailure) as excinfo:
        runtime.launch(duo_spec(new_session_id()))
    assert excinfo.value.permanent and "aws_ecs_cluster_name" in excinfo.value.message
    assert runtime.ping()["ok"] is False


def test_settings_changed_in_the_admin_apply_without_a_restart(db, aws):
    from rangex.core.system import system_settings_update

    runtime = EcsRuntime(key="ecs")
    with pytest.raises(RuntimeFailure):
        runtime.launch(duo_spec(new_session_id()))
    with django_capture_on_commit():
        system_settings_update(
            actor=None,
            aws_region=aws["region"],
            aws_ecs_cluster_name=aws["cluster"],
            aws_ecs_subnet_ids=", ".join(aws["subnets"]),
            aws_ecs_security_group_ids=",".join(aws["endpoint_security_groups"]),
            aws_ecs_execution_role_arn=aws["execution_role_arn"],
            aws_ecr_registry=aws["ecr_registry"],
            aws_ecs_files_bucket=aws["files_bucket"],
        )
    assert runtime.ping()["ok"] is True
    spec = duo_spec(new_session_id())
    try:
        runtime.launch(spec)
        assert harness.engine_count(runtime, spec.session_id) == (2, 2)
    finally:
        runtime.stop(spec.session_id)
    assert harness.engine_count(runtime, spec.session_id) == (0, 0)


def django_capture_on_commit():
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)
