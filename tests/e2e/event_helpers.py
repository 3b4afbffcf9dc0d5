"""Helpers of the event browser tests: signed-in browser contexts and service calls off Playwright's thread."""

from __future__ import annotations

import threading

import pytest
from django.db import connection


def in_thread(work):
    """Run ``work`` on another thread and return its result: Playwright's event loop owns the test thread,
    and services push over Channels with async_to_sync, as they would from a request."""
    box = {}

    def run():
        try:
            box["result"] = work()
        except BaseException as exc:  # re-raised in the test's thread
            box["error"] = exc
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box.get("result")


def signed_in_page(browser, live_url: str, user, *, secret: str | None = None, **context_args):
    """Return a page of a new browser context signed in as ``user`` (with 2FA verified when ``secret``)."""
    from apps.accounts.factories import login_client

    client = in_thread(lambda: login_client(user, secret=secret))
    context = browser.new_context(**context_args)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_url}])
    return context.new_page()


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """Before Daphne forks: forget channel layers bound to closed event loops and give asgiref a new executor."""
    from concurrent.futures import ThreadPoolExecutor

    from asgiref.sync import SyncToAsync
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)
