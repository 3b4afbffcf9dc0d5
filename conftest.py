"""Fixtures shared by every test: users in each role, signed-in clients, a clean cache.

Fixtures for labs on the real engine come from the plugin ``tests.plugins.runtime``.
"""

import pytest
from django.core.cache import cache

from apps.accounts.factories import PASSWORD, AdminFactory, CreatorFactory, UserFactory, enable_2fa, login_client

pytest_plugins = [
    "tests.plugins.runtime",
    "tests.plugins.registry",
    "tests.plugins.s3",
    "tests.plugins.moto_server",
    "tests.plugins.gate",
    "tests.plugins.locale",
]


@pytest.fixture(autouse=True)
def _clean_cache():
    _clear_own_cache()
    yield
    _clear_own_cache()


def _clear_own_cache() -> None:
    """Delete this test process's cache keys only.

    ``cache.clear()`` on Redis is FLUSHDB: it would also wipe the keys and channel-layer messages of
    the other test processes running in parallel against the same Redis.
    """
    from django.conf import settings

    config = settings.CACHES["default"]
    if "redis" not in config["BACKEND"].lower():
        cache.clear()
        return
    client = cache._cache.get_client(write=True)
    # make_key("*") is "<prefix>:<version>:*": the cache's keys, not the channel layer's.
    keys = list(client.scan_iter(match=cache.make_key("*"), count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(params=["redis", "in_memory"])
async def channel_layer(request, settings):
    """Run a socket test on each channel layer RangeX ships; yield the layer.

    ``redis`` is the production layer exactly as rangex.settings configures it (its key prefix is
    this test process's own, see rangex.settings_test); ``in_memory`` is the embedded default's.
    Each test gets new layer objects, since each test runs on its own event loop and the Redis
    layer's connection pools belong to the loop that opened them; they are closed after the test.
    """
    from channels.layers import channel_layers, get_channel_layer

    if request.param == "in_memory":
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    elif "channels_redis" not in settings.CHANNEL_LAYERS["default"]["BACKEND"]:
        pytest.fail("The Redis variant of the socket tests needs REDIS_URL (rangex.settings_test sets one).")
    channel_layers.backends.clear()
    layer = get_channel_layer()
    yield layer
    if hasattr(layer, "close_pools"):
        await layer.close_pools()
    channel_layers.backends.clear()


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def solver(db):
    return UserFactory()


@pytest.fixture
def creator(db):
    return CreatorFactory()


@pytest.fixture
def admin_user(db):
    return AdminFactory()


@pytest.fixture
def solver_client(solver):
    return login_client(solver)


@pytest.fixture
def creator_client(creator):
    secret, _ = enable_2fa(creator)
    return login_client(creator, secret=secret)


@pytest.fixture
def admin_client_2fa(admin_user):
    """An admin signed in with a verified second factor, as the admin site requires."""
    secret, _ = enable_2fa(admin_user)
    return login_client(admin_user, secret=secret)


def _is_browser_test(item) -> bool:
    return item.get_closest_marker("browser") is not None or "/e2e/" in item.nodeid


def pytest_collection_modifyitems(config, items):
    """Browser tests last, in every worker: Playwright's sync API leaves an event loop running in the
    worker's main thread, and an asyncio test (or async fixture) scheduled after it cannot start its own.
    The sort is stable, so the order within each group stays the collection order."""
    items.sort(key=_is_browser_test)
