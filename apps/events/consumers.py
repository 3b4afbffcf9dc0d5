"""The live scoreboard: every open scoreboard page joins its event's group and gets each new board.

Admins join the live group; everyone else joins the public group, which receives nothing new once
the board is frozen.
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.events import selectors
from apps.events.models import Event


@database_sync_to_async
def _load(user, event_id):
    admin = bool(getattr(user, "is_authenticated", False) and user.is_platform_admin)
    qs = Event.objects.all() if admin else Event.objects.filter(is_public=True)
    event = qs.filter(pk=event_id).first()
    if event is None:
        return None, admin, None
    return event, admin, selectors.scoreboard(event=event, admin=admin)


class ScoreboardConsumer(AsyncJsonWebsocketConsumer):
    """``/ws/events/<id>/scoreboard/``: receive the board now and after every change."""

    group = None

    async def connect(self):
        event_id = self.scope["url_route"]["kwargs"]["event_id"]
        event, admin, board = await _load(self.scope.get("user"), event_id)
        if event is None:
            await self.close(code=4404)
            return
        self.group = selectors.scoreboard_group(event.pk, admin=admin)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "board", "board": board})

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        """The page only listens."""

    async def scoreboard_update(self, message):
        await self.send_json({"type": "board", "board": message["board"]})
