"""In a real browser: a solver's free-text answer waits, the creator accepts it, the solver's page follows live."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from apps.accounts.factories import CreatorFactory, UserFactory, enable_2fa
from apps.environments import services
from apps.scenarios.factories import published_version
from tests.e2e.event_helpers import fresh_channel_layer, in_thread, visit  # noqa: F401

pytestmark = pytest.mark.browser

QUESTIONS = [{"id": "essay", "type": "free_text", "prompt": "How did you pivot?", "points": 30, "max_attempts": 2}]


def test_a_free_text_answer_is_reviewed_and_the_solver_sees_the_score_live(new_page, live_url):
    creator = CreatorFactory()
    secret, _ = enable_2fa(creator)
    version = published_version(creator=creator, questions=QUESTIONS, hints=[], validation_mode="manual")
    solver = UserFactory()

    def running():
        session = services.env_session_start(user=solver, version=version)
        return services.env_session_mark_running(session=session, result=SimpleNamespace(machines={}, networks={}))

    session = in_thread(running)
    player = new_page(solver)
    visit(player, f"{live_url}/sessions/{session.pk}/")
    question = player.locator("#question-essay")
    question.get_by_label("Your answer").fill("Through the jump host, with ssh -D.")
    question.get_by_role("button", name="Submit").click()
    expect(player.locator("#question-essay")).to_contain_text("Waiting for review.")

    reviewer = new_page(creator, secret=secret)
    visit(reviewer, f"{live_url}/admin/")
    reviewer.get_by_role("link", name="Answers to review").click()
    card = reviewer.locator("[data-review]", has_text="How did you pivot?")
    expect(card).to_contain_text("Through the jump host, with ssh -D.")
    card.get_by_label("Comment for the solver").fill("Clear and complete.")
    card.get_by_role("button", name="Accept").click()
    expect(reviewer.locator("#no-reviews")).to_be_visible()

    expect(player.locator("#score")).to_have_text("30")
    expect(player.locator("#question-essay")).to_contain_text("Accepted by a reviewer: Clear and complete.")
    expect(player.locator("#question-essay")).to_contain_text("Solved, 30 points.")
    expect(player.locator("#unread-count")).to_have_text("1")
