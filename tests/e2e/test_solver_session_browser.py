"""In a real browser: what a solver meets on a lab's page (issue 17): hints, durations, a stopped lab."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.accounts.factories import UserFactory
from apps.environments import services
from apps.environments.factories import pivot_version
from apps.environments.models import EnvironmentSession
from tests.e2e.event_helpers import fresh_channel_layer, in_thread, visit  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def lab(runtime):
    """Start a lab of the pivot version for a new solver; stop what it left on the engine afterwards."""
    solver = UserFactory()
    version = pivot_version()
    session = in_thread(lambda: services.env_session_start(user=solver, version=version))
    yield solver, session
    for session_id in EnvironmentSession.objects.values_list("pk", flat=True):
        runtime.stop(str(session_id))


def test_a_penalty_hint_asks_first_and_the_question_then_shows_its_reduced_value(new_page, live_url, lab):
    solver, session = lab
    page = new_page(solver)
    visit(page, f"{live_url}/sessions/{session.pk}/")
    question = page.locator("#question-q1")
    expect(question.locator("[data-question-value]")).to_have_text("10 pts")

    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    question.get_by_role("button", name="Hint 1").click()
    for _ in range(20):
        if asked:
            break
        page.wait_for_timeout(100)
    assert asked and "costs 4 points" in asked[0]
    session.refresh_from_db()
    assert not (session.answers or {}).get("q1", {}).get("hints_taken")

    page.once("dialog", lambda dialog: dialog.accept())
    question.get_by_role("button", name="Hint 1").click()
    expect(page.locator("#question-q1")).to_contain_text("It is in the mission.")
    expect(page.locator("#question-q1 [data-question-value]")).to_have_text("10 6 pts")
    session.refresh_from_db()
    assert session.answers["q1"]["hints_taken"] == ["h1"]
