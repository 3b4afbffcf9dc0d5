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

from rangex.core.models import BaseModel, TimestampedModel


class EventFormat(models.TextChoices):
    INDIVIDUAL = "individual", "Individual"
    TEAM = "team", "Team"


class ScoringMode(models.TextChoices):
    STATIC = "static", "Static points"
    DYNAMIC = "dynamic", "Dynamic (value decays with solves)"


class EnvironmentMode(models.TextChoices):
    OWN = "own", "Each member gets their own environment"
    SHARED = "shared", "The team shares one environment"


class Event(BaseModel):
    """One competition (``event``). Times are stored in UTC and shown in ``timezone``."""

    name = models.CharField(max_length=200, help_text="Shown on the events page, the board and the results.")
    description = models.TextField(
        blank=True, default="", help_text="Rules and information for participants (Markdown)."
    )
    cover_image = models.ImageField(
        upload_to="covers/events/", blank=True, default="", help_text="A picture shown on the event's page."
    )
    cover_image_url = models.CharField(
        max_length=500, blank=True, default="", help_text="Or the address of a picture, when none is uploaded."
    )
    start_date = models.DateTimeField(help_text="When answers start to count, in the event's time zone.")
    end_date = models.DateTimeField(
        help_text="When answers stop counting and the event's labs stop, in the event's time zone."
    )
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        help_text="Every time of the event is entered and shown in this zone (an IANA name, e.g. Asia/Kuala_Lumpur).",
    )
    format = models.CharField(
        max_length=16,
        choices=EventFormat.choices,
        default=EventFormat.INDIVIDUAL,
        help_text="Individual: everyone plays alone. Team: team leaders register their teams; nobody plays solo.",
    )
    max_participants = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most participants (users or teams); empty = no limit."
    )
    max_team_size = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Team events: the most members a registered team may have; empty = each team's own limit.",
    )
    participating_team_ids = models.JSONField(
        default=list, blank=True, help_text="Invited teams; when not empty only these teams may register."
    )
    registration_required = models.BooleanField(
        default=True, help_text="Players register before they play; when off, a first answer registers a player."
    )
    allow_late_registration = models.BooleanField(
        default=False,
        help_text="Registration stays open after the start. When off, registration closes when the event starts.",
    )
    is_public = models.BooleanField(
        default=True,
        help_text="Untick to hide the event: only admins then see it (its participants too lose sight of it).",
    )
    is_paused = models.BooleanField(
        default=False,
        help_text="While paused, answers, hints and new labs are refused; the board and the clock stay as they are.",
    )
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="created_events"
    )
    scoring_mode = models.CharField(
        max_length=16,
        choices=ScoringMode.choices,
        default=ScoringMode.STATIC,
        help_text="Static: each question is worth its points. Dynamic: a question's value falls as teams solve it.",
    )
    dynamic_initial = models.PositiveIntegerField(default=500, help_text="Dynamic scoring: the value before any solve.")
    dynamic_minimum = models.PositiveIntegerField(default=100, help_text="Dynamic scoring: the lowest value.")
    dynamic_decay = models.PositiveIntegerField(
        default=20, help_text="Solves after which the value reaches the minimum."
    )
    dynamic_retroactive = models.BooleanField(
        default=False, help_text="Earlier solvers' points follow the current value too."
    )
    first_blood_bonus = models.PositiveIntegerField(
        default=0, help_text="Extra points for the first solve of a question."
    )
    environment_mode = models.CharField(
        max_length=16,
        choices=EnvironmentMode.choices,
        default=EnvironmentMode.OWN,
        help_text="Team events: whether members get a lab each or the team shares one lab per challenge.",
    )
    freeze_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="From then until the end, participants and the public see the board as it was then; "
        "admins see the live one.",
    )
    labs_warned_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the participants were warned that the labs stop."
    )

    class Meta:
        db_table = "event"
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gt=models.F("start_date")), name="event_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("events:detail", args=[self.pk])

    def clean(self) -> None:
        errors = {}
        if self.start_date and self.end_date and self.end_date <= self.start_date:
            errors["end_date"] = ["The event must end after it starts."]
        if (
            self.freeze_at
            and self.start_date
            and self.end_date
            and not self.start_date <= self.freeze_at <= self.end_date
        ):
            errors["freeze_at"] = ["The freeze time must lie inside the event."]
        if self.scoring_mode == ScoringMode.DYNAMIC:
            if self.dynamic_minimum > self.dynamic_initial:
                errors["dynamic_minimum"] = ["The minimum cannot exceed the initial value."]
            if self.dynamic_minimum < 1:
                errors["dynamic_minimum"] = ["The minimum must be at least 1 point."]
            if self.dynamic_decay < 1:
                errors["dynamic_decay"] = ["The decay must be at least 1 solve."]
        if self.timezone not in zoneinfo.available_timezones():
            errors["timezone"] = [f"Unknown time zone {self.timezone!r}; use an IANA name such as Asia/Kuala_Lumpur."]
        if self.max_team_size is not None and self.max_team_size < 1:
            errors["max_team_size"] = ["A team needs at least one member; leave it empty for no event limit."]
        if not isinstance(self.participating_team_ids, list):
            errors["participating_team_ids"] = ["Give a list of team ids."]
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
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="scenarios")
    scenario_version = models.ForeignKey(
        "scenarios.ScenarioVersion",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="A published scenario version.",
    )
    sort_order = models.PositiveIntegerField(default=0, help_text="Position on the challenge list.")
    release_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Hidden from players until then (event time zone); empty = released at the start.",
    )

    class Meta:
        db_table = "event_scenario"
        ordering = ["sort_order", "id"]
        constraints = [models.UniqueConstraint(fields=["event", "scenario_version"], name="event_scenario_unique")]

    def __str__(self) -> str:
        return f"{self.event} #{self.sort_order}"

    def is_released(self, now=None) -> bool:
        return self.release_at is None or (now or timezone.now()) >= self.release_at


class EventDivision(models.Model):
    """A bracket of an event (students, professionals...): each has a board of its own (``event_division``)."""

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="divisions")
    name = models.CharField(max_length=64, help_text="As players see it when they register.")
    sort_order = models.PositiveIntegerField(default=0, help_text="Position in the list.")

    class Meta:
        db_table = "event_division"
        ordering = ["sort_order", "id"]
        constraints = [models.UniqueConstraint(fields=["event", "name"], name="event_division_unique")]

    def __str__(self) -> str:
        return self.name


class EventAnnouncement(models.Model):
    """Something the organisers told every participant during an event (``event_announcement``)."""

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="announcements")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "event_announcement"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class EventRegistration(models.Model):
    """A signup: a user for themself, or a team leader for their team (``event_registration``)."""

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_registrations")
    team = models.ForeignKey(
        "teams.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="event_registrations"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "event_registration"
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="event_registration_user_unique"),
            models.UniqueConstraint(fields=["event", "team"], name="event_registration_team_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.team or self.user} @ {self.event}"


class EventParticipation(models.Model):
    """A row of the scoreboard: one user (individual events) or one team (``event_participation``).

    ``total_points``, ``challenges_completed``, ``last_solve_at`` and ``rank`` are kept current inside
    each solve's transaction; ``last_solve_at`` is when the participant reached its total (the tie-break).
    """

    class ParticipantType(models.TextChoices):
        USER = "user", "User"
        TEAM = "team", "Team"

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="participations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="event_participations"
    )
    team = models.ForeignKey(
        "teams.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="event_participations"
    )
    participant_type = models.CharField(max_length=8, choices=ParticipantType.choices)
    division = models.ForeignKey(
        EventDivision, null=True, blank=True, on_delete=models.PROTECT, related_name="participations"
    )
    total_points = models.IntegerField(default=0)
    challenges_completed = models.PositiveIntegerField(default=0)
    rank = models.PositiveIntegerField(null=True, blank=True)
    last_solve_at = models.DateTimeField(null=True, blank=True)
    registered_at = models.DateTimeField(auto_now_add=True)
    disqualified = models.BooleanField(default=False)
    disqualified_reason = models.CharField(max_length=500, blank=True, default="")
    disqualified_at = models.DateTimeField(null=True, blank=True)

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
        ACTIVE = "active", "Active"
        FINISHED = "finished", "Finished"

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="event_sessions")
    participation = models.ForeignKey(EventParticipation, on_delete=models.CASCADE, related_name="event_sessions")
    scenario_version = models.ForeignKey("scenarios.ScenarioVersion", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_sessions")
    environment_session = models.ForeignKey(
        "environments.EnvironmentSession", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mode = models.CharField(max_length=16, choices=EnvironmentMode.choices, default=EnvironmentMode.OWN)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    score = models.IntegerField(default=0)
    progress_pct = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    answers = models.JSONField(default=dict, blank=True)
    answers_hash = models.CharField(max_length=64, blank=True, default="")
    attempt_states = models.JSONField(
        default=dict, blank=True, help_text="Grading state of questions answered without a lab (attempts used)."
    )

    class Meta:
        db_table = "event_sessions"
        ordering = ["started_at"]
        constraints = [
            models.UniqueConstraint(fields=["participation", "scenario_version"], name="event_session_unique")
        ]

    def __str__(self) -> str:
        return f"{self.participation_id} on {self.scenario_version_id}"


class EventSolve(models.Model):
    """One accepted answer in an event: who, which question, when, and the points it earned."""

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="solves")
    participation = models.ForeignKey(EventParticipation, on_delete=models.CASCADE, related_name="solves")
    event_session = models.ForeignKey(EventSession, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    scenario_version = models.ForeignKey("scenarios.ScenarioVersion", on_delete=models.PROTECT, related_name="+")
    question_id = models.CharField(max_length=64)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    points = models.IntegerField(default=0)
    first_blood = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

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

    def __str__(self) -> str:
        return f"{self.participation_id} solved {self.question_id}"
