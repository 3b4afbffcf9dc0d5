"""The choices of the scenarios app's tables (statuses, types, kinds), apart so models.py stays readable."""

from django.db import models


class VersionStatus(models.TextChoices):
    DRAFT = "DRAFT", "Draft"
    SUBMITTED = "SUBMITTED", "Submitted for review"
    APPROVED = "APPROVED", "Approved"
    PUBLISHED = "PUBLISHED", "Published"
    REJECTED = "REJECTED", "Rejected"
    ARCHIVED = "ARCHIVED", "Archived"


class ScenarioType(models.TextChoices):
    CHALLENGE = "challenge", "Challenge (questions and scoring)"
    OPEN_LAB = "open_lab", "Open lab (no scoring)"
    EVENT_LAB = "event_lab", "Event lab (only inside events)"


class Difficulty(models.TextChoices):
    BEGINNER = "beginner", "Beginner"
    INTERMEDIATE = "intermediate", "Intermediate"
    ADVANCED = "advanced", "Advanced"
    EXPERT = "expert", "Expert"


class ValidationMode(models.TextChoices):
    INSTANT = "instant", "Instant (checked on submit)"
    MANUAL = "manual", "Manual review of free-text answers"


class ScoringMode(models.TextChoices):
    ALL_OR_NOTHING = "allOrNothing", "All or nothing per question"
    PARTIAL = "partial", "Partial credit"


class HintMode(models.TextChoices):
    DISABLED = "disabled", "Hints disabled"
    FREE = "free", "Hints are free"
    PENALTY = "penalty", "Hints cost points"


class ImageSourceType(models.TextChoices):
    VARIANT = "variant", "Curated image variant"
    PLATFORM = "platform", "Platform image"
    CUSTOM = "custom", "Custom image reference"


class AssetType(models.TextChoices):
    DOWNLOAD = "download", "Download for solvers"
    MACHINE_FILE = "machine_file", "File copied into a machine"
    WRITEUP = "writeup", "Writeup attachment (staff only)"


class AssetLocation(models.TextChoices):
    LOCAL = "local", "Platform storage"
    MINIO = "minio", "Object storage"


class TestStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    CANCELLED = "cancelled"
