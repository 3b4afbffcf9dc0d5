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
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

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
    TestStatus,  # noqa: F401 (re-exported: callers import it from here)
    ValidationMode,
    VersionStatus,
)
from apps.scenarios.models_review import AdminTestValidation as AdminTestValidation
from apps.scenarios.models_review import DockerTest as DockerTest
from apps.scenarios.models_review import ScenarioVersionAdminTest as ScenarioVersionAdminTest
from apps.scenarios.models_review import ScenarioVersionTestRun as ScenarioVersionTestRun
from rangex.core.crypto import EncryptedTextField
from rangex.core.models import BaseModel, TimestampedModel

NAME_VALIDATOR = RegexValidator(
    r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$",
    _("Use 1 to 32 lowercase letters, digits and hyphens, starting and ending with a letter or digit."),
)


# The catalog's own pages live beside /scenarios/<slug>/, so a scenario may not take their names.
RESERVED_SLUGS = frozenset({"favorites"})


def validate_scenario_slug(value: str) -> None:
    if value in RESERVED_SLUGS:
        raise ValidationError(
            _("%(slug)r names a catalog page; choose another slug.") % {"slug": value}, code="reserved"
        )


class Scenario(BaseModel):
    """The parent of all versions of one lab (``scenario``)."""

    slug = models.SlugField(_("slug"), max_length=120, unique=True, validators=[validate_scenario_slug])
    average_rating = models.DecimalField(_("average rating"), max_digits=3, decimal_places=2, default=Decimal("0.00"))
    total_ratings = models.PositiveIntegerField(_("total ratings"), default=0)
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="scenarios", verbose_name=_("created by user")
    )
    is_published = models.BooleanField(_("is published"), default=False, db_index=True)
    runtime_key = models.CharField(
        _("runtime key"),
        max_length=32,
        blank=True,
        help_text=_("The runtime its labs start on (a key of RANGEX_RUNTIMES, e.g. ecs); blank: the platform default."),
    )

    class Meta:
        db_table = "scenario"
        ordering = ["slug"]
        verbose_name = _("scenario")
        verbose_name_plural = _("scenarios")

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

    scenario = models.ForeignKey(
        Scenario, on_delete=models.CASCADE, related_name="versions", verbose_name=_("scenario")
    )
    version_number = models.PositiveIntegerField(_("version number"))
    status = models.CharField(
        _("status"), max_length=24, choices=VersionStatus.choices, default=VersionStatus.DRAFT, db_index=True
    )
    title = models.CharField(_("title"), max_length=160)
    short_description = models.CharField(_("short description"), max_length=400)
    difficulty = models.CharField(
        _("difficulty"), max_length=64, choices=Difficulty.choices, default=Difficulty.BEGINNER
    )
    category = models.CharField(_("category"), max_length=64)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    cover_image = models.ImageField(
        _("cover image"), upload_to="covers/", max_length=500, null=True, blank=True, db_column="cover_image_url"
    )
    estimated_minutes = models.PositiveIntegerField(
        _("estimated minutes"), default=60, validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    scenario_type = models.CharField(
        _("scenario type"), max_length=24, choices=ScenarioType.choices, default=ScenarioType.CHALLENGE
    )
    creator_name = models.CharField(_("creator name"), max_length=100, null=True, blank=True)
    requires_machines = models.BooleanField(_("requires machines"), default=True)
    code_of_ethics = models.TextField(_("code of ethics"), null=True, blank=True)
    learning_outcomes = models.TextField(_("learning outcomes"), null=True, blank=True)
    validation_mode = models.CharField(
        _("validation mode"), max_length=24, choices=ValidationMode.choices, default=ValidationMode.INSTANT
    )
    scoring_mode = models.CharField(
        _("scoring mode"), max_length=24, choices=ScoringMode.choices, default=ScoringMode.ALL_OR_NOTHING
    )
    hint_mode = models.CharField(_("hint mode"), max_length=24, choices=HintMode.choices, default=HintMode.DISABLED)
    mission_text = models.TextField(_("mission text"), blank=True, help_text=_("Markdown. Shown in the Mission tab."))
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    solution_writeup = models.TextField(_("solution writeup"), blank=True, help_text=_("Admin-only solution guide."))
    solver_writeup = models.TextField(
        _("solver writeup"),
        blank=True,
        help_text=_("Markdown. Shown to a solver on the session page once the session has ended."),
    )
    questions = models.JSONField(_("questions"), default=list, blank=True)
    hints = models.JSONField(_("hints"), default=list, blank=True)
    # Workflow stamps: who did what, when.
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    promoted_at = models.DateTimeField(_("promoted at"), null=True, blank=True)
    approved_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("approved by user"),
    )
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    rejected_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("rejected by user"),
    )
    reject_reason = models.TextField(_("reject reason"), null=True, blank=True)
    is_archived = models.BooleanField(_("is archived"), default=False)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    based_on = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="derived_versions",
        verbose_name=_("based on"),
    )
    last_admin_test = models.ForeignKey(
        "ScenarioVersionAdminTest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("last admin test"),
    )
    # Columns of the earlier system's build pipeline (AWS runtime).
    network_topology = models.JSONField(_("network topology"), null=True, blank=True)
    docker_compose_path = models.CharField(_("docker compose path"), max_length=500, null=True, blank=True)
    ecr_images_pushed = models.BooleanField(_("ecr images pushed"), default=False)
    fargate_task_definition = models.CharField(_("fargate task definition"), max_length=255, null=True, blank=True)
    build_status = models.CharField(_("build status"), max_length=24, null=True, blank=True)

    class Meta:
        db_table = "scenario_version"
        ordering = ["scenario__slug", "-version_number"]
        constraints = [
            models.UniqueConstraint(fields=["scenario", "version_number"], name="scenario_version_number_unique"),
        ]
        indexes = [models.Index(fields=["status", "submitted_at"], name="scenario_version_queue_idx")]
        verbose_name = _("scenario version")
        verbose_name_plural = _("scenario versions")

    def __str__(self) -> str:
        return f"{self.title} v{self.version_number}"

    @property
    def is_editable(self) -> bool:
        return self.status == VersionStatus.DRAFT


class ScenarioLimit(TimestampedModel):
    """Per-scenario caps (``scenario_limit``)."""

    id = models.BigAutoField(primary_key=True)
    scenario = models.OneToOneField(
        Scenario, on_delete=models.CASCADE, related_name="limit", verbose_name=_("scenario")
    )
    max_concurrent_players = models.PositiveIntegerField(
        _("max concurrent players"), null=True, blank=True, help_text=_("Empty means no cap beyond the system limits.")
    )
    max_sessions_per_user_per_day = models.PositiveIntegerField(
        _("max sessions per user per day"),
        null=True,
        blank=True,
        help_text=_("Labs one player may start on this scenario per day; empty means no cap."),
    )
    max_duration_minutes = models.PositiveIntegerField(
        _("max duration minutes"),
        null=True,
        blank=True,
        validators=[MinValueValidator(5)],
        help_text=_("A lab of this scenario runs at most this long; empty follows the version and system limits."),
    )

    class Meta:
        db_table = "scenario_limit"
        verbose_name = _("scenario limit")
        verbose_name_plural = _("scenario limits")

    def __str__(self) -> str:
        return gettext("Limits of %(scenario)s") % {"scenario": self.scenario}


class ScenarioRating(models.Model):
    """One user's 1-5 rating of a scenario, changeable (``scenario_ratings``)."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scenario_ratings", verbose_name=_("user")
    )
    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="ratings", verbose_name=_("scenario"))
    rating = models.PositiveSmallIntegerField(_("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        db_table = "scenario_ratings"
        constraints = [models.UniqueConstraint(fields=["user", "scenario"], name="scenario_rating_user_unique")]
        verbose_name = _("scenario rating")
        verbose_name_plural = _("scenario ratings")

    def __str__(self) -> str:
        return f"{self.rating}/5 for {self.scenario_id}"


class UserFavorite(models.Model):
    """A scenario a user starred (``user_favorites``)."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favorites", verbose_name=_("user")
    )
    scenario = models.ForeignKey(
        Scenario, on_delete=models.CASCADE, related_name="favorited_by", verbose_name=_("scenario")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "user_favorites"
        constraints = [models.UniqueConstraint(fields=["user", "scenario"], name="user_favorite_unique")]
        verbose_name = _("user favorite")
        verbose_name_plural = _("user favorites")

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
    _("Give a user name or uid, optionally with :group."),
)


def validate_machine_capabilities(value) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(_('List capability names, e.g. ["NET_BIND_SERVICE"].'))
    refused = sorted({v.upper().removeprefix("CAP_") for v in value} - MACHINE_CAPABILITIES)
    if refused:
        raise ValidationError(
            _("Not allowed: %(refused)s. Allowed: %(allowed)s.")
            % {"refused": ", ".join(refused), "allowed": ", ".join(sorted(MACHINE_CAPABILITIES))}
        )


READY_CHECK_KEYS = {"port", "command", "timeout"}


def validate_ready_check(value) -> None:
    """A machine's ready check: ``{}`` (none), ``{"port": 80}`` or ``{"command": [...]}``, with an optional timeout."""
    if value in (None, {}):
        return
    if not isinstance(value, dict):
        raise ValidationError(_('Give an object, e.g. {"port": 80} or {"command": ["test", "-f", "/srv/ready"]}.'))
    unknown = sorted(set(value) - READY_CHECK_KEYS, key=str)
    if unknown:
        raise ValidationError(
            _("Unknown key(s): %(keys)s. Use port or command, and timeout.") % {"keys": ", ".join(map(str, unknown))}
        )
    port, command, timeout = value.get("port"), value.get("command"), value.get("timeout", 60)
    if (port is None) == (command is None):
        raise ValidationError(_("Give either a port or a command, not both and not neither."))
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
        raise ValidationError(_("The port must be a whole number from 1 to 65535."))
    if command is not None:
        if isinstance(command, str):
            command = ["sh", "-c", command]
        if not isinstance(command, list) or not command or not all(isinstance(c, str) and c for c in command):
            raise ValidationError(_('The command is text or a list of words, e.g. ["test", "-f", "/srv/ready"].'))
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 1 <= timeout <= 600:
        raise ValidationError(_("The timeout is a number of seconds from 1 to 600."))


class Machine(BaseModel):
    """One container of a version's topology (``machine``)."""

    scenario_version = models.ForeignKey(
        ScenarioVersion, on_delete=models.CASCADE, related_name="machines", verbose_name=_("scenario version")
    )
    name = models.CharField(
        _("name"), max_length=32, validators=[NAME_VALIDATOR], help_text=_("Hostname inside the lab.")
    )
    role = models.CharField(_("role"), max_length=16, choices=MachineRole.choices, default=MachineRole.VICTIM)
    image_source_type = models.CharField(
        _("image source type"), max_length=16, choices=ImageSourceType.choices, default=ImageSourceType.VARIANT
    )
    image_variant = models.ForeignKey(
        "images.ImageVariant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="machines",
        verbose_name=_("image variant"),
    )
    platform_image = models.ForeignKey(
        "images.PlatformImage",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="machines",
        verbose_name=_("platform image"),
    )
    image_ref = models.CharField(
        _("image ref"), max_length=255, blank=True, help_text=_("For custom images: registry/name:tag.")
    )
    registry_credential = models.ForeignKey(
        "images.RegistryCredential",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="machines",
        verbose_name=_("registry credential"),
    )
    network_group = models.CharField(_("network group"), max_length=32, default="lab", validators=[NAME_VALIDATOR])
    resource_profile = models.CharField(
        _("resource profile"), max_length=16, choices=ResourceProfile.choices, default=ResourceProfile.SMALL
    )
    allow_solver_entry = models.BooleanField(
        _("allow solver entry"), default=False, help_text=_("Solvers may open a terminal on it.")
    )
    is_pivot_host = models.BooleanField(
        _("is pivot host"), default=False, help_text=_("Attached to every group its pivot points name.")
    )
    cpu_cores = models.DecimalField(_("cpu cores"), max_digits=5, decimal_places=2, null=True, blank=True)
    memory_mb = models.PositiveIntegerField(_("memory mb"), null=True, blank=True)
    disk_gb = models.PositiveIntegerField(_("disk gb"), null=True, blank=True)
    exposed_ports = models.JSONField(
        _("exposed ports"), default=list, blank=True, help_text=_('e.g. [{"port": 80, "protocol": "tcp"}]')
    )
    ssh_enabled = models.BooleanField(_("ssh enabled"), default=False)
    rdp_enabled = models.BooleanField(_("rdp enabled"), default=False)
    web_enabled = models.BooleanField(_("web enabled"), default=False)
    environment_vars = models.JSONField(_("environment vars"), default=dict, blank=True)
    entrypoints = models.JSONField(
        _("entrypoints"), default=list, blank=True, help_text=_("Command run at start, as a list.")
    )
    ready_check = models.JSONField(
        _("ready check"),
        default=dict,
        blank=True,
        validators=[validate_ready_check],
        help_text=_(
            'When the machine is ready, so the lab turns "running" only then: {"port": 80} (something '
            'listens on it) or {"command": "test -f /srv/ready"} (exits 0), optionally with "timeout" in seconds '
            "(default 60). Empty: ready once started."
        ),
    )
    run_as_user = models.CharField(
        _("run as user"),
        max_length=64,
        blank=True,
        validators=[RUN_AS_USER_VALIDATOR],
        help_text=_("User the container runs as (name or uid[:gid]); empty: the image's setting."),
    )
    read_only_root = models.BooleanField(
        _("read-only root file system"),
        default=False,
        help_text=_(
            "Only /tmp and /run (empty scratch space) are writable. Not with files before start (dynamic "
            "flags, attached files), an SSH login or a desktop: they need a writable root."
        ),
    )
    capabilities = models.JSONField(
        _("capabilities"),
        default=list,
        blank=True,
        validators=[validate_machine_capabilities],
        help_text=_("Linux capabilities added back for this machine, from the allowed list."),
    )
    ecr_uri = models.CharField(_("ecr uri"), max_length=500, null=True, blank=True)
    ecr_digest = models.CharField(_("ecr digest"), max_length=128, null=True, blank=True)
    task_definition_arn = models.CharField(_("task definition arn"), max_length=500, null=True, blank=True)
    ssh_username = models.CharField(_("ssh username"), max_length=64, null=True, blank=True)
    ssh_password = EncryptedTextField(_("ssh password"), null=True, blank=True)
    network_egress_policy = models.CharField(
        _("network egress policy"), max_length=16, choices=EgressPolicy.choices, default=EgressPolicy.NONE
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    tools = models.ManyToManyField(
        "Tool",
        blank=True,
        related_name="machines",
        help_text=_("Installed into the machine's image when it is built (never at launch)."),
        verbose_name=_("tools"),
    )
    build_context = models.FileField(
        _("build context"),
        upload_to="build-contexts/",
        max_length=500,
        blank=True,
        help_text=_("A tar with a Dockerfile at its root: the machine's image is built from it by the image pipeline."),
    )
    build_context_hash = models.CharField(_("build context hash"), max_length=64, blank=True, editable=False)

    class Meta:
        db_table = "machine"
        ordering = ["sort_order", "name"]
        constraints = [models.UniqueConstraint(fields=["scenario_version", "name"], name="machine_name_unique")]
        verbose_name = _("machine")
        verbose_name_plural = _("machines")

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"


class NetworkPivotPoint(models.Model):
    """A link between two network groups that pivot hosts bridge (``network_pivot_points``)."""

    id = models.BigAutoField(primary_key=True)
    scenario_version = models.ForeignKey(
        ScenarioVersion, on_delete=models.CASCADE, related_name="pivot_points", verbose_name=_("scenario version")
    )
    source_network_group = models.CharField(_("source network group"), max_length=32, validators=[NAME_VALIDATOR])
    target_network_group = models.CharField(_("target network group"), max_length=32, validators=[NAME_VALIDATOR])
    description = models.CharField(_("description"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "network_pivot_points"
        verbose_name = _("network pivot point")
        verbose_name_plural = _("network pivot points")

    def __str__(self) -> str:
        return f"{self.source_network_group} ↔ {self.target_network_group}"


class Tool(BaseModel):
    """A tool the platform can install into attacker images (``tool``)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    version = models.CharField(_("version"), max_length=64, blank=True)
    category = models.CharField(_("category"), max_length=64, blank=True)
    install_command = models.TextField(_("install command"), blank=True)
    website = models.URLField(_("website"), blank=True)
    icon_url = models.URLField(_("icon url"), blank=True)
    file_url = models.CharField(_("file url"), max_length=500, blank=True)
    file_size_bytes = models.BigIntegerField(_("file size bytes"), null=True, blank=True)
    file_checksum = models.CharField(_("file checksum"), max_length=128, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    is_active = models.BooleanField(_("is active"), default=True)
    package_name = models.CharField(_("package name"), max_length=120, blank=True)
    package_manager = models.CharField(_("package manager"), max_length=32, blank=True)
    usage_count = models.PositiveIntegerField(_("usage count"), default=0)

    class Meta:
        db_table = "tool"
        ordering = ["name"]
        verbose_name = _("tool")
        verbose_name_plural = _("tools")

    def __str__(self) -> str:
        return self.name


class Asset(BaseModel):
    """A stored file in the creator's library (``asset``); linked to versions by ``asset_scenario_version``."""

    name = models.CharField(_("name"), max_length=255)
    type = models.CharField(_("type"), max_length=64, blank=True)
    storage_key = models.CharField(_("storage key"), max_length=500)
    size_bytes = models.BigIntegerField(_("size bytes"), default=0)
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assets",
        verbose_name=_("created by user"),
    )
    scenario_version = models.ForeignKey(
        ScenarioVersion,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="library_assets",
        verbose_name=_("scenario version"),
    )
    file_name = models.CharField(_("file name"), max_length=255, blank=True, help_text=_("Taken from the upload."))
    description = models.CharField(_("description"), max_length=255, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    sha256 = models.CharField(_("sha256"), max_length=64, blank=True)
    asset_location = models.CharField(
        _("asset location"), max_length=16, choices=AssetLocation.choices, default=AssetLocation.LOCAL
    )
    minio_path = models.CharField(_("minio path"), max_length=500, null=True, blank=True)
    deleted_from_minio = models.BooleanField(_("deleted from minio"), default=False)

    class Meta:
        db_table = "asset"
        ordering = ["name"]
        verbose_name = _("asset")
        verbose_name_plural = _("assets")

    def __str__(self) -> str:
        return self.name


class AssetScenarioVersion(models.Model):
    """Which library assets a version uses (``asset_scenario_version``)."""

    id = models.BigAutoField(primary_key=True)
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="version_links", verbose_name=_("asset"))
    scenario_version = models.ForeignKey(
        ScenarioVersion, on_delete=models.CASCADE, related_name="asset_links", verbose_name=_("scenario version")
    )
    asset_type = models.CharField(_("asset type"), max_length=16, choices=AssetType.choices, default=AssetType.DOWNLOAD)
    machine = models.ForeignKey(
        Machine, null=True, blank=True, on_delete=models.CASCADE, related_name="asset_links", verbose_name=_("machine")
    )
    target_path = models.CharField(
        _("target path"), max_length=500, blank=True, help_text=_("Absolute path inside the machine.")
    )
    permissions = models.CharField(
        _("permissions"),
        max_length=4,
        default="0644",
        validators=[RegexValidator(r"^0?[0-7]{3}$", _("Use an octal mode such as 0644."))],
    )

    class Meta:
        db_table = "asset_scenario_version"
        constraints = [models.UniqueConstraint(fields=["asset", "scenario_version"], name="asset_version_unique")]
        verbose_name = _("asset scenario version")
        verbose_name_plural = _("asset scenario versions")

    def __str__(self) -> str:
        return f"{self.asset} ({self.get_asset_type_display()})"


def scenario_asset_path(instance: ScenarioAsset, filename: str) -> str:
    return f"scenario-assets/{instance.scenario_version_id}/{filename}"


class ScenarioAsset(models.Model):
    """A file of a version: a download, or a file provisioned into a machine (``scenario_asset``)."""

    id = models.BigAutoField(primary_key=True)
    scenario_version = models.ForeignKey(
        ScenarioVersion, on_delete=models.CASCADE, related_name="assets", verbose_name=_("scenario version")
    )
    machine = models.ForeignKey(
        Machine, null=True, blank=True, on_delete=models.CASCADE, related_name="assets", verbose_name=_("machine")
    )
    asset_type = models.CharField(_("asset type"), max_length=16, choices=AssetType.choices, default=AssetType.DOWNLOAD)
    file_name = models.CharField(_("file name"), max_length=255)
    file = models.FileField(_("file"), upload_to=scenario_asset_path, max_length=500, db_column="file_url")
    file_size = models.BigIntegerField(_("file size"), default=0)
    target_path = models.CharField(
        _("target path"), max_length=500, blank=True, help_text=_("Absolute path inside the machine.")
    )
    permissions = models.CharField(
        _("permissions"),
        max_length=4,
        default="0644",
        validators=[RegexValidator(r"^0?[0-7]{3}$", _("Use an octal mode such as 0644."))],
    )
    asset_location = models.CharField(
        _("asset location"), max_length=16, choices=AssetLocation.choices, default=AssetLocation.LOCAL
    )
    minio_path = models.CharField(_("minio path"), max_length=500, null=True, blank=True)
    deleted_from_minio = models.BooleanField(_("deleted from minio"), default=False)
    description = models.CharField(_("description"), max_length=255, blank=True)
    sha256 = models.CharField(_("sha256"), max_length=64, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        db_table = "scenario_asset"
        ordering = ["file_name"]
        verbose_name = _("scenario asset")
        verbose_name_plural = _("scenario assets")

    def __str__(self) -> str:
        return self.file_name


class ScenarioAccessGrant(models.Model):
    """A scenario one solver may start while ``allow_all_scenarios`` is off (the admin-managed allow list)."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scenario_grants", verbose_name=_("user")
    )
    scenario = models.ForeignKey(
        Scenario, on_delete=models.CASCADE, related_name="access_grants", verbose_name=_("scenario")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "scenario_access_grant"
        constraints = [models.UniqueConstraint(fields=["user", "scenario"], name="scenario_access_grant_unique")]
        verbose_name = _("scenario access grant")
        verbose_name_plural = _("scenario access grants")

    def __str__(self) -> str:
        return gettext("%(user)s may start %(scenario)s") % {"user": self.user_id, "scenario": self.scenario_id}
