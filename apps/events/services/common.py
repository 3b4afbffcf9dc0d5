"""Helpers the event services share."""

from __future__ import annotations

import logging

from apps.events.models import (
    Event,
)

logger = logging.getLogger(__name__)


def event_locked(event: Event) -> Event:
    return Event.objects.select_for_update().get(pk=event.pk)


def participant_users(participation) -> list:
    """Return the people behind a board row: its player, or its team's members."""
    if participation.team_id:
        from apps.teams.models import TeamMember

        return [m.user for m in TeamMember.objects.filter(team_id=participation.team_id).select_related("user")]
    return [participation.user]
