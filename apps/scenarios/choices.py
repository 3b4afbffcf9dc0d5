"""The choices of the scenarios app's tables (statuses, types, kinds), apart so models.py stays readable."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class VersionStatus(models.TextChoices):
    DRAFT = "DRAFT", _("Draft")
    SUBMITTED = "SUBMITTED", _("Submitted for review")
    APPROVED = "APPROVED", _("Approved")
    PUBLISHED = "PUBLISHED", _("Published")
    REJECTED = "REJECTED", _("Rejected")
    ARCHIVED = "ARCHIVED", _("Archived")


class ScenarioType(models.TextChoices):
    CHALLENGE = "challenge", _("Challenge (questions and scoring)")
    OPEN_LAB = "open_lab", _("Open lab (no scoring)")
    EVENT_LAB = "event_lab", _("Event lab (only inside events)")


class Difficulty(models.TextChoices):
    BEGINNER = "beginner", _("Beginner")
    INTERMEDIATE = "intermediate", _("Intermediate")
    ADVANCED = "advanced", _("Advanced")
    EXPERT = "expert", _("Expert")


class ValidationMode(models.TextChoices):
    INSTANT = "instant", _("Instant (checked on submit)")
    MANUAL = "manual", _("Manual review of free-text answers")


class ScoringMode(models.TextChoices):
    ALL_OR_NOTHING = "allOrNothing", _("All or nothing per question")
    PARTIAL = "partial", _("Partial credit")


class HintMode(models.TextChoices):
    DISABLED = "disabled", _("Hints disabled")
    FREE = "free", _("Hints are free")
    PENALTY = "penalty", _("Hints cost points")


class ImageSourceType(models.TextChoices):
    VARIANT = "variant", _("Curated image variant")
    PLATFORM = "platform", _("Platform image")
    CUSTOM = "custom", _("Custom image reference")


class AssetType(models.TextChoices):
    DOWNLOAD = "download", _("Download for solvers")
    MACHINE_FILE = "machine_file", _("File copied into a machine")
    WRITEUP = "writeup", _("Writeup attachment (staff only)")


class AssetLocation(models.TextChoices):
    LOCAL = "local", _("Platform storage")
    MINIO = "minio", _("Object storage")


class TestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")
    ERROR = "error", _("Error")
    CANCELLED = "cancelled", _("Cancelled")
