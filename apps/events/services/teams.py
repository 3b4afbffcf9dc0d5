"""What events ask of teams: a team registered in an event keeps to its rules when members join."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.events.models import EventParticipation
from rangex.core.errors import Conflict, LimitExceeded


def team_member_adding_check(*, team, user, members: int) -> None:
    """A ``teams.team_member_adding`` receiver: refuse a member the team's events would not allow.

    ``members`` is the team's size before the join; the caller holds the team's row lock. Events
    that have ended no longer bind the team.
    """
    playing = EventParticipation.objects.filter(team=team, event__end_date__gt=timezone.now()).select_related("event")
    for participation in playing:
        event = participation.event
        if event.max_team_size and members + 1 > event.max_team_size:
            raise LimitExceeded(
                _("%(name)s plays %(name2)s, where teams have at most %(max_team_size)s members.")
                % {"name": team.name, "name2": event.name, "max_team_size": event.max_team_size},
                limit="max_team_size",
            )
        elsewhere = (
            EventParticipation.objects.filter(event=event)
            .filter(models.Q(user=user) | models.Q(team__members__user=user))
            .exclude(pk=participation.pk)
        )
        if elsewhere.exists():
            raise Conflict(
                _("You already play %(name)s elsewhere, which %(name2)s plays too.")
                % {"name": event.name, "name2": team.name}
            )
