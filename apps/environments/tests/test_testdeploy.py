"""Test deployments on the real engine: every rule kind, the records, teardown, the faults, and the publish gate."""

from __future__ import annotations

import time

import pytest

from apps.accounts.factories import AdminFactory, CreatorFactory
from apps.environments import models as env_models
from apps.environments.factories import TEST_IMAGE
from apps.environments.models import EnvironmentSession, SessionStatus
from apps.images.factories import image_variant
from apps.scenarios import models as sc_models
from apps.scenarios import services as scenario_services
from apps.scenarios.models import AdminTestValidation, DockerTest, VersionStatus
from apps.scenarios.testing import content_hash, version_test_deploy_request
from rangex.core.errors import Conflict
from tests.engine import docker_ids

pytestmark = [pytest.mark.docker, pytest.mark.django_db]

QUESTIONS = [
    {"id": "q1", "type": "flag", "prompt": "Static?", "points": 10, "answer": "RX{static}", "match": "exact"},
    {
        "id": "q2",
        "type": "flag",
        "prompt": "The victim's flag?",
        "points": 20,
        "answer": "",
        "match": "exact",
        "dynamic": True,
        "flag_machine": "victim",
        "flag_path": "/srv/flag.txt",
    },
    {"id": "q3", "type": "single_choice", "prompt": "Bridge?", "points": 5, "options": ["a", "pivot"], "correct": [1]},
]
FETCH_FLAG = "wget -qO- http://victim:8080/flag.txt"


def lab_version(*, creator=None, victim_ready=None, victim_image=None, rules=()):
    """A submitted 3-machine version on busybox: attacker (dmz), pivot (dmz+internal), victim (internal, httpd)."""
    creator = creator or CreatorFactory()
    variant = image_variant(image_ref=TEST_IMAGE, display_name=f"Busybox {time.monotonic_ns()}")
    version = scenario_services.scenario_create(
        actor=creator,
        slug=f"td-{time.monotonic_ns()}",
        title="Test deploy lab",
        short_description="Three machines.",
        category="network",
        questions=QUESTIONS,
        mission_text="Reach the victim through the pivot.",
        estimated_minutes=30,
    )
    common = {"image_source_type": "variant", "image_variant": variant, "resource_profile": "micro"}
    add = scenario_services.machine_add
    add(
        version=version,
        actor=creator,
        name="attacker",
        role="attacker",
        network_group="dmz",
        allow_solver_entry=True,
        **common,
    )
    add(version=version, actor=creator, name="pivot", role="service", network_group="dmz", is_pivot_host=True, **common)
    victim = dict(common)
    if victim_image:
        victim = {"image_source_type": "custom", "image_ref": victim_image, "resource_profile": "micro"}
    add(
        version=version,
        actor=creator,
        name="victim",
        role="victim",
        network_group="internal",
        entrypoints=["httpd", "-f", "-p", "8080", "-h", "/srv"],
        ready_check=victim_ready or {"port": 8080, "timeout": 20},
        **victim,
    )
    scenario_services.pivot_point_add(version=version, actor=creator, source="dmz", target="internal")
    for rule in rules:
        scenario_services.validation_rule_add(version=version, actor=creator, **rule)
    return scenario_services.scenario_version_submit(version=version, actor=creator)


GOOD_RULES = [
    {
        "check_type": "command",
        "machine_name": "attacker",
        "command": "echo hello; id -un",
        "expected_exit_code": 0,
        "pattern": "^hello$",
    },
    {
        "check_type": "reachable",
        "machine_name": "pivot",
        "target_machine": "victim",
        "port": 8080,
        "timeout_seconds": 5,
    },
    {
        "check_type": "reachable",
        "machine_name": "attacker",
        "target_machine": "victim",
        "port": 8080,
        "expect_reachable": False,
        "timeout_seconds": 3,
    },
    {
        "check_type": "http",
        "machine_name": "pivot",
        "check_target": "http://victim:8080/flag.txt",
        "expected_status": 200,
        "pattern": "RX\\{",
    },
    {"check_type": "file", "machine_name": "victim", "check_target": "/srv/flag.txt", "pattern": "^RX\\{"},
    {"check_type": "solution", "machine_name": "attacker", "question_id": "q1", "command": "echo RX{static}"},
    {"check_type": "solution", "machine_name": "pivot", "question_id": "q2", "command": FETCH_FLAG},
    {"check_type": "solution", "machine_name": "pivot", "question_id": "q3", "command": "echo pivot"},
]


def deploy(version, admin, capture, **kwargs):
    with capture(execute=True):
        run = version_test_deploy_request(version=version, actor=admin, **kwargs)
    run.refresh_from_db()
    return run


def test_a_passing_run_records_every_rule_and_machine_tears_down_and_opens_the_gate(
    test_image, django_capture_on_commit_callbacks
):
    admin = AdminFactory()
    version = lab_version(rules=GOOD_RULES)
    run = deploy(version, admin, django_capture_on_commit_callbacks)
    assert run.status == sc_models.TestStatus.PASSED, (run.error_message, run.test_results)
    results = run.test_results["rules"]
    assert [r["passed"] for r in results] == [True] * len(GOOD_RULES)
    assert results[0]["output_tail"].startswith("hello")
    assert run.content_hash == content_hash(version) and run.duration_seconds is not None
    # Each machine's outcome, the environment, the admin-test row with one result per rule.
    machines = {d.test_results["machine"]: d for d in DockerTest.objects.filter(metadata__run=str(run.pk))}
    assert set(machines) == {"attacker", "pivot", "victim"}
    assert all(
        d.test_results["pulled"] and d.test_results["started"] and d.test_results["ready"] for d in machines.values()
    )
    deployment = env_models.TestDeployment.objects.get(pk=run.deployment_id)
    assert deployment.status == sc_models.TestStatus.PASSED and deployment.cleaned_at is not None
    assert deployment.estimated_cost_per_hour > 0 and deployment.progress["cost_rm"] == run.test_results["cost_rm"]
    version.refresh_from_db()
    assert version.last_admin_test.status == sc_models.TestStatus.PASSED
    assert version.last_admin_test.validations.filter(status=AdminTestValidation.Status.PASS).count() == len(GOOD_RULES)
    # The lab was a test session, and nothing of it is left on the engine.
    session = EnvironmentSession.objects.get(pk=run.session_token)
    assert session.is_test and session.status == SessionStatus.TERMINATED
    assert docker_ids("container", str(session.pk)) == [] and docker_ids("network", str(session.pk)) == []
    # The gate opens for this exact content.
    version = scenario_services.scenario_version_approve(version=version, actor=admin)
    assert version.status == VersionStatus.APPROVED


def test_failures_give_a_reason_per_rule_and_tear_down(test_image, django_capture_on_commit_callbacks):
    admin = AdminFactory()
    rules = [
        {
            "check_type": "command",
            "machine_name": "attacker",
            "command": "sleep 30",
            "expected_exit_code": 0,
            "timeout_seconds": 2,
        },
        {"check_type": "solution", "machine_name": "pivot", "question_id": "q2", "command": "echo RX{wrong}"},
        {
            "check_type": "reachable",
            "machine_name": "attacker",
            "target_machine": "victim",
            "port": 8080,
            "timeout_seconds": 3,
        },
        {"check_type": "file", "machine_name": "victim", "check_target": "/srv/nothing.txt"},
        {
            "check_type": "http",
            "machine_name": "pivot",
            "check_target": "http://victim:8080/missing",
            "expected_status": 200,
        },
    ]
    version = lab_version(rules=rules)
    run = deploy(version, admin, django_capture_on_commit_callbacks)
    assert run.status == sc_models.TestStatus.FAILED
    reasons = [r["reason"] for r in run.test_results["rules"]]
    assert reasons[0] == "Timed out after 2 s."
    assert "RX{wrong}" in reasons[1] and "not correct for q2" in reasons[1]
    assert reasons[2] == "victim:8080 is not reachable."
    assert reasons[3] == "/srv/nothing.txt does not exist."
    assert reasons[4] == "The status was 404, not 200."
    assert "5 of 5 rule(s) failed" in run.error_message
    session = EnvironmentSession.objects.get(pk=run.session_token)
    assert session.status == SessionStatus.TERMINATED and docker_ids("container", str(session.pk)) == []
    with pytest.raises(Conflict, match="its last test deployment is failed"):
        scenario_services.scenario_version_approve(version=version, actor=admin)


def test_a_machine_that_never_becomes_ready_fails_the_run(test_image, django_capture_on_commit_callbacks):
    rules = [{"check_type": "command", "machine_name": "attacker", "command": "true", "expected_exit_code": 0}]
    version = lab_version(victim_ready={"command": "false", "timeout": 3}, rules=rules)
    run = deploy(version, AdminFactory(), django_capture_on_commit_callbacks)
    assert run.status == sc_models.TestStatus.FAILED
    assert "victim" in run.error_message and "ready" in run.error_message
    assert run.test_results["rules"] == []
    outcome = {d.test_results["machine"]: d.test_results for d in DockerTest.objects.filter(metadata__run=str(run.pk))}
    assert outcome["victim"]["ready"] is False
    session = EnvironmentSession.objects.get(pk=run.session_token)
    assert session.status in (SessionStatus.FAILED, SessionStatus.TERMINATED)
    assert docker_ids("container", str(session.pk)) == [] and docker_ids("network", str(session.pk)) == []


def test_an_image_that_cannot_be_pulled_fails_the_run(test_image, django_capture_on_commit_callbacks):
    # A registry on a closed loopback port: the pull fails at once, without leaving this machine.
    version = lab_version(victim_image="127.0.0.1:9/rangex/missing:1")
    run = deploy(version, AdminFactory(), django_capture_on_commit_callbacks)
    assert run.status == sc_models.TestStatus.FAILED
    assert "127.0.0.1:9/rangex/missing:1" in run.error_message or "pull" in run.error_message.lower()
    outcome = {d.test_results["machine"]: d.test_results for d in DockerTest.objects.filter(metadata__run=str(run.pk))}
    assert outcome["victim"]["pulled"] is False
    session = EnvironmentSession.objects.get(pk=run.session_token)
    assert docker_ids("container", str(session.pk)) == [] and docker_ids("network", str(session.pk)) == []


def test_keep_leaves_the_lab_for_the_admin(test_image, django_capture_on_commit_callbacks, cleanup_sessions):
    rules = [{"check_type": "file", "machine_name": "victim", "check_target": "/srv/flag.txt"}]
    version = lab_version(rules=rules)
    run = deploy(version, AdminFactory(), django_capture_on_commit_callbacks, keep=True)
    cleanup_sessions.append(run.session_token)
    assert run.status == sc_models.TestStatus.PASSED
    session = EnvironmentSession.objects.get(pk=run.session_token)
    assert session.status == SessionStatus.RUNNING and len(docker_ids("container", str(session.pk))) == 3
