"""Scenarios: versioned lab content, the machines of each version, assets, ratings and the review tables.

A ``Scenario`` is the stable identity (slug, ratings); every change of content happens in a
``ScenarioVersion``, which moves through the review workflow of ``apps.scenarios.workflow``.
Questions and hints are JSON lists on the version (their shape is checked by
``apps.scenarios.grading.validate_questions``).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from apps.images.models import EgressPolicy, MachineRole
from apps.images.profiles import ResourceProfile
from apps.scenarios.choices import (
    AssetLocation,
    AssetType,
    Difficulty,
    HintMode,
    ImageSourceType,
    ScenarioType,
    ScoringMode,
    TestStatus,
    ValidationMode,
    VersionStatus,
)
from rangex.core.crypto import EncryptedTextField
from rangex.core.models import BaseModel, TimestampedModel

NAME_VALIDATOR = RegexValidator(
    r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$",
    "Use 1 to 32 lowercase letters, digits and hyphens, starting and ending with a letter or digit.",
)


# The catalog's own pages live beside /scenarios/<slug>/, so a scenario may not take their names.
RESERVED_SLUGS = frozenset({"favorites"})


def validate_scenario_slug(value: str) -> None:
    if value in RESERVED_SLUGS:
        raise ValidationError(f"{value!r} names a catalog page; choose another slug.", code="reserved")


class Scenario(BaseModel):
    """The parent of all versions of one lab (``scenario``)."""

    slug = models.SlugField(max_length=120, unique=True, validators=[validate_scenario_slug])
    average_rating = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("0.00"))
    total_ratings = models.PositiveIntegerField(default=0)
    created_by_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="scenarios")
    is_published = models.BooleanField(default=False, db_index=True)
    runtime_key = models.CharField(
        max_length=32,
        blank=True,
        help_text="The runtime its labs start on (a key of RANGEX_RUNTIMES, e.g. ecs); blank: the platform default.",
    )

    class Meta:
        db_table = "scenario"
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class ScenarioVersion(BaseModel):
    """One version of a scenario's content (``scenario_version``). Only a DRAFT may be edited."""

    # The review workflow, written down once; ``apps.scenarios.services`` moves along it.
    TRANSITIONS: dict[str, set[str]] = {
        VersionStatus.DRAFT: {VersionStatus.SUBMITTED, VersionStatus.ARCHIVED},
        VersionStatus.SUBMITTED: {VersionStatus.APPROVED, VersionStatus.REJECTED, VersionStatus.DRAFT},
        VersionStatus.APPROVED: {VersionStatus.PUBLISHED, VersionStatus.REJECTED, VersionStatus.ARCHIVED},
        VersionStatus.PUBLISHED: {VersionStatus.ARCHIVED},
        VersionStatus.REJECTED: {VersionStatus.DRAFT, VersionStatus.ARCHIVED},
        VersionStatus.ARCHIVED: set(),
    }
    # The content of a version: what a creator edits on a DRAFT, a new version inherits and a bundle
    # carries. Workflow stamps, identity and build-pipeline columns are not content. The one list.
    CONTENT_FIELDS = (
        "title",
        "short_description",
        "difficulty",
        "category",
        "tags",
        "cover_image",
        "estimated_minutes",
        "scenario_type",
        "creator_name",
        "requires_machines",
        "code_of_ethics",
        "learning_outcomes",
        "validation_mode",
        "scoring_mode",
        "hint_mode",
        "mission_text",
        "metadata",
        "solution_writeup",
        "solver_writeup",
        "network_topology",
        "docker_compose_path",
        "questions",
        "hints",
    )

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="versions")
    version_number = models.PositiveIntegerField()
    status = models.CharField(max_length=24, choices=VersionStatus.choices, default=VersionStatus.DRAFT, db_index=True)
    title = models.CharField(max_length=160)
    short_description = models.CharField(max_length=400)
    difficulty = models.CharField(max_length=64, choices=Difficulty.choices, default=Difficulty.BEGINNER)
    category = models.CharField(max_length=64)
    tags = models.JSONField(default=list, blank=True)
    cover_image = models.ImageField(
        upload_to="covers/", max_length=500, null=True, blank=True, db_column="cover_image_url"
    )
    estimated_minutes = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    scenario_type = models.CharField(max_length=24, choices=ScenarioType.choices, default=ScenarioType.CHALLENGE)
    creator_name = models.CharField(max_length=100, null=True, blank=True)
    requires_machines = models.BooleanField(default=True)
    code_of_ethics = models.TextField(null=True, blank=True)
    learning_outcomes = models.TextField(null=True, blank=True)
    validation_mode = models.CharField(max_length=24, choices=ValidationMode.choices, default=ValidationMode.INSTANT)
    scoring_mode = models.CharField(max_length=24, choices=ScoringMode.choices, default=ScoringMode.ALL_OR_NOTHING)
    hint_mode = models.CharField(max_length=24, choices=HintMode.choices, default=HintMode.DISABLED)
    mission_text = models.TextField(blank=True, help_text="Markdown. Shown in the Mission tab.")
    metadata = models.JSONField(default=dict, blank=True)
    solution_writeup = models.TextField(blank=True, help_text="Admin-only solution guide.")
    solver_writeup = models.TextField(
        blank=True, help_text="Markdown. Shown to a solver on the session page once the session has ended."
    )
    questions = models.JSONField(default=list, blank=True)
    hints = models.JSONField(default=list, blank=True)
    # Workflow stamps: who did what, when.
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    promoted_at = models.DateTimeField(null=True, blank=True)
    approved_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejected_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reject_reason = models.TextField(null=True, blank=True)
    is_archived = models.BooleanField(default=False)
    archived_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="derived_versions"
    )
    last_admin_test = models.ForeignKey(
        "ScenarioVersionAdminTest", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Columns of the earlier system's build pipeline (AWS runtime).
    network_topology = models.JSONField(null=True, blank=True)
    docker_compose_path = models.CharField(max_length=500, null=True, blank=True)
    ecr_images_pushed = models.BooleanField(default=False)
    fargate_task_definition = models.CharField(max_length=255, null=True, blank=True)
    build_status = models.CharField(max_length=24, null=True, blank=True)

    class Meta:
        db_table = "scenario_version"
        ordering = ["scenario__slug", "-version_number"]
        constraints = [
            models.UniqueConstraint(fields=["scenario", "version_number"], name="scenario_version_number_unique"),
        ]
        indexes = [models.Index(fields=["status", "submitted_at"], name="scenario_version_queue_idx")]

    def __str__(self) -> str:
        return f"{self.title} v{self.version_number}"

    @property
    def is_editable(self) -> bool:
        return self.status == VersionStatus.DRAFT


class ScenarioLimit(TimestampedModel):
    """Per-scenario caps (``scenario_limit``)."""

    id = models.BigAutoField(primary_key=True)
    scenario = models.OneToOneField(Scenario, on_delete=models.CASCADE, related_name="limit")
    max_concurrent_players = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty means no cap beyond the system limits."
    )
    max_sessions_per_user_per_day = models.PositiveIntegerField(
        null=True, blank=True, help_text="Labs one player may start on this scenario per day; empty means no cap."
    )
    max_duration_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(5)],
        help_text="A lab of this scenario runs at most this long; empty follows the version and system limits.",
    )

    class Meta:
        db_table = "scenario_limit"

    def __str__(self) -> str:
        return f"Limits of {self.scenario}"


class ScenarioRating(models.Model):
    """One user's 1-5 rating of a scenario, changeable (``scenario_ratings``)."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scenario_ratings")
    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="ratings")
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "scenario_ratings"
        constraints = [models.UniqueConstraint(fields=["user", "scenario"], name="scenario_rating_user_unique")]

    def __str__(self) -> str:
        return f"{self.rating}/5 for {self.scenario_id}"


class UserFavorite(models.Model):
    """A scenario a user starred (``user_favorites``)."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favorites")
    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="favorited_by")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "user_favorites"
        constraints = [models.UniqueConstraint(fields=["user", "scenario"], name="user_favorite_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} ★ {self.scenario_id}"


# Capabilities a machine may ask for: Docker's default set, which every ordinary container has.
# Containers start with all capabilities dropped; anything reaching past the container is refused.
MACHINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "NET_RAW",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
RUN_AS_USER_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,31})?$",
    "Give a user name or uid, optionally with :group.",
)


def validate_machine_capabilities(value) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError('List capability names, e.g. ["NET_BIND_SERVICE"].')
    refused = sorted({v.upper().removeprefix("CAP_") for v in value} - MACHINE_CAPABILITIES)
    if refused:
        raise ValidationError(f"Not allowed: {', '.join(refused)}. Allowed: {', '.join(sorted(MACHINE_CAPABILITIES))}.")


READY_CHECK_KEYS = {"port", "command", "timeout"}


def validate_ready_check(value) -> None:
    """A machine's ready check: ``{}`` (none), ``{"port": 80}`` or ``{"command": [...]}``, with an optional timeout."""
    if value in (None, {}):
        return
    if not isinstance(value, dict):
        raise ValidationError('Give an object, e.g. {"port": 80} or {"command": ["test", "-f", "/srv/ready"]}.')
    unknown = sorted(set(value) - READY_CHECK_KEYS, key=str)
    if unknown:
        raise ValidationError(f"Unknown key(s): {', '.join(map(str, unknown))}. Use port or command, and timeout.")
    port, command, timeout = value.get("port"), value.get("command"), value.get("timeout", 60)
    if (port is None) == (command is None):
        raise ValidationError("Give either a port or a command, not both and not neither.")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
        raise ValidationError("The port must be a whole number from 1 to 65535.")
    if command is not None:
        if isinstance(command, str):
            command = ["sh", "-c", command]
        if not isinstance(command, list) or not command or not all(isinstance(c, str) and c for c in command):
            raise ValidationError('The command is text or a list of words, e.g. ["test", "-f", "/srv/ready"].')
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 1 <= timeout <= 600:
        raise ValidationError("The timeout is a number of seconds from 1 to 600.")


class Machine(BaseModel):
    """One container of a version's topology (``machine``)."""

    scenario_version = models.ForeignKey(ScenarioVersion, on_delete=models.CASCADE, related_name="machines")
    name = models.CharField(max_length=32, validators=[NAME_VALIDATOR], help_text="Hostname inside the lab.")
    role = models.CharField(max_length=16, choices=MachineRole.choices, default=MachineRole.VICTIM)
    image_source_type = models.CharField(
        max_length=16, choices=ImageSourceType.choices, default=ImageSourceType.VARIANT
    )
    image_variant = models.ForeignKey(
        "images.ImageVariant", null=True, blank=True, on_delete=models.PROTECT, related_name="machines"
    )
    platform_image = models.ForeignKey(
        "images.PlatformImage", null=True, blank=True, on_delete=models.PROTECT, related_name="machines"
    )
    image_ref = models.CharField(max_length=255, blank=True, help_text="For custom images: registry/name:tag.")
    registry_credential = models.ForeignKey(
        "images.RegistryCredential", null=True, blank=True, on_delete=models.PROTECT, related_name="machines"
    )
    network_group = models.CharField(max_length=32, default="lab", validators=[NAME_VALIDATOR])
    resource_profile = models.CharField(max_length=16, choices=ResourceProfile.choices, default=ResourceProfile.SMALL)
    allow_solver_entry = models.BooleanField(default=False, help_text="Solvers may open a terminal on it.")
    is_pivot_host = models.BooleanField(default=False, help_text="Attached to every group its pivot points name.")
    cpu_cores = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    memory_mb = models.PositiveIntegerField(null=True, blank=True)
    disk_gb = models.PositiveIntegerField(null=True, blank=True)
    exposed_ports = models.JSONField(default=list, blank=True, help_text='e.g. [{"port": 80, "protocol": "tcp"}]')
    ssh_enabled = models.BooleanField(default=False)
    rdp_enabled = models.BooleanField(default=False)
    web_enabled = models.BooleanField(default=False)
    environment_vars = models.JSONField(default=dict, blank=True)
    entrypoints = models.JSONField(default=list, blank=True, help_text="Command run at start, as a list.")
    ready_check = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_ready_check],
        help_text='When the machine is ready, so the lab turns "running" only then: {"port": 80} (something '
        'listens on it) or {"command": "test -f /srv/ready"} (exits 0), optionally with "timeout" in seconds '
        "(default 60). Empty: ready once started.",
    )
    run_as_user = models.CharField(
        max_length=64,
        blank=True,
        validators=[RUN_AS_USER_VALIDATOR],
        help_text="User the container runs as (name or uid[:gid]); empty: the image's setting.",
    )
    capabilities = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_machine_capabilities],
        help_text="Linux capabilities added back for this machine, from the allowed list.",
    )
    ecr_uri = models.CharField(max_length=500, null=True, blank=True)
    ecr_digest = models.CharField(max_length=128, null=True, blank=True)
    task_definition_arn = models.CharField(max_length=500, null=True, blank=True)
    ssh_username = models.CharField(max_length=64, null=True, blank=True)
    ssh_password = EncryptedTextField(null=True, blank=True)
    network_egress_policy = models.CharField(max_length=16, choices=EgressPolicy.choices, default=EgressPolicy.NONE)
    sort_order = models.PositiveIntegerField(default=0)
    tools = models.ManyToManyField(
        "Tool",
        blank=True,
        related_name="machines",
        help_text="Installed into the machine's image when it is built (never at launch).",
    )
    build_context = models.FileField(
        upload_to="build-contexts/",
        max_length=500,
        blank=True,
        help_text="A tar with a Dockerfile at its root: the machine's image is built from it by the image pipeline.",
    )
    build_context_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        db_table = "machine"
        ordering = ["sort_order", "name"]
        constraints = [models.UniqueConstraint(fields=["scenario_version", "name"], name="machine_name_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"


class NetworkPivotPoint(models.Model):
    """A link between two network groups that pivot hosts bridge (``network_pivot_points``)."""

    id = models.BigAutoField(primary_key=True)
    scenario_version = models.ForeignKey(ScenarioVersion, on_delete=models.CASCADE, related_name="pivot_points")
    source_network_group = models.CharField(max_length=32, validators=[NAME_VALIDATOR])
    target_network_group = models.CharField(max_length=32, validators=[NAME_VALIDATOR])
    description = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "network_pivot_points"

    def __str__(self) -> str:
        return f"{self.source_network_group} ↔ {self.target_network_group}"


class Tool(BaseModel):
    """A tool the platform can install into attacker images (``tool``)."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    version = models.CharField(max_length=64, blank=True)
    category = models.CharField(max_length=64, blank=True)
    install_command = models.TextField(blank=True)
    website = models.URLField(blank=True)
    icon_url = models.URLField(blank=True)
    file_url = models.CharField(max_length=500, blank=True)
    file_size_bytes = models.BigIntegerField(null=True, blank=True)
    file_checksum = models.CharField(max_length=128, blank=True)
    tags = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    package_name = models.CharField(max_length=120, blank=True)
    package_manager = models.CharField(max_length=32, blank=True)
    usage_count = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "tool"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Asset(BaseModel):
    """A stored file in the creator's library (``asset``); linked to versions by ``asset_scenario_version``."""

    name = models.CharField(max_length=255)
    type = models.CharField(max_length=64, blank=True)
    storage_key = models.CharField(max_length=500)
    size_bytes = models.BigIntegerField(default=0)
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assets"
    )
    scenario_version = models.ForeignKey(
        ScenarioVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="library_assets"
    )
    file_name = models.CharField(max_length=255, blank=True, help_text="Taken from the upload.")
    description = models.CharField(max_length=255, blank=True)
    tags = models.JSONField(default=list, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    asset_location = models.CharField(max_length=16, choices=AssetLocation.choices, default=AssetLocation.LOCAL)
    minio_path = models.CharField(max_length=500, null=True, blank=True)
    deleted_from_minio = models.BooleanField(default=False)

    class Meta:
        db_table = "asset"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AssetScenarioVersion(models.Model):
    """Which library assets a version uses (``asset_scenario_version``)."""

    id = models.BigAutoField(primary_key=True)
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="version_links")
    scenario_version = models.ForeignKey(ScenarioVersion, on_delete=models.CASCADE, related_name="asset_links")
    asset_type = models.CharField(max_length=16, choices=AssetType.choices, default=AssetType.DOWNLOAD)
    machine = models.ForeignKey(Machine, null=True, blank=True, on_delete=models.CASCADE, related_name="asset_links")
    target_path = models.CharField(max_length=500, blank=True, help_text="Absolute path inside the machine.")
    permissions = models.CharField(
        max_length=4, default="0644", validators=[RegexValidator(r"^0?[0-7]{3}$", "Use an octal mode such as 0644.")]
    )

    class Meta:
        db_table = "asset_scenario_version"
        constraints = [models.UniqueConstraint(fields=["asset", "scenario_version"], name="asset_version_unique")]

    def __str__(self) -> str:
        return f"{self.asset} ({self.get_asset_type_display()})"


def scenario_asset_path(instance: ScenarioAsset, filename: str) -> str:
    return f"scenario-assets/{instance.scenario_version_id}/{filename}"


class ScenarioAsset(models.Model):
    """A file of a version: a download, or a file provisioned into a machine (``scenario_asset``)."""

    id = models.BigAutoField(primary_key=True)
    scenario_version = models.ForeignKey(ScenarioVersion, on_delete=models.CASCADE, related_name="assets")
    machine = models.ForeignKey(Machine, null=True, blank=True, on_delete=models.CASCADE, related_name="assets")
    asset_type = models.CharField(max_length=16, choices=AssetType.choices, default=AssetType.DOWNLOAD)
    file_name = models.CharField(max_length=255)
    file = models.FileField(upload_to=scenario_asset_path, max_length=500, db_column="file_url")
    file_size = models.BigIntegerField(default=0)
    target_path = models.CharField(max_length=500, blank=True, help_text="Absolute path inside the machine.")
    permissions = models.CharField(
        max_length=4, default="0644", validators=[RegexValidator(r"^0?[0-7]{3}$", "Use an octal mode such as 0644.")]
    )
    asset_location = models.CharField(max_length=16, choices=AssetLocation.choices, default=AssetLocation.LOCAL)
    minio_path = models.CharField(max_length=500, null=True, blank=True)
    deleted_from_minio = models.BooleanField(default=False)
    description = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "scenario_asset"
        ordering = ["file_name"]

    def __str__(self) -> str:
        return self.file_name


# --- Review tables ------------------------------------------------------------------------------


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


class ScenarioAccessGrant(models.Model):
    """A scenario one solver may start while ``allow_all_scenarios`` is off (the admin-managed allow list)."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scenario_grants")
    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="access_grants")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "scenario_access_grant"
        constraints = [models.UniqueConstraint(fields=["user", "scenario"], name="scenario_access_grant_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} may start {self.scenario_id}"
