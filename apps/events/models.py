"""Events: competitions with registration, team play, scoring and a live scoreboard.

Seed tables: ``event``, ``event_scenario``, ``event_participation``, ``event_registration`` and
``event_sessions``. ``event_solve`` is added: one row per accepted answer, the source of first
blood, dynamic values, the score-over-time chart and the freeze. ``event_division`` (brackets with a
board each) and ``event_announcement`` (what organisers told the participants) are added too.
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rangex.core.models import BaseModel, TimestampedModel


class EventFormat(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    TEAM = "team", _("Team")


class ScoringMode(models.TextChoices):
    STATIC = "static", _("Static points")
    DYNAMIC = "dynamic", _("Dynamic (value decays with solves)")


class EnvironmentMode(models.TextChoices):
    OWN = "own", _("Each member gets their own environment")
    SHARED = "shared", _("The team shares one environment")


class Event(BaseModel):
    """One competition (``event``). Times are stored in UTC and shown in ``timezone``."""

    name = models.CharField(
        _("name"), max_length=200, help_text=_("Shown on the events page, the board and the results.")
    )
    description = models.TextField(
        _("description"), blank=True, default="", help_text=_("Rules and information for participants (Markdown).")
    )
    cover_image = models.ImageField(
        _("cover image"),
        upload_to="covers/events/",
        blank=True,
        default="",
        help_text=_("A picture shown on the event's page."),
    )
    cover_image_url = models.CharField(
        _("cover image url"),
        max_length=500,
        blank=True,
        default="",
        help_text=_("Or the address of a picture, when none is uploaded."),
    )
    start_date = models.DateTimeField(
        _("start date"), help_text=_("When answers start to count, in the event's time zone.")
    )
    end_date = models.DateTimeField(
        _("end date"), help_text=_("When answers stop counting and the event's labs stop, in the event's time zone.")
    )
    timezone = models.CharField(
        _("timezone"),
        max_length=64,
        default="UTC",
        help_text=_(
            "Every time of the event is entered and shown in this zone (an IANA name, e.g. Asia/Kuala_Lumpur)."
        ),
    )
    format = models.CharField(
        _("format"),
        max_length=16,
        choices=EventFormat.choices,
        default=EventFormat.INDIVIDUAL,
        help_text=_("Individual: everyone plays alone. Team: team leaders register their teams; nobody plays solo."),
    )
    max_participants = models.PositiveIntegerField(
        _("max participants"),
        null=True,
        blank=True,
        help_text=_("Most participants (users or teams); empty = no limit."),
    )
    max_team_size = models.PositiveSmallIntegerField(
        _("max team size"),
        null=True,
        blank=True,
        help_text=_("Team events: the most members a registered team may have; empty = each team's own limit."),
    )
    participating_team_ids = models.JSONField(
        _("participating team ids"),
        default=list,
        blank=True,
        help_text=_("Invited teams; when not empty only these teams may register."),
    )
    registration_required = models.BooleanField(
        _("registration required"),
        default=True,
        help_text=_("Players register before they play; when off, a first answer registers a player."),
    )
    allow_late_registration = models.BooleanField(
        _("allow late registration"),
        default=False,
        help_text=_("Registration stays open after the start. When off, registration closes when the event starts."),
    )
    is_public = models.BooleanField(
        _("is public"),
        default=True,
        help_text=_("Untick to hide the event: only admins then see it (its participants too lose sight of it)."),
    )
    is_paused = models.BooleanField(
        _("is paused"),
        default=False,
        help_text=_("While paused, answers, hints and new labs are refused; the board and the clock stay as they are."),
    )
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="created_events",
        verbose_name=_("created by user"),
    )
    scoring_mode = models.CharField(
        _("scoring mode"),
        max_length=16,
        choices=ScoringMode.choices,
        default=ScoringMode.STATIC,
        help_text=_("Static: each question is worth its points. Dynamic: a question's value falls as teams solve it."),
    )
    dynamic_initial = models.PositiveIntegerField(
        _("dynamic initial"), default=500, help_text=_("Dynamic scoring: the value before any solve.")
    )
    dynamic_minimum = models.PositiveIntegerField(
        _("dynamic minimum"), default=100, help_text=_("Dynamic scoring: the lowest value.")
    )
    dynamic_decay = models.PositiveIntegerField(
        _("dynamic decay"), default=20, help_text=_("Solves after which the value reaches the minimum.")
    )
    dynamic_retroactive = models.BooleanField(
        _("dynamic retroactive"), default=False, help_text=_("Earlier solvers' points follow the current value too.")
    )
    first_blood_bonus = models.PositiveIntegerField(
        _("first blood bonus"), default=0, help_text=_("Extra points for the first solve of a question.")
    )
    environment_mode = models.CharField(
        _("environment mode"),
        max_length=16,
        choices=EnvironmentMode.choices,
        default=EnvironmentMode.OWN,
        help_text=_("Team events: whether members get a lab each or the team shares one lab per challenge."),
    )
    freeze_at = models.DateTimeField(
        _("freeze at"),
        null=True,
        blank=True,
        help_text=_(
            "From then until the end, participants and the public see the board as it was then; "
            "admins see the live one."
        ),
    )
    labs_warned_at = models.DateTimeField(
        _("labs warned at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When the participants were warned that the labs stop."),
    )

    class Meta:
        db_table = "event"
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gt=models.F("start_date")), name="event_end_after_start"
            )
        ]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("events:detail", args=[self.pk])

    def clean(self) -> None:
        errors = {}
        if self.start_date and self.end_date and self.end_date <= self.start_date:
            errors["end_date"] = [_("The event must end after it starts.")]
        if (
            self.freeze_at
            and self.start_date
            and self.end_date
            and not self.start_date <= self.freeze_at <= self.end_date
        ):
            errors["freeze_at"] = [_("The freeze time must lie inside the event.")]
        if self.scoring_mode == ScoringMode.DYNAMIC:
            if self.dynamic_minimum > self.dynamic_initial:
                errors["dynamic_minimum"] = [_("The minimum cannot exceed the initial value.")]
            if self.dynamic_minimum < 1:
                errors["dynamic_minimum"] = [_("The minimum must be at least 1 point.")]
            if self.dynamic_decay < 1:
                errors["dynamic_decay"] = [_("The decay must be at least 1 solve.")]
        if self.timezone not in zoneinfo.available_timezones():
            errors["timezone"] = [
                _("Unknown time zone %(tz)r; use an IANA name such as Asia/Kuala_Lumpur.") % {"tz": self.timezone}
            ]
        if self.max_team_size is not None and self.max_team_size < 1:
            errors["max_team_size"] = [_("A team needs at least one member; leave it empty for no event limit.")]
        if not isinstance(self.participating_team_ids, list):
            errors["participating_team_ids"] = [_("Give a list of team ids.")]
        if errors:
            raise ValidationError(errors)

    @property
    def is_team(self) -> bool:
        return self.format == EventFormat.TEAM

    def phase(self, now=None) -> str:
        now = now or timezone.now()
        if now < self.start_date:
            return "upcoming"
        if now >= self.end_date:
            return "past"
        return "live"

    def is_frozen(self, now=None) -> bool:
        """Return whether participants see the frozen board: from the freeze until the end."""
        now = now or timezone.now()
        return self.freeze_at is not None and self.freeze_at <= now < self.end_date

    def local(self, value):
        return timezone.localtime(value, zoneinfo.ZoneInfo(self.timezone))

    def local_label(self, value) -> str:
        """Return ``value`` as a wall-clock time in the event's zone, named: "2030-01-10 09:00 (Asia/Kuala_Lumpur)"."""
        return f"{self.local(value):%Y-%m-%d %H:%M} ({self.timezone})"

    def next_change_at(self, now=None):
        """Return the next moment the public board changes by itself (the freeze, the end), or None."""
        now = now or timezone.now()
        moments = [m for m in (self.freeze_at, self.end_date) if m is not None and m > now]
        return min(moments) if moments else None


class EventScenario(models.Model):
    """A challenge of an event: a published scenario version, in board order (``event_scenario``)."""

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="scenarios", verbose_name=_("event"))
    scenario_version = models.ForeignKey(
        "scenarios.ScenarioVersion",
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("A published scenario version."),
        verbose_name=_("scenario version"),
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0, help_text=_("Position on the challenge list."))
    release_at = models.DateTimeField(
        _("release at"),
        null=True,
        blank=True,
        help_text=_("Hidden from players until then (event time zone); empty = released at the start."),
    )

    class Meta:
        db_table = "event_scenario"
        ordering = ["sort_order", "id"]
        constraints = [models.UniqueConstraint(fields=["event", "scenario_version"], name="event_scenario_unique")]
        verbose_name = _("event scenario")
        verbose_name_plural = _("event scenarios")

    def __str__(self) -> str:
        return f"{self.event} #{self.sort_order}"

    def is_released(self, now=None) -> bool:
        return self.release_at is None or (now or timezone.now()) >= self.release_at


class EventDivision(models.Model):
    """A bracket of an event (students, professionals...): each has a board of its own (``event_division``)."""

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="divisions", verbose_name=_("event"))
    name = models.CharField(_("name"), max_length=64, help_text=_("As players see it when they register."))
    sort_order = models.PositiveIntegerField(_("sort order"), default=0, help_text=_("Position in the list."))

    class Meta:
        db_table = "event_division"
        ordering = ["sort_order", "id"]
        constraints = [models.UniqueConstraint(fields=["event", "name"], name="event_division_unique")]
        verbose_name = _("event division")
        verbose_name_plural = _("event divisions")

    def __str__(self) -> str:
        return self.name


class EventAnnouncement(models.Model):
    """Something the organisers told every participant during an event (``event_announcement``)."""

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="announcements", verbose_name=_("event"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        db_table = "event_announcement"
        ordering = ["-created_at", "-id"]
        verbose_name = _("event announcement")
        verbose_name_plural = _("event announcements")

    def __str__(self) -> str:
        return self.title


class EventRegistration(models.Model):
    """A signup: a user for themself, or a team leader for their team (``event_registration``)."""

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations", verbose_name=_("event"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_registrations", verbose_name=_("user")
    )
    team = models.ForeignKey(
        "teams.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="event_registrations",
        verbose_name=_("team"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "event_registration"
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="event_registration_user_unique"),
            models.UniqueConstraint(fields=["event", "team"], name="event_registration_team_unique"),
        ]
        verbose_name = _("event registration")
        verbose_name_plural = _("event registrations")

    def __str__(self) -> str:
        return f"{self.team or self.user} @ {self.event}"


class EventParticipation(models.Model):
    """A row of the scoreboard: one user (individual events) or one team (``event_participation``).

    ``total_points``, ``challenges_completed``, ``last_solve_at`` and ``rank`` are kept current inside
    each solve's transaction; ``last_solve_at`` is when the participant reached its total (the tie-break).
    """

    class ParticipantType(models.TextChoices):
        USER = "user", _("User")
        TEAM = "team", _("Team")

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="participations", verbose_name=_("event"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="event_participations",
        verbose_name=_("user"),
    )
    team = models.ForeignKey(
        "teams.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="event_participations",
        verbose_name=_("team"),
    )
    participant_type = models.CharField(_("participant type"), max_length=8, choices=ParticipantType.choices)
    division = models.ForeignKey(
        EventDivision,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="participations",
        verbose_name=_("division"),
    )
    total_points = models.IntegerField(_("total points"), default=0)
    challenges_completed = models.PositiveIntegerField(_("challenges completed"), default=0)
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    last_solve_at = models.DateTimeField(_("last solve at"), null=True, blank=True)
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    disqualified = models.BooleanField(_("disqualified"), default=False)
    disqualified_reason = models.CharField(_("disqualified reason"), max_length=500, blank=True, default="")
    disqualified_at = models.DateTimeField(_("disqualified at"), null=True, blank=True)

    class Meta:
        db_table = "event_participation"
        ordering = ["rank", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="event_participation_user_unique"),
            models.UniqueConstraint(fields=["event", "team"], name="event_participation_team_unique"),
            models.CheckConstraint(
                condition=(
                    models.Q(user__isnull=False, team__isnull=True) | models.Q(user__isnull=True, team__isnull=False)
                ),
                name="event_participation_user_xor_team",
            ),
        ]
        # One index in board order serves both the reads (the top of the board is its first rows)
        # and the rank maintenance of each solve (a range of total_points). An index on rank would
        # have to be rewritten for every row a solve overtakes.
        indexes = [
            models.Index(
                fields=["event", "disqualified", "-total_points", "last_solve_at"], name="event_part_board_order_idx"
            ),
        ]
        verbose_name = _("event participation")
        verbose_name_plural = _("event participations")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.team_id:
            return self.team.name
        return self.user.display_name or f"user-{str(self.user_id)[:8]}"


class EventSession(TimestampedModel):
    """A participant's play of one challenge (``event_sessions``); in team events shared by the team.

    ``answers`` holds the accepted answers by question id; ``answers_hash`` is the head of a SHA-256
    chain over them (previous hash + canonical JSON of each accepted answer), so editing a stored
    answer shows when the chain is verified.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        FINISHED = "finished", _("Finished")

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="event_sessions", verbose_name=_("event"))
    participation = models.ForeignKey(
        EventParticipation, on_delete=models.CASCADE, related_name="event_sessions", verbose_name=_("participation")
    )
    scenario_version = models.ForeignKey(
        "scenarios.ScenarioVersion", on_delete=models.PROTECT, related_name="+", verbose_name=_("scenario version")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_sessions", verbose_name=_("user")
    )
    environment_session = models.ForeignKey(
        "environments.EnvironmentSession",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("environment session"),
    )
    mode = models.CharField(_("mode"), max_length=16, choices=EnvironmentMode.choices, default=EnvironmentMode.OWN)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    score = models.IntegerField(_("score"), default=0)
    progress_pct = models.PositiveSmallIntegerField(_("progress pct"), default=0)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    answers_hash = models.CharField(_("answers hash"), max_length=64, blank=True, default="")
    attempt_states = models.JSONField(
        _("attempt states"),
        default=dict,
        blank=True,
        help_text=_("Grading state of questions answered without a lab (attempts used)."),
    )

    class Meta:
        db_table = "event_sessions"
        ordering = ["started_at"]
        constraints = [
            models.UniqueConstraint(fields=["participation", "scenario_version"], name="event_session_unique")
        ]
        verbose_name = _("event session")
        verbose_name_plural = _("event sessions")

    def __str__(self) -> str:
        return f"{self.participation_id} on {self.scenario_version_id}"


class EventSolve(models.Model):
    """One accepted answer in an event: who, which question, when, and the points it earned."""

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="solves", verbose_name=_("event"))
    participation = models.ForeignKey(
        EventParticipation, on_delete=models.CASCADE, related_name="solves", verbose_name=_("participation")
    )
    event_session = models.ForeignKey(
        EventSession, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("event session")
    )
    scenario_version = models.ForeignKey(
        "scenarios.ScenarioVersion", on_delete=models.PROTECT, related_name="+", verbose_name=_("scenario version")
    )
    question_id = models.CharField(_("question id"), max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("user")
    )
    points = models.IntegerField(_("points"), default=0)
    first_blood = models.BooleanField(_("first blood"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        db_table = "event_solve"
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["participation", "scenario_version", "question_id"], name="event_solve_unique"
            )
        ]
        indexes = [
            models.Index(fields=["event", "scenario_version", "question_id"], name="event_solve_question_idx"),
            models.Index(fields=["event", "created_at"], name="event_solve_time_idx"),
        ]
        verbose_name = _("event solve")
        verbose_name_plural = _("event solves")

    def __str__(self) -> str:
        return f"{self.participation_id} solved {self.question_id}"
