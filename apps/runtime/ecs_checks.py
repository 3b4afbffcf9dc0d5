"""The AWS set-up checks of the ECS backend (recorded by the ops health check in ``aws_config_checks``).

Each check returns ``{"name", "ok", "message", "details"}``: ok True, False (an admin must act) or
None (a warning, e.g. close to a limit). Every check runs on its own; one failing does not hide
the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from apps.runtime.ecs_aws import EcsConfig, aws_errors
from apps.runtime.errors import RuntimeFailure

# EC2's default quota of security groups per VPC; labs make one per network group.
SECURITY_GROUPS_PER_VPC = 2500
WARN_AT = 0.8


def ecs_config_checks(runtime, config: EcsConfig, *, endpoints: Iterable[str] = ()) -> list[dict]:
    client = runtime.client

    def cluster() -> tuple[bool | None, str, dict]:
        with aws_errors(f"Reading ECS cluster {config.cluster}"):
            found = client("ecs", config).describe_clusters(clusters=[config.cluster])["clusters"]
        active = bool(found) and found[0].get("status") == "ACTIVE"
        return active, f"Cluster {config.cluster} is {'active' if active else 'missing or inactive'}.", {}

    def subnets() -> tuple[bool | None, str, dict]:
        try:
            found = client("ec2", config).describe_subnets(SubnetIds=list(config.subnets))["Subnets"]
        except Exception as exc:
            return False, f"Subnets {', '.join(config.subnets)}: {exc}", {}
        public = [s["SubnetId"] for s in found if s.get("MapPublicIpOnLaunch")]
        if public:
            return (
                None,
                f"Subnets give public addresses on launch: {', '.join(public)} (labs belong in private ones).",
                {},
            )
        vpcs = {s["VpcId"] for s in found}
        return len(vpcs) == 1, f"{len(found)} private subnet(s) in {', '.join(sorted(vpcs))}.", {"vpcs": sorted(vpcs)}

    def security_groups() -> tuple[bool | None, str, dict]:
        with aws_errors("Reading the lab subnets"):
            vpc = client("ec2", config).describe_subnets(SubnetIds=list(config.subnets))["Subnets"][0]["VpcId"]
        count = 0
        with aws_errors("Counting security groups"):
            pages = client("ec2", config).get_paginator("describe_security_groups")
            for page in pages.paginate(Filters=[{"Name": "vpc-id", "Values": [vpc]}]):
                count += len(page["SecurityGroups"])
        share = count / SECURITY_GROUPS_PER_VPC
        ok = None if share >= WARN_AT else True
        return ok, f"{count} of {SECURITY_GROUPS_PER_VPC} security groups used in {vpc}.", {"count": count}

    def execution_role() -> tuple[bool | None, str, dict]:
        try:
            role = client("iam", config).get_role(RoleName=config.role_name)["Role"]
        except Exception as exc:
            return False, f"Task execution role {config.execution_role_arn}: {exc}", {}
        trust = str(role.get("AssumeRolePolicyDocument", ""))
        ok = "ecs-tasks.amazonaws.com" in trust
        return (
            ok,
            (
                f"Role {config.role_name} exists and ECS tasks may assume it."
                if ok
                else f"Role {config.role_name} does not trust ecs-tasks.amazonaws.com."
            ),
            {},
        )

    def ecr() -> tuple[bool | None, str, dict]:
        with aws_errors("Asking ECR for a registry token"):
            client("ecr", config).get_authorization_token()
        with aws_errors("Listing ECR repositories"):
            count = len(client("ecr", config).describe_repositories(maxResults=1000)["repositories"])
        return True, f"ECR answers ({count} repositories in {config.ecr_registry}).", {"repositories": count}

    def interface_endpoints() -> tuple[bool | None, str, dict]:
        wanted = sorted(set(endpoints))
        if not wanted:
            return None, "No VPC interface endpoints are listed (Operations, Interface endpoints).", {}
        with aws_errors("Reading the lab subnets"):
            vpc = client("ec2", config).describe_subnets(SubnetIds=list(config.subnets))["Subnets"][0]["VpcId"]
        with aws_errors("Listing VPC endpoints"):
            found = client("ec2", config).describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
                "VpcEndpoints"
            ]
        have = {e["ServiceName"] for e in found if e.get("State", "available").lower() == "available"}
        have |= {e["VpcEndpointId"] for e in found}
        missing = [name for name in wanted if name not in have]
        if missing:
            return False, f"Missing VPC endpoints in {vpc}: {', '.join(missing)}.", {"missing": missing}
        return True, f"All {len(wanted)} listed VPC endpoints are available in {vpc}.", {}

    def gateway() -> tuple[bool | None, str, dict]:
        if not config.gateway_source:
            return None, "No web tier is set in aws_ecs_gateway_source: ECS labs start without terminals.", {}
        runtime.ecr_image(config.gateway_image, config)  # refused, with the push command, when missing
        return (
            True,
            f"The terminal gateway image {config.gateway_image} is in ECR; gateways admit {config.gateway_source} "
            "on port 22.",
            {},
        )

    checks: dict[str, Callable[[], tuple[bool | None, str, dict]]] = {
        "cluster": cluster,
        "subnets": subnets,
        "security_groups": security_groups,
        "execution_role": execution_role,
        "ecr": ecr,
        "interface_endpoints": interface_endpoints,
        "gateway": gateway,
    }
    results = []
    for name, check in checks.items():
        try:
            ok, message, details = check()
        except RuntimeFailure as exc:
            ok, message, details = False, exc.message, {}
        results.append({"name": name, "ok": ok, "message": message, "details": details})
    return results
