"""What EcsRuntime needs around boto3: its configuration, clients, error words and task definitions.

Nothing here keeps state between calls except the boto3 clients, which are rebuilt when the
configuration changes (an admin edits the ``aws_*`` system settings: no restart needed).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import shlex
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from apps.runtime.errors import RuntimeFailure
from apps.runtime.spec import SCRATCH_PATHS, FileSpec, MachineSpec

# Throttling and transient errors are retried by botocore itself, with backoff that adapts to
# the rate AWS accepts; what still fails after that reaches us as an error.
RETRIES = Config(retries={"mode": "adaptive", "max_attempts": 8}, connect_timeout=10, read_timeout=60)

# Error codes a retry cannot fix: the set-up is wrong and an admin has to act.
PERMANENT_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "AuthFailure",
    "ClientException",
    "ClusterNotFoundException",
    "ImageNotFoundException",
    "InvalidGroup.NotFound",
    "InvalidParameterException",
    "InvalidParameterValue",
    "InvalidSubnetID.NotFound",
    "InvalidVpcID.NotFound",
    "NoSuchBucket",
    "NoSuchEntity",
    "RepositoryNotFoundException",
    "RulesPerSecurityGroupLimitExceeded",
    "SecurityGroupLimitExceeded",
    "UnauthorizedOperation",
}

# Fargate's valid task sizes: CPU units -> the memory (MiB) it accepts.
FARGATE_SIZES: dict[int, list[int]] = {
    256: [512, 1024, 2048],
    512: list(range(1024, 4097, 1024)),
    1024: list(range(2048, 8193, 1024)),
    2048: list(range(4096, 16385, 1024)),
    4096: list(range(8192, 30721, 1024)),
    8192: list(range(16384, 61441, 4096)),
    16384: list(range(32768, 122881, 8192)),
}

TAG_INSTANCE = "rangex.instance"
TAG_SESSION = "rangex.session"
TAG_MACHINE = "rangex.machine"
TAG_NETWORK = "rangex.network"
TAG_NETWORKS = "rangex.networks"
TAG_ROLE = "rangex.role"
TAG_EXPIRES = "rangex.expires_at"
TAG_CREATED = "rangex.created_at"
TAG_MANAGED = "rangex.managed"
TAG_GATEWAY = "rangex.gateway"  # "1" on a session's SSH gateway task and its own security group
STOP_REASON = "rangex: removed"

MACHINE_CONTAINER = "machine"
INIT_CONTAINER = "rangex-init"
FILES_VOLUME = "rangex-files"
FILES_MOUNT = "/run/rangex"
# The session's SSH key (and the gateway's host key) go into a volume of their own, unpacked from
# the same bundle's ssh/ folder and mounted where sshd reads it: no change to the machine's command.
SSH_VOLUME = "rangex-ssh"
SSH_MOUNT = "/etc/ssh/sshd_config.d"
# The machine's own first process copies the delivered files into place, runs the owners script
# (names resolve in the machine), removes the copies and becomes the machine's command.
WRAPPER = (
    f"set -e; cp -a {FILES_MOUNT}/files/. /; if [ -f {FILES_MOUNT}/owners ]; then sh {FILES_MOUNT}/owners; fi; "
    f'rm -rf {FILES_MOUNT}/files {FILES_MOUNT}/owners; exec "$@"'
)
# An image (or machine) user other than root: the container starts as root with only the
# capabilities placing the files needs (WRAPPER_CAPS), and the wrapper then becomes that user with
# util-linux setpriv, clearing the inheritable and bounding sets, so the lab process holds none.
# Its first three arguments: user, group (empty: the user's own) and the bounding set to keep.
WRAPPER_CAPS = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETPCAP", "SETUID")
WRAPPER_AS = (
    'set -e; u=$1; g=$2; b=$3; shift 3; case "$(setpriv --help 2>&1)" in *--reuid*) ;; '
    '*) echo "rangex: this image has no util-linux setpriv, so the files wrapper cannot become user $u;'
    ' install util-linux in the image or run the machine as root" >&2; exit 126;; esac; '
    f"cp -a {FILES_MOUNT}/files/. /; if [ -f {FILES_MOUNT}/owners ]; then sh {FILES_MOUNT}/owners; fi; "
    f'rm -rf {FILES_MOUNT}/files {FILES_MOUNT}/owners; k=--init-groups; id "$u" >/dev/null 2>&1 || k=--clear-groups; '
    # A uid with no passwd entry gets group 0 and no supplementary groups, as on Docker.
    '[ -n "$g" ] || g=$(id -g "$u" 2>/dev/null) || g=0; '
    'exec setpriv --reuid="$u" --regid="$g" "$k" --inh-caps=-all --bounding-set="$b" -- "$@"'
)
ROOT_USERS = ("", "root", "0")


def wrapper_user(user: str) -> tuple[str, str] | None:
    """(user, group) the files wrapper drops to; None when the machine runs as root anyway."""
    name, _sep, group = (user or "").partition(":")
    return None if name in ROOT_USERS else (name, group)


# The init container fetches the bundle from the presigned URL ($0) into the shared volume.
FETCH = (
    f'set -e; wget -q -O /tmp/bundle.tar "$0"; tar -x -f /tmp/bundle.tar -C {FILES_MOUNT}; '
    f"if [ -d {FILES_MOUNT}/ssh ]; then chmod 0755 {FILES_MOUNT}/ssh; fi"
)
DEFAULT_INIT_IMAGE = "public.ecr.aws/docker/library/busybox:stable"
PRESIGN_SECONDS = 300


@dataclass(frozen=True)
class EcsConfig:
    """Where and how labs run on AWS; read from the system settings unless given to the runtime."""

    region: str = ""
    cluster: str = ""
    subnets: tuple[str, ...] = ()
    endpoint_security_groups: tuple[str, ...] = ()  # interface endpoints the tasks may reach on 443
    execution_role_arn: str = ""
    ecr_registry: str = ""
    files_bucket: str = ""
    init_image: str = DEFAULT_INIT_IMAGE
    gateway_source: str = ""  # the web tier (sg-... or CIDR) each session's SSH gateway admits on port 22
    gateway_image: str = "rangex/gateway:latest"

    def missing(self) -> list[str]:
        wanted = {
            "aws_region": self.region,
            "aws_ecs_cluster_name": self.cluster,
            "aws_ecs_subnet_ids": self.subnets,
            "aws_ecs_execution_role_arn": self.execution_role_arn,
            "aws_ecr_registry": self.ecr_registry,
        }
        return [name for name, value in wanted.items() if not value]

    @property
    def role_name(self) -> str:
        return self.execution_role_arn.rsplit("/", 1)[-1]


def split_ids(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in re.split(r"[,\s]+", text or "") if part.strip())


def config_from_settings() -> EcsConfig:
    """Return the configuration the admin set in System settings (cached until the next save)."""
    from rangex.core.system import get_settings

    row = get_settings()
    return EcsConfig(
        region=row.aws_region,
        cluster=row.aws_ecs_cluster_name,
        subnets=split_ids(row.aws_ecs_subnet_ids),
        endpoint_security_groups=split_ids(row.aws_ecs_security_group_ids),
        execution_role_arn=row.aws_ecs_execution_role_arn,
        ecr_registry=row.aws_ecr_registry.strip().removeprefix("https://").rstrip("/"),
        files_bucket=row.aws_ecs_files_bucket,
        init_image=row.aws_ecs_init_image or DEFAULT_INIT_IMAGE,
        gateway_source=row.aws_ecs_gateway_source.strip(),
    )


class Clients:
    """boto3 clients for one configuration; credentials come from the environment (never the database)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._region = ""
        self._clients: dict[str, object] = {}

    def get(self, service: str, region: str):
        with self._lock:
            if region != self._region:
                self._clients.clear()
                self._region = region
            client = self._clients.get(service)
            if client is None:
                client = boto3.session.Session().client(service, region_name=region or None, config=RETRIES)
                self._clients[service] = client
            return client


def task_tags(task: dict) -> dict[str, str]:
    return {t["key"]: t["value"] for t in task.get("tags", [])}


def group_tags(group: dict) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in group.get("Tags", [])}


def task_ip(task: dict) -> str:
    for attachment in task.get("attachments", []):
        for detail in attachment.get("details", []):
            if detail.get("name") == "privateIPv4Address":
                return detail["value"]
    return ""


def error_code(exc: Exception) -> str:
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


@contextlib.contextmanager
def aws_errors(what: str, *, hint: str = "") -> Iterator[None]:
    """Turn boto3 errors into RuntimeFailure: permanent for set-up errors, transient otherwise."""
    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        message = exc.response.get("Error", {}).get("Message", "") or str(exc)
        text = f"{what}: AWS said {code}: {message}"
        if hint:
            text += f" {hint}"
        raise RuntimeFailure(text, permanent=code in PERMANENT_CODES) from exc
    except BotoCoreError as exc:
        raise RuntimeFailure(f"{what}: {exc}", permanent=False) from exc


def fargate_size(cpus: float, memory_mb: int) -> tuple[int, int]:
    """Return the smallest valid Fargate (CPU units, MiB) that holds ``cpus`` and ``memory_mb``."""
    units = max(1, round(cpus * 1024))
    for cpu, memories in FARGATE_SIZES.items():
        if cpu < units:
            continue
        for memory in memories:
            if memory >= memory_mb:
                return cpu, memory
    raise RuntimeFailure(
        f"{cpus:g} vCPU with {memory_mb} MiB is larger than any Fargate task (16 vCPU, 120 GiB).", permanent=True
    )


def ecr_reference(image: str, registry: str) -> tuple[str, str, str]:
    """Return (full reference, repository, tag) of an image in the ECR registry.

    A local name (``rangex/busybox:latest``) maps to the repository of the same name in ECR, as
    ``manage.py ecr_push`` pushes it; a reference already in the registry is used as it is.
    """
    first, sep, rest = image.partition("/")
    name = rest if sep and ("." in first or ":" in first or first == "localhost") else image
    name = name.split("@", 1)[0]
    if ":" in name.rsplit("/", 1)[-1]:
        repository, tag = name.rsplit(":", 1)
    else:
        repository, tag = name, "latest"
    return f"{registry}/{repository}:{tag}", repository, tag


def task_definition(
    machine: MachineSpec,
    *,
    image: str,
    config: EcsConfig,
    with_files: bool,
    ssh: bool = False,
    start: tuple[list[str], str] | list[str] | None = None,
) -> dict:
    """Return the register_task_definition arguments for a machine (nothing per launch in them).

    ``ssh``: the session has a gateway; the machine's sshd finds the session key in ``SSH_MOUNT``.
    ``start``: with files, what the wrapper execs (``ecr.wrapper_commands``: the image's entry point
    and command as Docker would run them, with the image's user); an empty one sleeps. A user other
    than root (the machine's or else the image's) makes the container start as root and the wrapper
    drop to that user and clear every capability (``WRAPPER_AS``).
    """
    argv, image_user = start if isinstance(start, tuple) else (start, "")
    cpu, memory = fargate_size(machine.cpus, machine.memory_mb)
    main: dict = {
        "name": MACHINE_CONTAINER,
        "image": image,
        "essential": True,
        "memoryReservation": machine.memory_mb,
        "linuxParameters": {
            "capabilities": {"drop": ["ALL"], "add": sorted(c.upper().removeprefix("CAP_") for c in machine.cap_add)},
            "initProcessEnabled": True,
        },
        "readonlyRootFilesystem": machine.read_only_root,
        "environment": [{"name": k, "value": v} for k, v in sorted(machine.env.items())],
    }
    if machine.user:
        main["user"] = machine.user
    command = list(machine.command or [])
    containers = [main]
    volumes: list[dict] = []
    if with_files:
        # ECS cannot splice an image's ENTRYPOINT/CMD into ours: the wrapper execs what the
        # image's start record says Docker would run (resolved before, at launch).
        main["entryPoint"] = ["/bin/sh", "-c", WRAPPER, "rangex-start"]
        command = (command if argv is None else list(argv)) or ["sleep", "infinity"]
        drop_to = wrapper_user(machine.user or image_user)
        if drop_to is not None:
            added = sorted(c.upper().removeprefix("CAP_") for c in machine.cap_add)
            main["user"] = "0"
            main["entryPoint"] = ["/bin/sh", "-c", WRAPPER_AS, "rangex-start"]
            main["linuxParameters"]["capabilities"] = {**keep_only(*WRAPPER_CAPS, *added), "add": added}
            bounding = ",".join(["-all"] + [f"+{c.lower()}" for c in added])
            command = [*drop_to, bounding, *command]
        main["mountPoints"] = [{"sourceVolume": FILES_VOLUME, "containerPath": FILES_MOUNT}]
    if ssh:
        main.setdefault("mountPoints", []).append(
            {"sourceVolume": SSH_VOLUME, "containerPath": SSH_MOUNT, "readOnly": True}
        )
    if machine.read_only_root:
        # Fargate offers no tmpfs: task volumes (on the task's ephemeral storage) are the scratch space.
        for path in SCRATCH_PATHS:
            name = "scratch" + path.replace("/", "-")
            main.setdefault("mountPoints", []).append({"sourceVolume": name, "containerPath": path})
            volumes.append({"name": name})
    if with_files or ssh:
        main["dependsOn"] = [{"containerName": INIT_CONTAINER, "condition": "SUCCESS"}]
        containers.append(init_container(config, ssh=ssh))
        volumes += [{"name": FILES_VOLUME}] + ([{"name": SSH_VOLUME}] if ssh else [])
    if command:
        main["command"] = command
    body = {
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": str(cpu),
        "memory": str(memory),
        "executionRoleArn": config.execution_role_arn,
        "containerDefinitions": containers,
        "volumes": volumes,
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return {"family": f"rangex-{digest[:24]}", **body}


# What Fargate gives a container unless dropped; it can add nothing but SYS_PTRACE, so helper
# containers keep what they need by dropping the rest.
FARGATE_DEFAULT_CAPS = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "NET_RAW",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
]


def keep_only(*needed: str) -> dict:
    return {"drop": sorted(set(FARGATE_DEFAULT_CAPS) - set(needed))}


def init_container(config: EcsConfig, *, ssh: bool) -> dict:
    """The container that fetches the launch's bundle (presigned URL) into the shared volumes."""
    mounts = [{"sourceVolume": FILES_VOLUME, "containerPath": FILES_MOUNT}]
    if ssh:
        mounts.append({"sourceVolume": SSH_VOLUME, "containerPath": f"{FILES_MOUNT}/ssh"})
    return {
        "name": INIT_CONTAINER,
        "image": config.init_image,
        "essential": False,
        "memory": 64,
        "entryPoint": ["/bin/sh", "-c"],
        "command": [FETCH],
        "linuxParameters": {"capabilities": keep_only("CHOWN", "FOWNER", "DAC_OVERRIDE")},
        "mountPoints": mounts,
    }


def files_bundle(files: list[FileSpec], *, ssh: list[FileSpec] = ()) -> bytes:
    """Return a tar of the machine's files under files/, an owners script for names, and ``ssh``
    (names relative to the ssh volume) under ssh/."""
    buffer = io.BytesIO()
    owners: list[str] = []
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for spec in ssh:
            info = tarfile.TarInfo(f"ssh/{spec.path.lstrip('/')}")
            info.size, info.mode = len(spec.content), spec.mode
            tar.addfile(info, io.BytesIO(spec.content))
        for spec in files:
            info = tarfile.TarInfo(f"files/{spec.path.lstrip('/')}")
            info.size = len(spec.content)
            info.mode = spec.mode
            tar.addfile(info, io.BytesIO(spec.content))
            if spec.owner not in ("root", "0", "0:0", "root:root"):
                owners.append(f"chown {shlex.quote(spec.owner)} {shlex.quote(spec.path)}")
                # Parent folders a file creates belong to its owner, as on Docker.
                owners.append(f"chown {shlex.quote(spec.owner)} {shlex.quote(spec.path.rsplit('/', 1)[0] or '/')}")
        script = ("\n".join(owners) + "\n").encode() if owners else b""
        if script:
            info = tarfile.TarInfo("owners")
            info.size = len(script)
            info.mode = 0o600
            tar.addfile(info, io.BytesIO(script))
    return buffer.getvalue()
