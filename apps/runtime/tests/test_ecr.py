"""An image's own start command on ECS: recorded by the push (real local engine and registry, moto
for ECR and S3), run by the files wrapper at launch (moto: read back the task definition)."""

from __future__ import annotations

import base64
import json
import subprocess
import uuid
from dataclasses import replace

import boto3
import pytest

from apps.runtime import FileSpec, RuntimeFailure
from apps.runtime.ecr import image_record_key
from apps.runtime.ecs import EcsRuntime
from apps.runtime.ecs_aws import WRAPPER
from apps.runtime.tests.ecs_harness import REGION, EcsHarness, account, put_image, put_start_record, runtime_config
from apps.runtime.tests.helpers import local_registry, new_session_id, pivot_spec

harness = EcsHarness()
FLAG = [FileSpec("/srv/flag.txt", b"RX{start}\n", 0o600)]
WRAPPED = ["/bin/sh", "-c", WRAPPER, "rangex-start"]


@pytest.fixture
def runtime():
    rt = EcsRuntime(key="ecs", config=runtime_config(account()))
    rt.sessions = []
    yield rt
    for session_id in rt.sessions:
        rt.stop(session_id)


def _image_in_ecr(*, record: dict | None = None) -> str:
    """A new repository in moto's ECR holding ``:latest``, with ``record`` as its start record."""
    name = f"rangex/start-{uuid.uuid4().hex[:8]}"
    ecr = boto3.client("ecr", region_name=REGION)
    ecr.create_repository(repositoryName=name)
    put_image(ecr, name, "latest")
    if record is not None:
        put_start_record(boto3.client("s3", region_name=REGION), account()["files_bucket"], name, "latest", **record)
    return f"{name}:latest"


def _victim_definition(runtime, spec) -> dict:
    runtime.sessions.append(spec.session_id)
    runtime.launch(spec)
    task = next(
        t
        for t in harness.session_tasks(runtime, spec.session_id)
        if {"key": "rangex.machine", "value": "victim"} in t["tags"]
    )
    ecs = boto3.client("ecs", region_name=REGION)
    return ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])["taskDefinition"]


def _victim_spec(image: str, *, command=None):
    """The pivot lab whose victim runs ``image`` with a flag file and ``command`` (None: the image's own)."""
    spec = pivot_spec(new_session_id(), victim_image=image, victim_files=FLAG)
    machines = [m if m.name != "victim" else replace(m, command=command) for m in spec.machines]
    return replace(spec, machines=machines)


def test_a_machine_with_files_runs_its_images_entrypoint_and_cmd_behind_the_wrapper(runtime):
    image = _image_in_ecr(record={"entrypoint": ["/docker-entrypoint.sh"], "cmd": ["nginx", "-g", "daemon off;"]})

    definition = _victim_definition(runtime, _victim_spec(image))

    machine = definition["containerDefinitions"][0]
    assert machine["entryPoint"] == WRAPPED
    assert machine["command"] == ["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]


@pytest.mark.parametrize(
    "record, expected",
    [
        ({"entrypoint": ["/docker-entrypoint.sh"], "cmd": ["nginx"]}, ["/docker-entrypoint.sh", "httpd", "-f"]),
        ({"cmd": ["nginx"]}, ["httpd", "-f"]),
        (None, ["httpd", "-f"]),
    ],
    ids=["after-the-entrypoint", "instead-of-cmd", "no-record"],
)
def test_a_given_command_replaces_the_images_cmd_as_on_docker(runtime, record, expected):
    image = _image_in_ecr(record=record)

    definition = _victim_definition(runtime, _victim_spec(image, command=["httpd", "-f"]))

    machine = definition["containerDefinitions"][0]
    assert (machine["entryPoint"], machine["command"]) == (WRAPPED, expected)


def test_an_image_that_names_no_command_sleeps(runtime):
    image = _image_in_ecr(record={})
    definition = _victim_definition(runtime, _victim_spec(image))
    assert definition["containerDefinitions"][0]["command"] == ["sleep", "infinity"]


def test_without_a_start_record_the_launch_fails_with_the_push_command_and_leaves_nothing(runtime):
    image = _image_in_ecr()
    spec = _victim_spec(image)
    runtime.sessions.append(spec.session_id)

    with pytest.raises(RuntimeFailure) as excinfo:
        runtime.launch(spec)

    assert excinfo.value.permanent, excinfo.value.message
    assert f"manage.py ecr_push {image}" in excinfo.value.message
    assert image_record_key(image.split(":")[0], "latest") in excinfo.value.message
    assert harness.engine_count(runtime, spec.session_id) == (0, 0)
    assert harness.gateway_count(runtime, spec.session_id) == (0, 0)
    assert [r for r in runtime.list_managed() if r.session_id == spec.session_id] == []


@pytest.mark.docker
def test_a_push_records_the_images_start_command_and_the_launch_runs_it(runtime, busybox_image):
    aws = account()
    name = f"rangex/start-probe-{uuid.uuid4().hex[:8]}"
    dockerfile = (
        f"FROM {busybox_image}\nWORKDIR /srv\nUSER nobody\n"
        'ENTRYPOINT ["/bin/sh", "-c", "exec \\"$0\\" \\"$@\\""]\nCMD ["httpd", "-f", "-p", "8080"]\n'
    )
    subprocess.run(["docker", "build", "-q", "-t", f"{name}:1.0", "-"], input=dockerfile, text=True, check=True)
    data = boto3.client("ecr", region_name=REGION).get_authorization_token()["authorizationData"][0]
    password = base64.b64decode(data["authorizationToken"]).decode().partition(":")[2]
    try:
        with local_registry("AWS", password) as registry:
            pusher = EcsRuntime(key="ecs", config={**runtime_config(aws), "ecr_registry": registry})
            assert pusher.push_image(f"{name}:1.0") == f"{registry}/{name}:1.0"
    finally:
        subprocess.run(["docker", "image", "rm", "-f", f"{name}:1.0"], capture_output=True)

    s3 = boto3.client("s3", region_name=REGION)
    record = json.loads(s3.get_object(Bucket=aws["files_bucket"], Key=f"rangex-images/{name}/1.0.json")["Body"].read())
    assert record["entrypoint"] == ["/bin/sh", "-c", 'exec "$0" "$@"']
    assert record["cmd"] == ["httpd", "-f", "-p", "8080"]
    assert (record["working_dir"], record["user"], record["image"]) == ("/srv", "nobody", f"{name}:1.0")
    assert record["digest"].startswith("sha256:")

    # The same image in (moto's) ECR: the launch runs what the push recorded.
    put_image(boto3.client("ecr", region_name=REGION), name, "1.0")
    definition = _victim_definition(runtime, _victim_spec(f"{name}:1.0"))
    # USER nobody: the wrapper starts as root and drops to it (test_ecs_user).
    assert definition["containerDefinitions"][0]["command"] == [
        "nobody",
        "",
        "-all",
        "/bin/sh",
        "-c",
        'exec "$0" "$@"',
        "httpd",
        "-f",
        "-p",
        "8080",
    ]
