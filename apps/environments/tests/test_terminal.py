"""The terminal consumer over a real exec: output, input, resize, and every refusal before accept."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.testing import WebsocketCommunicator

from apps.accounts.factories import UserFactory, login_client
from apps.environments import services
from apps.environments.factories import pivot_version
from apps.environments.models import SessionStatus
from tests.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _fresh_channel_layer():
    """Close the Redis layer's pools after each test: each test runs on its own event loop."""
    yield
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if hasattr(layer, "close_pools"):
        await layer.close_pools()


@pytest.fixture
def running(runtime):
    user = UserFactory()
    version = pivot_version()
    session = services.env_session_start(user=user, version=version)
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING, session.reason_stopped
    client = login_client(user)
    yield session, client.cookies["sessionid"].value
    runtime.stop(str(session.pk))


def communicator(session, cookie, *, machine="attacker", token=None, origin=b"http://testserver", query=""):
    token = session.gateway_session_token if token is None else token
    path = f"/ws/sessions/{session.pk}/terminal/{machine}/?token={token}{query}"
    headers = [(b"origin", origin), (b"host", b"testserver"), (b"cookie", f"sessionid={cookie}".encode())]
    return WebsocketCommunicator(application, path, headers=headers)


async def read_until(comm, needle: bytes, timeout: float = 10.0) -> bytes:
    seen = bytearray()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while needle not in seen:
        remaining = deadline - loop.time()
        assert remaining > 0, f"{needle!r} not in {bytes(seen)[-500:]!r}"
        message = await comm.receive_output(timeout=remaining)
        if message["type"] == "websocket.close":
            raise AssertionError(f"closed with {message.get('code')} before {needle!r}: {bytes(seen)!r}")
        if message.get("bytes"):
            seen.extend(message["bytes"])
            await comm.send_to(text_data=json.dumps({"type": "ack", "bytes": len(message["bytes"])}))
    return bytes(seen)


async def test_terminal_runs_id_through_a_real_exec(running):
    session, cookie = running
    comm = communicator(session, cookie)
    connected, _ = await comm.connect()
    assert connected
    await comm.send_to(text_data=json.dumps({"type": "input", "data": "id\n"}))
    output = await read_until(comm, b"uid=0(root)")
    assert b"uid=0(root)" in output
    await comm.send_to(text_data=json.dumps({"type": "ping"}))
    await comm.disconnect()


async def test_a_deeply_nested_control_message_is_refused_and_the_terminal_lives_on(running):
    session, cookie = running
    comm = communicator(session, cookie)
    connected, _ = await comm.connect()
    assert connected
    await comm.send_to(text_data="[" * 100_000 + "]" * 100_000)
    while True:
        message = await comm.receive_output(timeout=10)
        assert message["type"] != "websocket.close", message
        if message.get("text"):
            assert json.loads(message["text"]) == {"type": "error", "message": "Malformed message."}
            break
    await comm.send_to(text_data=json.dumps({"type": "input", "data": "id\n"}))
    assert b"uid=0(root)" in await read_until(comm, b"uid=0(root)")
    await comm.disconnect()


async def test_terminal_resize_reaches_the_tty(running):
    session, cookie = running
    comm = communicator(session, cookie, query="&cols=100&rows=30")
    connected, _ = await comm.connect()
    assert connected
    await comm.send_to(text_data=json.dumps({"type": "resize", "cols": 132, "rows": 43}))
    await asyncio.sleep(0.3)
    await comm.send_to(text_data=json.dumps({"type": "input", "data": "busybox stty size\n"}))
    await read_until(comm, b"43 132")
    await comm.disconnect()


async def test_binary_input_and_large_output_flow(running):
    session, cookie = running
    comm = communicator(session, cookie)
    connected, _ = await comm.connect()
    assert connected
    await comm.send_to(bytes_data=b"busybox seq 1 60000 | busybox tail -n 1; echo END-OF-RUN\n")
    output = await read_until(comm, b"60000\r\nEND-OF-RUN")
    assert b"60000" in output
    await comm.disconnect()


@pytest.mark.parametrize(
    "case,expected_code",
    [("bad_token", 4403), ("stranger", 4404), ("unknown_machine", 4404), ("closed_machine", 4404)],
)
async def test_terminal_refusals_happen_before_accept(running, case, expected_code):
    from asgiref.sync import sync_to_async

    session, cookie = running
    kwargs = {}
    if case == "bad_token":
        kwargs["token"] = "not-the-token"
    elif case == "stranger":
        stranger = await sync_to_async(UserFactory)()
        client = await sync_to_async(login_client)(stranger)
        cookie = client.cookies["sessionid"].value
    elif case == "unknown_machine":
        kwargs["machine"] = "nosuch"
    elif case == "closed_machine":
        kwargs["machine"] = "victim"
    comm = communicator(session, cookie, **kwargs)
    connected, code = await comm.connect()
    assert not connected and code == expected_code


async def test_terminal_refuses_a_foreign_origin(running):
    session, cookie = running
    comm = communicator(session, cookie, origin=b"https://evil.example")
    connected, _ = await comm.connect()
    assert not connected


async def test_terminal_refuses_a_stopped_session_and_closes_on_stop(running):
    from asgiref.sync import sync_to_async

    session, cookie = running
    comm = communicator(session, cookie)
    connected, _ = await comm.connect()
    assert connected
    await sync_to_async(services.env_session_stop)(session=session, actor=None, reason="Stopped by the test")
    closed = False
    for _ in range(50):
        message = await comm.receive_output(timeout=10)
        if message["type"] == "websocket.close":
            closed = True
            break
    assert closed
    again = communicator(session, cookie)
    connected, code = await again.connect()
    assert not connected and code in (4409, 4404)


async def test_output_waits_for_the_page_to_catch_up(running):
    """Without acknowledgements the server stops sending after its window; acks let the rest through."""
    from apps.environments.consumers import BATCH_BYTES, WINDOW_BYTES

    session, cookie = running
    comm = communicator(session, cookie)
    connected, _ = await comm.connect()
    assert connected
    command = "busybox dd if=/dev/zero bs=65536 count=64 2>/dev/null | busybox tr '\\\\0' x; echo; echo DONE-$((2+2))\n"
    await comm.send_to(text_data=json.dumps({"type": "input", "data": command}))
    unacked = 0
    while not await comm.receive_nothing(timeout=2):
        message = await comm.receive_output()
        unacked += len(message.get("bytes") or b"")
    # 4 MB were printed; the page acknowledged nothing, so at most one window plus a batch arrived (a
    # batch is BATCH_BYTES topped up by one last read of at most 64 KiB).
    assert 0 < unacked < WINDOW_BYTES + BATCH_BYTES + 64 * 1024
    await comm.send_to(text_data=json.dumps({"type": "ack", "bytes": unacked}))
    rest = await read_until(comm, b"DONE-4", timeout=60)
    assert unacked + len(rest) > 4 * 1024 * 1024
    await comm.disconnect()
