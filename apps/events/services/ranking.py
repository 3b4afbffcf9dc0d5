"""Ranks: board order, incremental rank moves inside a solve, and the full recompute.

Board order: more points first, then whoever reached that total earlier, then whoever registered
first (an exact tie to the microsecond). Rank is 1 + the number ahead; everyone on zero points
shares the place after the last scorer.
"""

from __future__ import annotations

import logging

from django.db import connection
from django.db.models import F

from apps.events.models import (
    Event,
    EventParticipation,
    EventSession,
    EventSolve,
)
from apps.teams.models import Team

logger = logging.getLogger(__name__)


def apply_retroactive(event, version, question_id, participation, delta: int) -> None:
    """Lower every earlier solver of the question by ``delta``: the value now applies to all."""
    earlier = EventSolve.objects.filter(event=event, scenario_version=version, question_id=question_id).exclude(
        participation=participation
    )
    solver_ids = list(earlier.values_list("participation_id", flat=True))
    earlier.update(points=F("points") - delta)
    EventParticipation.objects.filter(pk__in=solver_ids).update(total_points=F("total_points") - delta)
    EventSession.objects.filter(participation_id__in=solver_ids, scenario_version=version).update(
        score=F("score") - delta
    )
    # A disqualified team's points already left its standing.
    counted = EventParticipation.objects.filter(pk__in=solver_ids, disqualified=False, team__isnull=False)
    Team.objects.filter(pk__in=counted.values("team_id")).update(event_points=F("event_points") - delta)


# Board order: more points first, then whoever reached that total earlier, then whoever registered
# first (an exact tie to the microsecond). Every participant with points has a place of its own;
# everyone on zero points shares the place after the last scorer. Rank is 1 + the number ahead.
#
# A solve only raises its participant, so only the participants it overtakes (strictly between its
# old place and its new one) move, each down one: one UPDATE over a range of the board index
# (event, disqualified, total_points DESC, last_solve_at), bounded by total_points so MariaDB walks
# and locks just that range. The riser's new rank is its old rank minus the rows that UPDATE
# matched, so no statement counts the board. From zero points the riser also leaves the shared
# place, so everyone still on zero moves down one too.
# (Counting everyone ahead instead costs a walk over the whole top of the board, 2-3 ms at 10,000
# participants; reading the rank of the participant right ahead makes MariaDB walk the index
# backwards from the bottom, slower still.)
BEHIND_NEW = """
  AND (total_points < %(new_total)s OR (total_points = %(new_total)s
       AND (last_solve_at > %(new_time)s OR (last_solve_at = %(new_time)s AND id > %(me)s))))"""

OVERTAKEN_SQL = (
    """
UPDATE event_participation SET `rank` = `rank` + 1
WHERE event_id = %(event)s AND disqualified = 0 AND id <> %(me)s
  AND total_points >= %(old_total)s AND total_points <= %(new_total)s
  AND (total_points > %(old_total)s OR (total_points = %(old_total)s
       AND (last_solve_at < %(old_time)s OR (last_solve_at = %(old_time)s AND id < %(me)s))))"""
    + BEHIND_NEW
)

FIRST_POINTS_SQL = (
    """
UPDATE event_participation SET `rank` = `rank` + 1
WHERE event_id = %(event)s AND disqualified = 0 AND id <> %(me)s
  AND total_points > 0 AND total_points <= %(new_total)s"""
    + BEHIND_NEW
)

ZERO_TIER_SQL = """
UPDATE event_participation SET `rank` = `rank` + 1
WHERE event_id = %(event)s AND disqualified = 0 AND id <> %(me)s AND total_points = 0
"""


def rank_after_gain(event: Event, participation: EventParticipation, old_total: int, old_time) -> bool:
    """Move ranks after ``participation`` rose from (old_total, old_time) to its current key.

    Returns False, changing nothing, for a row whose old place is unknown (no rank, or points
    without a time: only hand-edited rows): the caller then recomputes the board. The caller
    holds the event lock (every rank writer does) and saves the new rank with the new total.
    """
    old_rank = participation.rank
    if old_rank is None or (old_total != 0 and old_time is None):
        return False
    adapt = connection.ops.adapt_datetimefield_value
    params = {
        "event": event.pk.hex,
        "me": participation.pk,
        "old_total": old_total,
        "old_time": adapt(old_time),
        "new_total": participation.total_points,
        "new_time": adapt(participation.last_solve_at),
    }
    with connection.cursor() as cursor:
        if old_total == 0:
            cursor.execute(ZERO_TIER_SQL, params)
            cursor.execute(FIRST_POINTS_SQL, params)
        else:
            cursor.execute(OVERTAKEN_SQL, params)
        participation.rank = old_rank - cursor.rowcount
    return True


BOARD_RANKS = """
SELECT id, RANK() OVER (
    ORDER BY total_points DESC,
             CASE WHEN total_points > 0 THEN last_solve_at END ASC,
             CASE WHEN total_points > 0 THEN id END ASC
) AS r
FROM event_participation WHERE event_id = %s AND disqualified = 0
"""

# MariaDB updates through a join; SQLite (the embedded default) through UPDATE ... FROM.
RANK_SQL = {  # built from constants only
    "mysql": f"UPDATE event_participation p JOIN ({BOARD_RANKS}) ranked ON ranked.id = p.id SET p.`rank` = ranked.r",  # noqa: S608
    "sqlite": f'UPDATE event_participation SET "rank" = ranked.r FROM ({BOARD_RANKS}) AS ranked '  # noqa: S608
    "WHERE ranked.id = event_participation.id",
}


def rank_recompute(*, event: Event) -> None:
    """Recompute every rank of ``event`` in one statement (after retroactive scoring or a disqualification)."""
    with connection.cursor() as cursor:
        cursor.execute(RANK_SQL[connection.vendor], [event.pk.hex])
    EventParticipation.objects.filter(event=event, disqualified=True).update(rank=None)
