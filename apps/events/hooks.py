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
