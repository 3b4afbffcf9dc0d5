"""The signed-in learner's home: where to continue, the next path item, recent badges, streak and points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.badges.selectors import user_badges
from apps.environments.models import LIVE_STATUSES, EnvironmentSession
from apps.environments.progress import LearnerStats, learner_last_session, learner_stats
from apps.paths.selectors import career_path_list_for_user, progress_for_many

RECENT_BADGES = 3


@dataclass
class LearnerHome:
    last_session: EnvironmentSession | None
    last_is_live: bool
    next_path: Any  # (path, progress) of the path to continue, or None
    recent_badges: list
    stats: LearnerStats


def _path_to_continue(user):
    """Return ``(path, progress)`` of the started, unfinished public path furthest along, else the first unfinished."""
    paths = career_path_list_for_user(user=user).filter(is_public=True)
    paths = list(paths)
    by_pk = progress_for_many(user=user, containers=paths)
    rows = [(p, by_pk[p.pk]) for p in paths]
    unfinished = [(p, pr) for p, pr in rows if pr.total and not pr.is_complete]
    started = [row for row in unfinished if any(i.percent for i in row[1].items)]
    pool = started or unfinished
    return max(pool, key=lambda row: row[1].percent) if started else (pool[0] if pool else None)


def learner_home_get(*, user) -> LearnerHome:
    """Return what ``user``'s home page shows (a handful of queries, none per item)."""
    last = learner_last_session(user=user)
    return LearnerHome(
        last_session=last,
        last_is_live=last is not None and last.status in LIVE_STATUSES,
        next_path=_path_to_continue(user),
        recent_badges=list(user_badges(user=user)[:RECENT_BADGES]),
        stats=learner_stats(user=user),
    )
