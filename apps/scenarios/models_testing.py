"""The test-deployment tables of the scenarios app: runs, admin sign-offs, validation rules, per-machine outcomes.

Imported at the end of ``apps.scenarios.models`` (that import registers them with the app); import
them from there.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apps.scenarios.models import Scenario, ScenarioVersion
from rangex.core.models import BaseModel, TimestampedModel


class TestStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    CANCELLED = "cancelled"


class ScenarioVersionTestRun(BaseModel):
    """A creator's or admin's trial deployment of a version (``scenario_version_test_runs``)."""

    scenario_version = models.ForeignKey(ScenarioVersion, on_delete=models.CASCADE, related_name="test_runs")
    initiated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=TestStatus.choices, default=TestStatus.PENDING, db_index=True)
    deployment_id = models.CharField(max_length=255, null=True, blank=True)
    session_token = models.CharField(max_length=255, null=True, blank=True)
    gateway_proxy_url = models.CharField(max_length=500, null=True, blank=True)
    test_results = models.JSONField(null=True, blank=True)
    logs = models.TextField(blank=True)
    error_message = models.TextField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # What was tested: ``apps.scenarios.testing.content_hash`` of the version when the run started.
    content_hash = models.CharField(max_length=64, blank=True, db_index=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    keep = models.BooleanField(default=False, help_text="Leave the lab running after the run.")

    class Meta:
        db_table = "scenario_version_test_runs"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Test deployment of {self.scenario_version} ({self.status})"


class ScenarioVersionAdminTest(BaseModel):
    """An admin's test deployment during review, with its checks (``scenario_version_admin_test``)."""

    class Mode(models.TextChoices):
        QUICK = "quick", "Quick (start and check machines)"
        FULL = "full", "Full (also check services and ports)"

    scenario_version = models.ForeignKey(ScenarioVersion, on_delete=models.CASCADE, related_name="admin_tests")
    created_by_admin = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=TestStatus.choices, default=TestStatus.PENDING, db_index=True)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.QUICK)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds.")
    report_json = models.JSONField(null=True, blank=True)
    summary = models.TextField(blank=True)
    error_message = models.TextField(null=True, blank=True)
    test_session_id = models.UUIDField(null=True, blank=True)
    gateway_ip = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        db_table = "scenario_version_admin_test"
        ordering = ["-created_at"]


class AdminTestValidation(models.Model):
    """A validation rule of a version, run by every test deployment (``admin_test_validation``).

    A row with ``scenario_version`` is a rule (content of the version, carried by bundles); the
    earlier system's per-admin-test check rows (``admin_test``) keep their columns. What a rule
    checks is ``check_type``; see ``apps.scenarios.testing`` for the fields each kind uses.
    """

    class CheckType(models.TextChoices):
        COMMAND = "command", "Command in a machine"
        REACHABLE = "reachable", "Port reachable from a machine"
        HTTP = "http", "HTTP request from a machine"
        FILE = "file", "File in a machine"
        SOLUTION = "solution", "Solution script answers a question"
        CONTAINER_RUNNING = "container_running"
        NETWORK = "network"
        PORT_OPEN = "port_open"
        ENTRYPOINT = "entrypoint"
        ASSET = "asset"

    class Status(models.TextChoices):
        PASS = "pass"  # noqa: S105 (a check outcome, not a password)
        FAIL = "fail"
        WARN = "warn"
        SKIP = "skip"

    id = models.BigAutoField(primary_key=True)
    admin_test = models.ForeignKey(
        ScenarioVersionAdminTest, null=True, blank=True, on_delete=models.CASCADE, related_name="validations"
    )
    scenario_version = models.ForeignKey(
        ScenarioVersion, null=True, blank=True, on_delete=models.CASCADE, related_name="validation_rules"
    )
    position = models.PositiveIntegerField(default=0)
    machine_id = models.UUIDField(null=True, blank=True)
    machine_name = models.CharField(max_length=64, blank=True, help_text="The machine the rule runs in.")
    check_type = models.CharField(max_length=24, choices=CheckType.choices)
    check_target = models.CharField(
        max_length=255, blank=True, help_text="HTTP: the URL. File: the absolute path. Otherwise empty."
    )
    run_as = models.CharField(max_length=64, default="root", help_text="The user the command runs as.")
    command = models.TextField(blank=True, help_text="Command / solution: a /bin/sh script.")
    expected_exit_code = models.IntegerField(null=True, blank=True, help_text="Command: the exit code expected.")
    pattern = models.CharField(
        max_length=500, blank=True, help_text="A regular expression the output, body or file must contain."
    )
    target_machine = models.CharField(max_length=64, blank=True, help_text="Reachable: the machine to connect to.")
    port = models.PositiveIntegerField(null=True, blank=True, help_text="Reachable: the TCP port.")
    expect_reachable = models.BooleanField(default=True, help_text="Reachable: untick to require NOT reachable.")
    expected_status = models.PositiveIntegerField(null=True, blank=True, help_text="HTTP: the status expected.")
    question_id = models.CharField(max_length=64, blank=True, help_text="Solution: the question it answers.")
    timeout_seconds = models.PositiveIntegerField(default=30, validators=[MinValueValidator(1), MaxValueValidator(600)])
    status = models.CharField(max_length=8, choices=Status.choices, blank=True)
    message = models.TextField(blank=True)
    details = models.JSONField(null=True, blank=True)
    checked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "admin_test_validation"
        ordering = ["position", "id"]

    def __str__(self) -> str:
        if self.admin_test_id is None:  # a rule of a version
            what = f" answers {self.question_id}" if self.question_id else ""
            target = f" {self.target_machine}:{self.port}" if self.target_machine else f" {self.check_target}"
            return f"{self.check_type} in {self.machine_name}:{target.rstrip()}{what}"
        return f"{self.check_type} {self.check_target}: {self.status}"


class DockerTest(TimestampedModel):
    """A compose-style smoke test of a creator's images (``docker_tests``)."""

    id = models.BigAutoField(primary_key=True)
    test_id = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scenario = models.ForeignKey(Scenario, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    compose_content = models.TextField(blank=True)
    container_ids = models.JSONField(default=list, blank=True)
    test_results = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=TestStatus.choices, default=TestStatus.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    validation_completed_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    error_message = models.TextField(null=True, blank=True)
    logs = models.TextField(blank=True)
    network_name = models.CharField(max_length=255, blank=True)
    cleanup_completed = models.BooleanField(default=False)
    metadata = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "docker_tests"
        ordering = ["-created_at"]
