"""Live event pages: the scoreboard (every open board joins its event's group and gets each new board)
and announcements (every open page of an event gets them as they are posted).

Admins join the live group; everyone else joins the public group, which receives nothing new once
the board is frozen. Each board message carries the server's time, so a page can time the next
change of the board (the freeze, the end) against the server's clock.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone

from apps.events import selectors
from apps.events.models import Event
from apps.events.services import announcement_group
from rangex.core.errors import NotFound


def _visible_event(user, event_id):
    admin = bool(getattr(user, "is_authenticated", False) and user.is_platform_admin)
    qs = Event.objects.all() if admin else Event.objects.filter(is_public=True)
    return qs.filter(pk=event_id).first(), admin


@database_sync_to_async
def _load(user, event_id, division):
    event, admin = _visible_event(user, event_id)
    if event is None:
        return None, admin, None, None
    try:
        found = selectors.event_division_get(event=event, raw=division)
    except NotFound:
        return None, admin, None, None
    division_id = found.pk if found else None
    return event, admin, division_id, selectors.scoreboard(event=event, admin=admin, division_id=division_id)


def _now() -> str:
    return timezone.now().isoformat()


class ScoreboardConsumer(AsyncJsonWebsocketConsumer):
    """``/ws/events/<id>/scoreboard/[?division=<id>]``: receive the board now and after every change."""

    group = None

    async def connect(self):
        event_id = self.scope["url_route"]["kwargs"]["event_id"]
        query = parse_qs(self.scope.get("query_string", b"").decode())
        division = (query.get("division") or [""])[0]
        event, admin, division_id, board = await _load(self.scope.get("user"), event_id, division)
        if event is None:
            await self.close(code=4404)
            return
        self.group = selectors.scoreboard_group(event.pk, admin=admin, division_id=division_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "board", "board": board, "now": _now()})

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        """The page only listens."""

    async def scoreboard_update(self, message):
        await self.send_json({"type": "board", "board": message["board"], "now": _now()})


class AnnouncementConsumer(AsyncJsonWebsocketConsumer):
    """``/ws/events/<id>/announcements/``: receive the event's announcements as they are posted."""

    group = None

    async def connect(self):
        event_id = self.scope["url_route"]["kwargs"]["event_id"]
        event, _ = await database_sync_to_async(_visible_event)(self.scope.get("user"), event_id)
        if event is None:
            await self.close(code=4404)
            return
        self.group = announcement_group(event.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        """The page only listens."""

    async def event_announcement(self, message):
        await self.send_json({"type": "announcement", "announcement": message["announcement"]})
