"""The Redis channel layer notices a Redis that stops answering, instead of waiting for it for ever.

Idle sockets must outlast Redis's empty answers (see the idle test in
apps/environments/tests/test_terminal.py), but a read must not wait without end: a Redis host that
dies or is cut off sends nothing, not even a reset, and every socket would hang open and deaf.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis.exceptions
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from apps.accounts.tests.factories import UserFactory
from rangex.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


class Relay:
    """A TCP relay on 127.0.0.1 to the real Redis that can go silent, as a cut-off host does."""

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
                # Silent: bytes are swallowed, the connections stay open; nothing is answered.
                if not self.silent:
                    writer.write(data)
                    await writer.drain()

    async def close(self) -> None:
        self.server.close()
        for writer in self.writers:
            writer.close()
        await self.server.wait_closed()


@pytest.fixture
async def relayed_layer(settings):
    """Point the production channel layer configuration at a Relay; yield the relay."""
    from channels.layers import channel_layers, get_channel_layer

    config = settings.CHANNEL_LAYERS["default"]
    if "channels_redis" not in config["BACKEND"]:
        pytest.fail("This test needs the Redis channel layer (REDIS_URL; rangex.settings_test sets one).")
    host = config["CONFIG"]["hosts"][0]
    address = urlsplit(host["address"])
    relay = Relay(address.hostname, address.port or 6379)
    port = await relay.start()
    relayed = urlunsplit(address._replace(netloc=f"127.0.0.1:{port}"))
    settings.CHANNEL_LAYERS = {
        "default": {**config, "CONFIG": {**config["CONFIG"], "hosts": [{**host, "address": relayed}]}}
    }
    channel_layers.backends.clear()
    yield relay
    await get_channel_layer().close_pools()
    channel_layers.backends.clear()
    await relay.close()


async def test_an_idle_socket_fails_when_redis_stops_answering(relayed_layer):
    user = await sync_to_async(UserFactory)()
    page = WebsocketCommunicator(
        application, "/ws/notifications/", headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")]
    )
    page.scope["user"] = user
    connected, _ = await page.connect()
    assert connected

    relayed_layer.silent = True

    # The consumer's wait for messages ends with the read timeout (daphne then closes the socket
    # and the page reconnects); with no read timeout it would wait for ever, and this would time out.
    await asyncio.wait([page.future], timeout=30)
    assert page.future.done(), "the consumer still waits for a Redis that stopped answering"
    with pytest.raises(redis.exceptions.TimeoutError):
        page.future.result()
