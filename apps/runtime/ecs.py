"""EcsRuntime: labs as AWS ECS Fargate tasks, one task per machine, network groups as security groups.

How a session maps onto AWS
---------------------------
* Each network group is a security group in the VPC of the configured subnets. Its ingress and
  egress allow only members of the same group (self-referencing rules), plus HTTPS to the
  configured interface endpoints (ECR, S3, logs) so tasks can pull images and fetch their files.
  A group with ``egress`` keeps the default rule to 0.0.0.0/0. A machine on two groups (a pivot)
  gets both security groups: the attacker reaches the pivot and only the pivot reaches the victim.
* Each machine is one Fargate task in the private subnets (no public address), its task
  definition registered once per content (family ``rangex-<sha256>``) and reused.
* Files before start (dynamic flags) never go into the environment or the task definition: they
  are put as a tar in S3, and the task's init container fetches it through a presigned URL valid
  for five minutes (the only per-launch value, in the run request's command override) into a
  volume shared with the machine, whose first process copies them into place and removes them.
  The S3 object is deleted as soon as the task runs.
* Terminals: one SSH gateway task per session (``ecs_gateway``), in every group of the session plus
  a group of its own that admits only the web tier on port 22.
* Everything carries the tags ``rangex.instance``, ``rangex.session``, ``rangex.machine``,
  ``rangex.expires_at``; the orphan sweep lists by them.

Fargate cannot freeze a task, run a command in it without the SSM agent, or restart one in
place: the capabilities say so, and pages hide what does not work. Configuration comes from the
``aws_*`` system settings at each call (an admin's change takes effect without a restart), AWS
credentials from the environment (the standard boto3 chain: role, env vars, profile).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
import time
from datetime import UTC, datetime

from django.utils.translation import gettext as _

from apps.runtime.base import (
    Capabilities,
    LaunchResult,
    LaunchSpec,
    LaunchStage,
    MachineHandle,
    MachineState,
    ManagedResource,
    NetworkHandle,
    Progress,
    ProgressMessage,
    ReadyCheck,
    ResourceKind,
    Runtime,
    TerminalTransport,
    validate_spec,
)
from apps.runtime.ecr import wrapper_commands
from apps.runtime.ecs_aws import (
    FETCH,
    INIT_CONTAINER,
    PRESIGN_SECONDS,
    STOP_REASON,
    TAG_CREATED,
    TAG_EXPIRES,
    TAG_GATEWAY,
    TAG_INSTANCE,
    TAG_MACHINE,
    TAG_MANAGED,
    TAG_NETWORK,
    TAG_NETWORKS,
    TAG_ROLE,
    TAG_SESSION,
    Clients,
    EcsConfig,
    aws_errors,
    config_from_settings,
    ecr_reference,
    error_code,
    fargate_size,
    files_bundle,
    task_definition,
)
from apps.runtime.ecs_aws import group_tags as _ec2_tags
from apps.runtime.ecs_aws import task_ip as _task_ip
from apps.runtime.ecs_aws import task_tags as _tags
from apps.runtime.ecs_gateway import GatewayMixin, gateway_handle, machine_tasks, network_groups
from apps.runtime.errors import ForeignResource, RuntimeFailure

logger = logging.getLogger(__name__)

ECS_STATES = {
    "PROVISIONING": MachineState.STARTING,
    "PENDING": MachineState.STARTING,
    "ACTIVATING": MachineState.STARTING,
    "RUNNING": MachineState.RUNNING,
    "DEACTIVATING": MachineState.EXITED,
    "STOPPING": MachineState.EXITED,
    "DEPROVISIONING": MachineState.EXITED,
    "STOPPED": MachineState.EXITED,
}


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


class EcsRuntime(GatewayMixin, Runtime):
    name = "ecs"
    capabilities = Capabilities(
        can_pause=False,
        files_before_start=True,
        terminal=TerminalTransport.SSH_GATEWAY,
        egress_networks=True,
        read_only_root=True,
    )

    def __init__(self, *, key: str | None = None, instance: str | None = None, config: dict | None = None):
        super().__init__(key=key, instance=instance)
        self._fixed = EcsConfig(**config) if config else None
        self._clients = Clients()
        self._families: dict[str, str] = {}

    # --- configuration and clients ------------------------------------------------------------
    def config(self) -> EcsConfig:
        """Return the configuration in force now (the system settings unless fixed at construction)."""
        return self._fixed or config_from_settings()

    def client(self, service: str, config: EcsConfig | None = None):
        return self._clients.get(service, (config or self.config()).region)

    def _configured(self) -> EcsConfig:
        config = self.config()
        missing = config.missing()
        if missing:
            raise RuntimeFailure(
                f"AWS is not configured for labs: set {', '.join(missing)} in System settings.", permanent=True
            )
        return config

    def started_by(self, session_id: str) -> str:
        """Return the ``startedBy`` of a session's tasks: lists them without a scan of the cluster."""
        instance = hashlib.sha256(self.instance.encode()).hexdigest()[:8]
        return f"rx-{instance}-{session_id}"[:128]

    def _base_tags(self, spec: LaunchSpec) -> dict[str, str]:
        tags = {str(k): str(v) for k, v in spec.labels.items()}
        tags.update(
            {
                TAG_INSTANCE: self.instance,
                TAG_SESSION: spec.session_id,
                TAG_EXPIRES: spec.expires_at.isoformat(),
                TAG_MANAGED: "1",
            }
        )
        return tags

    # --- launch ---------------------------------------------------------------------------
    def launch(self, spec: LaunchSpec, *, progress: Progress | None = None) -> LaunchResult:
        validate_spec(spec, read_only_root=self.capabilities.read_only_root)
        config = self._configured()
        step = [0]
        total = 3 + 3 * len(spec.machines)

        def report(stage: LaunchStage, text: str, machine: str = "") -> None:
            step[0] += 1
            if progress is not None:
                progress(step[0], total, ProgressMessage(text, stage=stage, machine=machine))

        bundles: list[str] = []
        try:
            vpc, images = self.preflight(spec, config)
            starts = wrapper_commands(self, spec, config)
            report(LaunchStage.IMAGES, "Images found in ECR")
            groups = self._ensure_groups(spec, config, vpc)
            report(LaunchStage.NETWORKS, "Security groups ready")
            self.gateway_start(spec, config, vpc, groups, bundles)
            running = {_tags(t).get(TAG_MACHINE): t for t in self._session_tasks(spec.session_id)}
            definitions = {}
            for machine in spec.machines:
                body = task_definition(
                    machine,
                    image=images[machine.name],
                    config=config,
                    with_files=bool(machine.files),
                    ssh=bool(config.gateway_source),
                    start=starts.get(machine.name),
                )
                definitions[machine.name] = self._ensure_task_definition(body, config)
                report(LaunchStage.CREATED, f"Machine {machine.name} defined", machine.name)
            for machine in spec.machines:
                if machine.name not in running:
                    self._run_task(spec, machine, definitions[machine.name], groups, config, bundles)
                report(LaunchStage.STARTED, f"Machine {machine.name} started", machine.name)
            self.wait_ready(
                spec.session_id,
                machines=[m.name for m in spec.machines],
                progress=lambda s, t, message: report(LaunchStage.READY, message, message.machine),
            )
            result = self.describe(spec.session_id)
            report(LaunchStage.ADDRESSES, "Addresses read")
        except Exception as exc:
            logger.warning("ECS launch of session %s failed, removing what was made: %s", spec.session_id, exc)
            with contextlib.suppress(RuntimeFailure):
                self.stop(spec.session_id)
            if isinstance(exc, RuntimeFailure):
                raise
            raise RuntimeFailure(f"Launch failed: {exc}", permanent=False) from exc
        finally:
            self._delete_bundles(config, bundles)
        return result

    def preflight(self, spec: LaunchSpec, config: EcsConfig) -> tuple[str, dict[str, str]]:
        """Check what a launch needs before anything is made; return the VPC and machine -> ECR image.

        Each missing piece is a permanent failure that names what to fix.
        """
        ecs, ec2 = self.client("ecs", config), self.client("ec2", config)
        with aws_errors(f"Reading ECS cluster {config.cluster}"):
            clusters = ecs.describe_clusters(clusters=[config.cluster]).get("clusters", [])
        if not clusters or clusters[0].get("status") != "ACTIVE":
            raise RuntimeFailure(
                f"ECS cluster {config.cluster} does not exist in {config.region}: create it or correct "
                "aws_ecs_cluster_name in System settings.",
                permanent=True,
            )
        try:
            subnets = ec2.describe_subnets(SubnetIds=list(config.subnets))["Subnets"]
        except Exception as exc:
            if error_code(exc) == "InvalidSubnetID.NotFound":
                raise RuntimeFailure(
                    f"Subnet not found in {config.region} ({', '.join(config.subnets)}): correct aws_ecs_subnet_ids "
                    "in System settings.",
                    permanent=True,
                ) from exc
            with aws_errors("Reading the lab subnets"):
                raise
        if len({s["VpcId"] for s in subnets}) != 1:
            raise RuntimeFailure("The lab subnets must all be in one VPC (aws_ecs_subnet_ids).", permanent=True)
        try:
            self.client("iam", config).get_role(RoleName=config.role_name)
        except Exception as exc:
            if error_code(exc) == "NoSuchEntity":
                raise RuntimeFailure(
                    f"The ECS task execution role {config.execution_role_arn} does not exist: create it (README, "
                    "Running labs on AWS) or correct aws_ecs_execution_role_arn in System settings.",
                    permanent=True,
                ) from exc
            with aws_errors("Reading the task execution role"):
                raise
        if (config.gateway_source or any(m.files for m in spec.machines)) and not config.files_bucket:
            raise RuntimeFailure(
                "This lab writes files before start: set aws_ecs_files_bucket in System settings.", permanent=True
            )
        images: dict[str, str] = {}
        checked: dict[str, str] = {}
        for machine in spec.machines:
            if machine.image not in checked:
                checked[machine.image] = self.ecr_image(machine.image, config)
            images[machine.name] = checked[machine.image]
        return subnets[0]["VpcId"], images

    def ecr_image(self, image: str, config: EcsConfig) -> str:
        """Return the ECR reference of ``image``; refused permanently, with the push command, when it is not there."""
        ref, repository, tag = ecr_reference(image, config.ecr_registry)
        try:
            self.client("ecr", config).describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
        except Exception as exc:
            if error_code(exc) in ("RepositoryNotFoundException", "ImageNotFoundException"):
                raise RuntimeFailure(
                    f"Image {image} is not in ECR ({repository}:{tag} in {config.ecr_registry}): push it with "
                    f"`manage.py ecr_push {image}` before a lab that uses it runs on ECS.",
                    permanent=True,
                ) from exc
            with aws_errors(f"Looking up {image} in ECR"):
                raise
        return ref

    def _ensure_groups(self, spec: LaunchSpec, config: EcsConfig, vpc: str) -> dict[str, str]:
        """Create (or adopt) one security group per network group; return group -> security group id."""
        ec2 = self.client("ec2", config)
        existing = {_ec2_tags(g).get(TAG_NETWORK): g["GroupId"] for g in self._session_groups(spec.session_id, config)}
        ids: dict[str, str] = {}
        for net in spec.networks:
            group_id = existing.get(net.name)
            if group_id is None:
                tags = {**self._base_tags(spec), TAG_NETWORK: net.name, TAG_CREATED: datetime.now(UTC).isoformat()}
                name = f"rangex-{spec.session_id[:12]}-{net.name}-{secrets.token_hex(3)}"
                with aws_errors(f"Creating security group for network {net.name}"):
                    group_id = ec2.create_security_group(
                        GroupName=name,
                        Description=f"RangeX lab {spec.session_id} network {net.name}",
                        VpcId=vpc,
                        TagSpecifications=[
                            {
                                "ResourceType": "security-group",
                                "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
                            }
                        ],
                    )["GroupId"]
            self._apply_rules(ec2, group_id, egress=net.egress, config=config)
            ids[net.name] = group_id
        return ids

    def _apply_rules(self, ec2, group_id: str, *, egress: bool, config: EcsConfig) -> None:
        """Members of the group reach each other, nothing else reaches them; egress only where allowed."""
        members = [{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": group_id}]}]
        endpoints = [
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": sg}]}
            for sg in config.endpoint_security_groups
        ]
        anywhere = [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
        calls = [
            (ec2.authorize_security_group_ingress, members),
            (ec2.authorize_security_group_egress, members + endpoints),
        ]
        if not egress:
            calls.append((ec2.revoke_security_group_egress, anywhere))
        for call, permissions in calls:
            for permission in permissions:
                try:
                    call(GroupId=group_id, IpPermissions=[permission])
                except Exception as exc:
                    # A retried launch finds the rules already there (or the default one gone).
                    if error_code(exc) in ("InvalidPermission.Duplicate", "InvalidPermission.NotFound"):
                        continue
                    with aws_errors(f"Setting the rules of security group {group_id}"):
                        raise

    def _ensure_task_definition(self, body: dict, config: EcsConfig) -> str:
        family = body["family"]
        cache_key = f"{config.region}:{family}"
        if cache_key in self._families:
            return self._families[cache_key]
        ecs = self.client("ecs", config)
        arn = ""
        try:
            found = ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]
            if found.get("status") == "ACTIVE":
                arn = found["taskDefinitionArn"]
        except Exception as exc:
            if error_code(exc) not in ("ClientException", "InvalidParameterException"):
                with aws_errors(f"Reading task definition {family}"):
                    raise
        if not arn:
            with aws_errors(f"Registering task definition {family}"):
                arn = ecs.register_task_definition(**body, tags=[{"key": TAG_MANAGED, "value": "1"}])["taskDefinition"][
                    "taskDefinitionArn"
                ]
        self._families[cache_key] = arn
        return arn

    def _run_task(self, spec, machine, definition: str, groups, config: EcsConfig, bundles, *, ssh=None) -> str:
        """Run one machine's task (or, with ``ssh`` given and role "gateway", the session's gateway)."""
        ecs = self.client("ecs", config)
        what = _("the terminal gateway") if ssh is not None else f"machine {machine.name}"
        tags = {
            **self._base_tags(spec),
            **({TAG_GATEWAY: "1"} if ssh is not None else {TAG_MACHINE: machine.name}),
            TAG_ROLE: machine.role,
            TAG_NETWORKS: ",".join(machine.networks),
            TAG_CREATED: datetime.now(UTC).isoformat(),
        }
        overrides: dict = {}
        ssh = self.machine_ssh_files(spec.session_id, config) if ssh is None else ssh
        if machine.files or ssh:
            key = f"rangex/{self.instance}/{spec.session_id}/{machine.name}-{secrets.token_hex(8)}.tar"
            s3 = self.client("s3", config)
            with aws_errors(f"Uploading the files of {machine.name}"):
                body = files_bundle(machine.files, ssh=ssh)
                s3.put_object(Bucket=config.files_bucket, Key=key, Body=body, ServerSideEncryption="AES256")
            bundles.append(key)
            with aws_errors(f"Signing the files of {machine.name}"):
                url = s3.generate_presigned_url(
                    "get_object", Params={"Bucket": config.files_bucket, "Key": key}, ExpiresIn=PRESIGN_SECONDS
                )
            overrides = {"containerOverrides": [{"name": INIT_CONTAINER, "command": [FETCH, url]}]}
        with aws_errors(f"Starting {what}"):
            response = ecs.run_task(
                cluster=config.cluster,
                taskDefinition=definition,
                launchType="FARGATE",
                count=1,
                startedBy=self.started_by(spec.session_id),
                networkConfiguration={
                    "awsvpcConfiguration": {
                        "subnets": list(config.subnets),
                        "securityGroups": [groups[n] for n in machine.networks],
                        "assignPublicIp": "DISABLED",
                    }
                },
                overrides=overrides,
                tags=[{"key": k, "value": v} for k, v in tags.items()],
                enableExecuteCommand=False,
            )
        tasks = response.get("tasks") or []
        if not tasks:
            reasons = "; ".join(
                f"{f.get('reason')} {f.get('detail', '')}".strip() for f in response.get("failures", [])
            )
            raise RuntimeFailure(f"ECS refused {what}: {reasons or 'no reason given'}.", permanent=False)
        return tasks[0]["taskArn"]

    def _delete_bundles(self, config: EcsConfig, keys: list[str]) -> None:
        for key in keys:
            try:
                self.client("s3", config).delete_object(Bucket=config.files_bucket, Key=key)
            except Exception as exc:  # The presigned URL expires anyway; the bucket's lifecycle rule removes it.
                logger.warning("Could not delete the files bundle %s: %s", key, exc)

    # --- reading what runs ------------------------------------------------------------------
    def _describe_tasks(self, arns: list[str], config: EcsConfig) -> list[dict]:
        ecs = self.client("ecs", config)
        tasks: list[dict] = []
        for start in range(0, len(arns), 100):
            with aws_errors("Describing tasks"):
                tasks += ecs.describe_tasks(cluster=config.cluster, tasks=arns[start : start + 100], include=["TAGS"])[
                    "tasks"
                ]
        return [t for t in tasks if _tags(t).get(TAG_INSTANCE) == self.instance]

    def _list_task_arns(self, config: EcsConfig, *, desired: str, started_by: str | None = None) -> list[str]:
        ecs = self.client("ecs", config)
        arns: list[str] = []
        kwargs = {"cluster": config.cluster, "desiredStatus": desired}
        if started_by:
            kwargs["startedBy"] = started_by
        with aws_errors("Listing tasks"):
            for page in ecs.get_paginator("list_tasks").paginate(**kwargs):
                arns += page["taskArns"]
        return arns

    def _session_tasks(self, session_id: str, *, stopped: bool = False) -> list[dict]:
        config = self._configured()
        arns = self._list_task_arns(config, desired="RUNNING", started_by=self.started_by(session_id))
        if stopped:
            arns += self._list_task_arns(config, desired="STOPPED", started_by=self.started_by(session_id))
        return [t for t in self._describe_tasks(arns, config) if _tags(t).get(TAG_SESSION) == session_id]

    def _session_groups(self, session_id: str, config: EcsConfig) -> list[dict]:
        with aws_errors("Listing security groups"):
            return self.client("ec2", config).describe_security_groups(
                Filters=[
                    {"Name": f"tag:{TAG_INSTANCE}", "Values": [self.instance]},
                    {"Name": f"tag:{TAG_SESSION}", "Values": [session_id]},
                ]
            )["SecurityGroups"]

    def _latest(self, session_id: str) -> dict[str, dict]:
        """Return machine -> its newest task, leaving out machines this runtime removed."""
        newest: dict[str, dict] = {}
        for task in machine_tasks(self._session_tasks(session_id, stopped=True)):
            name = _tags(task).get(TAG_MACHINE, "")
            if name not in newest or str(task.get("createdAt", "")) > str(newest[name].get("createdAt", "")):
                newest[name] = task
        return {n: t for n, t in newest.items() if t.get("stoppedReason") != STOP_REASON}

    def status(self, session_id: str) -> dict[str, MachineState]:
        return {
            n: ECS_STATES.get(t.get("lastStatus", ""), MachineState.UNKNOWN)
            for n, t in self._latest(session_id).items()
        }

    def exited_at(self, session_id: str) -> dict[str, datetime]:
        return {
            name: task["stoppedAt"]
            for name, task in self._latest(session_id).items()
            if task.get("lastStatus") == "STOPPED" and isinstance(task.get("stoppedAt"), datetime)
        }

    def ready_checks(self, session_id: str) -> dict[str, ReadyCheck | None]:
        # A Fargate task is ready once it runs: commands cannot be run in it from here.
        return dict.fromkeys(self.status(session_id))

    def describe(self, session_id: str) -> LaunchResult:
        config = self._configured()
        machines = {}
        tasks = self._session_tasks(session_id)
        for task in machine_tasks(tasks):
            tags = _tags(task)
            ip = _task_ip(task)
            machines[tags[TAG_MACHINE]] = MachineHandle(
                id=task["taskArn"], ips={g: ip for g in tags.get(TAG_NETWORKS, "").split(",") if g}
            )
        networks = {
            _ec2_tags(g)[TAG_NETWORK]: NetworkHandle(id=g["GroupId"], name=g["GroupName"])
            for g in network_groups(self._session_groups(session_id, config))
        }
        return LaunchResult(machines=machines, networks=networks, gateway=gateway_handle(tasks))

    def recover(self, session_id: str, *, paused: bool) -> dict[str, MachineState]:
        # Fargate cannot restart a stopped task in place; report what is there.
        return self.status(session_id)

    def pause(self, session_id: str) -> None:
        raise RuntimeFailure("Fargate tasks cannot be paused.", permanent=True)

    resume = pause

    # --- removal ----------------------------------------------------------------------------
    def stop(self, session_id: str) -> None:
        config = self._configured()
        try:
            tasks = self._session_tasks(session_id)
        except RuntimeFailure as exc:
            # A cluster that is gone holds no tasks: the security groups must still go.
            if not exc.permanent:
                raise
            tasks = []
        groups = self._session_groups(session_id, config)
        failures = self.remove_resources(
            [self._task_resource(t) for t in tasks] + [self._group_resource(g) for g in groups]
        )
        if failures:
            raise next(iter(failures.values()))

    def remove_resource(self, kind: str, id: str) -> None:
        config = self._configured()
        if kind == ResourceKind.MACHINE:
            self._remove_task(id, config)
        elif kind == ResourceKind.NETWORK:
            self._remove_group(id, config)
        else:
            raise RuntimeFailure(f"Unknown resource kind {kind!r}.", permanent=True)

    def _remove_task(self, arn: str, config: EcsConfig) -> None:
        ecs = self.client("ecs", config)
        with aws_errors(f"Reading task {arn}"):
            found = ecs.describe_tasks(cluster=config.cluster, tasks=[arn], include=["TAGS"]).get("tasks", [])
        if not found:
            return
        if _tags(found[0]).get(TAG_INSTANCE) != self.instance:
            raise ForeignResource(f"Task {arn} does not belong to RangeX instance {self.instance}.")
        if found[0].get("desiredStatus") == "STOPPED" and found[0].get("stoppedReason") == STOP_REASON:
            return
        with aws_errors(f"Stopping task {arn}"):
            ecs.stop_task(cluster=config.cluster, task=arn, reason=STOP_REASON)
        with aws_errors(f"Waiting for task {arn} to stop"):
            ecs.get_waiter("tasks_stopped").wait(
                cluster=config.cluster, tasks=[arn], WaiterConfig={"Delay": 6, "MaxAttempts": 50}
            )

    def _remove_group(self, group_id: str, config: EcsConfig) -> None:
        ec2 = self.client("ec2", config)
        try:
            groups = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
        except Exception as exc:
            if error_code(exc) == "InvalidGroup.NotFound":
                return
            with aws_errors(f"Reading security group {group_id}"):
                raise
        if not groups:
            return
        if _ec2_tags(groups[0]).get(TAG_INSTANCE) != self.instance:
            raise ForeignResource(f"Security group {group_id} does not belong to RangeX instance {self.instance}.")
        # A stopped task's network interface lingers for a while; the group goes once it is released.
        deadline = time.monotonic() + 120
        while True:
            try:
                ec2.delete_security_group(GroupId=group_id)
                return
            except Exception as exc:
                code = error_code(exc)
                if code == "InvalidGroup.NotFound":
                    return
                if code == "DependencyViolation" and time.monotonic() < deadline:
                    time.sleep(5)
                    continue
                with aws_errors(f"Deleting security group {group_id}"):
                    raise

    def _task_resource(self, task: dict) -> ManagedResource:
        tags = _tags(task)
        return ManagedResource(
            kind=ResourceKind.MACHINE,
            id=task["taskArn"],
            session_id=tags.get(TAG_SESSION, ""),
            machine=tags.get(TAG_MACHINE, ""),
            expires_at=_when(tags.get(TAG_EXPIRES)),
            created_at=task.get("createdAt") or _when(tags.get(TAG_CREATED)),
            labels=tags,
        )

    def _group_resource(self, group: dict) -> ManagedResource:
        tags = _ec2_tags(group)
        return ManagedResource(
            kind=ResourceKind.NETWORK,
            id=group["GroupId"],
            session_id=tags.get(TAG_SESSION, ""),
            machine=tags.get(TAG_NETWORK, ""),
            expires_at=_when(tags.get(TAG_EXPIRES)),
            created_at=_when(tags.get(TAG_CREATED)),
            labels=tags,
        )

    def list_managed(self) -> list[ManagedResource]:
        config = self._configured()
        tasks = self._describe_tasks(self._list_task_arns(config, desired="RUNNING"), config)
        with aws_errors("Listing security groups"):
            groups = []
            for page in (
                self.client("ec2", config)
                .get_paginator("describe_security_groups")
                .paginate(Filters=[{"Name": f"tag:{TAG_INSTANCE}", "Values": [self.instance]}])
            ):
                groups += page["SecurityGroups"]
        return [self._task_resource(t) for t in tasks] + [self._group_resource(g) for g in groups]

    # --- images and health ------------------------------------------------------------------
    def image_present(self, ref: str) -> bool:
        try:
            self.ecr_image(ref, self._configured())
        except RuntimeFailure as exc:
            if exc.permanent and "is not in ECR" in exc.message:
                return False
            raise
        return True

    def push_image(self, image: str, *, docker_url: str | None = None) -> str:
        """Push a local image (on the Docker engine at ``docker_url``) to ECR; return its ECR reference."""
        import docker
        from django.conf import settings

        from apps.runtime.ecr import ecr_push

        base = docker_url or settings.RANGEX_DOCKER_URL
        api = docker.APIClient(base_url=base) if base else docker.from_env().api
        try:
            return ecr_push(self, image, docker_api=api)
        finally:
            api.close()

    def registry_login(self, *, registry: str, username: str, password: str) -> None:
        raise RuntimeFailure(
            "ECS pulls from ECR with its execution role; registry logins are not used.", permanent=True
        )

    def ping(self) -> dict:
        started = time.monotonic()
        try:
            config = self._configured()
            with aws_errors(f"Reading ECS cluster {config.cluster}"):
                clusters = self.client("ecs", config).describe_clusters(clusters=[config.cluster])["clusters"]
            if not clusters or clusters[0].get("status") != "ACTIVE":
                raise RuntimeFailure(f"ECS cluster {config.cluster} is not active in {config.region}.", permanent=True)
        except RuntimeFailure as exc:
            return {"ok": False, "backend": self.name, "key": self.key, "error": exc.message}
        return {
            "ok": True,
            "backend": self.name,
            "key": self.key,
            "version": f"ECS {config.cluster} ({config.region})",
            "running_tasks": clusters[0].get("runningTasksCount", 0),
            "latency_ms": round((time.monotonic() - started) * 1000, 1),
        }

    def hourly_price_usd(self, *, cpus: float, memory_mb: int):
        """Fargate's price for the task size a machine maps onto, at the prices in System settings."""
        from decimal import Decimal

        from rangex.core.system import get_settings

        cpu, memory = fargate_size(cpus, memory_mb)
        row = get_settings()
        return (
            Decimal(cpu) / 1024 * row.aws_fargate_vcpu_hour_usd + Decimal(memory) / 1024 * row.aws_fargate_gb_hour_usd
        )

    def config_checks(self, *, endpoints=()) -> list[dict]:
        from apps.runtime.ecs_checks import ecs_config_checks

        config = self.config()
        missing = config.missing()
        if missing:
            return [
                {
                    "name": "settings",
                    "ok": False,
                    "message": f"Set {', '.join(missing)} in System settings.",
                    "details": {},
                }
            ]
        return ecs_config_checks(self, config, endpoints=endpoints)

    def host_isolation(self) -> dict:
        return {"ok": True, "message": "Labs run as Fargate tasks in their own micro-VMs, not on this host."}
