"""The terminal consumer over a real exec: output, input, resize, every refusal before accept, idling."""

from __future__ import annotations

import asyncio
import contextlib
import json
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis.exceptions
from channels.testing import WebsocketCommunicator

from apps.accounts.factories import UserFactory, login_client
from apps.environments import services
from apps.environments.factories import pivot_version
from apps.environments.models import SessionStatus
from tests.asgi import application

# Every test runs on the Redis channel layer and on the in-memory one (the conftest's channel_layer).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("channel_layer")]


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


def _terminal_opens() -> float:
    from rangex.core.metrics import TERMINAL_OPEN_SECONDS

    return next(s.value for s in TERMINAL_OPEN_SECONDS.collect()[0].samples if s.name.endswith("_count"))


async def test_terminal_runs_id_through_a_real_exec(running):
    session, cookie = running
    opens = _terminal_opens()
    comm = communicator(session, cookie)
    connected, _ = await comm.connect(timeout=10)
    assert connected
    await comm.send_to(text_data=json.dumps({"type": "input", "data": "id\n"}))
    output = await read_until(comm, b"uid=0(root)")
    assert b"uid=0(root)" in output
    # Its opening time went into the rangex_terminal_open_seconds histogram (/metrics).
    assert _terminal_opens() == opens + 1
    await comm.send_to(text_data=json.dumps({"type": "ping"}))
    await comm.disconnect()


async def test_a_deeply_nested_control_message_is_refused_and_the_terminal_lives_on(running):
    session, cookie = running
    comm = communicator(session, cookie)
    connected, _ = await comm.connect(timeout=10)
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
    connected, _ = await comm.connect(timeout=10)
    assert connected
    await comm.send_to(text_data=json.dumps({"type": "resize", "cols": 132, "rows": 43}))
    await asyncio.sleep(0.3)
    await comm.send_to(text_data=json.dumps({"type": "input", "data": "busybox stty size\n"}))
    await read_until(comm, b"43 132")
    await comm.disconnect()


async def test_binary_input_and_large_output_flow(running):
    session, cookie = running
    comm = communicator(session, cookie)
    connected, _ = await comm.connect(timeout=10)
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
    connected, code = await comm.connect(timeout=10)
    assert not connected and code == expected_code


async def test_terminal_refuses_a_foreign_origin(running):
    session, cookie = running
    comm = communicator(session, cookie, origin=b"https://evil.example")
    connected, _ = await comm.connect(timeout=10)
    assert not connected


async def test_terminal_refuses_a_stopped_session_and_closes_on_stop(running):
    from asgiref.sync import sync_to_async

    session, cookie = running
    comm = communicator(session, cookie)
    connected, _ = await comm.connect(timeout=10)
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
    connected, code = await again.connect(timeout=10)
    assert not connected and code in (4409, 4404)


async def test_output_waits_for_the_page_to_catch_up(running):
    """Without acknowledgements the server stops sending after its window; acks let the rest through."""
    from apps.environments.shells import BATCH_BYTES, WINDOW_BYTES

    session, cookie = running
    comm = communicator(session, cookie)
    connected, _ = await comm.connect(timeout=10)
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


def _idle_seconds(layer) -> float:
    """Return how long to idle to outlast every timeout of ``layer``'s Redis connections.

    The values are read from a connection the layer's pool makes, so redis-py's own defaults count
    where the settings leave one out. Idling also spans at least two whole waits for a message.
    """
    connection = layer.create_pool(0).make_connection()
    timeouts = [
        layer.brpop_timeout,
        2 * layer.brpop_timeout,
        connection.socket_timeout,
        connection.socket_connect_timeout,
        connection.health_check_interval,
    ]
    return max(t for t in timeouts if t) + 2


def _raise_if_ended(comm) -> None:
    """Raise the error that ended the consumer behind ``comm``, if it ended."""
    if comm.future.done():
        comm.future.result()
        raise AssertionError("the consumer ended without an error")


@pytest.mark.parametrize("channel_layer", ["redis"], indirect=True)
async def test_idle_terminal_and_session_page_outlive_every_redis_timeout(running, channel_layer):
    """Idle past every timeout of the Redis layer; then the terminal answers and both get a group message.

    An idle consumer waits for its next message in a loop of BZPOPMIN calls that Redis answers empty
    after ``brpop_timeout`` seconds; each call is a fresh read under a fresh socket timeout, and
    nothing carries over from one call to the next. Idling past the longest timeout and across two
    whole waits therefore covers an hour of idling, apart from limits counted in hours or days: group
    membership lasts ``group_expiry`` (asserted to exceed an hour), daphne closes a socket after a day.
    With redis-py 8's default 5 s read timeout and none in the settings (before issue 27), this
    failed with "redis.exceptions.TimeoutError: Timeout reading from 127.0.0.1:6379".
    """
    session, cookie = running
    assert channel_layer.group_expiry >= 3600
    idle = _idle_seconds(channel_layer)
    terminal = communicator(session, cookie)
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver"), (b"cookie", f"sessionid={cookie}".encode())]
    page = WebsocketCommunicator(application, f"/ws/sessions/{session.pk}/", headers=headers)
    for comm in (terminal, page):
        connected, _ = await comm.connect(timeout=10)
        assert connected
    await terminal.send_to(text_data=json.dumps({"type": "input", "data": "echo READY-$((6*7))\n"}))
    await read_until(terminal, b"READY-42")

    await asyncio.sleep(idle)

    for comm in (terminal, page):
        _raise_if_ended(comm)
    await terminal.send_to(text_data=json.dumps({"type": "input", "data": "echo ALIVE-$((6*7))\n"}))
    await read_until(terminal, b"ALIVE-42")
    # What the stop service pushes to the session's group, sent without stopping the lab, so the
    # shell's own exit does not race it to the terminal.
    stopping = {"type": "status", "status": "stopping", "reason": "Stopped after the idle."}
    await channel_layer.group_send(f"session-{session.pk}", {"type": "session.event", "event": stopping})
    assert await page.receive_json_from(timeout=10) == stopping
    await read_until(terminal, b"Stopped after the idle. This terminal is closed.")
    assert await terminal.receive_output(timeout=10) == {"type": "websocket.close", "code": 4000}
    await page.disconnect()


class SilentRelay:
    """A TCP relay on 127.0.0.1 to the real Redis that can go silent, as a dead or cut-off host does."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.silent = False
        self.server = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _serve(self, client_reader, client_writer) -> None:
        redis_reader, redis_writer = await asyncio.open_connection(*self.target)
        self.writers += [client_writer, redis_writer]
        await asyncio.gather(self._pipe(client_reader, redis_writer), self._pipe(redis_reader, client_writer))

    async def _pipe(self, reader, writer) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                # Silent: bytes are swallowed and the connections stay open; nothing is answered.
                if not self.silent:
                    writer.write(data)
                    await writer.drain()

    async def close(self) -> None:
        self.server.close()
        for writer in self.writers:
            writer.close()
        await self.server.wait_closed()


@pytest.fixture
async def silent_relay(channel_layer, settings):
    """Send the Redis layer, configured as in production, through a SilentRelay; yield the relay."""
    from channels.layers import channel_layers, get_channel_layer

    config = settings.CHANNEL_LAYERS["default"]
    host = config["CONFIG"]["hosts"][0]
    host = host if isinstance(host, dict) else {"address": host}
    address = urlsplit(host["address"])
    relay = SilentRelay(address.hostname, address.port or 6379)
    relayed = urlunsplit(address._replace(netloc=f"127.0.0.1:{await relay.start()}"))
    settings.CHANNEL_LAYERS = {
        "default": {**config, "CONFIG": {**config["CONFIG"], "hosts": [{**host, "address": relayed}]}}
    }
    channel_layers.backends.clear()
    yield relay
    await get_channel_layer().close_pools()
    channel_layers.backends.clear()
    await relay.close()


@pytest.mark.parametrize("channel_layer", ["redis"], indirect=True)
async def test_an_idle_socket_fails_when_redis_stops_answering(running, silent_relay):
    """A Redis that goes silent ends the consumer, instead of leaving the socket open and deaf.

    Idle sockets must outlast Redis's empty answers (the test above), but a read must not wait
    without end: a dead or cut-off Redis host sends nothing, not even a reset. Daphne closes the
    socket of a consumer that failed, and the page reconnects.
    """
    session, cookie = running
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver"), (b"cookie", f"sessionid={cookie}".encode())]
    page = WebsocketCommunicator(application, f"/ws/sessions/{session.pk}/", headers=headers)
    connected, _ = await page.connect(timeout=10)
    assert connected

    silent_relay.silent = True

    # Bounded only so that a consumer waiting for ever (no read timeout) fails the test.
    await asyncio.wait([page.future], timeout=30)
    assert page.future.done(), "the consumer still waits for a Redis that stopped answering"
    with pytest.raises(redis.exceptions.TimeoutError):
        page.future.result()
