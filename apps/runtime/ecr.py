"""Images for ECS: a locally built image is pushed to ECR before a lab that uses it runs on Fargate.

The repository is created on demand (scan on push, tagged as RangeX's); the push uses the local
Docker engine with the short-lived registry token boto3 returns (``ecr:GetAuthorizationToken``),
sent with that one push only and never stored.
"""

from __future__ import annotations

import base64

from apps.runtime.ecs_aws import EcsConfig, aws_errors, ecr_reference, error_code
from apps.runtime.errors import RuntimeFailure


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
    username, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    target = f"{config.ecr_registry}/{repository}"
    try:
        docker_api.tag(image, target, tag)
    except Exception as exc:
        raise RuntimeFailure(f"Image {image} is not on this engine: build it first ({exc}).", permanent=True) from exc
    try:
        for line in docker_api.push(
            target, tag, stream=True, decode=True, auth_config={"username": username, "password": password}
        ):
            if "error" in line:
                raise RuntimeFailure(f"Pushing {image} to {ref} failed: {line['error']}", permanent=False)
    finally:
        docker_api.remove_image(f"{target}:{tag}")
    return ref
