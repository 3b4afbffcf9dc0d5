"""Teams: profiles, members, join requests and team badges (``team``, ``team_member``, ...)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rangex.core.models import BaseModel, TimestampedModel

MAX_TEAM_SIZE = 50


class Team(BaseModel):
    """A group of solvers that plays team events together (``team``)."""

    name = models.CharField(_("name"), max_length=64, unique=True)
    description = models.TextField(_("description"), blank=True, default="")
    motto = models.CharField(_("motto"), max_length=200, blank=True, default="")
    country = models.CharField(
        _("country"), max_length=2, blank=True, default="", help_text=_("ISO 3166-1 alpha-2 code.")
    )
    avatar_url = models.CharField(_("avatar url"), max_length=500, blank=True, default="")
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_teams", verbose_name=_("owner user")
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="led_teams", verbose_name=_("leader")
    )
    max_members = models.PositiveSmallIntegerField(
        _("max members"), default=5, validators=[MinValueValidator(1), MaxValueValidator(MAX_TEAM_SIZE)]
    )
    open_team = models.BooleanField(
        _("open team"), default=False, help_text=_("Anyone may join at once, without approval.")
    )
    registrations_open = models.BooleanField(
        _("registrations open"), default=True, help_text=_("The team accepts join requests.")
    )
    event_points = models.IntegerField(_("event points"), default=0)

    class Meta:
        db_table = "team"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_members__gte=1, max_members__lte=MAX_TEAM_SIZE), name="team_max_members_range"
            )
        ]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("teams:detail", args=[self.pk])


class TeamMember(models.Model):
    """One member of a team (``team_member``)."""

    class Role(models.TextChoices):
        LEADER = "leader", _("Leader")
        MEMBER = "member", _("Member")

    id = models.BigAutoField(primary_key=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members", verbose_name=_("team"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)

    class Meta:
        db_table = "team_member"
        ordering = ["joined_at", "id"]
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="team_member_unique")]
        verbose_name = _("team member")
        verbose_name_plural = _("team members")

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


class TeamJoinRequest(TimestampedModel):
    """A request to join a closed team, decided by its leader (``team_join_request``)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        CANCELLED = "cancelled", _("Cancelled")

    TRANSITIONS = {
        Status.PENDING: {Status.APPROVED, Status.DECLINED, Status.CANCELLED},
        Status.APPROVED: set(),
        Status.DECLINED: set(),
        Status.CANCELLED: set(),
    }

    id = models.BigAutoField(primary_key=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="join_requests", verbose_name=_("team"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_join_requests", verbose_name=_("user")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    message = models.CharField(_("message"), max_length=500, blank=True, default="")
    response_message = models.CharField(_("response message"), max_length=500, blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        db_table = "team_join_request"
        ordering = ["-created_at"]
        verbose_name = _("team join request")
        verbose_name_plural = _("team join requests")

    def __str__(self) -> str:
        return f"{self.user} -> {self.team} ({self.status})"


class TeamBadge(models.Model):
    """A badge a team earned (``team_badge``)."""

    id = models.BigAutoField(primary_key=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="badges", verbose_name=_("team"))
    badge = models.ForeignKey(
        "badges.Badge", on_delete=models.CASCADE, related_name="team_awards", verbose_name=_("badge")
    )
    earned_at = models.DateTimeField(_("earned at"), auto_now_add=True)

    class Meta:
        db_table = "team_badge"
        ordering = ["-earned_at"]
        constraints = [models.UniqueConstraint(fields=["team", "badge"], name="team_badge_unique")]
        verbose_name = _("team badge")
        verbose_name_plural = _("team badges")

    def __str__(self) -> str:
        return f"{self.team}: {self.badge}"


class TeamInvitation(models.Model):
    """A link or code a team's leader hands out: whoever has it joins without a request (``team_invitation``).

    An invitation ends at ``expires_at``, when revoked, or after ``max_uses`` joins; the team's size
    limit holds whatever the invitation says.
    """

    id = models.BigAutoField(primary_key=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("team"))
    code = models.CharField(_("code"), max_length=32, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="team_invitations_made",
        verbose_name=_("created by"),
    )
    expires_at = models.DateTimeField(_("expires at"))
    max_uses = models.PositiveSmallIntegerField(_("max uses"), null=True, blank=True)
    uses = models.PositiveSmallIntegerField(_("uses"), default=0)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "team_invitation"
        ordering = ["-created_at", "-id"]
        verbose_name = _("team invitation")
        verbose_name_plural = _("team invitations")

    def __str__(self) -> str:
        return gettext("Invitation to %(team)s (%(code)s…)") % {"team": self.team_id, "code": self.code[:4]}

    def is_usable(self, now) -> bool:
        return (
            self.revoked_at is None and now < self.expires_at and (self.max_uses is None or self.uses < self.max_uses)
        )
