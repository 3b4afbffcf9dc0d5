"""Badges: admin-defined achievements, their typed requirements, and the awards to users.

A badge is earned when *all* of its requirements are met. ``user_badge`` holds one row per user
and badge (a unique constraint), which is what makes awarding exactly-once under concurrency.
Team badges (``team_badge``) belong to the teams app and point at the same ``badge`` rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rangex.core.models import BaseModel


class Badge(BaseModel):
    """An achievement definition (``badge``)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    icon = models.ImageField(
        _("icon"), upload_to="badges/", max_length=500, null=True, blank=True, db_column="icon_url"
    )
    criteria = models.TextField(_("criteria"), blank=True, help_text=_("How to earn it, in words, shown to solvers."))

    class Meta:
        db_table = "badge"
        ordering = ["name"]
        verbose_name = _("badge")
        verbose_name_plural = _("badges")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("badges:detail", args=[self.pk])


class RequirementType(models.TextChoices):
    COMPLETE_SCENARIO = "complete_scenario", _("Complete a scenario")
    COMPLETE_COUNT = "complete_count", _("Complete N scenarios (optionally of a category or difficulty)")
    MIN_SCORE = "min_score", _("Score at least X in a scenario")
    EVENT_TOP_N = "event_top_n", _("Finish in the top N of an event")
    COMPLETE_PATH = "complete_path", _("Complete a career path")
    EVENT_FIRST_BLOOD = "event_first_blood", _("First blood in an event")
    EVENT_FINISHER = "event_finisher", _("Solve every challenge of an event")


class BadgeRequirement(models.Model):
    """One typed condition of a badge (``badge_requirement``).

    ``scenario`` points at a scenario version, as in the seed schema, but it stands for the whole
    scenario: completing any version of it counts.
    """

    # Which columns each type reads; the others must stay empty.
    FIELDS_BY_TYPE: dict[str, set[str]] = {
        RequirementType.COMPLETE_SCENARIO: {"scenario"},
        RequirementType.COMPLETE_COUNT: {"count", "category", "difficulty"},
        RequirementType.MIN_SCORE: {"scenario", "min_score"},
        RequirementType.EVENT_TOP_N: {"event_id", "count"},
        RequirementType.COMPLETE_PATH: {"career_path"},
        RequirementType.EVENT_FIRST_BLOOD: {"event_id"},
        RequirementType.EVENT_FINISHER: {"event_id"},
    }
    REQUIRED_BY_TYPE: dict[str, set[str]] = {
        RequirementType.COMPLETE_SCENARIO: {"scenario"},
        RequirementType.COMPLETE_COUNT: {"count"},
        RequirementType.MIN_SCORE: {"scenario", "min_score"},
        RequirementType.EVENT_TOP_N: {"event_id", "count"},
        RequirementType.COMPLETE_PATH: {"career_path"},
        RequirementType.EVENT_FIRST_BLOOD: {"event_id"},
        RequirementType.EVENT_FINISHER: {"event_id"},
    }

    id = models.BigAutoField(primary_key=True)
    badge = models.ForeignKey(Badge, on_delete=models.CASCADE, related_name="requirements", verbose_name=_("badge"))
    requirement_type = models.CharField(_("requirement type"), max_length=32, choices=RequirementType.choices)
    scenario = models.ForeignKey(
        "scenarios.ScenarioVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Any version of this scenario counts."),
        verbose_name=_("scenario"),
    )
    count = models.PositiveIntegerField(
        _("count"), null=True, blank=True, help_text=_("N scenarios, or the top N of an event.")
    )
    category = models.CharField(_("category"), max_length=64, blank=True)
    difficulty = models.CharField(_("difficulty"), max_length=64, blank=True)
    min_score = models.PositiveIntegerField(_("min score"), null=True, blank=True)
    event_id = models.UUIDField(_("event id"), null=True, blank=True, db_index=True)
    career_path = models.ForeignKey(
        "paths.CareerPath",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("career path"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "badge_requirement"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(count__isnull=True) | models.Q(count__gte=1), name="badge_requirement_count_positive"
            ),
        ]
        verbose_name = _("badge requirement")
        verbose_name_plural = _("badge requirements")

    def __str__(self) -> str:
        return self.get_requirement_type_display()


class UserBadge(models.Model):
    """A badge earned by a user (``user_badge``); at most one per user and badge."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="badges", verbose_name=_("user")
    )
    badge = models.ForeignKey(Badge, on_delete=models.CASCADE, related_name="awards", verbose_name=_("badge"))
    earned_at = models.DateTimeField(_("earned at"))

    class Meta:
        db_table = "user_badge"
        ordering = ["-earned_at"]
        constraints = [models.UniqueConstraint(fields=["user", "badge"], name="user_badge_unique")]
        verbose_name = _("user badge")
        verbose_name_plural = _("user badges")

    def __str__(self) -> str:
        return f"{self.badge} for {self.user_id}"
