"""Operations: usage roll-ups, orphan and health records, budgets, alerts and interface endpoints.

The kernel's tables (system settings, audit log, jobs, notifications) live in ``rangex.core``."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from rangex.core.models import TimestampedModel


class UsageDaily(models.Model):
    """One day of platform usage, rolled up from the sessions (``usage_daily``)."""

    date = models.DateField(primary_key=True)
    env_hours_micro = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    env_hours_small = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    env_hours_medium = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    env_hours_large = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    total_estimated_cost_rm = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    vcpu_cost_rm = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    memory_cost_rm = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))

    class Meta:
        db_table = "usage_daily"
        ordering = ["-date"]
        verbose_name_plural = "usage (daily)"

    def __str__(self) -> str:
        return f"Usage of {self.date}"


class OrphanedTaskLog(models.Model):
    """A runtime resource found without a live session, and what the sweeper did (``orphaned_tasks_log``)."""

    class Status(models.TextChoices):
        DETECTED = "detected"
        TERMINATED = "terminated"
        REPORTED = "reported"
        FAILED = "failed"

    id = models.BigAutoField(primary_key=True)
    # One row per resource: the insert is how concurrent sweeps claim an orphan.
    task_arn = models.CharField(max_length=191, unique=True, help_text="Container id, network id or ECS task ARN.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scenario = models.ForeignKey(
        "scenarios.Scenario", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    detected_at = models.DateTimeField(default=timezone.now)
    terminated_at = models.DateTimeField(null=True, blank=True)
    last_activity = models.DateTimeField(null=True, blank=True)
    running_minutes = models.PositiveIntegerField(default=0)
    inactive_minutes = models.PositiveIntegerField(default=0)
    estimated_cost = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    termination_reason = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DETECTED, db_index=True)
    error_message = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "orphaned_tasks_log"
        ordering = ["-detected_at"]
        verbose_name = "orphaned resource"

    def __str__(self) -> str:
        return f"{self.task_arn[:12]} ({self.status})"


class HealthCheck(models.Model):
    """One runtime health check result of any backend (``aws_config_checks``)."""

    class CheckType(models.TextChoices):
        ENGINE = "engine", "Engine reachable"
        DISK = "disk", "Disk space"
        IMAGES = "images", "Required images"
        STUCK_SESSIONS = "stuck_sessions", "Stuck starting sessions"
        OVERSIZED = "oversized", "Oversized containers"
        ORPHANS = "orphans", "Orphan sweep"
        HOST_ISOLATION = "host_isolation", "Labs kept off the host"
        LAB_MACHINES = "lab_machines", "Live labs' machines running"
        OBJECT_STORAGE = "object_storage", "Asset storage reachable"
        AWS_CONFIG = "aws_config", "Cloud set-up"

    class Status(models.TextChoices):
        OK = "ok"
        WARNING = "warning"
        FAILED = "failed"

    id = models.BigAutoField(primary_key=True)
    check_type = models.CharField(max_length=32, choices=CheckType.choices)
    service_name = models.CharField(max_length=100, help_text="The backend or component checked.")
    status = models.CharField(max_length=16, choices=Status.choices)
    message = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    auto_healed = models.BooleanField(default=False)
    heal_action = models.CharField(max_length=255, blank=True)
    checked_at = models.DateTimeField(default=timezone.now, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "aws_config_checks"
        ordering = ["-checked_at"]
        indexes = [models.Index(fields=["check_type", "status", "service_name"], name="health_type_status_svc_idx")]

    def __str__(self) -> str:
        return f"{self.get_check_type_display()}: {self.status}"


class BudgetAlert(TimestampedModel):
    """A scenario's budget for one month and where it stands (``budget_alerts``).

    Admins set ``budget_limit`` (RM), ``grace_period_hours`` and ``auto_shutdown_enabled``; the
    budget task keeps cost, percentage and forecast current and walks ``status`` forward. A new
    month's row copies the previous month's configuration.
    """

    class Status(models.TextChoices):
        OK = "ok", "Within budget"
        ALERTED = "alerted", "Alert sent"
        GRACE = "grace", "Over budget, in grace period"
        SHUTDOWN = "shutdown", "Shut down"

    id = models.BigAutoField(primary_key=True)
    scenario = models.ForeignKey("scenarios.Scenario", on_delete=models.CASCADE, related_name="budget_alerts")
    alert_month = models.DateField(help_text="The first day of the month.")
    current_cost = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    budget_limit = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))], help_text="RM per month."
    )
    alert_percentage = models.PositiveSmallIntegerField(
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Alert when this percentage of the budget is used.",
    )
    percentage_used = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    grace_period_starts = models.DateTimeField(null=True, blank=True)
    grace_period_ends = models.DateTimeField(null=True, blank=True)
    grace_period_hours = models.PositiveIntegerField(default=24)
    auto_shutdown_enabled = models.BooleanField(default=False)
    shutdown_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OK, db_index=True)
    admin_notified = models.BooleanField(default=False)
    forecast_end_of_month = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    metadata = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        db_table = "budget_alerts"
        ordering = ["-alert_month", "scenario"]
        constraints = [
            models.UniqueConstraint(fields=["scenario", "alert_month"], name="budget_alert_scenario_month_unique")
        ]

    def __str__(self) -> str:
        return f"Budget of {self.scenario_id} for {self.alert_month:%Y-%m}"


class AlertLog(models.Model):
    """One alert delivery to one recipient on one channel (``alert_logs``)."""

    class AlertType(models.TextChoices):
        BUDGET = "budget"
        BUDGET_CAP = "budget_cap"
        ORPHAN = "orphan"
        HEALTH = "health"
        ERROR = "error"
        TEST = "test"

    class Priority(models.TextChoices):
        LOW = "low"
        MEDIUM = "medium"
        HIGH = "high"
        CRITICAL = "critical"

    class Channel(models.TextChoices):
        EMAIL = "email"
        SLACK = "slack"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"
        SUPPRESSED = "suppressed"

    id = models.BigAutoField(primary_key=True)
    alert_type = models.CharField(max_length=32, choices=AlertType.choices)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.MEDIUM)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    recipient = models.CharField(max_length=255, blank=True)
    subject = models.CharField(max_length=255)
    message = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    dedupe_key = models.CharField(max_length=191, blank=True, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    retry_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "alert_logs"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["alert_type", "priority", "status"], name="alert_type_prio_status_idx")]

    def __str__(self) -> str:
        return f"{self.alert_type} via {self.channel}: {self.status}"


class InterfaceEndpoint(TimestampedModel):
    """A named network interface or endpoint operators refer to (``interface_endpoint``)."""

    class Type(models.TextChoices):
        URL = "url"
        IP = "ip"
        HOSTNAME = "hostname"
        INTERFACE = "interface"

    id = models.BigAutoField(primary_key=True)
    label = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=16, choices=Type.choices)
    value = models.CharField(max_length=255)
    notes = models.TextField(blank=True)

    class Meta:
        db_table = "interface_endpoint"
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label
