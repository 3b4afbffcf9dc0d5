"""In a real browser: the scoreboard page shows the board and the chart, and a solve appears live."""

import threading

import pytest
from django.db import connection
from playwright.sync_api import Page, expect

from apps.accounts.tests.factories import UserFactory
from apps.events import services
from apps.events.tests.factories import make_event, version_of

pytestmark = pytest.mark.browser


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
