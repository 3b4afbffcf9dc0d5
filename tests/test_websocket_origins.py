"""Every WebSocket route accepts only its own site's exact origin: scheme, host and port.

The probe found ``http://127.0.0.1:9999`` and ``https://127.0.0.1`` accepted for an app on
``http://127.0.0.1:8001``. Each route is opened through the whole ASGI stack with Channels'
``WebsocketCommunicator``: a refused origin closes with ``ORIGIN_REFUSED_CODE`` before any consumer
runs; the right origin reaches the consumer (which then accepts, or refuses for its own reasons).
"""

from __future__ import annotations

import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from apps.accounts.factories import UserFactory, login_client
from apps.events.factories import make_event
from apps.paths.factories import running_session
from apps.scenarios.factories import published_version
from rangex.core.origins import ORIGIN_REFUSED_CODE
from tests.asgi import application

# Refusals happen before any consumer, so most tests need no database; those that reach a consumer do.
needs_db = pytest.mark.django_db(transaction=True)

SOME_ID = uuid.uuid4()
ROUTES = {
    "notifications": "/ws/notifications/",
    "session events": f"/ws/sessions/{SOME_ID}/",
    "terminal": f"/ws/sessions/{SOME_ID}/terminal/attacker/?token=x",
    "scoreboard": f"/ws/events/{SOME_ID}/scoreboard/",
}


@pytest.fixture(autouse=True)
async def _fresh_channel_layer():
    """Close the Redis layer's pools after each test: each test runs on its own event loop."""
    from channels.layers import channel_layers, get_channel_layer

    channel_layers.backends.clear()
    yield
    layer = get_channel_layer()
    if hasattr(layer, "close_pools"):
        await layer.close_pools()
    channel_layers.backends.clear()


async def open_socket(path, *, host=b"127.0.0.1:8001", origin=b"http://127.0.0.1:8001", cookie=None, extra=()):
    headers = [(b"host", host)]
    if origin is not None:
        headers.append((b"origin", origin))
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=[*headers, *extra])
    connected, code = await communicator.connect(timeout=10)
    if connected or not communicator.future.done():
        # A consumer that refused for its own reasons still runs (reading the channel layer) until
        # the client goes, as daphne tells it: say so here, while the layer's pools are open. Left to
        # the event loop's teardown, after the fixture closed the pools, its Redis read could hang.
        await communicator.disconnect()
    return connected, code


FOREIGN = {
    "another port": b"http://127.0.0.1:9999",
    "https instead of http": b"https://127.0.0.1",
    "https on the same port": b"https://127.0.0.1:8001",
    "the default port": b"http://127.0.0.1",
    "another host": b"http://evil.example:8001",
    "a sibling host": b"http://localhost:8001",
    "an opaque origin": b"null",
    "no origin at all": None,
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("case", FOREIGN)
async def test_every_route_refuses_a_foreign_origin_before_its_consumer(route, case):
    connected, code = await open_socket(ROUTES[route], origin=FOREIGN[case])
    assert (connected, code) == (False, ORIGIN_REFUSED_CODE)


@needs_db
@pytest.mark.parametrize("route", ROUTES)
async def test_every_route_lets_its_own_origin_reach_the_consumer(route):
    # Anonymous and naming nothing, the consumers refuse for their own reasons (4401, 4404).
    connected, code = await open_socket(ROUTES[route])
    assert not connected and code not in (ORIGIN_REFUSED_CODE, None, 1000)


@pytest.mark.parametrize("route", ROUTES)
async def test_two_origin_headers_are_refused(route):
    extra = [(b"origin", b"http://evil.example")]
    assert await open_socket(ROUTES[route], extra=extra) == (False, ORIGIN_REFUSED_CODE)


@needs_db
async def test_the_right_origin_opens_the_notification_session_and_scoreboard_sockets():
    def setup():
        user = UserFactory()
        session = running_session(user=user, version=published_version())
        return login_client(user).cookies["sessionid"].value, session, make_event()

    cookie, session, event = await sync_to_async(setup)()
    for path in ("/ws/notifications/", f"/ws/sessions/{session.pk}/", f"/ws/events/{event.pk}/scoreboard/"):
        connected, _ = await open_socket(path, cookie=cookie)
        assert connected, path
        connected, code = await open_socket(path, cookie=cookie, origin=b"http://127.0.0.1:9999")
        assert (connected, code) == (False, ORIGIN_REFUSED_CODE), path


async def test_a_host_outside_allowed_hosts_is_refused_even_with_a_matching_origin():
    connected, code = await open_socket(ROUTES["notifications"], host=b"evil.example", origin=b"http://evil.example")
    assert (connected, code) == (False, ORIGIN_REFUSED_CODE)


# Anonymous on the notification socket: its consumer refuses with 4401 without a database query.
REACHED = 4401


async def test_a_tls_socket_wants_the_https_origin():
    communicator = WebsocketCommunicator(
        application, ROUTES["notifications"], headers=[(b"host", b"testserver"), (b"origin", b"https://testserver")]
    )
    communicator.scope["scheme"] = "wss"
    _, code = await communicator.connect(timeout=10)
    assert code == REACHED
    plain = WebsocketCommunicator(
        application, ROUTES["notifications"], headers=[(b"host", b"testserver"), (b"origin", b"http://testserver")]
    )
    plain.scope["scheme"] = "wss"
    assert await plain.connect(timeout=10) == (False, ORIGIN_REFUSED_CODE)


@needs_db
async def test_behind_a_tls_proxy_the_forwarded_scheme_counts_only_when_configured(settings):
    forwarded = [(b"x-forwarded-proto", b"https")]
    path = ROUTES["notifications"]
    # Not configured: the header is anyone's to send, so the socket is plain http.
    assert await open_socket(path, host=b"testserver", origin=b"https://testserver", extra=forwarded) == (
        False,
        ORIGIN_REFUSED_CODE,
    )
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    _, code = await open_socket(path, host=b"testserver", origin=b"https://testserver", extra=forwarded)
    assert code == REACHED
    refused = await open_socket(path, host=b"testserver", origin=b"http://testserver", extra=forwarded)
    assert refused == (False, ORIGIN_REFUSED_CODE)


@needs_db
async def test_csrf_trusted_origins_are_accepted_exactly_and_by_subdomain_wildcard(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://rangex.example.org", "https://*.labs.example.org"]
    path = ROUTES["notifications"]
    for origin in (b"https://rangex.example.org", b"https://eu.labs.example.org"):
        assert (await open_socket(path, origin=origin))[1] == REACHED, origin
    for origin in (b"http://rangex.example.org", b"https://rangex.example.org:8443", b"http://eu.labs.example.org"):
        assert await open_socket(path, origin=origin) == (False, ORIGIN_REFUSED_CODE), origin
