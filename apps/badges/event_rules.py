"""The one place badges read the events app, which is written separately and may not exist yet.

Contract with ``apps.events`` (all optional; a missing piece means "not met" / "unknown event"):
- a model ``events.Event`` whose primary key is the ``event_id`` stored on a requirement;
- ``apps.events.selectors.event_rank_of(*, event_id, user) -> int | None``: the user's final rank
  (1 = winner) once the event has finished, else None;
- ``apps.events.selectors.event_first_blood_user_ids(*, event_id) -> set``: the ids of the users
  who solved some challenge of the event first.
When an event finishes, the events app calls ``apps.badges.services.badges_evaluate_for_users``
with its participants and ``trigger="event_finished"``.
"""

from __future__ import annotations

import importlib

from django.apps import apps


def events_available() -> bool:
    try:
        apps.get_model("events", "Event")
    except LookupError:
        return False
    return True


def event_exists(event_id) -> bool:
    """Return True when the events app knows ``event_id``; False when it does not or has no events yet."""
    if not events_available():
        return False
    return apps.get_model("events", "Event").objects.filter(pk=event_id).exists()


def _selector(name: str):
    try:
        module = importlib.import_module("apps.events.selectors")
    except ImportError:
        return None
    return getattr(module, name, None)


def event_top_n_met(*, user, event_id, n: int) -> bool:
    """Return True when ``user`` finished ``event_id`` ranked ``n`` or better."""
    rank_of = _selector("event_rank_of") if events_available() else None
    if rank_of is None:
        return False
    rank = rank_of(event_id=event_id, user=user)
    return rank is not None and rank <= n


def event_first_blood_met(*, user, event_id) -> bool:
    """Return True when ``user`` drew first blood on some challenge of ``event_id``."""
    first_bloods = _selector("event_first_blood_user_ids") if events_available() else None
    if first_bloods is None:
        return False
    return user.pk in set(first_bloods(event_id=event_id))
