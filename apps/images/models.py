"""The image catalogue: curated variants and platform images, uploaded images, registry credentials."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from apps.images.profiles import ResourceProfile
from rangex.core.crypto import EncryptedTextField
from rangex.core.models import BaseModel, TimestampedModel


class MachineRole(models.TextChoices):
    ATTACKER = "attacker", "Attacker"
    VICTIM = "victim", "Victim"
    SERVICE = "service", "Service"


class EgressPolicy(models.TextChoices):
    NONE = "none", "No outbound traffic (isolated)"
    INTERNET = "internet", "Outbound traffic allowed"


class ImageSecurityMixin(models.Model):
    """What a container of this image may do beyond the locked-down default."""

    allowed_capabilities = models.JSONField(
        default=list,
        blank=True,
        help_text='Linux capabilities added back after dropping all, e.g. ["NET_BIND_SERVICE", "SETUID"].',
    )
    no_new_privileges = models.BooleanField(
        default=True,
        help_text="Untick only for scenarios whose point is a setuid escalation path.",
    )
    terminal_user = models.CharField(max_length=32, default="root", help_text="The user a solver's terminal runs as.")

    class Meta:
        abstract = True


class DockerImage(BaseModel):
    """An image known to the platform (``docker_image``)."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="docker_images"
    )
    name = models.CharField(max_length=255)
    tag = models.CharField(max_length=128, default="latest")
    description = models.TextField(blank=True)
    category = models.CharField(max_length=64, blank=True)
    registry_url = models.CharField(max_length=255, blank=True)
    is_public = models.BooleanField(default=False)
    is_verified = models.BooleanField(default=False)
    is_ready_image = models.BooleanField(default=False)
    minio_path = models.CharField(max_length=500, blank=True)
    image_size_mb = models.PositiveIntegerField(null=True, blank=True)
    pull_count = models.PositiveIntegerField(default=0)
    last_pulled_at = models.DateTimeField(null=True, blank=True)
    ecr_image_digest = models.CharField(max_length=128, blank=True)

    class Meta:
        db_table = "docker_image"
        ordering = ["name", "tag"]
        constraints = [models.UniqueConstraint(fields=["name", "tag"], name="docker_image_name_tag_unique")]

    def __str__(self) -> str:
        return f"{self.name}:{self.tag}"

    @property
    def image_ref(self) -> str:
        prefix = f"{self.registry_url.rstrip('/')}/" if self.registry_url else ""
        return f"{prefix}{self.name}:{self.tag}"


class ImageVariant(ImageSecurityMixin, BaseModel):
    """A curated, admin-approved image with sizing, cost and defaults (``image_variants``)."""

    base_os = models.CharField(max_length=64)
    variant_type = models.CharField(max_length=32, help_text="For example lite, standard, full.")
    image_ref = models.CharField(max_length=255)
    display_name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    cpu_cores = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("0.50"), validators=[MinValueValidator(Decimal("0.1"))]
    )
    memory_mb = models.PositiveIntegerField(default=512, validators=[MinValueValidator(16)])
    disk_gb = models.PositiveIntegerField(default=5)
    hourly_cost_rm = models.DecimalField(
        max_digits=8, decimal_places=4, default=Decimal("0.12"), validators=[MinValueValidator(Decimal("0"))]
    )
    suitable_for_roles = models.JSONField(default=list, blank=True)
    included_tools = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    is_admin_approved = models.BooleanField(default=False)
    tags = models.JSONField(default=list, blank=True)
    version = models.CharField(max_length=32, blank=True)
    image_category = models.CharField(max_length=64, blank=True)
    default_entrypoints = models.JSONField(default=list, blank=True)
    has_gui = models.BooleanField(default=False)
    recommended_network_group = models.CharField(max_length=64, blank=True)
    default_network_group = models.CharField(max_length=64, blank=True)
    default_network_egress_policy = models.CharField(
        max_length=16, choices=EgressPolicy.choices, default=EgressPolicy.NONE
    )
    default_healthcheck = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "image_variants"
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name


class DockerCredential(BaseModel):
    """A user's own login to a registry (``docker_credential``); the password is encrypted."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="docker_credentials")
    username = models.CharField(max_length=255)
    registry_url = models.CharField(max_length=255)
    password_encrypted = EncryptedTextField(blank=True, default="")

    class Meta:
        db_table = "docker_credential"
        ordering = ["registry_url"]

    def __str__(self) -> str:
        return f"{self.username}@{self.registry_url}"


class PlatformImage(ImageSecurityMixin, BaseModel):
    """An image the platform offers for a machine role (``platform_image``)."""

    label = models.CharField(max_length=120)
    image_ref = models.CharField(max_length=255)
    compatible_attacker = models.BooleanField(default=False)
    compatible_internal = models.BooleanField(default=False)
    compatible_service = models.BooleanField(default=False)
    purpose_tags = models.JSONField(default=list, blank=True)
    resource_profile = models.CharField(max_length=16, choices=ResourceProfile.choices, default=ResourceProfile.SMALL)
    is_active = models.BooleanField(default=True)

    class Meta:
        db_table = "platform_image"
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class RegistryCredential(BaseModel):
    """Credentials for a private registry (``registry_credential``), encrypted at rest."""

    class Status(models.TextChoices):
        UNTESTED = "untested"
        OK = "ok"
        FAILED = "failed"

    label = models.CharField(max_length=120)
    registry_url = models.CharField(max_length=255)
    username_enc = EncryptedTextField()
    password_or_token_enc = EncryptedTextField()
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="registry_credentials"
    )
    is_active = models.BooleanField(default=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_tested_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UNTESTED)
    last_test_message = models.CharField(max_length=500, blank=True)

    class Meta:
        db_table = "registry_credential"
        ordering = ["label"]

    def __str__(self) -> str:
        return f"{self.label} ({self.registry_url})"


class ImagePipelineStage(TimestampedModel):
    """Where a creator's image is on its way to production (``image_pipeline_stages``)."""

    class Stage(models.TextChoices):
        LOCAL_BUILT = "local_built"
        STAGING_UPLOADED = "staging_uploaded"
        IN_REVIEW = "in_review"
        APPROVED = "approved"
        PRODUCTION_DEPLOYED = "production_deployed"
        FAILED = "failed"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to build"
        BUILDING = "building", "Building and pushing to staging"
        AWAITING_APPROVAL = "awaiting_approval", "Waiting for an admin's approval"
        DEPLOYING = "deploying", "Pushing to production"
        DONE = "done", "In production"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected"

    id = models.BigAutoField(primary_key=True)
    image_name = models.CharField(max_length=255)
    image_tag = models.CharField(max_length=128)
    scenario_id = models.UUIDField(null=True, blank=True, db_index=True)
    scenario_version_id = models.UUIDField(null=True, blank=True, db_index=True)
    creator_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    current_stage = models.CharField(max_length=24, choices=Stage.choices, default=Stage.LOCAL_BUILT)
    local_built_at = models.DateTimeField(null=True, blank=True)
    staging_uploaded_at = models.DateTimeField(null=True, blank=True)
    staging_minio_path = models.CharField(max_length=500, blank=True)
    review_started_at = models.DateTimeField(null=True, blank=True)
    review_completed_at = models.DateTimeField(null=True, blank=True)
    reviewer_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approver_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    production_deployed_at = models.DateTimeField(null=True, blank=True)
    ecr_repository = models.CharField(max_length=255, blank=True)
    ecr_image_digest = models.CharField(max_length=128, blank=True)
    security_scan_results = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PENDING, db_index=True)
    error_message = models.TextField(blank=True)
    machine_name = models.CharField(max_length=32, blank=True, help_text="The machine the image was built for.")
    context_file = models.CharField(
        max_length=500, blank=True, help_text="The build context (a tar in storage) the image is built from."
    )
    log = models.TextField(blank=True, help_text="What each stage printed: the build's steps, the pushes.")

    class Meta:
        db_table = "image_pipeline_stages"
        ordering = ["-created_at"]
        constraints = [
            # Tagged by the content hash of its context: one pipeline per content, never built twice.
            models.UniqueConstraint(fields=["image_name", "image_tag"], name="image_pipeline_content_unique")
        ]

    def __str__(self) -> str:
        return f"{self.image_name}:{self.image_tag} [{self.current_stage}]"

    @property
    def local_ref(self) -> str:
        return f"{self.image_name}:{self.image_tag}"
