"""Every state change of an event, one module per stage.

- ``admin``: the event row, its challenges and divisions, pause and visibility, as organisers edit them;
- ``registration``: registering alone or as a team, and withdrawing;
- ``play``: event labs, answers, hints and solves (serialised per event by a lock on its row);
- ``ranking``: board order and rank maintenance inside a solve;
- ``discipline``: disqualification and reinstatement, and what happens when an event ends;
- ``announcements``: what organisers tell the participants;
- ``labs``: event labs stop when the event ends, with a warning before;
- ``prewarm``: warm-pool windows for the event's start, sized from who registered;
- ``scoreboard``: pushing the board to open pages, verifying answer chains.
"""

from apps.events.services.admin import (
    event_challenges_save,
    event_delete,
    event_divisions_save,
    event_save,
    event_set_paused,
    event_set_public,
    team_has_event_results,
)
from apps.events.services.announcements import announcement_group, event_announce
from apps.events.services.discipline import events_award_finished, participation_disqualify, participation_reinstate
from apps.events.services.labs import event_labs_follow, event_labs_stop_ended, event_labs_warn
from apps.events.services.play import (
    event_lab_answer,
    event_lab_answer_accepted,
    event_session_start,
    event_submit_answer,
    event_take_hint,
    participation_for,
)
from apps.events.services.prewarm import event_expected_players, event_prewarm, event_prewarm_plan
from apps.events.services.ranking import rank_recompute
from apps.events.services.registration import event_register, event_withdraw
from apps.events.services.scoreboard import event_session_verify, scoreboard_publish, scoreboard_push
from apps.events.services.teams import team_member_adding_check

__all__ = [
    "announcement_group",
    "event_announce",
    "event_challenges_save",
    "event_delete",
    "event_divisions_save",
    "event_expected_players",
    "event_lab_answer",
    "event_lab_answer_accepted",
    "event_labs_follow",
    "event_labs_stop_ended",
    "event_labs_warn",
    "event_prewarm",
    "event_prewarm_plan",
    "event_register",
    "event_save",
    "event_session_start",
    "event_session_verify",
    "event_set_paused",
    "event_set_public",
    "event_submit_answer",
    "event_take_hint",
    "event_withdraw",
    "events_award_finished",
    "participation_disqualify",
    "participation_for",
    "participation_reinstate",
    "rank_recompute",
    "scoreboard_publish",
    "scoreboard_push",
    "team_has_event_results",
    "team_member_adding_check",
]
