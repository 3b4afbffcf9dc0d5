"""In a real browser: a solver answers a question-only scenario from its page, without a lab, and sees the score."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.accounts.factories import UserFactory
from apps.environments.factories import quiz_version
from apps.environments.models import EnvironmentSession
from tests.e2e.event_helpers import fresh_channel_layer, in_thread, visit  # noqa: F401

pytestmark = pytest.mark.browser


def test_a_question_only_scenario_is_answered_from_its_page_and_scored(new_page, live_url):
    version = quiz_version(title="Port quiz")
    solver = UserFactory()
    page = new_page(solver)

    visit(page, f"{live_url}/scenarios/{version.scenario.slug}/")
    expect(page.get_by_role("button", name="Start lab")).to_have_count(0)
    page.get_by_role("button", name="Answer questions").click()

    expect(page.locator("#question-only-note")).to_contain_text("No lab to start")
    expect(page.locator("#terminals")).to_have_count(0)
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)

    page.on("dialog", lambda dialog: dialog.accept())  # the hint's cost confirmation
    flag = page.locator("#question-q1")
    flag.get_by_role("button", name="Hint 1 (costs 5 pts)").click()
    expect(page.locator("#question-q1")).to_contain_text("It starts with RX.")
    page.locator("#question-q1").get_by_label("Your answer").fill("RX{wrong}")
    page.locator("#question-q1").get_by_role("button", name="Submit").click()
    expect(page.locator("#question-q1")).to_contain_text("1 attempt left")
    page.locator("#question-q1").get_by_label("Your answer").fill("RX{quiz}")
    page.locator("#question-q1").get_by_role("button", name="Submit").click()
    expect(page.locator("#question-q1")).to_contain_text("Solved, 45 points.")

    choice = page.locator("#question-q2")
    choice.get_by_label("22").check()
    choice.get_by_role("button", name="Submit").click()
    expect(page.locator("#question-q2")).to_contain_text("Solved, 10 points.")
    expect(page.locator("#score")).to_have_text("55")

    def stored():
        session = EnvironmentSession.objects.get(user=solver)
        return session.score, session.completed_at is not None, session.machines.count()

    assert in_thread(stored) == (55, True, 0)
