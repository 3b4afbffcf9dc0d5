"""Operations: usage roll-ups, orphan and health records, budgets, alerts and interface endpoints.

The kernel's tables (system settings, audit log, jobs, notifications) live in ``rangex.core``."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rangex.core.models import TimestampedModel


class UsageDaily(models.Model):
    """One day of platform usage, rolled up from the sessions (``usage_daily``)."""

    date = models.DateField(_("date"), primary_key=True)
    env_hours_micro = models.DecimalField(_("env hours micro"), max_digits=12, decimal_places=4, default=Decimal("0"))
    env_hours_small = models.DecimalField(_("env hours small"), max_digits=12, decimal_places=4, default=Decimal("0"))
    env_hours_medium = models.DecimalField(_("env hours medium"), max_digits=12, decimal_places=4, default=Decimal("0"))
    env_hours_large = models.DecimalField(_("env hours large"), max_digits=12, decimal_places=4, default=Decimal("0"))
    total_estimated_cost_rm = models.DecimalField(
        _("total estimated cost rm"), max_digits=12, decimal_places=4, default=Decimal("0")
    )
    vcpu_cost_rm = models.DecimalField(_("vcpu cost rm"), max_digits=12, decimal_places=4, default=Decimal("0"))
    memory_cost_rm = models.DecimalField(_("memory cost rm"), max_digits=12, decimal_places=4, default=Decimal("0"))

    class Meta:
        db_table = "usage_daily"
        ordering = ["-date"]
        verbose_name_plural = _("usage (daily)")
        verbose_name = _("usage daily")

    def __str__(self) -> str:
        return gettext("Usage of %(date)s") % {"date": self.date}


class OrphanedTaskLog(models.Model):
    """A runtime resource found without a live session, and what the sweeper did (``orphaned_tasks_log``)."""

    class Status(models.TextChoices):
        DETECTED = "detected", _("Detected")
        TERMINATED = "terminated", _("Terminated")
        REPORTED = "reported", _("Reported")
        FAILED = "failed", _("Failed")

    id = models.BigAutoField(primary_key=True)
    # One row per resource: the insert is how concurrent sweeps claim an orphan.
    task_arn = models.CharField(
        _("task arn"), max_length=191, unique=True, help_text=_("Container id, network id or ECS task ARN.")
    )
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
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    detected_at = models.DateTimeField(_("detected at"), default=timezone.now)
    terminated_at = models.DateTimeField(_("terminated at"), null=True, blank=True)
    last_activity = models.DateTimeField(_("last activity"), null=True, blank=True)
    running_minutes = models.PositiveIntegerField(_("running minutes"), default=0)
    inactive_minutes = models.PositiveIntegerField(_("inactive minutes"), default=0)
    estimated_cost = models.DecimalField(_("estimated cost"), max_digits=12, decimal_places=4, default=Decimal("0"))
    termination_reason = models.CharField(_("termination reason"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DETECTED, db_index=True
    )
    error_message = models.TextField(_("error message"), blank=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        db_table = "orphaned_tasks_log"
        ordering = ["-detected_at"]
        verbose_name = _("orphaned resource")
        verbose_name_plural = _("orphaned task logs")

    def __str__(self) -> str:
        return f"{self.task_arn[:12]} ({self.status})"


class HealthCheck(models.Model):
    """One runtime health check result of any backend (``aws_config_checks``)."""

    class CheckType(models.TextChoices):
        ENGINE = "engine", _("Engine reachable")
        DISK = "disk", _("Disk space")
        IMAGES = "images", _("Required images")
        STUCK_SESSIONS = "stuck_sessions", _("Stuck starting sessions")
        OVERSIZED = "oversized", _("Oversized containers")
        ORPHANS = "orphans", _("Orphan sweep")
        HOST_ISOLATION = "host_isolation", _("Labs kept off the host")
        LAB_MACHINES = "lab_machines", _("Live labs' machines running")
        OBJECT_STORAGE = "object_storage", _("Asset storage reachable")
        AWS_CONFIG = "aws_config", _("Cloud set-up")

    class Status(models.TextChoices):
        OK = "ok", _("Ok")
        WARNING = "warning", _("Warning")
        FAILED = "failed", _("Failed")

    id = models.BigAutoField(primary_key=True)
    check_type = models.CharField(_("check type"), max_length=32, choices=CheckType.choices)
    service_name = models.CharField(_("service name"), max_length=100, help_text=_("The backend or component checked."))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    message = models.TextField(_("message"), blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    auto_healed = models.BooleanField(_("auto healed"), default=False)
    heal_action = models.CharField(_("heal action"), max_length=255, blank=True)
    checked_at = models.DateTimeField(_("checked at"), default=timezone.now, db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "aws_config_checks"
        ordering = ["-checked_at"]
        indexes = [models.Index(fields=["check_type", "status", "service_name"], name="health_type_status_svc_idx")]
        verbose_name = _("health check")
        verbose_name_plural = _("health checks")

    def __str__(self) -> str:
        return f"{self.get_check_type_display()}: {self.status}"


class BudgetAlert(TimestampedModel):
    """A scenario's budget for one month and where it stands (``budget_alerts``).

    Admins set ``budget_limit`` (RM), ``grace_period_hours`` and ``auto_shutdown_enabled``; the
    budget task keeps cost, percentage and forecast current and walks ``status`` forward. A new
    month's row copies the previous month's configuration.
    """

    class Status(models.TextChoices):
        OK = "ok", _("Within budget")
        ALERTED = "alerted", _("Alert sent")
        GRACE = "grace", _("Over budget, in grace period")
        SHUTDOWN = "shutdown", _("Shut down")

    id = models.BigAutoField(primary_key=True)
    scenario = models.ForeignKey(
        "scenarios.Scenario", on_delete=models.CASCADE, related_name="budget_alerts", verbose_name=_("scenario")
    )
    alert_month = models.DateField(_("alert month"), help_text=_("The first day of the month."))
    current_cost = models.DecimalField(_("current cost"), max_digits=12, decimal_places=4, default=Decimal("0"))
    budget_limit = models.DecimalField(
        _("budget limit"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("RM per month."),
    )
    alert_percentage = models.PositiveSmallIntegerField(
        _("alert percentage"),
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Alert when this percentage of the budget is used."),
    )
    percentage_used = models.DecimalField(_("percentage used"), max_digits=8, decimal_places=2, default=Decimal("0"))
    grace_period_starts = models.DateTimeField(_("grace period starts"), null=True, blank=True)
    grace_period_ends = models.DateTimeField(_("grace period ends"), null=True, blank=True)
    grace_period_hours = models.PositiveIntegerField(_("grace period hours"), default=24)
    auto_shutdown_enabled = models.BooleanField(_("auto shutdown enabled"), default=False)
    shutdown_at = models.DateTimeField(_("shutdown at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OK, db_index=True)
    admin_notified = models.BooleanField(_("admin notified"), default=False)
    forecast_end_of_month = models.DecimalField(
        _("forecast end of month"), max_digits=12, decimal_places=4, default=Decimal("0")
    )
    metadata = models.JSONField(_("metadata"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        db_table = "budget_alerts"
        ordering = ["-alert_month", "scenario"]
        constraints = [
            models.UniqueConstraint(fields=["scenario", "alert_month"], name="budget_alert_scenario_month_unique")
        ]
        verbose_name = _("budget alert")
        verbose_name_plural = _("budget alerts")

    def __str__(self) -> str:
        return gettext("Budget of %(scenario)s for %(month)s") % {
            "scenario": self.scenario_id,
            "month": f"{self.alert_month:%Y-%m}",
        }


class AlertLog(models.Model):
    """One alert delivery to one recipient on one channel (``alert_logs``)."""

    class AlertType(models.TextChoices):
        BUDGET = "budget", _("Budget")
        BUDGET_CAP = "budget_cap", _("Budget Cap")
        ORPHAN = "orphan", _("Orphan")
        HEALTH = "health", _("Health")
        ERROR = "error", _("Error")
        TEST = "test", _("Test")

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")
        CRITICAL = "critical", _("Critical")

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SLACK = "slack", _("Slack")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SUPPRESSED = "suppressed", _("Suppressed")

    id = models.BigAutoField(primary_key=True)
    alert_type = models.CharField(_("alert type"), max_length=32, choices=AlertType.choices)
    priority = models.CharField(_("priority"), max_length=16, choices=Priority.choices, default=Priority.MEDIUM)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=255, blank=True)
    subject = models.CharField(_("subject"), max_length=255)
    message = models.TextField(_("message"), blank=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    dedupe_key = models.CharField(_("dedupe key"), max_length=191, blank=True, db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    retry_count = models.PositiveSmallIntegerField(_("retry count"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        db_table = "alert_logs"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["alert_type", "priority", "status"], name="alert_type_prio_status_idx")]
        verbose_name = _("alert log")
        verbose_name_plural = _("alert logs")

    def __str__(self) -> str:
        return f"{self.alert_type} via {self.channel}: {self.status}"


class InterfaceEndpoint(TimestampedModel):
    """A named network interface or endpoint operators refer to (``interface_endpoint``)."""

    class Type(models.TextChoices):
        URL = "url", _("Url")
        IP = "ip", _("Ip")
        HOSTNAME = "hostname", _("Hostname")
        INTERFACE = "interface", _("Interface")

    id = models.BigAutoField(primary_key=True)
    label = models.CharField(_("label"), max_length=100, unique=True)
    type = models.CharField(_("type"), max_length=16, choices=Type.choices)
    value = models.CharField(_("value"), max_length=255)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        db_table = "interface_endpoint"
        ordering = ["label"]
        verbose_name = _("interface endpoint")
        verbose_name_plural = _("interface endpoints")

    def __str__(self) -> str:
        return self.label
