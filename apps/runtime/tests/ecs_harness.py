"""The ECS backend on moto: an AWS account in memory with what ``EcsRuntime`` expects to find.

moto records what the runtime asks for (task definitions, tasks, security groups, tags) but runs
no containers, so the contract tests that look inside a machine skip by the backend's flags.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import boto3

from apps.runtime import LaunchSpec, LaunchStage, MachineSpec, Runtime
from apps.runtime.tests.harness_base import Harness

REGION = "eu-west-1"
_lock = threading.Lock()
_account: dict | None = None


class Crash(BaseException):
    """A worker killed mid-launch: not an Exception, so the launch's clean-up never sees it."""


def start_moto() -> None:
    """Start moto for the rest of the test process (nothing here may talk to real AWS anyway)."""
    from moto import mock_aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        os.environ[name] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)
    mock_aws().start()
    keep_tasks_running()


def keep_tasks_running() -> None:
    """Keep moto's tasks RUNNING until stopped, as Fargate does (moto walks them to STOPPED by default)."""
    from moto.moto_api import state_manager

    state_manager.set_transition(model_name="ecs::task", transition={"progression": "manual", "times": 10**9})


def build_account(client=boto3.client, *, images: tuple[str, ...] = ("rangex/busybox", "rangex/gateway")) -> dict:
    """Create a VPC with two private subnets, a cluster, an execution role, ECR images (the labs' and
    the terminal gateway's), a bucket and the web tier's security group; return the runtime
    configuration (``EcsRuntime(config=...)``)."""
    ec2 = client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
    # Interface endpoints with private DNS (ECR, S3, logs) need DNS host names in the VPC.
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.60.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")["Subnet"][
            "SubnetId"
        ]
        for i, zone in ((1, "a"), (2, "b"))
    ]
    endpoints = ec2.create_security_group(GroupName="rangex-endpoints", Description="endpoints", VpcId=vpc)["GroupId"]
    web = ec2.create_security_group(GroupName="rangex-web", Description="web tier", VpcId=vpc)["GroupId"]
    cluster = f"rangex-labs-{uuid.uuid4().hex[:6]}"
    client("ecs", region_name=REGION).create_cluster(clusterName=cluster)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role_name = f"rangex-exec-{uuid.uuid4().hex[:6]}"
    role = client("iam", region_name=REGION).create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))
    bucket = f"rangex-files-{uuid.uuid4().hex[:8]}"
    s3 = client("s3", region_name=REGION)
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    ecr = client("ecr", region_name=REGION)
    registry = ""
    for name in images:
        repository = ecr.create_repository(repositoryName=name)["repository"]
        registry = repository["repositoryUri"].split("/", 1)[0]
        put_image(ecr, name, "latest")
        # What `manage.py ecr_push` records next to the image (the test images' own command).
        put_start_record(s3, bucket, name, "latest", cmd=IMAGE_CMDS.get(name, ["sleep", "infinity"]))
    return {
        "region": REGION,
        "cluster": cluster,
        "subnets": tuple(subnets),
        "endpoint_security_groups": (endpoints,),
        "execution_role_arn": role["Role"]["Arn"],
        "ecr_registry": registry,
        "files_bucket": bucket,
        "gateway_source": web,
        "vpc": vpc,
    }


IMAGE_CMDS = {"rangex/gateway": ["/usr/local/bin/gateway-start"]}


def put_start_record(s3, bucket: str, repository: str, tag: str, *, entrypoint=(), cmd=(), user="") -> None:
    """Write an image's start record as ``ecr_push`` does."""
    from apps.runtime.ecr import image_record_key

    record = {"entrypoint": list(entrypoint), "cmd": list(cmd), "working_dir": "", "user": user}
    s3.put_object(Bucket=bucket, Key=image_record_key(repository, tag), Body=json.dumps(record).encode())


def put_image(ecr, repository: str, tag: str) -> None:
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 2,
            "digest": "sha256:" + "0" * 64,
        },
        "layers": [],
    }
    ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag)


def aws_client(service: str):
    """Return a boto3 client for the test region (other apps' tests read AWS through this)."""
    return boto3.client(service, region_name=REGION)


def account() -> dict:
    """Return the shared moto account, made on first use."""
    global _account
    with _lock:
        if _account is None:
            start_moto()
            _account = build_account()
        return _account


def _gateway(tags: list[dict], key: str, value: str) -> bool:
    return {key: "rangex.gateway", value: "1"} in tags


def runtime_config(config: dict) -> dict:
    return {k: v for k, v in config.items() if k != "vpc"}


class EcsHarness(Harness):
    key = "ecs"
    runs_machines = False  # moto records tasks and runs no containers

    def make(self, *, instance: str | None = None) -> Runtime:
        from apps.runtime.ecs import EcsRuntime

        return EcsRuntime(key="ecs", instance=instance, config=runtime_config(account()))

    def half_launch(self, runtime, spec: LaunchSpec, stage: LaunchStage) -> None:
        def progress(step, total, message) -> None:
            if message.stage == stage:
                raise Crash(stage)

        try:
            runtime.launch(spec, progress=progress)
        except Crash:
            return
        raise AssertionError(f"the launch did not stop at {stage}")

    def _ecs(self):
        return boto3.client("ecs", region_name=REGION)

    def session_tasks(self, runtime, session_id: str) -> list[dict]:
        ecs, cluster = self._ecs(), account()["cluster"]
        arns = ecs.list_tasks(cluster=cluster, desiredStatus="RUNNING")["taskArns"]
        if not arns:
            return []
        tasks = ecs.describe_tasks(cluster=cluster, tasks=arns, include=["TAGS"])["tasks"]
        return [
            t
            for t in tasks
            if {"key": "rangex.session", "value": session_id} in t.get("tags", [])
            and {"key": "rangex.instance", "value": runtime.instance} in t.get("tags", [])
        ]

    def session_groups(self, runtime, session_id: str) -> list[dict]:
        return boto3.client("ec2", region_name=REGION).describe_security_groups(
            Filters=[
                {"Name": "tag:rangex.session", "Values": [session_id]},
                {"Name": "tag:rangex.instance", "Values": [runtime.instance]},
            ]
        )["SecurityGroups"]

    def stop_behind_back(self, runtime, session_id, machine) -> None:
        for task in self.session_tasks(runtime, session_id):
            if {"key": "rangex.machine", "value": machine} in task["tags"]:
                self._ecs().stop_task(
                    cluster=account()["cluster"], task=task["taskArn"], reason="Essential container exited"
                )

    def engine_count(self, runtime, session_id) -> tuple[int, int]:
        """The session's machines and network groups; its terminal gateway is counted by ``gateway_count``."""
        tasks = [t for t in self.session_tasks(runtime, session_id) if not _gateway(t["tags"], "key", "value")]
        groups = [
            g for g in self.session_groups(runtime, session_id) if not _gateway(g.get("Tags", []), "Key", "Value")
        ]
        return len(tasks), len(groups)

    def gateway_count(self, runtime, session_id) -> tuple[int, int]:
        """The session's gateway tasks and gateway security groups."""
        tasks = [t for t in self.session_tasks(runtime, session_id) if _gateway(t["tags"], "key", "value")]
        groups = [g for g in self.session_groups(runtime, session_id) if _gateway(g.get("Tags", []), "Key", "Value")]
        return len(tasks), len(groups)

    def at_start(self, runtime, machine: MachineSpec, script: str) -> MachineSpec:
        return machine

    def ready_later(self, runtime, machine, marker) -> MachineSpec:
        return machine

    def listen_later(self, runtime, machine, port) -> MachineSpec:
        return machine

    def absent_image(self, runtime, *, hub=False) -> str:
        return f"rangex/absent-{uuid.uuid4().hex[:8]}:latest"

    @contextmanager
    def private_image(self, runtime, *, username, password) -> Iterator[str]:
        raise NotImplementedError("ECS pulls from ECR with its execution role")
        yield ""
