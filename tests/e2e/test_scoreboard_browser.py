"""In a real browser: the scoreboard page shows the board and the chart, and a solve appears live."""

import threading

import pytest
from django.db import connection
from playwright.sync_api import Page, expect

from apps.accounts.factories import UserFactory
from apps.events import services
from apps.events.factories import make_event, version_of

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Before Daphne forks: forget channel layers earlier async tests bound to their closed event loops, and
    give asgiref a new sync executor (a forked child inherits the old one without its worker thread, so
    database_sync_to_async calls in consumers would wait forever)."""
    from concurrent.futures import ThreadPoolExecutor

    from asgiref.sync import SyncToAsync
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)


def in_thread(work):
    """Run ``work`` on another thread: Playwright's event loop owns the test thread, and services
    push over Channels with async_to_sync, as they would from a request."""

    def run():
        try:
            work()
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()


def test_scoreboard_updates_live_when_someone_solves(page: Page, live_url):
    event = make_event(allow_late_registration=True, name="Live Board CTF")
    alice, bob = UserFactory(display_name="Alice"), UserFactory(display_name="Bob")
    for user in (alice, bob):
        in_thread(lambda user=user: services.event_register(event=event, user=user))

    page.goto(f"{live_url}/events/{event.pk}/scoreboard/")
    expect(page.get_by_role("heading", name="Live Board CTF: scoreboard")).to_be_visible()
    expect(page.locator("#board-status")).to_have_text("Live", timeout=10_000)
    expect(page.locator("#score-chart")).to_be_visible()

    in_thread(
        lambda: services.event_submit_answer(
            event=event, user=bob, version_id=version_of(event).pk, question_id="q1", answer="RX{one}"
        )
    )
    first_row = page.locator("#scoreboard tbody tr").first
    expect(first_row).to_contain_text("Bob", timeout=3_000)
    expect(first_row).to_contain_text("100")
    assert page.evaluate("Chart.getChart(document.getElementById('score-chart')).data.datasets[0].label") == "Bob"
