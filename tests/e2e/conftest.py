"""Browser tests: a real Daphne server (HTTP and WebSockets) and Debian's Chromium driven by Playwright."""

import os
from functools import partial

import pytest
from django.db import connections

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# around it are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"


def _retry_on_network_change(method):
    """Retry a navigation that Chromium aborted because the host's interfaces changed (or the page moved).

    Chromium aborts in-flight navigations with ERR_NETWORK_CHANGED whenever an address appears or
    goes on the host, and the lab tests running beside the browser tests create and remove Docker
    bridges all the time. The page never left 127.0.0.1, so the navigation is simply made again.
    """
    from functools import wraps

    from playwright.sync_api import Error as PlaywrightError

    @wraps(method)
    def navigate(self, *args, **kwargs):
        for attempt in range(4):
            try:
                return method(self, *args, **kwargs)
            except PlaywrightError as exc:
                # The abort shows either as the error itself or as a navigation interrupted by
                # Chromium's own error page. A navigation interrupted by the page's own (a live page
                # reloading itself when its lab changes state) is made again too.
                text = str(exc)
                changed = (
                    "ERR_NETWORK_CHANGED" in text
                    or "chrome-error://chromewebdata" in text
                    or "is interrupted by another navigation" in text
                )
                if not changed or attempt == 3:
                    raise
        return None

    return navigate


def _patch_navigation() -> None:
    from playwright.sync_api import Page

    if not getattr(Page.goto, "__wrapped__", None):
        Page.goto = _retry_on_network_change(Page.goto)
        Page.reload = _retry_on_network_change(Page.reload)


_patch_navigation()


def _make_application():
    from channels.routing import get_default_application
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    return ASGIStaticFilesHandler(get_default_application())


def _child_setup():
    # The forked server inherits the test process's connections; it must open its own: database
    # connections, the channel layer (its Redis pools belong to the parent's event loops), and
    # asgiref's executor for database calls, whose thread did not survive the fork: work sent to
    # it would wait forever if the parent ran async tests first.
    from concurrent.futures import ThreadPoolExecutor

    from asgiref.sync import SyncToAsync
    from channels.layers import channel_layers

    from rangex.core import scheduling

    for conn in connections.all():
        conn.close()
    channel_layers.backends = {}
    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)
    # The embedded task pool's threads did not survive the fork either (RANGEX_EAGER_IN_BACKGROUND).
    scheduling._executor = None


@pytest.fixture
def live_url(transactional_db):
    """Serve RangeX with Daphne in a child process on a free port, against the test database."""
    from daphne.testing import DaphneProcess

    for conn in connections.all():
        conn.close()
    process = DaphneProcess("127.0.0.1", partial(_make_application), setup=_child_setup)
    process.start()
    if not process.ready.wait(timeout=30):
        process.terminate()
        raise RuntimeError("Daphne did not start")
    yield f"http://127.0.0.1:{process.port.value}"
    # Open WebSockets can hold a graceful shutdown for a long time; a server left behind would keep
    # answering the closed page and writing this process's cache keys, so it is killed if need be.
    process.terminate()
    process.join(timeout=5)
    if process.is_alive():
        process.kill()
        process.join(timeout=5)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def demo_accounts(transactional_db):
    from io import StringIO

    from apps.accounts import demo

    return demo.seed(StringIO())


@pytest.fixture
def new_page(browser, live_url):
    """Return a maker of pages, each in a browser context of its own (a person), signed in as ``user``
    (with 2FA verified when ``secret`` is given) or anonymous; the contexts close after the test."""
    from apps.accounts.factories import login_client
    from tests.e2e.event_helpers import in_thread

    contexts = []

    def make(user=None, *, secret: str | None = None, **context_args):
        context = browser.new_context(**context_args)
        contexts.append(context)
        if user is not None:
            client = in_thread(lambda: login_client(user, secret=secret))
            context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_url}])
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
