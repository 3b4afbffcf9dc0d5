"""Images for ECS: a locally built image is pushed to ECR before a lab that uses it runs on Fargate.

The repository is created on demand (scan on push, tagged as RangeX's); the push uses the local
Docker engine with the short-lived registry token boto3 returns (``ecr:GetAuthorizationToken``),
sent with that one push only and never stored.

A push also records the image's own start command (``Config.Entrypoint``, ``Config.Cmd``, working
directory and user, from the local engine) as a small JSON object next to it in the files bucket
(``rangex-images/<repository>/<tag>.json``). ECS cannot splice an image's command into ours: a
machine that gets files before start runs behind a wrapper entry point, and the wrapper then execs
what Docker would have run (``start_argv``), read from that record at launch.
"""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime

from django.utils.translation import gettext as _

from apps.runtime.ecs_aws import EcsConfig, aws_errors, ecr_reference, error_code
from apps.runtime.errors import RuntimeFailure

IMAGE_RECORDS = "rangex-images"
# Records read at launch, per process: (bucket, ECR reference, image digest) -> record. A digest
# names one content, so a record never goes stale; a new push changes the digest.
_records: dict[tuple[str, str, str], dict] = {}
_records_lock = threading.Lock()


def ecr_repository_ensure(runtime, repository: str, config: EcsConfig) -> None:
    """Create the ECR repository unless it exists."""
    ecr = runtime.client("ecr", config)
    try:
        ecr.describe_repositories(repositoryNames=[repository])
        return
    except Exception as exc:
        if error_code(exc) != "RepositoryNotFoundException":
            with aws_errors(f"Reading ECR repository {repository}"):
                raise
    with aws_errors(f"Creating ECR repository {repository}"):
        try:
            ecr.create_repository(
                repositoryName=repository,
                imageScanningConfiguration={"scanOnPush": True},
                tags=[{"Key": "rangex.instance", "Value": runtime.instance}],
            )
        except Exception as exc:
            # Another worker made it first.
            if error_code(exc) != "RepositoryAlreadyExistsException":
                raise


def ecr_push(runtime, image: str, *, docker_api) -> str:
    """Push a local image to the configured ECR registry; return its ECR reference."""
    config = runtime.config()
    if not config.ecr_registry or not config.region:
        raise RuntimeFailure("Set aws_region and aws_ecr_registry in System settings before pushing.", permanent=True)
    ref, repository, tag = ecr_reference(image, config.ecr_registry)
    ecr_repository_ensure(runtime, repository, config)
    with aws_errors("Asking ECR for a registry token"):
        data = runtime.client("ecr", config).get_authorization_token()["authorizationData"][0]
    username, _sep, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    target = f"{config.ecr_registry}/{repository}"
    try:
        start = image_start(docker_api, image)
        docker_api.tag(image, target, tag)
    except Exception as exc:
        raise RuntimeFailure(f"Image {image} is not on this engine: build it first ({exc}).", permanent=True) from exc
    digest = ""
    try:
        for line in docker_api.push(
            target, tag, stream=True, decode=True, auth_config={"username": username, "password": password}
        ):
            if "error" in line:
                raise RuntimeFailure(f"Pushing {image} to {ref} failed: {line['error']}", permanent=False)
            digest = (line.get("aux") or {}).get("Digest", digest)
    finally:
        docker_api.remove_image(f"{target}:{tag}")
    if config.files_bucket:
        image_record_put(runtime, config, repository, tag, {**start, "image": image, "digest": digest})
    return ref


def image_start(docker_api, image: str) -> dict:
    """What the local image runs when started: its entry point, command, working directory and user."""
    found = docker_api.inspect_image(image).get("Config") or {}
    return {
        "entrypoint": list(found.get("Entrypoint") or []),
        "cmd": list(found.get("Cmd") or []),
        "working_dir": found.get("WorkingDir") or "",
        "user": found.get("User") or "",
    }


def image_record_key(repository: str, tag: str) -> str:
    return f"{IMAGE_RECORDS}/{repository}/{tag}.json"


def image_record_put(runtime, config: EcsConfig, repository: str, tag: str, record: dict) -> None:
    """Write an image's start record next to it (the files bucket): what ``start_argv`` reads at launch."""
    body = json.dumps({**record, "recorded_at": datetime.now(UTC).isoformat()}, sort_keys=True).encode()
    s3 = runtime.client("s3", config)
    with aws_errors(f"Recording the start command of {repository}:{tag}"):
        s3.put_object(
            Bucket=config.files_bucket,
            Key=image_record_key(repository, tag),
            Body=body,
            ContentType="application/json",
            ServerSideEncryption="AES256",
        )


def image_record(runtime, image: str, config: EcsConfig) -> dict | None:
    """Return the start record of an image in ECR (None: none was recorded), cached by its digest."""
    ref, repository, tag = ecr_reference(image, config.ecr_registry)
    ecr = runtime.client("ecr", config)
    with aws_errors(f"Looking up {image} in ECR"):
        details = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])["imageDetails"]
    key = (config.files_bucket, ref, details[0].get("imageDigest", "") if details else "")
    with _records_lock:
        if key[2] and key in _records:
            return _records[key]
    s3 = runtime.client("s3", config)
    try:
        body = s3.get_object(Bucket=config.files_bucket, Key=image_record_key(repository, tag))["Body"].read()
    except Exception as exc:
        # Without s3:ListBucket a missing object reads as AccessDenied.
        if error_code(exc) in ("NoSuchKey", "AccessDenied", "404", "403"):
            return None
        with aws_errors(f"Reading the start command of {image}"):
            raise
    record = json.loads(body)
    if key[2]:
        with _records_lock:
            _records[key] = record
    return record


def start_argv(record: dict, command: list[str] | None) -> list[str]:
    """What Docker runs: the entry point, then the given command or else the image's own."""
    return list(record.get("entrypoint") or []) + list(command or record.get("cmd") or [])


def wrapper_commands(runtime, spec, config: EcsConfig) -> dict[str, tuple[list[str], str]]:
    """Return machine -> (what the files wrapper execs, the image's user), for each machine with files.

    A machine without a command needs its image's start record (``ecr_push`` writes it); without
    one the launch fails before anything is made. A given command runs after the image's entry
    point when the record is there, as on Docker, and as it is otherwise.
    """
    commands: dict[str, tuple[list[str], str]] = {}
    for machine in spec.machines:
        if not machine.files:
            continue
        record = image_record(runtime, machine.image, config)
        if record is not None:
            commands[machine.name] = (start_argv(record, machine.command), record.get("user") or "")
        elif machine.command:
            commands[machine.name] = (list(machine.command), "")
        else:
            _ref, repository, tag = ecr_reference(machine.image, config.ecr_registry)
            raise RuntimeFailure(
                _(
                    "Machine %(machine)s gets files before start, so on ECS it runs behind a wrapper that must "
                    "know the start command of image %(image)s, and none is recorded (s3://%(bucket)s/%(key)s): "
                    "push the image again with `manage.py ecr_push %(image)s` to record its start command, or "
                    "give the machine a command."
                )
                % {
                    "machine": machine.name,
                    "image": machine.image,
                    "bucket": config.files_bucket,
                    "key": image_record_key(repository, tag),
                },
                permanent=True,
            )
    return commands
