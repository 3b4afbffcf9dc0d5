"""Reads of events: lists, the challenge board, and the cached scoreboard.

The scoreboard is read from the cache; a solve bumps the board's generation on commit, so a
board is built once per change (two queries, whatever the number of participants) and then
served from the cache to every viewer until the next solve.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from django.core.cache import cache
from django.db import models
from django.db.models import Max, QuerySet, Sum
from django.utils import timezone

from apps.environments.models import EnvironmentSession, FlagShareSuspicion
from apps.events.models import Event, EventParticipation, EventScenario, EventSession, EventSolve
from rangex.core.selectors import get_one

BOARD_TTL = 300
PAGE_ROWS = 100
CHART_TOP = 10


def event_list_visible(*, user) -> QuerySet[Event]:
    qs = Event.objects.all()
    if not getattr(user, "is_platform_admin", False):
        qs = qs.filter(is_public=True)
    return qs.order_by("start_date")


def events_by_phase(*, user) -> dict[str, list[Event]]:
    now = timezone.now()
    phases: dict[str, list[Event]] = {"live": [], "upcoming": [], "past": []}
    for event in event_list_visible(user=user)[:500]:
        phases[event.phase(now)].append(event)
    phases["past"].reverse()
    return phases


def event_get_for_user(*, user, pk) -> Event:
    return get_one(event_list_visible(user=user), "No such event.", pk=pk)


def event_challenges(*, event: Event) -> QuerySet[EventScenario]:
    return EventScenario.objects.filter(event=event).select_related("scenario_version").order_by("sort_order", "id")


def event_sessions_of(*, participation: EventParticipation | None) -> dict[Any, EventSession]:
    if participation is None:
        return {}
    return {s.scenario_version_id: s for s in EventSession.objects.filter(participation=participation)}


def event_history_for_team(*, team) -> QuerySet[EventParticipation]:
    return EventParticipation.objects.filter(team=team).select_related("event").order_by("-event__start_date")[:50]


def suspicions_for_event(*, event: Event) -> list[dict[str, Any]]:
    """Return suspected flag sharing inside ``event``: who used whose flag, with both participants."""
    session_ids = EnvironmentSession.objects.filter(event_id=event.pk).values("pk")
    rows = (
        FlagShareSuspicion.objects.filter(session_id__in=session_ids)
        .select_related("session__user", "owner_session__user")
        .order_by("-created_at")[:500]
    )
    return [
        {
            "id": r.pk,
            "question_id": r.question_id,
            "created_at": r.created_at,
            "submitter": r.session.user,
            "owner": r.owner_session.user,
            "submitter_team_id": r.session.team_id,
            "owner_team_id": r.owner_session.team_id,
        }
        for r in rows
    ]


# --- Scoreboard ---------------------------------------------------------------------------------


def scoreboard_group(event_id, *, admin: bool) -> str:
    return f"event-{event_id}-scoreboard{'-admin' if admin else ''}"


def _generation_key(event_id) -> str:
    return f"events:board-gen:{event_id}"


def scoreboard_invalidate(*, event_id) -> None:
    # A fresh token, not a counter: one SET, where the cache API's incr costs two round trips.
    cache.set(_generation_key(event_id), uuid.uuid4().hex, None)


def _cached(event: Event, kind: str, build):
    generation = cache.get_or_set(_generation_key(event.pk), 1, None)
    key = f"events:board:{event.pk}:{generation}:{kind}"
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, BOARD_TTL)
    return value


def _name(row: dict[str, Any]) -> str:
    return row.get("team__name") or row.get("user__display_name") or f"user-{str(row.get('user_id'))[:8]}"


ROW_FIELDS = (
    "id",
    "rank",
    "total_points",
    "challenges_completed",
    "last_solve_at",
    "user_id",
    "team_id",
    "user__display_name",
    "team__name",
)


def _live_rows(event: Event, limit: int | None) -> list[dict[str, Any]]:
    # Board order is rank order (see services.OVERTAKEN_SQL); the board index walks it.
    qs = (
        EventParticipation.objects.filter(event=event, disqualified=False)
        .order_by("-total_points", "last_solve_at", "id")
        .values(*ROW_FIELDS)
    )
    if limit:
        qs = qs[:limit]
    return [
        {
            "id": r["id"],
            "rank": r["rank"],
            "name": _name(r),
            "team_id": str(r["team_id"]) if r["team_id"] else None,
            "points": r["total_points"],
            "completed": r["challenges_completed"],
            "last_solve_at": r["last_solve_at"].isoformat() if r["last_solve_at"] else None,
        }
        for r in qs
    ]


def _frozen_rows(event: Event, limit: int | None) -> list[dict[str, Any]]:
    """Rebuild the board as it stood at the freeze, from the solves before it."""
    totals = {
        t["participation_id"]: t
        for t in EventSolve.objects.filter(
            event=event, created_at__lt=event.freeze_at, participation__disqualified=False
        )
        .values("participation_id")
        .annotate(points=Sum("points"), last=Max("created_at"))
    }
    people = EventParticipation.objects.filter(event=event, disqualified=False).values(*ROW_FIELDS)
    rows = []
    for p in people:
        t = totals.get(p["id"]) or {}
        points = int(t.get("points") or 0)
        last = t.get("last") if points > 0 else None
        rows.append(
            {
                "id": p["id"],
                "name": _name(p),
                "team_id": str(p["team_id"]) if p["team_id"] else None,
                "points": points,
                "completed": None,
                "last_solve_at": last,
            }
        )
    far = timezone.now().replace(year=9999)
    rows.sort(key=lambda r: (-r["points"], r["last_solve_at"] or far, r["id"]))
    # As the live board: a place each for the scorers, one shared place for everyone on zero.
    scorers = 0
    for row in rows:
        if row["points"] > 0:
            scorers += 1
            row["rank"] = scorers
        else:
            row["rank"] = scorers + 1
        row["last_solve_at"] = row["last_solve_at"].isoformat() if row["last_solve_at"] else None
    return rows[:limit] if limit else rows


def _chart(event: Event, rows: list[dict[str, Any]], until=None) -> list[dict[str, Any]]:
    """Return the score-over-time series of the top rows: cumulative points at each solve."""
    top = rows[:CHART_TOP]
    ids = [r["id"] for r in top]
    solves = EventSolve.objects.filter(participation_id__in=ids).order_by("created_at", "id")
    if until is not None:
        solves = solves.filter(created_at__lt=until)
    points: dict[int, list[dict[str, Any]]] = defaultdict(list)
    totals: dict[int, int] = defaultdict(int)
    for s in solves.values("participation_id", "created_at", "points"):
        totals[s["participation_id"]] += s["points"]
        points[s["participation_id"]].append({"x": s["created_at"].isoformat(), "y": totals[s["participation_id"]]})
    return [{"label": r["name"], "data": [{"x": event.start_date.isoformat(), "y": 0}, *points[r["id"]]]} for r in top]


def _build(event: Event, *, frozen: bool, limit: int | None) -> dict[str, Any]:
    rows = _frozen_rows(event, limit) if frozen else _live_rows(event, limit)
    return {
        "event": str(event.pk),
        "name": event.name,
        "frozen": frozen,
        "freeze_at": event.freeze_at.isoformat() if event.freeze_at else None,
        "scoring": event.scoring_mode,
        "retroactive": event.dynamic_retroactive,
        "generated_at": timezone.now().isoformat(),
        "rows": rows,
        "chart": _chart(event, rows, until=event.freeze_at if frozen else None),
    }


def scoreboard(*, event: Event, admin: bool, limit: int | None = PAGE_ROWS) -> dict[str, Any]:
    """Return the board a viewer sees: admins the live one, everyone else the frozen one after the freeze."""
    frozen = event.is_frozen() and not admin
    kind = f"{'frozen' if frozen else 'live'}:{limit or 'all'}"
    return _cached(event, kind, lambda: _build(event, frozen=frozen, limit=limit))


def ctftime_feed_json(*, event: Event) -> bytes:
    """Return the CTFtime feed as JSON bytes, serialised once per board change."""
    import json

    return _cached(event, "ctftime-json", lambda: json.dumps(ctftime_feed(event=event)).encode())


def ctftime_feed(*, event: Event) -> dict[str, Any]:
    """Return the full public standings in CTFtime's scoreboard feed format."""
    board = scoreboard(event=event, admin=False, limit=None)

    def tasks():
        return [
            f"{row.scenario_version.title}/{q.get('id')}"
            for row in event_challenges(event=event)
            for q in row.scenario_version.questions or []
        ]

    return {
        "tasks": _cached(event, "tasks", tasks),
        "standings": [
            {"pos": r["rank"], "team": r["name"], "score": r["points"], "lastAccept": _epoch(r["last_solve_at"])}
            for r in board["rows"]
        ],
    }


def _epoch(value: str | None) -> int | None:
    if not value:
        return None
    from datetime import datetime

    return int(datetime.fromisoformat(value).timestamp())


def event_rank_of(*, event_id, user) -> int | None:
    """Return ``user``'s final rank in a finished event (alone or through a team), else None."""
    event = Event.objects.filter(pk=event_id).only("end_date").first()
    if event is None or event.end_date > timezone.now():
        return None
    row = (
        EventParticipation.objects.filter(event_id=event_id, disqualified=False, rank__isnull=False)
        .filter(models.Q(user=user) | models.Q(team__members__user=user))
        .order_by("rank")
        .values_list("rank", flat=True)
        .first()
    )
    return row


def event_first_blood_user_ids(*, event_id) -> set:
    """Return the ids of the users who solved a question of the event first."""
    return set(
        EventSolve.objects.filter(event_id=event_id, first_blood=True, user__isnull=False).values_list(
            "user_id", flat=True
        )
    )


def teammate_in_shared_lab(*, user, session) -> bool:
    """Let every member of a team into the lab the team shares in an event (not into own labs)."""
    if session.team_id is None or session.event_id is None:
        return False
    from apps.events.models import EnvironmentMode
    from apps.teams.models import TeamMember

    return (
        EventSession.objects.filter(environment_session=session, mode=EnvironmentMode.SHARED).exists()
        and TeamMember.objects.filter(team_id=session.team_id, user=user).exists()
    )
