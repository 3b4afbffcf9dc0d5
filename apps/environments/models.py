"""Environments: a solver's running lab (``environment_session``) and what the runtime made for it.

The session row separates intent from effect: services write the state, the runtime (see
``apps.runtime``) makes the containers and networks, and a task reports back.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.images.profiles import ResourceProfile
from rangex.core.models import BaseModel, TimestampedModel


def new_gateway_token() -> str:
    return secrets.token_urlsafe(32)


class SessionStatus(models.TextChoices):
    STARTING = "starting", _("Starting")
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    STOPPING = "stopping", _("Stopping")
    TERMINATED = "terminated", _("Terminated")
    FAILED = "failed", _("Failed")
    ERROR = "error", _("Error (imported)")


LIVE_STATUSES = (SessionStatus.STARTING, SessionStatus.RUNNING, SessionStatus.PAUSED, SessionStatus.STOPPING)
ENDED_STATUSES = (SessionStatus.TERMINATED, SessionStatus.FAILED, SessionStatus.ERROR)


class EnvironmentSession(BaseModel):
    """One solver's personal lab of one scenario version (``environment_session``)."""

    # The state machine: failed from any live state. ``error`` is kept only as a value that sessions
    # imported from the earlier system may carry (an ended session); RangeX never moves a session
    # into it: a lab that could not start, lost its machines or could not be recovered is FAILED,
    # with the reason in ``reason_stopped``.
    TRANSITIONS: dict[str, set[str]] = {
        SessionStatus.STARTING: {SessionStatus.RUNNING, SessionStatus.STOPPING, SessionStatus.FAILED},
        SessionStatus.RUNNING: {SessionStatus.PAUSED, SessionStatus.STOPPING, SessionStatus.FAILED},
        SessionStatus.PAUSED: {SessionStatus.RUNNING, SessionStatus.STOPPING, SessionStatus.FAILED},
        SessionStatus.STOPPING: {SessionStatus.TERMINATED, SessionStatus.FAILED},
        SessionStatus.TERMINATED: set(),
        SessionStatus.FAILED: set(),
        SessionStatus.ERROR: set(),
    }

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="environment_sessions", verbose_name=_("user")
    )
    scenario_version = models.ForeignKey(
        "scenarios.ScenarioVersion",
        on_delete=models.PROTECT,
        related_name="environment_sessions",
        verbose_name=_("scenario version"),
    )
    event_id = models.UUIDField(_("event id"), null=True, blank=True, db_index=True)
    team_id = models.UUIDField(_("team id"), null=True, blank=True, db_index=True)
    status = models.CharField(_("status"), max_length=24, choices=SessionStatus.choices, default=SessionStatus.STARTING)
    runtime_backend = models.CharField(
        _("runtime backend"),
        max_length=64,
        default="docker",
        help_text=_(
            "The key of the runtime that started it (RANGEX_DEFAULT_RUNTIME / RANGEX_RUNTIMES); every later "
            "call on the session goes to that backend."
        ),
    )
    aws_task_arn = models.CharField(_("aws task arn"), max_length=255, null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True, db_index=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    reason_stopped = models.TextField(_("reason stopped"), null=True, blank=True)
    gateway_ip = models.CharField(_("gateway ip"), max_length=45, null=True, blank=True)
    gateway_session_token = models.CharField(_("gateway session token"), max_length=128, default=new_gateway_token)
    env_profile = models.CharField(
        _("env profile"), max_length=24, choices=ResourceProfile.choices, default=ResourceProfile.SMALL
    )
    cost_accumulated_rm = models.DecimalField(
        _("cost accumulated rm"), max_digits=12, decimal_places=4, default=Decimal("0")
    )
    cost_accrued_until = models.DateTimeField(_("cost accrued until"), null=True, blank=True)
    soft_limit_warned = models.BooleanField(_("soft limit warned"), default=False)
    idle_warned = models.BooleanField(_("idle warned"), default=False)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    score = models.IntegerField(_("score"), default=0)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    client_ip = models.CharField(_("client ip"), max_length=45, null=True, blank=True)
    client_user_agent = models.CharField(_("client user agent"), max_length=512, null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity at"), null=True, blank=True)
    paused_remaining_seconds = models.PositiveIntegerField(_("paused remaining seconds"), null=True, blank=True)
    paused_at = models.DateTimeField(
        _("paused at"), null=True, blank=True, help_text=_("When the current pause began.")
    )
    is_test = models.BooleanField(_("is test"), default=False, db_index=True)
    launch_attempts = models.PositiveSmallIntegerField(_("launch attempts"), default=0)
    launch_heartbeat_at = models.DateTimeField(
        _("launch heartbeat at"),
        null=True,
        blank=True,
        help_text=_("Renewed by the worker that launches the session; a stale one means it died."),
    )
    launch_holder = models.CharField(
        _("launch holder"),
        max_length=128,
        blank=True,
        help_text=_("host:pid of the worker that holds the launch lease."),
    )
    progress = models.PositiveSmallIntegerField(_("progress"), default=0, help_text=_("Launch progress, 0-100."))
    progress_message = models.CharField(_("progress message"), max_length=255, blank=True)
    # Optimistic lock: every write through the services bumps it.
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        db_table = "environment_session"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "status"], name="env_session_user_status_idx")]
        verbose_name = _("environment session")
        verbose_name_plural = _("environment sessions")

    def __str__(self) -> str:
        return f"Session {str(self.id)[:8]} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def solver_writeup(self) -> str:
        """The version's solver-facing write-up, only once the session has ended ("" while it is live)."""
        return "" if self.is_live else self.scenario_version.solver_writeup

    @property
    def has_lab(self) -> bool:
        """False for a question-only session (``requires_machines=False``): no machines, runtime, cost or timer."""
        return self.scenario_version.requires_machines


class EnvironmentMachine(models.Model):
    """One container of a session (``environment_machine``)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        EXITED = "exited", _("Exited")
        REMOVED = "removed", _("Removed")
        MISSING = "missing", _("Missing")
        FAILED = (
            "failed",
            _("Failed"),
        )  # its desktop (or main process) failed to start; the log tail is on a gui_sessions row

    id = models.BigAutoField(primary_key=True)
    environment_session = models.ForeignKey(
        EnvironmentSession, on_delete=models.CASCADE, related_name="machines", verbose_name=_("environment session")
    )
    machine = models.ForeignKey(
        "scenarios.Machine", null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("machine")
    )
    machine_name = models.CharField(_("machine name"), max_length=64)
    task_arn = models.CharField(
        _("task arn"), max_length=255, null=True, blank=True, help_text=_("Container id or ECS task ARN.")
    )
    private_ip = models.CharField(_("private ip"), max_length=45, null=True, blank=True)
    security_group_id = models.CharField(_("security group id"), max_length=128, null=True, blank=True)
    role = models.CharField(_("role"), max_length=16)
    machine_template_id = models.CharField(_("machine template id"), max_length=64, null=True, blank=True)
    allow_solver_entry = models.BooleanField(_("allow solver entry"), default=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "environment_machine"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["environment_session", "machine_name"], name="env_machine_name_unique")
        ]
        verbose_name = _("environment machine")
        verbose_name_plural = _("environment machines")

    def __str__(self) -> str:
        return f"{self.machine_name} ({self.status})"


class EnvironmentImage(models.Model):
    """Which image a session's container runs (``environment_image``)."""

    id = models.BigAutoField(primary_key=True)
    environment = models.ForeignKey(
        EnvironmentSession, on_delete=models.CASCADE, related_name="images", verbose_name=_("environment")
    )
    docker_image = models.ForeignKey(
        "images.DockerImage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("docker image"),
    )
    image_ref = models.CharField(_("image ref"), max_length=255, blank=True)
    container_name = models.CharField(_("container name"), max_length=255)
    ports_mapping = models.JSONField(_("ports mapping"), default=list, blank=True)
    environment_vars = models.JSONField(_("environment vars"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "environment_image"
        verbose_name = _("environment image")
        verbose_name_plural = _("environment images")

    def __str__(self) -> str:
        return self.container_name


class SessionNetworkTopology(models.Model):
    """Where each machine of a session sits on which network (``session_network_topology``)."""

    id = models.BigAutoField(primary_key=True)
    session = models.ForeignKey(
        EnvironmentSession, on_delete=models.CASCADE, related_name="topology", verbose_name=_("session")
    )
    machine_name = models.CharField(_("machine name"), max_length=64)
    machine_role = models.CharField(_("machine role"), max_length=16)
    network_group = models.CharField(_("network group"), max_length=64)
    network_id = models.CharField(_("network id"), max_length=128, blank=True)
    task_arn = models.CharField(_("task arn"), max_length=255, null=True, blank=True)
    private_ip = models.CharField(_("private ip"), max_length=45, null=True, blank=True)
    subnet_id = models.CharField(_("subnet id"), max_length=128, null=True, blank=True)
    security_group_id = models.CharField(_("security group id"), max_length=128, null=True, blank=True)
    network_interface_id = models.CharField(_("network interface id"), max_length=128, null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, default="active")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "session_network_topology"
        ordering = ["network_group", "machine_name"]
        verbose_name = _("session network topology")
        verbose_name_plural = _("session network topologies")

    def __str__(self) -> str:
        return f"{self.machine_name}@{self.network_group}"


class SessionSecurityGroup(models.Model):
    """A network isolation unit of a session: a Docker network or an AWS group (``session_security_groups``)."""

    id = models.BigAutoField(primary_key=True)
    session = models.ForeignKey(
        EnvironmentSession, on_delete=models.CASCADE, related_name="security_groups", verbose_name=_("session")
    )
    machine = models.ForeignKey(
        "scenarios.Machine",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("machine"),
    )
    security_group_id = models.CharField(_("security group id"), max_length=128, unique=True)
    network_group = models.CharField(_("network group"), max_length=64)
    security_group_name = models.CharField(_("security group name"), max_length=255)
    status = models.CharField(_("status"), max_length=16, default="active")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        db_table = "session_security_groups"
        verbose_name = _("session security group")
        verbose_name_plural = _("session security groups")

    def __str__(self) -> str:
        return self.security_group_name


class ParkStatus(models.TextChoices):
    """Where a warm pool's environment is in its one life: made, parked, claimed once, removed."""

    LAUNCHING = "launching", _("Launching")
    PARKED = "parked", _("Parked (ready)")
    CLAIMED = "claimed", _("Claimed by a session")
    REMOVING = "removing", _("Being removed")
    REMOVED = "removed", _("Removed")
    FAILED = "failed", _("Failed")


LIVE_PARK_STATUSES = (ParkStatus.LAUNCHING, ParkStatus.PARKED, ParkStatus.REMOVING)


class DeploymentEnvironment(BaseModel):
    """A deployment of a version made ahead of any session (``deployment_environment``).

    A warm pool's environments are these rows (``pool`` set): launched under ``session_uuid``, the
    id that the session claiming it will get, and ``parked_at`` once every machine is ready. A
    start claims one in a single transaction; it is used once, then removed with its session.
    """

    scenario_version = models.ForeignKey(
        "scenarios.ScenarioVersion",
        on_delete=models.CASCADE,
        related_name="deployments",
        verbose_name=_("scenario version"),
    )
    deployment_name = models.CharField(_("deployment name"), max_length=255)
    status = models.CharField(_("status"), max_length=24, default="pending")
    gateway_endpoint = models.CharField(_("gateway endpoint"), max_length=255, null=True, blank=True)
    ecr_repository_prefix = models.CharField(_("ecr repository prefix"), max_length=255, null=True, blank=True)
    gateway_task_arn = models.CharField(_("gateway task arn"), max_length=255, null=True, blank=True)
    machine_task_arns = models.JSONField(_("machine task arns"), default=list, blank=True)
    entrypoints_config = models.JSONField(_("entrypoints config"), default=dict, blank=True)
    vpc_endpoint_ids = models.JSONField(_("vpc endpoint ids"), default=list, blank=True)
    infra_stack_name = models.CharField(_("infra stack name"), max_length=255, null=True, blank=True)
    deployed_at = models.DateTimeField(_("deployed at"), null=True, blank=True)
    parked_at = models.DateTimeField(_("parked at"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    pool = models.ForeignKey(
        "EnvironmentPool",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="environments",
        verbose_name=_("pool"),
    )
    session_uuid = models.UUIDField(_("session uuid"), null=True, blank=True, unique=True)
    runtime_backend = models.CharField(_("runtime backend"), max_length=32, blank=True, default="")
    launch_result = models.JSONField(_("launch result"), default=dict, blank=True)
    ready_checked_at = models.DateTimeField(_("ready checked at"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    claimed_session = models.ForeignKey(
        "EnvironmentSession",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("claimed session"),
    )
    failure_reason = models.TextField(_("failure reason"), blank=True, default="")
    cost_accumulated_rm = models.DecimalField(
        _("cost accumulated rm"), max_digits=10, decimal_places=4, default=Decimal("0")
    )
    cost_accrued_until = models.DateTimeField(_("cost accrued until"), null=True, blank=True)

    class Meta:
        db_table = "deployment_environment"
        indexes = [models.Index(fields=["scenario_version", "status", "parked_at"], name="deployment_env_claim_idx")]
        verbose_name = _("deployment environment")
        verbose_name_plural = _("deployment environments")

    def __str__(self) -> str:
        return self.deployment_name


class TestDeployment(BaseModel):
    """An admin's test deployment of a version during review (``test_deployment``)."""

    scenario_version = models.ForeignKey(
        "scenarios.ScenarioVersion",
        on_delete=models.CASCADE,
        related_name="test_deployments",
        verbose_name=_("scenario version"),
    )
    environment_session = models.ForeignKey(
        EnvironmentSession,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("environment session"),
    )
    status = models.CharField(_("status"), max_length=24, default="pending")
    progress = models.JSONField(_("progress"), default=dict, blank=True)
    ecs_task_arns = models.JSONField(_("ecs task arns"), default=list, blank=True)
    network_interfaces = models.JSONField(_("network interfaces"), default=list, blank=True)
    estimated_cost_per_hour = models.DecimalField(
        _("estimated cost per hour"), max_digits=10, decimal_places=4, null=True, blank=True
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    cleaned_at = models.DateTimeField(_("cleaned at"), null=True, blank=True)
    error_message = models.TextField(_("error message"), null=True, blank=True)
    session_security_group_id = models.CharField(_("session security group id"), max_length=128, null=True, blank=True)

    class Meta:
        db_table = "test_deployment"
        verbose_name = _("test deployment")
        verbose_name_plural = _("test deployments")

    def __str__(self) -> str:
        return gettext("Test of %(version)s (%(status)s)") % {
            "version": self.scenario_version_id,
            "status": self.status,
        }


class GuiSession(TimestampedModel):
    """One desktop connection to a machine (``gui_sessions``): who, when, how long, view-only or not.

    ``session_id`` is the connection's own id; ``status`` is active, closed or failed (then
    ``error_message`` holds the machine's log tail).
    """

    id = models.BigAutoField(primary_key=True)
    session_id = models.CharField(_("session id"), max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("user")
    )
    scenario_id = models.UUIDField(_("scenario id"), null=True, blank=True)
    environment_session = models.ForeignKey(
        EnvironmentSession,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="gui_sessions",
        verbose_name=_("environment session"),
    )
    machine_name = models.CharField(_("machine name"), max_length=64, blank=True)
    view_only = models.BooleanField(_("view only"), default=False)
    os_type = models.CharField(_("os type"), max_length=16, default="linux")
    gui_type = models.CharField(_("gui type"), max_length=16, default="vnc")
    connection_url = models.CharField(_("connection url"), max_length=500, blank=True)
    vnc_port = models.PositiveIntegerField(_("vnc port"), null=True, blank=True)
    novnc_port = models.PositiveIntegerField(_("novnc port"), null=True, blank=True)
    rdp_port = models.PositiveIntegerField(_("rdp port"), null=True, blank=True)
    container_id = models.CharField(_("container id"), max_length=128, blank=True)
    status = models.CharField(_("status"), max_length=16, default="pending")
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    last_activity = models.DateTimeField(_("last activity"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    error_message = models.TextField(_("error message"), null=True, blank=True)
    metadata = models.JSONField(_("metadata"), null=True, blank=True)

    class Meta:
        db_table = "gui_sessions"
        ordering = ["-started_at"]
        verbose_name = _("gui session")
        verbose_name_plural = _("gui sessions")

    def __str__(self) -> str:
        mode = gettext("view-only") if self.view_only else gettext("control")
        return f"{self.machine_name or gettext('desktop')} ({mode})"

    @property
    def duration(self):
        """How long the connection lasted (None while it is open or never began)."""
        if self.started_at and self.stopped_at:
            return self.stopped_at - self.started_at
        return None


class FlagShareSuspicion(models.Model):
    """A flag submitted in one session that belongs to another: suspected sharing, for admins to see."""

    id = models.BigAutoField(primary_key=True)
    session = models.ForeignKey(
        EnvironmentSession, on_delete=models.CASCADE, related_name="+", verbose_name=_("session")
    )
    owner_session = models.ForeignKey(
        EnvironmentSession, on_delete=models.CASCADE, related_name="+", verbose_name=_("owner session")
    )
    # Who typed the flag: in a lab a team shares, a member other than the lab's owner.
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    question_id = models.CharField(_("question id"), max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "flag_share_suspicion"
        ordering = ["-created_at"]
        verbose_name = _("flag share suspicion")
        verbose_name_plural = _("flag share suspicions")

    def __str__(self) -> str:
        return gettext("%(session)s used the flag of %(owner)s") % {
            "session": self.session_id,
            "owner": self.owner_session_id,
        }


class EnvironmentPool(BaseModel):
    """A warm pool of a scenario: parked environments of its published version that a start claims.

    ``min_ready`` environments are kept parked, or a window's ``min_ready`` while it is open, never
    more than ``max_size`` (parked and launching together). A new published version drains the
    environments of the old one and fills with the new.
    """

    scenario = models.OneToOneField(
        "scenarios.Scenario", on_delete=models.CASCADE, related_name="pool", verbose_name=_("scenario")
    )
    is_enabled = models.BooleanField(_("is enabled"), default=True)
    min_ready = models.PositiveIntegerField(
        _("min ready"), default=1, help_text=_("Parked environments kept ready at all times.")
    )
    max_size = models.PositiveIntegerField(
        _("max size"), default=5, help_text=_("At most this many environments, parked or launching.")
    )
    park_minutes = models.PositiveIntegerField(
        _("park minutes"),
        default=240,
        help_text=_("An environment parked longer than this is replaced by a fresh one."),
    )

    class Meta:
        db_table = "environment_pool"
        verbose_name = _("environment pool")
        verbose_name_plural = _("environment pools")

    def __str__(self) -> str:
        return gettext("Pool of %(scenario)s") % {"scenario": self.scenario}


class PoolWindow(BaseModel):
    """A time when a pool keeps more environments ready: "50 ready from 09:55 to 10:30" for an event start."""

    pool = models.ForeignKey(EnvironmentPool, on_delete=models.CASCADE, related_name="windows", verbose_name=_("pool"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    min_ready = models.PositiveIntegerField(_("min ready"))
    note = models.CharField(_("note"), max_length=255, blank=True, default="")

    class Meta:
        db_table = "environment_pool_window"
        ordering = ("starts_at",)
        verbose_name = _("pool window")
        verbose_name_plural = _("pool windows")

    def __str__(self) -> str:
        return gettext("%(n)s ready from %(start)s to %(end)s") % {
            "n": self.min_ready,
            "start": f"{self.starts_at:%Y-%m-%d %H:%M}",
            "end": f"{self.ends_at:%H:%M}",
        }


class LearnerQuestionProgress(models.Model):
    """One learner's standing on one question of one scenario, kept across labs and versions.

    A question is matched across versions by its ``question_id`` *and* a fingerprint of what it
    asks and accepts (``apps.environments.progress.question_fingerprint``): a version that keeps the
    question unchanged inherits the standing; one that rewords it or changes its answers starts it
    afresh. Event play never writes here (events keep their own scoring), nor do test deploys.
    """

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    scenario = models.ForeignKey(
        "scenarios.Scenario", on_delete=models.CASCADE, related_name="+", verbose_name=_("scenario")
    )
    question_id = models.CharField(_("question id"), max_length=64)
    fingerprint = models.CharField(_("fingerprint"), max_length=64)
    # The grading engine's answer state (attempts, hints taken, score earned, solved, solved_at).
    state = models.JSONField(_("state"), default=dict)
    solved_at = models.DateTimeField(_("solved at"), null=True, blank=True, db_index=True)
    points = models.PositiveIntegerField(_("points"), default=0)
    last_session = models.ForeignKey(
        EnvironmentSession,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("last session"),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        db_table = "learner_question_progress"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "scenario", "question_id", "fingerprint"], name="learner_question_progress_unique"
            ),
        ]
        indexes = [models.Index(fields=["user", "solved_at"], name="learner_progress_user_solved")]
        verbose_name = _("learner question progress")
        verbose_name_plural = _("learner question progress records")

    def __str__(self) -> str:
        return f"{self.user_id} {self.scenario_id} {self.question_id}"
