"""The kernel's tables and the abstract base models shared by every app.

The kernel owns what every app needs: the system settings, the audit trail, durable job records
and notifications. Their tables keep the seed's names; they moved here from ``ops`` and
``accounts`` without touching the data (see migrations/0001_initial.py).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rangex.core.crypto import EncryptedTextField


class TimestampedModel(models.Model):
    """Add ``created_at`` and ``updated_at``, kept current even by ``save(update_fields=...)``."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "updated_at" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "updated_at"]
        super().save(*args, **kwargs)


class BaseModel(TimestampedModel):
    """A timestamped model with a random UUID primary key, so ids cannot be enumerated."""

    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)

    class Meta:
        abstract = True


BUDGET_PAUSE_MESSAGE = "RangeX has reached its monthly budget and is paused until an administrator resumes it."


def validate_gateway_source(value: str) -> None:
    """A security group id or an IPv4/IPv6 network: what the ECS gateway's port 22 admits."""
    import ipaddress
    import re

    from django.core.exceptions import ValidationError

    text = (value or "").strip()
    if not text or re.fullmatch(r"sg-[0-9a-f]{8,17}", text):
        return
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValidationError(
            _("Enter a security group id (sg-...) or a network in CIDR form (10.0.0.0/16).")
        ) from None


class SystemSettings(models.Model):
    """The one row of platform configuration that admins edit in the admin (``system_settings``)."""

    class StorageDriver(models.TextChoices):
        LOCAL = "local", _("Local files")
        MINIO = "minio", _("MinIO / S3-compatible")
        S3 = "s3", _("Amazon S3")

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(_("id"), primary_key=True, default=SINGLETON_ID, editable=False)
    maintenance_mode = models.BooleanField(_("maintenance mode"), default=False)
    maintenance_message = models.TextField(
        _("maintenance message"), blank=True, default="RangeX is down for maintenance. Please come back soon."
    )
    # The budget cap's pause is kept apart from the operator's maintenance switch and message, so
    # neither overwrites the other; either one puts RangeX into maintenance (``maintenance_active``).
    budget_paused = models.BooleanField(
        _("budget paused"),
        default=False,
        help_text=_("Set by the budget check when the monthly cap is reached; off resumes RangeX."),
    )
    budget_override_month = models.DateField(
        _("budget override month"),
        null=True,
        blank=True,
        help_text=_("An operator resumed RangeX over the cap: the budget check does not pause it again in this month."),
    )
    max_concurrent_users = models.PositiveIntegerField(
        _("max concurrent users"), default=500, help_text=_("0 means no limit.")
    )
    max_total_users = models.PositiveIntegerField(_("max total users"), default=0, help_text=_("0 means no limit."))
    allow_new_registrations = models.BooleanField(_("allow new registrations"), default=True)
    max_sessions_per_user = models.PositiveIntegerField(
        _("max sessions per user"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("Concurrent live sessions per user."),
    )
    max_sessions_per_hour = models.PositiveIntegerField(
        _("max sessions per hour"), default=10, validators=[MinValueValidator(1)]
    )
    max_sessions_per_day = models.PositiveIntegerField(
        _("max sessions per day"), default=30, validators=[MinValueValidator(1)]
    )
    idle_timeout_minutes = models.PositiveIntegerField(
        _("idle timeout minutes"), default=30, validators=[MinValueValidator(1)]
    )
    max_session_duration_minutes = models.PositiveIntegerField(
        _("max session duration minutes"), default=240, validators=[MinValueValidator(5)]
    )
    max_total_containers = models.PositiveIntegerField(
        _("max total containers"), default=200, validators=[MinValueValidator(1)]
    )
    max_pause_minutes = models.PositiveIntegerField(
        _("max pause minutes"),
        default=120,
        validators=[MinValueValidator(1)],
        help_text=_("A lab paused longer than this is stopped (its machines are removed; answers and score stay)."),
    )
    max_accessible_scenarios = models.PositiveIntegerField(
        _("max accessible scenarios"), default=0, help_text=_("0 means no limit.")
    )
    allow_all_scenarios = models.BooleanField(_("allow all scenarios"), default=True)
    budget_hard_cap_usd = models.DecimalField(
        _("budget hard cap usd"), max_digits=12, decimal_places=2, default=Decimal("0"), help_text=_("0 means no cap.")
    )
    budget_alert_percentage = models.PositiveSmallIntegerField(
        _("budget alert percentage"), default=80, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    auto_maintenance_on_budget_cap = models.BooleanField(_("auto maintenance on budget cap"), default=False)
    max_storage_per_user_bytes = models.BigIntegerField(
        _("max storage per user bytes"), default=500 * 1024 * 1024, validators=[MinValueValidator(0)]
    )
    max_total_storage_bytes = models.BigIntegerField(
        _("max total storage bytes"), default=50 * 1024**3, validators=[MinValueValidator(0)]
    )
    storage_driver = models.CharField(
        _("storage driver"), max_length=16, choices=StorageDriver.choices, default=StorageDriver.LOCAL
    )
    minio_endpoint = models.CharField(_("minio endpoint"), max_length=255, blank=True)
    minio_port = models.PositiveIntegerField(
        _("minio port"), null=True, blank=True, validators=[MaxValueValidator(65535)]
    )
    minio_use_ssl = models.BooleanField(_("minio use ssl"), default=True)
    minio_access_key = EncryptedTextField(_("minio access key"), blank=True, default="")
    minio_secret_key = EncryptedTextField(_("minio secret key"), blank=True, default="")
    minio_bucket = models.CharField(_("minio bucket"), max_length=63, blank=True)
    aws_region = models.CharField(_("aws region"), max_length=32, blank=True)
    aws_ecs_cluster_name = models.CharField(_("aws ecs cluster name"), max_length=255, blank=True)
    aws_ecs_subnet_ids = models.TextField(
        _("aws ecs subnet ids"), blank=True, help_text=_("Comma-separated subnet ids.")
    )
    aws_ecs_security_group_ids = models.TextField(
        _("aws ecs security group ids"), blank=True, help_text=_("Comma-separated security group ids.")
    )
    aws_ecr_registry = models.CharField(_("aws ecr registry"), max_length=255, blank=True)
    aws_ecs_execution_role_arn = models.CharField(
        _("aws ecs execution role arn"),
        max_length=255,
        blank=True,
        help_text=_("The task execution role Fargate pulls images and writes logs with."),
    )
    aws_ecs_files_bucket = models.CharField(
        _("aws ecs files bucket"),
        max_length=63,
        blank=True,
        help_text=_("S3 bucket for the files a lab gets before start (presigned, 5 minutes)."),
    )
    aws_ecs_init_image = models.CharField(
        _("aws ecs init image"),
        max_length=255,
        blank=True,
        help_text=_("Image of the init container that fetches those files (busybox)."),
    )
    aws_ecs_gateway_source = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_gateway_source],
        help_text=_(
            "Security group id (sg-...) or CIDR of the web tier. Each lab's SSH gateway admits it on port 22 "
            "only; empty: ECS labs start no gateway and offer no terminal."
        ),
    )
    aws_fargate_vcpu_hour_usd = models.DecimalField(
        _("aws fargate vcpu hour usd"),
        max_digits=10,
        decimal_places=6,
        default=Decimal("0.04048"),
        help_text=_("Fargate price per vCPU-hour."),
    )
    aws_fargate_gb_hour_usd = models.DecimalField(
        _("aws fargate gb hour usd"),
        max_digits=10,
        decimal_places=6,
        default=Decimal("0.004445"),
        help_text=_("Fargate price per GB-hour."),
    )
    use_local_docker = models.BooleanField(_("use local docker"), default=True)
    docker_max_containers = models.PositiveIntegerField(
        _("docker max containers"), default=200, validators=[MinValueValidator(1)]
    )
    docker_max_cpus_per_container = models.DecimalField(
        _("docker max cpus per container"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("2.00"),
        validators=[MinValueValidator(Decimal("0.1"))],
    )
    docker_max_memory_mb_per_container = models.PositiveIntegerField(
        _("docker max memory mb per container"), default=2048, validators=[MinValueValidator(16)]
    )
    docker_test_timeout_minutes = models.PositiveIntegerField(
        _("docker test timeout minutes"), default=30, validators=[MinValueValidator(1)]
    )
    publish_requires_test_run = models.BooleanField(
        _("publish requires test run"),
        default=True,
        help_text=_("Approving or publishing a version needs a passing test deployment of its exact content."),
    )
    docker_enable_pull_from_hub = models.BooleanField(_("docker enable pull from hub"), default=False)
    enable_prometheus_metrics = models.BooleanField(_("enable prometheus metrics"), default=False)
    enable_request_logging = models.BooleanField(_("enable request logging"), default=False)
    log_retention_days = models.PositiveIntegerField(
        _("log retention days"), default=90, validators=[MinValueValidator(1)]
    )
    send_error_notifications = models.BooleanField(_("send error notifications"), default=True)
    admin_emails = models.TextField(
        _("admin emails"), blank=True, help_text=_("Comma-separated addresses that receive alerts.")
    )
    slack_webhook_url = EncryptedTextField(_("slack webhook url"), blank=True, default="")
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        db_table = "system_settings"
        verbose_name = _("system settings")
        verbose_name_plural = _("system settings")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="system_settings_singleton")]

    def __str__(self) -> str:
        return gettext("System settings")

    def save(self, *args, **kwargs):
        self.id = self.SINGLETON_ID
        super().save(*args, **kwargs)

    @property
    def maintenance_active(self) -> bool:
        """Return whether non-staff are kept out: by the operator's switch or by the budget cap."""
        return self.maintenance_mode or self.budget_paused

    @property
    def maintenance_messages(self) -> list[str]:
        """Return what users are told: the operator's message and the budget banner, each when it applies."""
        messages = []
        if self.maintenance_mode:
            messages.append(self.maintenance_message or "RangeX is down for maintenance.")
        if self.budget_paused:
            messages.append(BUDGET_PAUSE_MESSAGE)
        return messages

    @property
    def admin_email_list(self) -> list[str]:
        return [a.strip() for a in self.admin_emails.replace(";", ",").split(",") if a.strip()]


class SystemSetting(TimestampedModel):
    """Free-form key/value configuration (``system_setting``)."""

    key = models.CharField(_("key"), max_length=191, primary_key=True)
    value = models.TextField(_("value"), blank=True)

    class Meta:
        db_table = "system_setting"
        ordering = ["key"]
        # Not "system settings": that is the singleton above, and the admin would list the name twice.
        verbose_name = _("key-value setting")
        verbose_name_plural = _("key-value settings")

    def __str__(self) -> str:
        return self.key


class AuditLog(models.Model):
    """One state change: who did what to which object, from where. Never edited, never deleted."""

    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    timestamp = models.DateTimeField(_("timestamp"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    # The values are AuditAction members (audit_record refuses anything else). Not declared as choices:
    # every new action would otherwise need a migration; the admin filters and labels by the enum.
    action_type = models.CharField(_("action type"), max_length=100, db_index=True)
    target_type = models.CharField(_("target type"), max_length=100, blank=True, db_index=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True, db_index=True)
    target_repr = models.CharField(_("target repr"), max_length=255, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    ip_address = models.CharField(_("ip address"), max_length=45, null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=512, null=True, blank=True)

    class Meta:
        db_table = "audit_log"
        ordering = ["-timestamp"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_log_target_idx")]
        verbose_name = _("audit log")
        verbose_name_plural = _("audit logs")

    def __str__(self) -> str:
        return f"{self.timestamp:%Y-%m-%d %H:%M:%S} {self.action_type}"


class Job(BaseModel):
    """The durable record of a long operation, shown as progress to whoever waits for it."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    FINISHED = {Status.SUCCEEDED, Status.FAILED, Status.CANCELLED}

    type = models.CharField(_("type"), max_length=64, db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0, validators=[MaxValueValidator(100)])
    progress_message = models.CharField(_("progress message"), max_length=255, blank=True)
    error = models.TextField(_("error"), null=True, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True, encoder=DjangoJSONEncoder)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jobs",
        verbose_name=_("user"),
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        db_table = "job"
        ordering = ["-created_at"]
        verbose_name = _("job")
        verbose_name_plural = _("jobs")

    def __str__(self) -> str:
        return f"{self.type} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class NotificationType(models.TextChoices):
    SYSTEM = "system", _("Platform announcements")
    SECURITY = "security", _("Security of my account")
    REVIEW = "review", _("Scenario review decisions")
    SESSION = "session", _("Lab sessions (expiry, idle stop)")
    BUDGET = "budget", _("Budget warnings")
    TEAM = "team", _("Teams")
    EVENT = "event", _("Events")
    BADGE = "badge", _("Badges earned")
    PATH = "path", _("Learning paths completed")


# Which notification types are emailed when the user has not chosen. Review decisions and budget
# warnings concern creators and admins only, so they are on by default for staff and off for learners
# (``STAFF_EMAIL_DEFAULTS``); what a learner earns is worth an email.
DEFAULT_EMAIL_PREFERENCES = {
    NotificationType.SYSTEM: True,
    NotificationType.SECURITY: True,
    NotificationType.REVIEW: False,
    NotificationType.SESSION: False,
    NotificationType.BUDGET: False,
    NotificationType.TEAM: False,
    NotificationType.EVENT: True,
    NotificationType.BADGE: True,
    NotificationType.PATH: True,
}
STAFF_EMAIL_DEFAULTS = frozenset({NotificationType.REVIEW, NotificationType.BUDGET})


class Notification(models.Model):
    """An in-app notification (``notification``); emailed too when the user's preferences say so."""

    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("user")
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    type = models.CharField(_("type"), max_length=32, choices=NotificationType.choices, default=NotificationType.SYSTEM)
    link = models.CharField(_("link"), max_length=500, blank=True)
    is_read = models.BooleanField(_("is read"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "notification"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "is_read", "created_at"], name="notification_user_unread_idx")]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.title
