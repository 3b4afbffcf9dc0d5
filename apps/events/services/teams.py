"""What events ask of teams: a team registered in an event keeps to its rules when members join."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

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
                f"{team.name} plays {event.name}, where teams have at most {event.max_team_size} members.",
                limit="max_team_size",
            )
        elsewhere = (
            EventParticipation.objects.filter(event=event)
            .filter(models.Q(user=user) | models.Q(team__members__user=user))
            .exclude(pk=participation.pk)
        )
        if elsewhere.exists():
            raise Conflict(f"You already play {event.name} elsewhere, which {team.name} plays too.")
