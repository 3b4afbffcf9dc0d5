"""What badges ask the events app: does an event exist, a user's final rank, who drew first blood, who finished."""

from __future__ import annotations


def event_exists(event_id) -> bool:
    from apps.events.models import Event

    return Event.objects.filter(pk=event_id).exists()


def event_top_n_met(*, user, event_id, n: int) -> bool:
    """Return True when ``user`` finished ``event_id`` ranked ``n`` or better."""
    from apps.events.selectors import event_rank_of

    rank = event_rank_of(event_id=event_id, user=user)
    return rank is not None and rank <= n


def event_first_blood_met(*, user, event_id) -> bool:
    """Return True when ``user`` drew first blood on some challenge of ``event_id``."""
    from apps.events.selectors import event_first_blood_user_ids

    return user.pk in event_first_blood_user_ids(event_id=event_id)


def event_finisher_met(*, user, event_id) -> bool:
    """Return True when ``user`` (or their team) solved every challenge of ``event_id``, once it has ended."""
    from apps.events.selectors import event_finisher_met as finisher

    return finisher(event_id=event_id, user=user)
