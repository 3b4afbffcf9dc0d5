"""The review tables of the scenarios app: test deployments, admin tests, validation rules, Docker tests.

Apart from ``models.py`` so each module stays readable; ``apps.scenarios.models`` re-exports them, so
``from apps.scenarios.models import DockerTest`` keeps working. Foreign keys name the scenario
tables by label ("scenarios.ScenarioVersion") so this module does not import ``models.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.scenarios.choices import TestStatus
from rangex.core.models import BaseModel, TimestampedModel


class ScenarioVersionTestRun(BaseModel):
    """A creator's or admin's trial deployment of a version (``scenario_version_test_runs``)."""

    scenario_version = models.ForeignKey(
        "scenarios.ScenarioVersion",
        on_delete=models.CASCADE,
        related_name="test_runs",
        verbose_name=_("scenario version"),
    )
    initiated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("initiated by"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=TestStatus.choices, default=TestStatus.PENDING, db_index=True
    )
    deployment_id = models.CharField(_("deployment id"), max_length=255, null=True, blank=True)
    session_token = models.CharField(_("session token"), max_length=255, null=True, blank=True)
    gateway_proxy_url = models.CharField(_("gateway proxy url"), max_length=500, null=True, blank=True)
    test_results = models.JSONField(_("test results"), null=True, blank=True)
    logs = models.TextField(_("logs"), blank=True)
    error_message = models.TextField(_("error message"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    # What was tested: ``apps.scenarios.testing.content_hash`` of the version when the run started.
    content_hash = models.CharField(_("content hash"), max_length=64, blank=True, db_index=True)
    duration_seconds = models.PositiveIntegerField(_("duration seconds"), null=True, blank=True)
    keep = models.BooleanField(_("keep"), default=False, help_text=_("Leave the lab running after the run."))

    class Meta:
        db_table = "scenario_version_test_runs"
        ordering = ["-created_at"]
        verbose_name = _("scenario version test run")
        verbose_name_plural = _("scenario version test runs")

    def __str__(self) -> str:
        return gettext("Test deployment of %(version)s (%(status)s)") % {
            "version": self.scenario_version,
            "status": self.status,
        }


class ScenarioVersionAdminTest(BaseModel):
    """An admin's test deployment during review, with its checks (``scenario_version_admin_test``)."""

    class Mode(models.TextChoices):
        QUICK = "quick", _("Quick (start and check machines)")
        FULL = "full", _("Full (also check services and ports)")

    scenario_version = models.ForeignKey(
        "scenarios.ScenarioVersion",
        on_delete=models.CASCADE,
        related_name="admin_tests",
        verbose_name=_("scenario version"),
    )
    created_by_admin = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by admin"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=TestStatus.choices, default=TestStatus.PENDING, db_index=True
    )
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices, default=Mode.QUICK)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    duration = models.PositiveIntegerField(_("duration"), null=True, blank=True, help_text=_("Seconds."))
    report_json = models.JSONField(_("report json"), null=True, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    error_message = models.TextField(_("error message"), null=True, blank=True)
    test_session_id = models.UUIDField(_("test session id"), null=True, blank=True)
    gateway_ip = models.CharField(_("gateway ip"), max_length=64, null=True, blank=True)

    class Meta:
        db_table = "scenario_version_admin_test"
        ordering = ["-created_at"]
        verbose_name = _("scenario version admin test")
        verbose_name_plural = _("scenario version admin tests")


class AdminTestValidation(models.Model):
    """A validation rule of a version, run by every test deployment (``admin_test_validation``).

    A row with ``scenario_version`` is a rule (content of the version, carried by bundles); the
    earlier system's per-admin-test check rows (``admin_test``) keep their columns. What a rule
    checks is ``check_type``; see ``apps.scenarios.testing`` for the fields each kind uses.
    """

    class CheckType(models.TextChoices):
        COMMAND = "command", _("Command in a machine")
        REACHABLE = "reachable", _("Port reachable from a machine")
        HTTP = "http", _("HTTP request from a machine")
        FILE = "file", _("File in a machine")
        SOLUTION = "solution", _("Solution script answers a question")
        CONTAINER_RUNNING = "container_running", _("Container Running")
        NETWORK = "network", _("Network")
        PORT_OPEN = "port_open", _("Port Open")
        ENTRYPOINT = "entrypoint", _("Entrypoint")
        ASSET = "asset", _("Asset")

    class Status(models.TextChoices):
        PASS = "pass", _("Pass")
        FAIL = "fail", _("Fail")
        WARN = "warn", _("Warn")
        SKIP = "skip", _("Skip")

    id = models.BigAutoField(primary_key=True)
    admin_test = models.ForeignKey(
        ScenarioVersionAdminTest,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="validations",
        verbose_name=_("admin test"),
    )
    scenario_version = models.ForeignKey(
        "scenarios.ScenarioVersion",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="validation_rules",
        verbose_name=_("scenario version"),
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    machine_id = models.UUIDField(_("machine id"), null=True, blank=True)
    machine_name = models.CharField(
        _("machine name"), max_length=64, blank=True, help_text=_("The machine the rule runs in.")
    )
    check_type = models.CharField(_("check type"), max_length=24, choices=CheckType.choices)
    check_target = models.CharField(
        _("check target"),
        max_length=255,
        blank=True,
        help_text=_("HTTP: the URL. File: the absolute path. Otherwise empty."),
    )
    run_as = models.CharField(_("run as"), max_length=64, default="root", help_text=_("The user the command runs as."))
    command = models.TextField(_("command"), blank=True, help_text=_("Command / solution: a /bin/sh script."))
    expected_exit_code = models.IntegerField(
        _("expected exit code"), null=True, blank=True, help_text=_("Command: the exit code expected.")
    )
    pattern = models.CharField(
        _("pattern"),
        max_length=500,
        blank=True,
        help_text=_("A regular expression the output, body or file must contain."),
    )
    target_machine = models.CharField(
        _("target machine"), max_length=64, blank=True, help_text=_("Reachable: the machine to connect to.")
    )
    port = models.PositiveIntegerField(_("port"), null=True, blank=True, help_text=_("Reachable: the TCP port."))
    expect_reachable = models.BooleanField(
        _("expect reachable"), default=True, help_text=_("Reachable: untick to require NOT reachable.")
    )
    expected_status = models.PositiveIntegerField(
        _("expected status"), null=True, blank=True, help_text=_("HTTP: the status expected.")
    )
    question_id = models.CharField(
        _("question id"), max_length=64, blank=True, help_text=_("Solution: the question it answers.")
    )
    timeout_seconds = models.PositiveIntegerField(
        _("timeout seconds"), default=30, validators=[MinValueValidator(1), MaxValueValidator(600)]
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, blank=True)
    message = models.TextField(_("message"), blank=True)
    details = models.JSONField(_("details"), null=True, blank=True)
    checked_at = models.DateTimeField(_("checked at"), auto_now_add=True)

    class Meta:
        db_table = "admin_test_validation"
        ordering = ["position", "id"]
        verbose_name = _("admin test validation")
        verbose_name_plural = _("admin test validations")

    def __str__(self) -> str:
        if self.admin_test_id is None:  # a rule of a version
            what = f" answers {self.question_id}" if self.question_id else ""
            target = f" {self.target_machine}:{self.port}" if self.target_machine else f" {self.check_target}"
            return f"{self.check_type} in {self.machine_name}:{target.rstrip()}{what}"
        return f"{self.check_type} {self.check_target}: {self.status}"


class DockerTest(TimestampedModel):
    """A compose-style smoke test of a creator's images (``docker_tests``)."""

    id = models.BigAutoField(primary_key=True)
    test_id = models.CharField(_("test id"), max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    scenario = models.ForeignKey(
        "scenarios.Scenario",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("scenario"),
    )
    compose_content = models.TextField(_("compose content"), blank=True)
    container_ids = models.JSONField(_("container ids"), default=list, blank=True)
    test_results = models.JSONField(_("test results"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=TestStatus.choices, default=TestStatus.PENDING)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    validation_completed_at = models.DateTimeField(_("validation completed at"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    error_message = models.TextField(_("error message"), null=True, blank=True)
    logs = models.TextField(_("logs"), blank=True)
    network_name = models.CharField(_("network name"), max_length=255, blank=True)
    cleanup_completed = models.BooleanField(_("cleanup completed"), default=False)
    metadata = models.JSONField(_("metadata"), null=True, blank=True)

    class Meta:
        db_table = "docker_tests"
        ordering = ["-created_at"]
        verbose_name = _("docker test")
        verbose_name_plural = _("docker tests")
