"""In a real browser: a warm start is running on arrival, and a starting lab turns running in place (issue 21)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.accounts.factories import UserFactory
from apps.environments import services
from apps.environments.factories import pivot_version
from apps.environments.models import DeploymentEnvironment, EnvironmentPool, EnvironmentSession, ParkStatus
from apps.environments.services.common import push
from tests.e2e.event_helpers import fresh_channel_layer, in_thread, visit  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def cleanup(runtime):
    yield
    for session_id in EnvironmentSession.objects.values_list("pk", flat=True):
        runtime.stop(str(session_id))
    for sid in DeploymentEnvironment.objects.exclude(session_uuid=None).values_list("session_uuid", flat=True):
        runtime.stop(str(sid))


def test_a_click_on_start_claims_a_parked_lab_and_the_terminal_answers_at_once(new_page, live_url, cleanup):
    solver = UserFactory()
    version = pivot_version()
    EnvironmentPool.objects.create(scenario=version.scenario, min_ready=1, max_size=1)
    in_thread(services.pools_maintain)
    env = DeploymentEnvironment.objects.get(scenario_version=version, status=ParkStatus.PARKED)

    page = new_page(solver)
    visit(page, f"{live_url}/scenarios/{version.scenario.slug}/")
    page.locator("#start-session").click()
    page.wait_for_url(f"**/sessions/{env.session_uuid}/")
    # Running on arrival: no progress bar, the terminal opens and answers.
    expect(page.locator("#session-status")).to_have_attribute("data-status", "running")
    pane = page.locator('[data-terminal="attacker"][data-tab="1"]')
    expect(pane.locator(".xterm-rows")).to_contain_text("#", timeout=15_000)
    pane.locator(".xterm").click()
    page.keyboard.type("echo warm-$((6*7))\n")
    expect(pane.locator(".xterm-rows")).to_contain_text("warm-42", timeout=15_000)
    page.screenshot(path="/tmp/rangex-pool-warm-start.png")
    env.refresh_from_db()
    assert env.status == ParkStatus.CLAIMED


def test_a_starting_lab_turns_running_in_place_without_a_reload(new_page, live_url, runtime, cleanup):
    solver = UserFactory()
    version = pivot_version()
    session = in_thread(lambda: services.env_session_start(user=solver, version=version))
    # The page opens while the lab is still starting (the row says so; its machines already run).
    EnvironmentSession.objects.filter(pk=session.pk).update(status="starting", progress_message="Starting machines")
    page = new_page(solver)
    visit(page, f"{live_url}/sessions/{session.pk}/")
    expect(page.locator("#launch-message")).to_contain_text("Starting machines")
    page.evaluate("() => { window.rxNoReload = true; }")

    EnvironmentSession.objects.filter(pk=session.pk).update(status="running", progress_message="Running")
    in_thread(lambda: push(session.pk, {"type": "status", "status": "running"}))
    pane = page.locator('[data-terminal="attacker"][data-tab="1"]')
    expect(pane.locator(".xterm-rows")).to_contain_text("#", timeout=15_000)
    expect(page.locator("#countdown")).not_to_have_text("--:--")
    assert page.evaluate("() => window.rxNoReload === true"), "the page reloaded"
    assert page.locator("#terminal-note").count() == 0
