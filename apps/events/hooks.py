"""Extension points of the events app; higher apps register receivers in their ``ready()``."""

from rangex.core.hooks import Hook

first_blood = Hook(
    "events.first_blood",
    "Receivers ``(*, user_id) -> None`` run after the commit of an event solve that took first blood.",
)

event_finished = Hook(
    "events.event_finished",
    "Receivers ``(*, event, user_ids) -> int`` run for an event that ended (periodically, so they must be "
    "idempotent) and return how many awards they made (badges gives personal and team badges).",
)

standings_changed = Hook(
    "events.standings_changed",
    "Receivers ``(*, event) -> None`` run after the commit of a change of who stands where other than a solve "
    "(a disqualification, a reinstatement); badges recompute the event's badges. A failing receiver is logged.",
)

event_badges_current = Hook(
    "events.event_badges_current",
    "Receivers ``(*, event) -> dict`` return the event's badges as the event form shows them: "
    "``{'first_blood': bool, 'top_n': int | None, 'finisher': bool}`` (badges).",
)

event_badges_save = Hook(
    "events.event_badges_save",
    "Receivers ``(*, event, actor, first_blood: bool, top_n: int | None, finisher: bool) -> None`` set up "
    "the event's badges as the organiser chose on the event form (badges).",
)
