"""The desktop relay over a real desktop machine: the VNC server's banner through ``docker exec``,
every refusal before accept, the rate, oversized messages, and a desktop that is not running."""

from __future__ import annotations

import json

import pytest
from channels.testing import WebsocketCommunicator

from apps.accounts.factories import UserFactory, login_client
from apps.environments import services
from apps.environments.factories import desktop_version
from apps.environments.models import EnvironmentMachine, GuiSession, SessionStatus
from apps.environments.services.desktops import desktop_passwords
from tests.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("channel_layer")]


@pytest.fixture(scope="module")
def desktop_image():
    from apps.environments.factories import ensure_desktop_image

    return ensure_desktop_image()


@pytest.fixture
def running(runtime, desktop_image):
    user = UserFactory()
    session = services.env_session_start(user=user, version=desktop_version())
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING, session.reason_stopped
    yield session, login_client(user).cookies["sessionid"].value
    runtime.stop(str(session.pk))


def communicator(session, cookie, *, machine="desktop", token=None):
    token = session.gateway_session_token if token is None else token
    path = f"/ws/sessions/{session.pk}/desktop/{machine}/?token={token}"
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver"), (b"cookie", f"sessionid={cookie}".encode())]
    return WebsocketCommunicator(application, path, headers=headers, subprotocols=["binary"])


async def test_the_relay_reaches_the_vnc_server_and_records_the_connection(running):
    session, cookie = running
    comm = communicator(session, cookie)
    connected, subprotocol = await comm.connect(timeout=10)
    assert connected and subprotocol == "binary"
    hello = json.loads(await comm.receive_from(timeout=10))
    assert hello["type"] == "hello" and hello["view_only"] is False
    assert hello["password"] == desktop_passwords(session_id=session.pk, machine="desktop")[0]
    assert (await comm.receive_from(timeout=10)) == b"RFB 003.008\n"
    # The client's answer goes through: the server offers its security types (VNC authentication).
    await comm.send_to(bytes_data=b"RFB 003.008\n")
    types = await comm.receive_from(timeout=10)
    assert types[0] >= 1 and 2 in types[1:]
    row = await _row(session)
    assert row.status == "active" and row.machine_name == "desktop" and not row.view_only
    await comm.disconnect()
    row = await _row(session)
    assert row.status == "closed" and row.duration is not None


async def test_refusals_happen_before_accept(running, settings):
    session, cookie = running
    # Every connection that passes the access check counts, refused or not: three a minute here.
    settings.RANGEX_THROTTLE_RATES = {**settings.RANGEX_THROTTLE_RATES, "desktop.user": "3/min"}
    for kwargs, code in [({"token": "wrong"}, 4403), ({"machine": "nowhere"}, 4404)]:
        comm = communicator(session, cookie, **kwargs)
        connected, close = await comm.connect(timeout=10)
        assert not connected and close == code, kwargs
    stranger = await _login(UserFactory)
    comm = communicator(session, stranger)
    assert (await comm.connect(timeout=10)) == (False, 4404)
    comm = communicator(session, cookie)
    assert (await comm.connect(timeout=10))[0]
    await comm.disconnect()
    assert (await communicator(session, cookie).connect(timeout=10)) == (False, 4429)


async def test_an_oversized_message_closes_the_socket(running):
    session, cookie = running
    comm = communicator(session, cookie)
    assert (await comm.connect(timeout=10))[0]
    await comm.receive_from(timeout=10)  # hello
    await comm.send_to(bytes_data=b"x" * (256 * 1024 + 1))
    while True:
        message = await comm.receive_output(timeout=10)
        if message["type"] == "websocket.close":
            assert message["code"] == 1009
            break


async def test_a_desktop_that_is_not_running_marks_its_machine_failed_with_the_log_tail(running, runtime):
    session, cookie = running
    await _kill_desktop(runtime, session)
    comm = communicator(session, cookie)
    assert (await comm.connect(timeout=10))[0]
    error = None
    while error is None:
        message = await comm.receive_output(timeout=15)
        assert message["type"] != "websocket.close", "closed without saying why"
        if message.get("text") and json.loads(message["text"])["type"] == "error":
            error = json.loads(message["text"])
    assert "not running" in error["message"] or "cannot be reached" in error["message"]
    assert "Xvnc" in error["log"] or "TigerVNC" in error["log"]
    assert (await comm.receive_output(timeout=10))["code"] == 4500
    row = await _row(session)
    assert row.status == "failed" and "TigerVNC" in row.error_message
    machine = await _machine(session)
    assert machine.status == EnvironmentMachine.Status.FAILED


# --- helpers ----------------------------------------------------------------------------------
async def _row(session):
    from channels.db import database_sync_to_async

    return await database_sync_to_async(lambda: GuiSession.objects.filter(environment_session=session).latest("id"))()


async def _machine(session):
    from channels.db import database_sync_to_async

    return await database_sync_to_async(
        lambda: EnvironmentMachine.objects.get(environment_session=session, machine_name="desktop")
    )()


async def _login(factory):
    from channels.db import database_sync_to_async

    return await database_sync_to_async(lambda: login_client(factory()).cookies["sessionid"].value)()


async def _kill_desktop(runtime, session):
    """Stop the desktop machine behind the runtime's back (as if its main process had exited)."""
    import asyncio

    from apps.runtime.tests.harness import HARNESSES

    await asyncio.to_thread(HARNESSES["docker"].stop_behind_back, runtime, str(session.pk), "desktop")
