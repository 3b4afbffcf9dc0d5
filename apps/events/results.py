"""Reads for organisers: an event's full results, live and with everyone in them (the CSV export and
the printable results page are built from the same rows). Admins only; the views check."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Sum

from apps.events.models import Event, EventParticipation, EventScenario, EventSolve


def results_challenges(*, event: Event) -> list[EventScenario]:
    rows = EventScenario.objects.filter(event=event).select_related("scenario_version")
    return list(rows.order_by("sort_order", "id"))


def results_rows(*, event: Event) -> list[dict[str, Any]]:
    """Return every participant, the disqualified last: rank, members, points in total and per challenge.

    ``cells`` holds the points per challenge in the order of ``results_challenges``.
    """
    challenges = results_challenges(event=event)
    from apps.teams.models import TeamMember

    participations = list(
        EventParticipation.objects.filter(event=event)
        .select_related("user", "team", "division")
        .order_by("disqualified", "rank", "id")
    )
    per_challenge: dict[int, dict[Any, int]] = defaultdict(dict)
    sums = (
        EventSolve.objects.filter(event=event)
        .values("participation_id", "scenario_version_id")
        .annotate(points=Sum("points"))
    )
    for row in sums:
        per_challenge[row["participation_id"]][row["scenario_version_id"]] = int(row["points"] or 0)
    members: dict[Any, list] = defaultdict(list)
    team_ids = [p.team_id for p in participations if p.team_id]
    for member in (
        TeamMember.objects.filter(team_id__in=team_ids, joined_at__lte=event.end_date)
        .select_related("user")
        .order_by("joined_at", "id")
    ):
        members[member.team_id].append(member.user)
    rows = []
    for p in participations:
        people = members[p.team_id] if p.team_id else [p.user]
        rows.append(
            {
                "participation": p,
                "rank": p.rank,
                "name": p.display_name,
                "type": p.participant_type,
                "division": p.division.name if p.division else "",
                "members": people,
                "points": p.total_points,
                "completed": p.challenges_completed,
                "last_solve_at": p.last_solve_at,
                "disqualified": p.disqualified,
                "reason": p.disqualified_reason,
                "cells": [per_challenge[p.pk].get(c.scenario_version_id, 0) for c in challenges],
            }
        )
    return rows
