"""The IAM policy in deploy/aws (and the README) allows every AWS action the ECS backend calls, and nothing more."""

from __future__ import annotations

import json
import re
from pathlib import Path

import botocore.session

ROOT = Path(__file__).resolve().parents[3]
POLICY = ROOT / "deploy" / "aws" / "rangex-ecs-policy.json"
MODULES = ["ecs.py", "ecs_aws.py", "ecs_gateway.py", "ecs_checks.py", "ecr.py"]
# Variables that hold a client in those modules, and the service each one is.
CLIENT_NAMES = {"ecs": "ecs", "ec2": "ec2", "s3": "s3", "iam": "iam", "ecr": "ecr"}
# Actions a call needs beyond its own name: tags given on create, the role handed to ECS, the
# presigned GET the init container makes with our signature, and the pushes the Docker engine makes.
IMPLIED = {
    "ecs:RunTask": {"ecs:TagResource", "iam:PassRole"},
    "ecs:RegisterTaskDefinition": {"ecs:TagResource", "iam:PassRole"},
    "ec2:CreateSecurityGroup": {"ec2:CreateTags"},
    "ecr:GetAuthorizationToken": {
        "ecr:BatchCheckLayerAvailability",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:PutImage",
    },
}
NOT_API = {"get_paginator", "get_waiter", "generate_presigned_url", "close", "meta"}
WAITERS = {"tasks_stopped": "ecs:DescribeTasks"}
PRESIGNED = {"get_object": "s3:GetObject"}


def _api_name(service: str, method: str) -> str:
    model = botocore.session.get_session().get_service_model(service)
    wanted = method.replace("_", "").lower()
    for name in model.operation_names:
        if name.lower() == wanted:
            return f"{service}:{name}"
    raise AssertionError(f"{service}.{method} is not an AWS operation")


def called_actions() -> set[str]:
    actions: set[str] = set()
    for module in MODULES:
        text = (ROOT / "apps" / "runtime" / module).read_text()
        for service, method in re.findall(r'client\("(\w+)", config\)\.(\w+)\(', text):
            if method not in NOT_API:
                actions.add(_api_name(service, method))
        # Calls, and methods handed on to be called later (a list of rule calls).
        for variable, method in re.findall(r"\b(ecs|ec2|s3|iam|ecr)\.([a-z_]+)\b(?=[(,])", text):
            if method not in NOT_API:
                actions.add(_api_name(CLIENT_NAMES[variable], method))
        for service, operation in re.findall(r'(ecs|ec2|s3|iam|ecr)\W[^\n]*get_paginator\("(\w+)"\)', text):
            actions.add(_api_name(service, operation))
        for waiter in re.findall(r'get_waiter\("(\w+)"\)', text):
            actions.add(WAITERS[waiter])
        for operation in re.findall(r'generate_presigned_url\(\s*"(\w+)"', text):
            actions.add(PRESIGNED[operation])
    for action in list(actions):
        actions |= IMPLIED.get(action, set())
    return actions


def policy_actions(policy: dict) -> set[str]:
    return {action for statement in policy["Statement"] for action in statement["Action"]}


def test_the_policy_allows_what_the_backend_calls_and_nothing_more():
    policy = json.loads(POLICY.read_text())
    called = called_actions()
    assert {"ecs:RunTask", "ec2:CreateSecurityGroup", "ec2:DescribeVpcEndpoints", "s3:PutObject"} <= called
    assert policy_actions(policy) == called


def test_the_readme_shows_the_same_policy():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Running labs on AWS", 1)[1]
    block = section.split("```json", 1)[1].split("```", 1)[0]
    assert json.loads(block) == json.loads(POLICY.read_text())
