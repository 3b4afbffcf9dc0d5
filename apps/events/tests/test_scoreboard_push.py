"""A solve reaches every open scoreboard page over Channels (Redis and in-memory layers), well within a second."""

from __future__ import annotations

import time

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from apps.accounts.factories import AdminFactory, UserFactory, login_client
from apps.events import services
from apps.events.factories import make_event, version_of
from tests.asgi import application

# Every test runs on the Redis channel layer and on the in-memory one (the conftest's channel_layer).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("channel_layer")]


def _communicator(event, cookie=None):
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    return WebsocketCommunicator(application, f"/ws/events/{event.pk}/scoreboard/", headers=headers)


def _setup(**fields):
    event = make_event(allow_late_registration=True, **fields)
    player = UserFactory(display_name="Pusher")
    services.event_register(event=event, user=player)
    return event, player


def _solve(event, player):
    return services.event_submit_answer(
        event=event, user=player, version_id=version_of(event).pk, question_id="q1", answer="RX{one}"
    )


async def test_a_solve_is_pushed_to_every_open_page_within_a_second():
    event, player = await sync_to_async(_setup)()
    pages = [_communicator(event) for _ in range(3)]
    for page in pages:
        connected, _ = await page.connect(timeout=10)
        assert connected
        first = await page.receive_json_from(timeout=2)
        assert first["type"] == "board" and first["board"]["rows"][0]["points"] == 0
    started = time.monotonic()
    await sync_to_async(_solve)(event, player)
    for page in pages:
        message = await page.receive_json_from(timeout=5)
        assert message["board"]["rows"][0] == {**message["board"]["rows"][0], "name": "Pusher", "points": 100}
        assert message["board"]["chart"][0]["data"][-1]["y"] == 100
    assert time.monotonic() - started < 1
    for page in pages:
        await page.disconnect()


async def test_frozen_board_pushes_to_admins_only():
    from django.utils import timezone

    event, player = await sync_to_async(_setup)(freeze_at=None)
    event.freeze_at = timezone.now()
    await sync_to_async(event.save)(update_fields=["freeze_at"])
    admin = await sync_to_async(AdminFactory)()
    cookie = (await sync_to_async(login_client)(admin)).cookies["sessionid"].value
    public, admin_page = _communicator(event), _communicator(event, cookie)
    for page in (public, admin_page):
        assert (await page.connect(timeout=10))[0]
        await page.receive_json_from(timeout=2)
    await sync_to_async(_solve)(event, player)
    live = await admin_page.receive_json_from(timeout=5)
    assert live["board"]["rows"][0]["points"] == 100 and not live["board"]["frozen"]
    assert await public.receive_nothing(timeout=0.5)
    await public.disconnect()
    await admin_page.disconnect()


async def test_unknown_event_is_refused():
    class Missing:
        pk = "00000000-0000-0000-0000-000000000000"

    page = _communicator(Missing)
    connected, _ = await page.connect(timeout=10)
    assert not connected


async def test_a_freeze_set_by_the_organiser_reaches_the_public_pages_frozen():
    """Defect 14 (issue 25), the server's half: an open public board learns of a new freeze at once."""
    from django.utils import timezone

    event, player = await sync_to_async(_setup)()
    await sync_to_async(_solve)(event, player)
    public = _communicator(event)
    assert (await public.connect(timeout=10))[0]
    assert not (await public.receive_json_from(timeout=2))["board"]["frozen"]
    event.freeze_at = timezone.now()
    await sync_to_async(services.event_save)(event=event, actor=event.created_by_user, changed=["freeze_at"])
    message = await public.receive_json_from(timeout=5)
    assert message["board"]["frozen"] and message["board"]["rows"][0]["points"] == 100 and message["now"]
    await public.disconnect()


async def test_an_announcement_reaches_the_open_pages_of_its_event():
    event, _player = await sync_to_async(_setup)()
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    page = WebsocketCommunicator(application, f"/ws/events/{event.pk}/announcements/", headers=headers)
    assert (await page.connect(timeout=10))[0]
    await sync_to_async(services.event_announce)(
        event=event, actor=event.created_by_user, title="Heads up", body="The **web** box restarts."
    )
    message = await page.receive_json_from(timeout=5)
    assert message["type"] == "announcement" and message["announcement"]["title"] == "Heads up"
    assert "<strong>web</strong>" in message["announcement"]["body_html"]
    await page.disconnect()
