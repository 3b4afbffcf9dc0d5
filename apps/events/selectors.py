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
from django.utils.translation import gettext as _

from apps.environments.models import EnvironmentSession, FlagShareSuspicion
from apps.events.models import (
    Event,
    EventAnnouncement,
    EventDivision,
    EventParticipation,
    EventScenario,
    EventSession,
    EventSolve,
)
from rangex.core.errors import NotFound
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
    return get_one(event_list_visible(user=user), _("No such event."), pk=pk)


def event_challenges(*, event: Event, released_only: bool = False) -> QuerySet[EventScenario]:
    """Return the event's challenges in board order; with ``released_only`` those players may see now."""
    qs = EventScenario.objects.filter(event=event).select_related("scenario_version").order_by("sort_order", "id")
    if released_only:
        qs = qs.filter(models.Q(release_at__isnull=True) | models.Q(release_at__lte=timezone.now()))
    return qs


def event_next_release(*, event: Event):
    """Return when the next challenge is released, or None."""
    return (
        EventScenario.objects.filter(event=event, release_at__gt=timezone.now())
        .order_by("release_at")
        .values_list("release_at", flat=True)
        .first()
    )


def event_divisions(*, event: Event) -> QuerySet[EventDivision]:
    return EventDivision.objects.filter(event=event).order_by("sort_order", "id")


def event_division_get(*, event: Event, raw) -> EventDivision | None:
    """Return the division named by ``raw`` (an id from a URL), None for none; a bad id is a 404."""
    if raw in (None, ""):
        return None
    found = event_divisions(event=event).filter(pk=raw).first() if str(raw).isdigit() else None
    if found is None:
        raise NotFound(_("This event has no such division."))
    return found


def event_announcements(*, event: Event, limit: int | None = None) -> QuerySet[EventAnnouncement]:
    qs = EventAnnouncement.objects.filter(event=event).order_by("-created_at", "-id")
    return qs[:limit] if limit else qs


def event_sessions_of(*, participation: EventParticipation | None) -> dict[Any, EventSession]:
    if participation is None:
        return {}
    return {s.scenario_version_id: s for s in EventSession.objects.filter(participation=participation)}


def event_history_for_team(*, team) -> list[dict[str, Any]]:
    """Return the team's events with the rank and points the public may see (frozen during a freeze)."""
    rows = EventParticipation.objects.filter(team=team).select_related("event").order_by("-event__start_date")[:50]
    history = []
    for participation in rows:
        standing = standing_of(event=participation.event, participation=participation)
        history.append({"event": participation.event, **standing})
    return history


def suspicions_for_event(*, event: Event) -> list[dict[str, Any]]:
    """Return suspected flag sharing inside ``event``: who typed whose flag, with both participants by name.

    The submitter is the member who typed the flag (in a shared team lab, not the lab's owner);
    ``submitter_participation`` is the board row an organiser may disqualify.
    """
    from apps.teams.models import Team

    session_ids = EnvironmentSession.objects.filter(event_id=event.pk).values("pk")
    rows = list(
        FlagShareSuspicion.objects.filter(session_id__in=session_ids)
        .select_related("session__user", "owner_session__user", "submitted_by")
        .order_by("-created_at")[:500]
    )
    team_ids = {r.session.team_id for r in rows} | {r.owner_session.team_id for r in rows}
    team_names = dict(Team.objects.filter(pk__in=[t for t in team_ids if t]).values_list("pk", "name"))
    board_rows = {}
    for p in EventParticipation.objects.filter(event=event).select_related("user", "team"):
        board_rows[("team", p.team_id) if p.team_id else ("user", p.user_id)] = p

    def row_of(session, user):
        if session.team_id:
            return board_rows.get(("team", session.team_id))
        return board_rows.get(("user", user.pk if user else None))

    result = []
    for r in rows:
        submitter = r.submitted_by or r.session.user
        result.append(
            {
                "id": r.pk,
                "question_id": r.question_id,
                "created_at": r.created_at,
                "submitter": submitter,
                "owner": r.owner_session.user,
                "submitter_team": team_names.get(r.session.team_id),
                "owner_team": team_names.get(r.owner_session.team_id),
                "submitter_participation": row_of(r.session, submitter),
            }
        )
    return result


# --- Scoreboard ---------------------------------------------------------------------------------
#
# Boards are cached per generation. A solve bumps the live generation; the frozen generation moves
# only with what can change the frozen board (registrations, disqualifications, edits, solves
# before the freeze), so during a freeze the frozen board is built once, not once per solve.


def scoreboard_group(event_id, *, admin: bool, division_id=None) -> str:
    suffix = f"-d{division_id}" if division_id else ""
    return f"event-{event_id}-scoreboard{'-admin' if admin else ''}{suffix}"


def _generation_key(event_id, frozen: bool = False) -> str:
    return f"events:board-gen:{event_id}{':frozen' if frozen else ''}"


def scoreboard_invalidate(*, event_id, frozen_too: bool = True) -> None:
    # A fresh token, not a counter: one SET, where the cache API's incr costs two round trips.
    if frozen_too:
        cache.set_many({_generation_key(event_id): uuid.uuid4().hex, _generation_key(event_id, True): uuid.uuid4().hex})
    else:
        cache.set(_generation_key(event_id), uuid.uuid4().hex, None)


def board_cached(event: Event, kind: str, build, *, frozen: bool = False, valid=None):
    """Return ``build()`` cached for the board's generation; ``valid(value)`` False rebuilds it too."""
    generation = cache.get_or_set(_generation_key(event.pk, frozen), 1, None)
    key = f"events:board:{event.pk}:{generation}:{'F' if frozen else 'L'}:{kind}"
    value = cache.get(key)
    if value is None or (valid is not None and not valid(value)):
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
    "division_id",
    "user__display_name",
    "team__name",
)


def _rank_rows(rows: list[dict[str, Any]]) -> None:
    """Give rows in board order their places: one each for the scorers, one shared by everyone on zero."""
    scorers = 0
    for row in rows:
        if row["points"] > 0:
            scorers += 1
            row["rank"] = scorers
        else:
            row["rank"] = scorers + 1


def _row(event: Event, p: dict[str, Any], points: int, last) -> dict[str, Any]:
    return {
        "id": p["id"],
        "rank": p.get("rank"),
        "name": _name(p),
        "team_id": str(p["team_id"]) if p["team_id"] else None,
        "division_id": p["division_id"],
        "points": points,
        "completed": p.get("challenges_completed"),
        "last_solve_at": last.isoformat() if last else None,
        "last_solve_label": f"{event.local(last):%Y-%m-%d %H:%M:%S}" if last else None,
    }


def _live_rows(event: Event, limit: int | None, division_id=None) -> list[dict[str, Any]]:
    # Board order is rank order (see services.OVERTAKEN_SQL); the board index walks it.
    qs = EventParticipation.objects.filter(event=event, disqualified=False)
    if division_id:
        qs = qs.filter(division_id=division_id)
    qs = qs.order_by("-total_points", "last_solve_at", "id").values(*ROW_FIELDS)
    if limit:
        qs = qs[:limit]
    rows = [_row(event, r, r["total_points"], r["last_solve_at"]) for r in qs]
    if division_id:
        _rank_rows(rows)  # places within the division
    return rows


def _frozen_rows(event: Event, limit: int | None, division_id=None) -> list[dict[str, Any]]:
    """Rebuild the board as it stood at the freeze, from the solves before it."""
    totals = {
        t["participation_id"]: t
        for t in EventSolve.objects.filter(
            event=event, created_at__lt=event.freeze_at, participation__disqualified=False
        )
        .values("participation_id")
        .annotate(points=Sum("points"), last=Max("created_at"))
    }
    people = EventParticipation.objects.filter(event=event, disqualified=False)
    if division_id:
        people = people.filter(division_id=division_id)
    rows = []
    for p in people.values(*ROW_FIELDS):
        t = totals.get(p["id"]) or {}
        points = int(t.get("points") or 0)
        row = _row(event, {**p, "challenges_completed": None}, points, t.get("last") if points > 0 else None)
        row["_last"] = row["last_solve_at"] or "9999"
        rows.append(row)
    rows.sort(key=lambda r: (-r["points"], r["_last"], r["id"]))
    for row in rows:
        del row["_last"]
    _rank_rows(rows)
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


def _build(event: Event, *, frozen: bool, limit: int | None, division_id=None, admin: bool) -> dict[str, Any]:
    rows = _frozen_rows(event, limit, division_id) if frozen else _live_rows(event, limit, division_id)
    next_change = event.next_change_at()
    return {
        "event": str(event.pk),
        "name": event.name,
        "frozen": frozen,
        # An admin's board during the freeze is the live one; the page says so.
        "admin_live": admin,
        "freeze_at": event.freeze_at.isoformat() if event.freeze_at else None,
        "freeze_label": event.local_label(event.freeze_at) if event.freeze_at else None,
        "next_change_at": next_change.isoformat() if next_change else None,
        "paused": event.is_paused,
        "division": division_id,
        "scoring": event.scoring_mode,
        "retroactive": event.dynamic_retroactive,
        "generated_at": timezone.now().isoformat(),
        "rows": rows,
        "chart": _chart(event, rows, until=event.freeze_at if frozen else None),
    }


def scoreboard(*, event: Event, admin: bool, limit: int | None = PAGE_ROWS, division_id=None) -> dict[str, Any]:
    """Return the board a viewer sees: admins the live one, everyone else the frozen one during the freeze.

    With ``division_id`` the board of one division, ranked within it.
    """
    freeze_on = event.is_frozen()
    frozen = freeze_on and not admin
    # Outside a freeze admins and the public see the same board, built once.
    view = ("admin-live" if admin else "frozen") if freeze_on else "live"
    kind = f"{view}:{limit or 'all'}:{division_id or ''}:{event.phase()}"
    return board_cached(
        event,
        kind,
        lambda: _build(event, frozen=frozen, limit=limit, division_id=division_id, admin=admin and freeze_on),
        frozen=frozen,
    )


def standing_of(*, event: Event, participation: EventParticipation, admin: bool = False) -> dict[str, Any]:
    """Return the rank and points of ``participation`` as the viewer may see them.

    During a freeze everyone but admins gets the frozen standing, the one the public board shows
    (participants learn no live rank from a page, an answer or a team page).
    """
    if participation.disqualified:
        return {"rank": None, "points": participation.total_points, "frozen": False, "disqualified": True}
    if admin or not event.is_frozen():
        return {"rank": participation.rank, "points": participation.total_points, "frozen": False,
                "disqualified": False}  # fmt: skip
    rows = scoreboard(event=event, admin=False, limit=None)["rows"]
    row = next((r for r in rows if r["id"] == participation.pk), None)
    return {
        "rank": row["rank"] if row else None,
        "points": row["points"] if row else 0,
        "frozen": True,
        "disqualified": False,
    }


def team_points_hidden(*, team_ids) -> dict[Any, int]:
    """A ``teams.team_points_hidden`` receiver: the points each team scored after a freeze still in force."""
    now = timezone.now()
    rows = (
        EventSolve.objects.filter(
            participation__team_id__in=list(team_ids),
            participation__disqualified=False,
            event__freeze_at__isnull=False,
            event__freeze_at__lte=now,
            event__end_date__gt=now,
            created_at__gte=models.F("event__freeze_at"),
        )
        .values("participation__team_id")
        .annotate(points=Sum("points"))
    )
    return {r["participation__team_id"]: int(r["points"] or 0) for r in rows}


def task_name(version, question_id: str) -> str:
    """Return the name of one question in CTFtime's feed: "<challenge title>/<question id>"."""
    return f"{version.title}/{question_id}"


def ctftime_feed_json(*, event: Event, division_id=None) -> bytes:
    """Return the CTFtime feed as JSON bytes, serialised once per board change."""
    import json

    frozen = event.is_frozen()
    released = len(_released_tasks(event))
    return board_cached(
        event,
        f"ctftime-json:{division_id or ''}:{event.phase()}:{released}",
        lambda: json.dumps(ctftime_feed(event=event, division_id=division_id)).encode(),
        frozen=frozen,
    )


def _released_tasks(event: Event) -> list[tuple[Any, str, str]]:
    """Return (version id, question id, task name) of every released question, in board order.

    Cached until the board changes or the next challenge is released, whichever comes first.
    """

    def build():
        now = timezone.now()
        rows = list(event_challenges(event=event))
        pending = [row.release_at for row in rows if not row.is_released(now)]
        tasks = [
            (row.scenario_version_id, q.get("id"), task_name(row.scenario_version, q.get("id")))
            for row in rows
            if row.is_released(now)
            for q in row.scenario_version.questions or []
        ]
        return {"tasks": tasks, "until": min(pending) if pending else None}

    value = board_cached(event, "tasks", build, valid=lambda v: v["until"] is None or timezone.now() < v["until"])
    return value["tasks"]


# The accepted answers of an event for the feed's taskStats: one row per solve, so it reads them in
# plain SQL with the time as whole seconds (the column is UTC), without building a datetime and a
# UUID for each of 100,000 rows.
TASK_STATS_EPOCH = {
    "mysql": "TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', s.created_at)",
    "sqlite": "CAST(strftime('%%s', s.created_at) AS INTEGER)",
}
TASK_STATS_SQL = """
SELECT s.participation_id, s.scenario_version_id, s.question_id, s.points, {epoch}
FROM event_solve s JOIN event_participation p ON p.id = s.participation_id
WHERE s.event_id = %s AND p.disqualified = 0{until}
"""


def _task_stats(event: Event, names: dict, until=None) -> dict[int, dict[str, dict[str, int]]]:
    from django.db import connection

    sql = TASK_STATS_SQL.format(
        epoch=TASK_STATS_EPOCH[connection.vendor], until=" AND s.created_at < %s" if until else ""
    )
    params = [event.pk.hex]
    if until:
        params.append(connection.ops.adapt_datetimefield_value(until))
    stats: dict[int, dict[str, dict[str, int]]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for participation_id, version_hex, question_id, points, epoch in cursor.fetchall():
            name = names.get((version_hex, question_id))
            if name is not None:
                stats[participation_id][name] = {"points": points, "time": int(epoch)}
    return stats


def ctftime_feed(*, event: Event, division_id=None) -> dict[str, Any]:
    """Return the public standings in CTFtime's scoreboard feed format (tasks, and per team taskStats).

    ``lastAccept`` is the time of the team's last accepted answer as a Unix time, 0 for a team
    without one; during a freeze both come from the solves before it.
    """
    frozen = event.is_frozen()
    board = scoreboard(event=event, admin=False, limit=None, division_id=division_id)
    tasks = _released_tasks(event)
    # The driver gives a version id as the column stores it: hex (SQLite) or with dashes (MariaDB's UUID).
    names = {}
    for version_id, question_id, name in tasks:
        version = uuid.UUID(str(version_id))
        names[(version.hex, question_id)] = names[(str(version), question_id)] = name
    stats = _task_stats(event, names, until=event.freeze_at if frozen else None)
    return {
        "tasks": [name for _, _, name in tasks],
        "standings": [
            {
                "pos": r["rank"],
                "team": r["name"],
                "score": r["points"],
                "taskStats": stats.get(r["id"], {}),
                "lastAccept": _epoch(r["last_solve_at"]),
            }
            for r in board["rows"]
        ],
    }


def _epoch(value: str | None) -> int:
    if not value:
        return 0
    from datetime import datetime

    return int(datetime.fromisoformat(value).timestamp())


def _played_by(user, event_end) -> models.Q:
    """Rows ``user`` played: their own, or their team's if they joined it before the event ended.

    Someone who joins a team after an event did not play it and earns none of its badges.
    """
    return models.Q(user=user) | models.Q(team__members__user=user, team__members__joined_at__lte=event_end)


def event_rank_of(*, event_id, user) -> int | None:
    """Return ``user``'s final rank in a finished event (alone or through a team), else None.

    Only participants who scored hold a rank here: everyone on zero points shares the last place,
    which wins nothing.
    """
    event = Event.objects.filter(pk=event_id).only("end_date").first()
    if event is None or event.end_date > timezone.now():
        return None
    return (
        EventParticipation.objects.filter(event_id=event_id, disqualified=False, rank__isnull=False, total_points__gt=0)
        .filter(_played_by(user, event.end_date))
        .order_by("rank")
        .values_list("rank", flat=True)
        .first()
    )


def event_first_blood_user_ids(*, event_id) -> set:
    """Return the ids of the users who solved a question of the event first.

    Disqualified participants do not count: the first solve by a participant still on the board
    takes first blood. During a freeze only the solves before it count, as on the board.
    """
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        return set()
    solves = EventSolve.objects.filter(event=event, participation__disqualified=False, user__isnull=False)
    if event.is_frozen():
        solves = solves.filter(created_at__lt=event.freeze_at)
    first: dict[tuple, Any] = {}
    for version_id, question_id, user_id in solves.order_by("created_at", "id").values_list(
        "scenario_version_id", "question_id", "user_id"
    ):
        first.setdefault((version_id, question_id), user_id)
    return set(first.values())


def event_finisher_met(*, event_id, user) -> bool:
    """Return True when ``user``'s row (or team) of a finished event solved every challenge of it."""
    event = Event.objects.filter(pk=event_id).first()
    if event is None or event.end_date > timezone.now():
        return False
    challenges = EventScenario.objects.filter(event=event).count()
    return (
        challenges > 0
        and EventParticipation.objects.filter(event=event, disqualified=False, challenges_completed__gte=challenges)
        .filter(_played_by(user, event.end_date))
        .exists()
    )


def event_participant_user_ids(*, event: Event) -> set:
    """Return everyone who played ``event``: solo players and the members of its teams (joined before the end)."""
    user_ids = set(EventParticipation.objects.filter(event=event, user__isnull=False).values_list("user_id", flat=True))
    user_ids |= set(
        EventParticipation.objects.filter(
            event=event, team__isnull=False, team__members__joined_at__lte=event.end_date
        ).values_list("team__members__user_id", flat=True)
    )
    user_ids.discard(None)
    return user_ids


def organiser_watches_lab(*, user, session) -> bool:
    """Let the organiser of an event (who created it) watch its labs' desktops view-only."""
    if session.event_id is None:
        return False
    return Event.objects.filter(pk=session.event_id, created_by_user=user).exists()


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
