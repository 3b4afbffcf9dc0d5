"""Publishing the scoreboard to open pages, and verifying an event session's answer chain."""

from __future__ import annotations

import logging

from apps.events import scoring
from apps.events.models import (
    Event,
    EventSession,
)
from rangex.core.scheduling import send_now

logger = logging.getLogger(__name__)


def scoreboard_publish(*, event_id, frozen_too: bool = True) -> None:
    """After a commit: drop the cached boards at once and push the new board from a task.

    The cache bump is one Redis call on the request path; building and sending the board runs in
    a task, so a solve never waits for the fan-out. A solve during a freeze passes
    ``frozen_too=False``: the frozen boards stay cached, as they stay unchanged.
    """
    from apps.events import selectors

    try:
        selectors.scoreboard_invalidate(event_id=event_id, frozen_too=frozen_too)
    except Exception:
        logger.warning("scoreboard cache bump for event %s failed", event_id, exc_info=True)
    send_now("apps.events.tasks.scoreboard_push_task", str(event_id), frozen_too)


def scoreboard_push(*, event_id, frozen_too: bool = True) -> None:
    """Send the current board to every open scoreboard page of the event (and of each division); never fails.

    During a freeze a solve reaches admins' pages only: the public pages learn nothing, not even
    that something changed. A change of the frozen board itself (the freeze set or moved, a
    registration, a disqualification) reaches the public pages too, frozen.
    """
    from apps.events import selectors

    try:
        event = Event.objects.filter(pk=event_id).first()
        if event is None:
            return
        from asgiref.sync import async_to_sync
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        if layer is None:
            return
        frozen = event.is_frozen()
        groups = []
        for division_id in [None, *selectors.event_divisions(event=event).values_list("pk", flat=True)]:
            board = selectors.scoreboard(event=event, admin=True, division_id=division_id)
            groups.append((selectors.scoreboard_group(event.pk, admin=True, division_id=division_id), board))
            public = selectors.scoreboard_group(event.pk, admin=False, division_id=division_id)
            if not frozen:
                # Outside a freeze the public board is the admin board.
                groups.append((public, board))
            elif frozen_too:
                groups.append((public, selectors.scoreboard(event=event, admin=False, division_id=division_id)))

        async def send_all():
            for group, board in groups:
                await layer.group_send(group, {"type": "scoreboard.update", "board": board})

        async_to_sync(send_all)()
    except Exception:
        logger.warning("scoreboard push for event %s failed", event_id, exc_info=True)


def event_session_verify(*, event_session: EventSession) -> bool:
    """Return whether the stored answers still hash to the stored chain head."""
    return scoring.chain_head(event_session.answers or {}) == (event_session.answers_hash or "")
