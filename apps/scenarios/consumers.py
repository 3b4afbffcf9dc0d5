"""``/ws/test-runs/<id>/``: a test deployment's progress, pushed live to its admin page (admins only)."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.scenarios.models import ScenarioVersionTestRun


@database_sync_to_async
def _may_watch(user, run_id: str) -> bool:
    if user is None or not user.is_authenticated or not user.is_platform_admin:
        return False
    return ScenarioVersionTestRun.objects.filter(pk=run_id).exists()


class TestRunConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.run_id = str(self.scope["url_route"]["kwargs"]["run_id"])
        if not await _may_watch(self.scope.get("user"), self.run_id):
            await self.close(code=4404)
            return
        self.group = f"testrun-{self.run_id}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def run_event(self, event):
        await self.send_json(event["event"])
