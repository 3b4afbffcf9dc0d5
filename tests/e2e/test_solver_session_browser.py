"""In a real browser: what a solver meets on a lab's page (issue 17): hints, durations, a stopped lab."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from apps.accounts.factories import UserFactory
from apps.environments import services
from apps.environments.factories import STATIC_FLAG, pivot_version
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


def test_the_session_page_shows_addresses_per_network_and_durations_in_hours_and_minutes(new_page, live_url, lab):
    solver, session = lab
    page = new_page(solver)
    visit(page, f"{live_url}/sessions/{session.pk}/")
    pivot = page.locator('#session-machines [data-machine="pivot"]')
    expect(pivot.locator("[data-network]")).to_have_count(2)
    expect(pivot.locator('[data-network="dmz"]')).to_have_text(re.compile(r"^dmz \d+\.\d+\.\d+\.\d+$"))
    expect(pivot.locator('[data-network="internal"]')).to_have_text(re.compile(r"^internal \d+\.\d+\.\d+\.\d+$"))
    expect(page.locator('#session-machines [data-machine="attacker"] [data-network]')).to_have_count(1)

    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#session-status")).to_contain_text(re.compile(r"Paused with (\d+ h )?\d+ min left\."))
    expect(page.locator("#paused-left")).not_to_contain_text("seconds")


def test_a_stopped_lab_shows_no_terminal_and_starts_again(new_page, live_url, lab):
    solver, session = lab
    page = new_page(solver)
    visit(page, f"{live_url}/sessions/{session.pk}/")
    expect(page.locator('[data-terminal="attacker"] .xterm')).to_be_visible(timeout=15_000)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Stop").click()
    expect(page.locator("#session-status")).to_have_attribute("data-status", "terminated", timeout=30_000)
    expect(page.locator("#terminals")).to_have_count(0)
    page.reload()
    expect(page.locator("#terminals")).to_have_count(0)
    expect(page.locator(".xterm")).to_have_count(0)

    page.get_by_role("button", name="Start again").click()
    expect(page.locator("#session-status")).to_have_attribute("data-status", "running", timeout=30_000)
    assert EnvironmentSession.objects.filter(user=solver).count() == 2
    expect(page.locator('[data-terminal="attacker"] .xterm')).to_be_visible(timeout=15_000)


def test_the_scenario_page_lists_the_pivot_on_each_of_its_networks(new_page, live_url, lab):
    solver, session = lab
    page = new_page(solver)
    visit(page, f"{live_url}/scenarios/{session.scenario_version.scenario.slug}/")
    row = page.locator("#machine-overview tr", has_text="pivot")
    expect(row.locator("td").nth(2)).to_have_text("dmz, internal")
    expect(page.locator('#topology [data-network-group="internal"]')).to_contain_text("pivot")


def test_the_session_page_draws_the_topology_counts_solves_and_shows_the_writeup_only_after_the_end(
    new_page, live_url, runtime
):
    solver = UserFactory()
    earlier = UserFactory(display_name="Early Bird")
    version = pivot_version(solver_writeup="Read the **mission** closely.", solution_writeup="ADMIN ONLY route")
    earlier_session = in_thread(lambda: services.env_session_start(user=earlier, version=version))
    in_thread(
        lambda: services.env_session_submit_answer(
            session=earlier_session, actor=earlier, question_id="q1", answer=STATIC_FLAG
        )
    )
    in_thread(lambda: services.env_session_stop(session=earlier_session, actor=earlier))
    session = in_thread(lambda: services.env_session_start(user=solver, version=version))
    try:
        page = new_page(solver)
        visit(page, f"{live_url}/sessions/{session.pk}/")
        topology = page.locator("#session-topology")
        expect(topology.locator('[data-network-group="dmz"]')).to_contain_text("attacker")
        expect(topology.locator('[data-network-group="internal"]')).to_contain_text("pivot")
        expect(topology.locator('[data-network-group="internal"]')).to_contain_text("victim")
        expect(page.locator("#question-q1 [data-solves]")).to_have_text(
            re.compile(r"Solved by 1 user; first: Early Bird")
        )
        expect(page.locator("#solver-writeup")).to_have_count(0)
        assert "closely" not in page.content() and "ADMIN ONLY" not in page.content()

        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Stop").click()
        expect(page.locator("#session-status")).to_have_attribute("data-status", "terminated", timeout=30_000)
        page.reload()
        expect(page.locator("#solver-writeup")).to_contain_text("Read the mission closely.")
        expect(page.locator("#solver-writeup strong")).to_have_text("mission")
        assert "ADMIN ONLY" not in page.content()
    finally:
        for session_id in EnvironmentSession.objects.values_list("pk", flat=True):
            runtime.stop(str(session_id))
