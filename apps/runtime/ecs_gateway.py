"""The terminal path of EcsRuntime: one SSH gateway task per session, and terminals through it.

The gateway is the image of ``deploy/images/gateway`` (Debian's openssh-server; one key-only
login that may only forward to port 22), pushed to ECR like any lab image (``manage.py ecr_push
rangex/gateway:latest``). Per session:

* a security group of its own (tag ``rangex.gateway``) whose only ingress is TCP 22 from the web
  tier (``aws_ecs_gateway_source``: a security group id or a CIDR) and whose egress is closed;
* one Fargate task (0.25 vCPU, 0.5 GB) in that group **and in every group of the session**, so the
  groups' self-referencing rules let it reach each machine's port 22 and nothing new is opened;
* keys derived from SECRET_KEY, the instance and the session id (``GatewayKeys.derive``): any web
  process can open a terminal and no private key is stored. The gateway's host key and the
  authorized session key, and each machine's authorized key, travel in the launch's S3 bundle
  (presigned, fetched by the init container) into a volume: never in environment variables or a
  task definition. A machine gets the volume at ``/etc/ssh/sshd_config.d``: ``00-rangex.conf``
  adds ``rangex_authorized_keys`` next to it to sshd's ``AuthorizedKeysFile``, for every user, and
  the machine's own command is left alone. A machine whose image runs no sshd has no terminal.

``open_terminal`` then connects to the gateway's private address on port 22 (host key pinned) and
on to the machine's private address as the terminal user (``apps.runtime.gateway.SshTerminal``).
Without ``aws_ecs_gateway_source`` no gateway starts and ``open_terminal`` names that setting.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime

from django.conf import settings
from django.utils.translation import gettext as _

from apps.runtime.base import GatewayHandle, MachineSpec
from apps.runtime.ecs_aws import (
    FILES_VOLUME,
    INIT_CONTAINER,
    SSH_VOLUME,
    TAG_CREATED,
    TAG_GATEWAY,
    TAG_MACHINE,
    TAG_NETWORK,
    EcsConfig,
    aws_errors,
    error_code,
    fargate_size,
    group_tags,
    init_container,
    keep_only,
    task_ip,
    task_tags,
)
from apps.runtime.errors import RuntimeFailure
from apps.runtime.gateway import GATEWAY_DIR, GatewayKeys, SshTerminal
from apps.runtime.spec import FileSpec

GATEWAY_CPUS, GATEWAY_MEMORY_MB = 0.25, 512
GATEWAY_CONTAINER = "gateway"
GATEWAY_NETWORK = "rangex.gateway"  # the gateway's own group among the groups of its run request
# A task's network interface takes at most five security groups (the default quota).
MAX_TASK_GROUPS = 5
# What sshd needs to separate privileges and hand a pty over; Fargate's other defaults are dropped.
SSHD_CAPS = ("AUDIT_WRITE", "CHOWN", "FOWNER", "KILL", "NET_BIND_SERVICE", "SETGID", "SETUID", "SYS_CHROOT")
MACHINE_SSHD_CONF = "00-rangex.conf"
MACHINE_KEYS = "rangex_authorized_keys"


def is_gateway(tags: dict[str, str]) -> bool:
    return tags.get(TAG_GATEWAY) == "1"


def machine_tasks(tasks: list[dict]) -> list[dict]:
    """The session's machines, without its gateway."""
    return [t for t in tasks if not is_gateway(task_tags(t)) and TAG_MACHINE in task_tags(t)]


def network_groups(groups: list[dict]) -> list[dict]:
    """The security groups of the session's network groups, without the gateway's own."""
    return [g for g in groups if TAG_NETWORK in group_tags(g) and not is_gateway(group_tags(g))]


def gateway_task(tasks: list[dict]) -> dict | None:
    found = [t for t in tasks if is_gateway(task_tags(t)) and t.get("desiredStatus") != "STOPPED"]
    return max(found, key=lambda t: str(t.get("createdAt", "")), default=None)


def gateway_handle(tasks: list[dict]) -> GatewayHandle | None:
    task = gateway_task(tasks)
    return GatewayHandle(id=task["taskArn"], ip=task_ip(task)) if task else None


def session_keys(instance: str, session_id: str) -> GatewayKeys:
    """The session's gateway keys, the same in every web process (derived, never stored)."""
    return GatewayKeys.derive(settings.SECRET_KEY, session_id, instance=instance)


def machine_key_files(keys: GatewayKeys) -> list[FileSpec]:
    """What a machine's ssh volume holds: an sshd drop-in and the session's authorized key."""
    conf = f"AuthorizedKeysFile .ssh/authorized_keys .ssh/authorized_keys2 /etc/ssh/sshd_config.d/{MACHINE_KEYS}\n"
    return [
        FileSpec(MACHINE_SSHD_CONF, conf.encode(), 0o644),
        FileSpec(MACHINE_KEYS, (keys.client_public + "\n").encode(), 0o644),
    ]


def gateway_key_files(keys: GatewayKeys) -> list[FileSpec]:
    """The gateway's host key and authorized key, named inside its ssh volume (``/run/gateway``)."""
    return [FileSpec(f.path.removeprefix(GATEWAY_DIR + "/"), f.content, f.mode) for f in keys.gateway_files()]


def gateway_task_definition(image: str, config: EcsConfig) -> dict:
    """The gateway's task definition: the same for every session (nothing per launch in it)."""
    cpu, memory = fargate_size(GATEWAY_CPUS, GATEWAY_MEMORY_MB)
    gateway = {
        "name": GATEWAY_CONTAINER,
        "image": image,
        "essential": True,
        "memoryReservation": 128,
        "portMappings": [{"containerPort": 22, "protocol": "tcp"}],
        "linuxParameters": {"capabilities": keep_only(*SSHD_CAPS), "initProcessEnabled": True},
        "mountPoints": [{"sourceVolume": SSH_VOLUME, "containerPath": GATEWAY_DIR}],
        "dependsOn": [{"containerName": INIT_CONTAINER, "condition": "SUCCESS"}],
    }
    body = {
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": str(cpu),
        "memory": str(memory),
        "executionRoleArn": config.execution_role_arn,
        "containerDefinitions": [gateway, init_container(config, ssh=True)],
        "volumes": [{"name": FILES_VOLUME}, {"name": SSH_VOLUME}],
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return {"family": f"rangex-gateway-{digest[:24]}", **body}


def source_permission(source: str) -> dict:
    """The gateway group's one ingress rule: TCP 22 from the web tier's group or network."""
    rule: dict = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22}
    description = "RangeX web tier (terminals)"
    if source.startswith("sg-"):
        rule["UserIdGroupPairs"] = [{"GroupId": source, "Description": description}]
    elif ":" in source:
        rule["Ipv6Ranges"] = [{"CidrIpv6": source, "Description": description}]
    else:
        rule["IpRanges"] = [{"CidrIp": source, "Description": description}]
    return rule


def gateway_terminal(
    instance: str, session_id: str, *, gateway_ip: str, machine_ip: str, user: str, cols: int = 80, rows: int = 24
) -> SshTerminal:
    """Open a shell on ``machine_ip`` through the gateway at ``gateway_ip``:22 with the session's derived keys."""
    try:
        return SshTerminal.open(
            gateway_host=gateway_ip,
            keys=session_keys(instance, session_id),
            machine_host=machine_ip,
            user=user,
            cols=cols,
            rows=rows,
        )
    except RuntimeFailure as exc:
        raise RuntimeFailure(
            _("%(error)s (on ECS a machine's terminal needs an SSH server on port 22 in its image)")
            % {"error": exc.message},
            permanent=exc.permanent,
        ) from exc


class GatewayMixin:
    """EcsRuntime's gateway: made in ``launch``, removed by ``stop`` and the sweep (it carries the tags)."""

    def machine_ssh_files(self, session_id: str, config: EcsConfig) -> list[FileSpec]:
        """What each machine's ssh volume gets (nothing when the gateway is not configured)."""
        return machine_key_files(session_keys(self.instance, session_id)) if config.gateway_source else []

    def gateway_start(
        self, spec, config: EcsConfig, vpc: str, groups: dict[str, str], bundles: list[str]
    ) -> str | None:
        """Start (or adopt) the session's gateway; return its task ARN (None: no gateway configured)."""
        if not config.gateway_source:
            return None
        if len(groups) + 1 > MAX_TASK_GROUPS:
            raise RuntimeFailure(
                _(
                    "This lab has %(count)d network groups; on ECS its terminal gateway joins all of them plus "
                    "its own, and a task takes at most %(max)d security groups."
                )
                % {"count": len(groups), "max": MAX_TASK_GROUPS},
                permanent=True,
            )
        image = self.ecr_image(config.gateway_image, config)
        own = self._gateway_group(spec, config, vpc)
        found = gateway_task(self._session_tasks(spec.session_id))
        if found is not None:
            return found["taskArn"]
        definition = self._ensure_task_definition(gateway_task_definition(image, config), config)
        machine = MachineSpec(
            name=GATEWAY_CONTAINER, image=image, role="gateway", networks=[*sorted(groups), GATEWAY_NETWORK]
        )
        keys = gateway_key_files(session_keys(self.instance, spec.session_id))
        return self._run_task(spec, machine, definition, {**groups, GATEWAY_NETWORK: own}, config, bundles, ssh=keys)

    def _gateway_group(self, spec, config: EcsConfig, vpc: str) -> str:
        """The gateway's own security group: TCP 22 from the web tier in, nothing out."""
        ec2 = self.client("ec2", config)
        existing = [g for g in self._session_groups(spec.session_id, config) if is_gateway(group_tags(g))]
        if existing:
            group_id = existing[0]["GroupId"]
        else:
            tags = {**self._base_tags(spec), TAG_GATEWAY: "1", TAG_CREATED: datetime.now(UTC).isoformat()}
            with aws_errors("Creating the security group of the terminal gateway"):
                group_id = ec2.create_security_group(
                    GroupName=f"rangex-{spec.session_id[:12]}-gateway-{secrets.token_hex(3)}",
                    Description=f"RangeX lab {spec.session_id} terminal gateway",
                    VpcId=vpc,
                    TagSpecifications=[
                        {"ResourceType": "security-group", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
                    ],
                )["GroupId"]
        calls = [
            (ec2.authorize_security_group_ingress, source_permission(config.gateway_source)),
            (ec2.revoke_security_group_egress, {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}),
        ]
        for call, permission in calls:
            try:
                call(GroupId=group_id, IpPermissions=[permission])
            except Exception as exc:
                # A retried launch finds the rule already there (or the default one gone).
                if error_code(exc) in ("InvalidPermission.Duplicate", "InvalidPermission.NotFound"):
                    continue
                with aws_errors(f"Setting the rules of security group {group_id}"):
                    raise
        return group_id

    def open_terminal(self, session_id, machine, *, user="root", cols=80, rows=24):
        """A shell in ``machine`` as ``user``: SSH to the gateway, then on to the machine's sshd."""
        config = self._configured()
        tasks = self._session_tasks(session_id)
        target = next((t for t in machine_tasks(tasks) if task_tags(t).get(TAG_MACHINE) == machine), None)
        if target is None:
            raise RuntimeFailure(_("The session has no machine %(machine)r.") % {"machine": machine}, permanent=True)
        if not config.gateway_source:
            raise RuntimeFailure(
                _("Terminals on ECS need the web tier's address: set aws_ecs_gateway_source in System settings."),
                permanent=True,
            )
        gateway = gateway_handle(tasks)
        if gateway is None or not gateway.ip or not task_ip(target):
            raise RuntimeFailure(_("The session's terminal gateway is not running yet; try again in a moment."))
        return gateway_terminal(
            self.instance,
            session_id,
            gateway_ip=gateway.ip,
            machine_ip=task_ip(target),
            user=user,
            cols=cols,
            rows=rows,
        )

    def session_hourly_price_usd(self):
        """The gateway task's Fargate price, when this install starts gateways."""
        if not self.config().gateway_source:
            return None
        return self.hourly_price_usd(cpus=GATEWAY_CPUS, memory_mb=GATEWAY_MEMORY_MB)
