"""The image catalogue: curated variants and platform images, uploaded images, registry credentials."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.images.profiles import ResourceProfile
from rangex.core.crypto import EncryptedTextField
from rangex.core.models import BaseModel, TimestampedModel


class MachineRole(models.TextChoices):
    ATTACKER = "attacker", _("Attacker")
    VICTIM = "victim", _("Victim")
    SERVICE = "service", _("Service")


class EgressPolicy(models.TextChoices):
    NONE = "none", _("No outbound traffic (isolated)")
    INTERNET = "internet", _("Outbound traffic allowed")


class ImageSecurityMixin(models.Model):
    """What a container of this image may do beyond the locked-down default."""

    allowed_capabilities = models.JSONField(
        _("allowed capabilities"),
        default=list,
        blank=True,
        help_text=_('Linux capabilities added back after dropping all, e.g. ["NET_BIND_SERVICE", "SETUID"].'),
    )
    no_new_privileges = models.BooleanField(
        _("no new privileges"),
        default=True,
        help_text=_("Untick only for scenarios whose point is a setuid escalation path."),
    )
    terminal_user = models.CharField(
        _("terminal user"), max_length=32, default="root", help_text=_("The user a solver's terminal runs as.")
    )

    class Meta:
        abstract = True


class DockerImage(BaseModel):
    """An image known to the platform (``docker_image``)."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="docker_images",
        verbose_name=_("created by"),
    )
    name = models.CharField(_("name"), max_length=255)
    tag = models.CharField(_("tag"), max_length=128, default="latest")
    description = models.TextField(_("description"), blank=True)
    category = models.CharField(_("category"), max_length=64, blank=True)
    registry_url = models.CharField(_("registry url"), max_length=255, blank=True)
    is_public = models.BooleanField(_("is public"), default=False)
    is_verified = models.BooleanField(_("is verified"), default=False)
    is_ready_image = models.BooleanField(_("is ready image"), default=False)
    minio_path = models.CharField(_("minio path"), max_length=500, blank=True)
    image_size_mb = models.PositiveIntegerField(_("image size mb"), null=True, blank=True)
    pull_count = models.PositiveIntegerField(_("pull count"), default=0)
    last_pulled_at = models.DateTimeField(_("last pulled at"), null=True, blank=True)
    ecr_image_digest = models.CharField(_("ecr image digest"), max_length=128, blank=True)

    class Meta:
        db_table = "docker_image"
        ordering = ["name", "tag"]
        constraints = [models.UniqueConstraint(fields=["name", "tag"], name="docker_image_name_tag_unique")]
        verbose_name = _("docker image")
        verbose_name_plural = _("docker images")

    def __str__(self) -> str:
        return f"{self.name}:{self.tag}"

    @property
    def image_ref(self) -> str:
        prefix = f"{self.registry_url.rstrip('/')}/" if self.registry_url else ""
        return f"{prefix}{self.name}:{self.tag}"


class ImageVariant(ImageSecurityMixin, BaseModel):
    """A curated, admin-approved image with sizing, cost and defaults (``image_variants``)."""

    base_os = models.CharField(_("base os"), max_length=64)
    variant_type = models.CharField(_("variant type"), max_length=32, help_text=_("For example lite, standard, full."))
    image_ref = models.CharField(_("image ref"), max_length=255)
    display_name = models.CharField(_("display name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    cpu_cores = models.DecimalField(
        _("cpu cores"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0.50"),
        validators=[MinValueValidator(Decimal("0.1"))],
    )
    memory_mb = models.PositiveIntegerField(_("memory mb"), default=512, validators=[MinValueValidator(16)])
    disk_gb = models.PositiveIntegerField(_("disk gb"), default=5)
    hourly_cost_rm = models.DecimalField(
        _("hourly cost rm"),
        max_digits=8,
        decimal_places=4,
        default=Decimal("0.12"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    suitable_for_roles = models.JSONField(_("suitable for roles"), default=list, blank=True)
    included_tools = models.JSONField(_("included tools"), default=list, blank=True)
    is_active = models.BooleanField(_("is active"), default=True)
    is_admin_approved = models.BooleanField(_("is admin approved"), default=False)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    version = models.CharField(_("version"), max_length=32, blank=True)
    image_category = models.CharField(_("image category"), max_length=64, blank=True)
    default_entrypoints = models.JSONField(_("default entrypoints"), default=list, blank=True)
    has_gui = models.BooleanField(_("has gui"), default=False)
    recommended_network_group = models.CharField(_("recommended network group"), max_length=64, blank=True)
    default_network_group = models.CharField(_("default network group"), max_length=64, blank=True)
    default_network_egress_policy = models.CharField(
        _("default network egress policy"), max_length=16, choices=EgressPolicy.choices, default=EgressPolicy.NONE
    )
    default_healthcheck = models.JSONField(_("default healthcheck"), null=True, blank=True)

    class Meta:
        db_table = "image_variants"
        ordering = ["display_name"]
        verbose_name = _("image variant")
        verbose_name_plural = _("image variants")

    def __str__(self) -> str:
        return self.display_name


class DockerCredential(BaseModel):
    """A user's own login to a registry (``docker_credential``); the password is encrypted."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="docker_credentials", verbose_name=_("user")
    )
    username = models.CharField(_("username"), max_length=255)
    registry_url = models.CharField(_("registry url"), max_length=255)
    password_encrypted = EncryptedTextField(_("password encrypted"), blank=True, default="")

    class Meta:
        db_table = "docker_credential"
        ordering = ["registry_url"]
        verbose_name = _("docker credential")
        verbose_name_plural = _("docker credentials")

    def __str__(self) -> str:
        return f"{self.username}@{self.registry_url}"


class PlatformImage(ImageSecurityMixin, BaseModel):
    """An image the platform offers for a machine role (``platform_image``)."""

    label = models.CharField(_("label"), max_length=120)
    image_ref = models.CharField(_("image ref"), max_length=255)
    compatible_attacker = models.BooleanField(_("compatible attacker"), default=False)
    compatible_internal = models.BooleanField(_("compatible internal"), default=False)
    compatible_service = models.BooleanField(_("compatible service"), default=False)
    purpose_tags = models.JSONField(_("purpose tags"), default=list, blank=True)
    resource_profile = models.CharField(
        _("resource profile"), max_length=16, choices=ResourceProfile.choices, default=ResourceProfile.SMALL
    )
    is_active = models.BooleanField(_("is active"), default=True)

    class Meta:
        db_table = "platform_image"
        ordering = ["label"]
        verbose_name = _("platform image")
        verbose_name_plural = _("platform images")

    def __str__(self) -> str:
        return self.label


class RegistryCredential(BaseModel):
    """Credentials for a private registry (``registry_credential``), encrypted at rest."""

    class Status(models.TextChoices):
        UNTESTED = "untested", _("Untested")
        OK = "ok", _("Ok")
        FAILED = "failed", _("Failed")

    label = models.CharField(_("label"), max_length=120)
    registry_url = models.CharField(_("registry url"), max_length=255)
    username_enc = EncryptedTextField(_("username enc"))
    password_or_token_enc = EncryptedTextField(_("password or token enc"))
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="registry_credentials",
        verbose_name=_("created by user"),
    )
    is_active = models.BooleanField(_("is active"), default=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    last_tested_at = models.DateTimeField(_("last tested at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.UNTESTED)
    last_test_message = models.CharField(_("last test message"), max_length=500, blank=True)

    class Meta:
        db_table = "registry_credential"
        ordering = ["label"]
        verbose_name = _("registry credential")
        verbose_name_plural = _("registry credentials")

    def __str__(self) -> str:
        return f"{self.label} ({self.registry_url})"


class ImagePipelineStage(TimestampedModel):
    """Where a creator's image is on its way to production (``image_pipeline_stages``)."""

    class Stage(models.TextChoices):
        LOCAL_BUILT = "local_built", _("Local Built")
        STAGING_UPLOADED = "staging_uploaded", _("Staging Uploaded")
        IN_REVIEW = "in_review", _("In Review")
        APPROVED = "approved", _("Approved")
        PRODUCTION_DEPLOYED = "production_deployed", _("Production Deployed")
        FAILED = "failed", _("Failed")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to build")
        BUILDING = "building", _("Building and pushing to staging")
        AWAITING_APPROVAL = "awaiting_approval", _("Waiting for an admin's approval")
        DEPLOYING = "deploying", _("Pushing to production")
        DONE = "done", _("In production")
        FAILED = "failed", _("Failed")
        REJECTED = "rejected", _("Rejected")

    id = models.BigAutoField(primary_key=True)
    image_name = models.CharField(_("image name"), max_length=255)
    image_tag = models.CharField(_("image tag"), max_length=128)
    scenario_id = models.UUIDField(_("scenario id"), null=True, blank=True, db_index=True)
    scenario_version_id = models.UUIDField(_("scenario version id"), null=True, blank=True, db_index=True)
    creator_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("creator user"),
    )
    current_stage = models.CharField(
        _("current stage"), max_length=24, choices=Stage.choices, default=Stage.LOCAL_BUILT
    )
    local_built_at = models.DateTimeField(_("local built at"), null=True, blank=True)
    staging_uploaded_at = models.DateTimeField(_("staging uploaded at"), null=True, blank=True)
    staging_minio_path = models.CharField(_("staging minio path"), max_length=500, blank=True)
    review_started_at = models.DateTimeField(_("review started at"), null=True, blank=True)
    review_completed_at = models.DateTimeField(_("review completed at"), null=True, blank=True)
    reviewer_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("reviewer user"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approver_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("approver user"),
    )
    production_deployed_at = models.DateTimeField(_("production deployed at"), null=True, blank=True)
    ecr_repository = models.CharField(_("ecr repository"), max_length=255, blank=True)
    ecr_image_digest = models.CharField(_("ecr image digest"), max_length=128, blank=True)
    security_scan_results = models.JSONField(_("security scan results"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.PENDING, db_index=True)
    error_message = models.TextField(_("error message"), blank=True)
    machine_name = models.CharField(
        _("machine name"), max_length=32, blank=True, help_text=_("The machine the image was built for.")
    )
    context_file = models.CharField(
        _("context file"),
        max_length=500,
        blank=True,
        help_text=_("The build context (a tar in storage) the image is built from."),
    )
    log = models.TextField(_("log"), blank=True, help_text=_("What each stage printed: the build's steps, the pushes."))

    class Meta:
        db_table = "image_pipeline_stages"
        ordering = ["-created_at"]
        constraints = [
            # Tagged by the content hash of its context: one pipeline per content, never built twice.
            models.UniqueConstraint(fields=["image_name", "image_tag"], name="image_pipeline_content_unique")
        ]
        verbose_name = _("image pipeline stage")
        verbose_name_plural = _("image pipeline stages")

    def __str__(self) -> str:
        return f"{self.image_name}:{self.image_tag} [{self.current_stage}]"

    @property
    def local_ref(self) -> str:
        return f"{self.image_name}:{self.image_tag}"
