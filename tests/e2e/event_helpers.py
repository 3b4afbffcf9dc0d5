"""Helpers of the event browser tests: service calls off Playwright's thread, a fresh channel layer before each fork."""

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


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """Before Daphne forks: forget channel layers bound to closed event loops and give asgiref a new executor."""
    from concurrent.futures import ThreadPoolExecutor

    from asgiref.sync import SyncToAsync
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)


def visit(page, url: str, attempts: int = 4) -> None:
    """Open ``url`` and make sure its scripts loaded.

    Chromium aborts requests with ERR_NETWORK_CHANGED when the host's interfaces change, which
    happens whenever a lab's Docker bridge comes or goes on this shared engine; a page whose
    script was aborted is loaded again.
    """
    for _ in range(attempts):
        aborted = []

        def note(request, aborted=aborted):
            if "ERR_NETWORK_CHANGED" in (request.failure or ""):
                aborted.append(request.url)

        page.on("requestfailed", note)
        try:
            page.goto(url, wait_until="load")
        finally:
            page.remove_listener("requestfailed", note)
        if not aborted:
            return
    raise AssertionError(f"{url} kept losing requests to network changes: {aborted}")
