"""Every state change of an event, one module per stage.

- ``admin``: the event row and its challenges, as organisers edit them;
- ``registration``: registering alone or as a team;
- ``play``: event labs, answers and solves (serialised per event by a lock on its row);
- ``ranking``: board order and rank maintenance inside a solve;
- ``discipline``: disqualification, and what happens when an event ends;
- ``scoreboard``: pushing the board to open pages, verifying answer chains.
"""

from apps.events.services.admin import event_challenges_save, event_delete, event_save, team_has_event_results
from apps.events.services.discipline import events_award_finished, participation_disqualify
from apps.events.services.play import event_session_start, event_submit_answer, participation_for
from apps.events.services.ranking import rank_recompute
from apps.events.services.registration import event_register
from apps.events.services.scoreboard import event_session_verify, scoreboard_publish, scoreboard_push

__all__ = [
    "event_challenges_save",
    "event_delete",
    "event_register",
    "event_save",
    "event_session_start",
    "event_session_verify",
    "event_submit_answer",
    "events_award_finished",
    "participation_disqualify",
    "participation_for",
    "rank_recompute",
    "scoreboard_publish",
    "scoreboard_push",
    "team_has_event_results",
]
