"""In a real browser: a solver starts a lab, types in its terminal, submits a flag and sees the score."""

import pytest
from playwright.sync_api import Page, expect

from apps.accounts.factories import PASSWORD, UserFactory
from apps.environments.factories import STATIC_FLAG, ensure_test_image, pivot_version
from apps.environments.models import EnvironmentSession
from apps.runtime import get_runtime

pytestmark = pytest.mark.browser


def test_solver_starts_a_lab_uses_the_terminal_and_scores(page: Page, live_url):
    ensure_test_image()
    version = pivot_version()
    solver = UserFactory()
    try:
        page.goto(f"{live_url}/accounts/login/?next=/scenarios/{version.scenario.slug}/")
        page.get_by_label("Email").fill(solver.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("button", name="Start lab").click()

        expect(page.get_by_role("heading", name="Pivot test")).to_be_visible()
        expect(page.locator("#session-status")).to_have_attribute("data-status", "running", timeout=30_000)
        expect(page.get_by_role("tab", name="attacker")).to_be_visible()
        terminal = page.locator('[data-terminal="attacker"] .xterm')
        expect(terminal).to_be_visible(timeout=15_000)
        expect(page.locator('[data-terminal="attacker"] .xterm-rows')).to_contain_text("#", timeout=15_000)
        terminal.click()
        page.keyboard.type("id\n")
        expect(page.locator('[data-terminal="attacker"] .xterm-rows')).to_contain_text("uid=0(root)", timeout=15_000)

        question = page.locator("#question-q1")
        question.get_by_label("Your answer").fill(STATIC_FLAG)
        question.get_by_role("button", name="Submit").click()
        # Generous waits: the suite runs two browsers and labs side by side on two cores.
        expect(page.locator("#question-q1")).to_contain_text("Solved, 10 points", timeout=15_000)
        expect(page.locator("#score")).to_have_text("10", timeout=15_000)
    finally:
        for session in EnvironmentSession.objects.filter(user=solver):
            get_runtime().stop(str(session.pk))
